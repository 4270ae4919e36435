/* The daemons' command line: -c FILE, -o key=value, --version, --help. */
#include "config_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

void usm_config_from_args(int argc, char **argv, const char *prog, void (*usage)(FILE *),
			  struct usm_config *cfg)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"option", required_argument, NULL, 'o'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *file = NULL;
	const char *options[256];
	unsigned noptions = 0;
	int c;
	while ((c = getopt_long(argc, argv, "c:o:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			file = optarg;
			break;
		case 'o':
			if (noptions == sizeof(options) / sizeof(options[0])) {
				fprintf(stderr, "%s: too many -o options\n", prog);
				exit(2);
			}
			options[noptions++] = optarg;
			break;
		case 'V':
			printf("%s %s\n", prog, USM_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		exit(2);
	}

	struct usm_config_error err;
	usm_config_defaults(cfg);
	if (file && usm_config_load_file(cfg, file, &err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		exit(2);
	}
	for (unsigned i = 0; i < noptions; i++) {
		if (usm_config_set_option(cfg, options[i], i + 1, &err) != 0) {
			fprintf(stderr, "%s: %s\n", prog, err.msg);
			exit(2);
		}
	}
	if (usm_config_resolve_users(cfg, &err) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err.msg);
		exit(2);
	}
	const struct usm_user *cu = &cfg->collector_user, *au = &cfg->api_user;
	if (cu->uid == 0 || au->uid == 0 || cu->uid == au->uid || cu->gid == au->gid ||
	    cu->gid == 0 || au->gid == 0) {
		fprintf(stderr,
			"%s: collector_user (%u:%u) and api_user (%u:%u) must be two "
			"different non-root users with different groups: the sockets' permissions "
			"and peer checks tell them apart by uid and gid\n",
			prog, (unsigned)cu->uid, (unsigned)cu->gid, (unsigned)au->uid, (unsigned)au->gid);
		exit(2);
	}
}

