#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

const char cli_usage[] =
	"usage: usmctl [--api HOST:PORT] [--json] COMMAND [OPTIONS]\n"
	"\n"
	"commands:\n"
	"  status    usm's state, its processes, traced and blocked file counts\n"
	"  traced    the files usm traces (GET /debug/usm/traced_programs)\n"
	"  blocked   the files usm could not trace, and why (GET /debug/usm/blocked_processes)\n"
	"  stats     services and endpoints: request rate, count, errors, p50, p99\n"
	"  top       the same table, refreshed every interval; q quits, s changes the sort\n"
	"\n"
	"options:\n"
	"  --api HOST:PORT     usm's API (default $" USMCTL_API_ENV ", else " USMCTL_DEFAULT_API
	")\n"
	"  --json              print JSON: the API's document, or the computed table\n"
	"  --path P            stats, top: only this exact request path\n"
	"  --sort KEY          stats, top: rate (default), p99 or errors\n"
	"  --interval SECONDS  stats, top: time between the two reads a rate needs (default 1)\n"
	"  -n, --iterations N  top: quit after N refreshes\n"
	"  -h, --help, --version\n"
	"\n"
	"exit status: 0 ok, 1 usmctl failed, 2 usage, 3 usm not running at that address,\n"
	"4 something else answers there, 5 malformed JSON, 6 the API answered an error\n";

int cli_parse_api(const char *text, char *host, size_t host_cap, char *port, size_t port_cap)
{
	const char *colon = strrchr(text, ':');
	if (!colon || colon == text)
		return -EINVAL;
	size_t hlen = (size_t)(colon - text);
	/* An IPv6 address has colons of its own: only in brackets. */
	bool bracketed = text[0] == '[' && colon[-1] == ']';
	if (!bracketed && memchr(text, ':', hlen))
		return -EINVAL;
	if (bracketed && hlen < 3)
		return -EINVAL;
	for (size_t i = 0; i < hlen; i++)
		if ((unsigned char)text[i] <= ' ' || text[i] == '/' || text[i] == '@')
			return -EINVAL;
	const char *p = colon + 1;
	size_t plen = strlen(p);
	if (plen == 0 || plen >= port_cap || strspn(p, "0123456789") != plen)
		return -EINVAL;
	long n = strtol(p, NULL, 10);
	if (n < 1 || n > 65535 || hlen >= host_cap)
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	snprintf(port, port_cap, "%ld", n);
	return 0;
}

static const struct {
	const char *name;
	enum usmctl_cmd cmd;
} commands[] = {
	{"status", USMCTL_STATUS}, {"traced", USMCTL_TRACED}, {"blocked", USMCTL_BLOCKED},
	{"stats", USMCTL_STATS},   {"top", USMCTL_TOP},	      {"help", USMCTL_HELP},
};

static int parse_interval(const char *s, unsigned *ms)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0.1 || v > 3600)
		return -EINVAL;
	*ms = (unsigned)lround(v * 1000);
	return 0;
}

static int parse_iterations(const char *s, unsigned *n)
{
	size_t len = strlen(s);
	if (len == 0 || len > 9 || strspn(s, "0123456789") != len)
		return -EINVAL;
	*n = (unsigned)strtoul(s, NULL, 10);
	return *n ? 0 : -EINVAL;
}

static int check_path(const char *p)
{
	size_t len = strlen(p);
	if (len == 0 || len > USMCTL_PATH_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return -EINVAL;
	return 0;
}

enum { OPT_API = 256, OPT_JSON, OPT_PATH, OPT_SORT, OPT_INTERVAL, OPT_VERSION };

static const struct option long_options[] = {
	{"api", required_argument, NULL, OPT_API},
	{"json", no_argument, NULL, OPT_JSON},
	{"path", required_argument, NULL, OPT_PATH},
	{"sort", required_argument, NULL, OPT_SORT},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"iterations", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

int cli_parse(int argc, char **argv, const char *env_api, struct usmctl_opts *o, char *err,
	      size_t cap)
{
	*o = (struct usmctl_opts){.sort = TABLE_SORT_RATE, .interval_ms = 1000};
	err[0] = '\0';
	const char *api = env_api && *env_api ? env_api : USMCTL_DEFAULT_API;
	const char *api_from = env_api && *env_api ? USMCTL_API_ENV : "--api";
	bool help = false, version = false, sort_set = false, interval_set = false;
	const char *command = NULL;

	optind = 0; /* glibc: a full reinitialisation, for repeated calls */
	opterr = 0;
	for (;;) {
		int c = getopt_long(argc, argv, "+:hn:", long_options, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			/* "+": stop at the first operand; take it as the command
			 * and go on with the options after it. */
			if (command)
				return message(-EINVAL, err, cap, "unexpected argument '%s'",
					       argv[optind]);
			command = argv[optind];
			argc -= optind;
			argv += optind;
			optind = 1; /* argv[0] is now the command */
			continue;
		}
		switch (c) {
		case OPT_API:
			api = optarg;
			api_from = "--api";
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_PATH:
			if (check_path(optarg) != 0)
				return message(-EINVAL, err, cap,
					       "--path: 1 to %d bytes without control characters",
					       USMCTL_PATH_MAX);
			o->path = optarg;
			break;
		case OPT_SORT: {
			int s = table_sort_parse(optarg);
			if (s < 0)
				return message(-EINVAL, err, cap,
					       "--sort: rate, p99 or errors, not '%s'", optarg);
			o->sort = (enum table_sort)s;
			sort_set = true;
			break;
		}
		case OPT_INTERVAL:
			if (parse_interval(optarg, &o->interval_ms) != 0)
				return message(-EINVAL, err, cap,
					       "--interval: seconds from 0.1 to 3600, not '%s'",
					       optarg);
			interval_set = true;
			break;
		case 'n':
			if (parse_iterations(optarg, &o->iterations) != 0)
				return message(-EINVAL, err, cap,
					       "--iterations: a number from 1, not '%s'", optarg);
			break;
		case 'h':
			help = true;
			break;
		case OPT_VERSION:
			version = true;
			break;
		case ':':
			return message(-EINVAL, err, cap, "option '%s' needs a value",
				       argv[optind - 1]);
		default:
			if (optopt > 0 && optopt < 256)
				return message(-EINVAL, err, cap, "unknown option '-%c'", optopt);
			return message(-EINVAL, err, cap, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (help || (command && strcmp(command, "help") == 0)) {
		o->cmd = USMCTL_HELP;
		return 0;
	}
	if (version) {
		o->cmd = USMCTL_VERSION;
		return 0;
	}
	if (!command)
		return message(-EINVAL, err, cap,
			       "no command: status, traced, blocked, stats or top");
	size_t i = 0;
	while (i < sizeof(commands) / sizeof(commands[0]) && strcmp(commands[i].name, command) != 0)
		i++;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return message(-EINVAL, err, cap, "unknown command '%s'", command);
	o->cmd = commands[i].cmd;
	bool table = o->cmd == USMCTL_STATS || o->cmd == USMCTL_TOP;
	if (!table && (o->path || sort_set || interval_set))
		return message(-EINVAL, err, cap,
			       "--path, --sort and --interval go with stats and top only");
	if (o->cmd != USMCTL_TOP && o->iterations)
		return message(-EINVAL, err, cap, "--iterations goes with top only");
	if (cli_parse_api(api, o->host, sizeof(o->host), o->port, sizeof(o->port)) != 0)
		return message(-EINVAL, err, cap,
			       "%s: HOST:PORT (an IPv6 address in brackets), not '%s'", api_from,
			       api);
	return 0;
}
