/* The daemons' command line: -c FILE, -o key=value, --version, --help. */
#include "config_cli.h"

#include <getopt.h>
#include <stdbool.h>
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
	/* The sockets' permissions, peer checks and signal rights tell usm's
	 * processes apart by uid and gid: four different non-root users. */
	const struct usm_user *users[] = {&cfg->collector_user, &cfg->api_user, &cfg->bpf_user,
					  &cfg->inspector_user};
	for (unsigned i = 0; i < 4; i++) {
		bool clash = users[i]->uid == 0 || users[i]->gid == 0;
		for (unsigned j = 0; j < i; j++)
			clash |= users[i]->uid == users[j]->uid || users[i]->gid == users[j]->gid;
		if (clash) {
			fprintf(stderr,
				"%s: collector_user (%u:%u), api_user (%u:%u), bpf_user (%u:%u) and "
				"inspector_user (%u:%u) must be four different non-root users with "
				"different groups\n",
				prog, (unsigned)users[0]->uid, (unsigned)users[0]->gid,
				(unsigned)users[1]->uid, (unsigned)users[1]->gid, (unsigned)users[2]->uid,
				(unsigned)users[2]->gid, (unsigned)users[3]->uid, (unsigned)users[3]->gid);
			exit(2);
		}
	}
}

