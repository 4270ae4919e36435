/* usmctl: usm's API for people at a terminal (README "usmctl").
 *
 * Unprivileged and small on purpose: it parses its command line, opens
 * one HTTP connection per request to the API (nng's HTTP client), reads
 * JSON (json-c) and prints; top draws with ncurses. */
#include <nng/nng.h>
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "cli.h"
#include "commands.h"
#include "exit_status.h"

/* What each command that talks to the API runs (help and version do not). */
static int (*const commands[])(struct api *, const struct usmctl_opts *) = {
	[USMCTL_STATUS] = cmd_status, [USMCTL_TRACED] = cmd_traced, [USMCTL_BLOCKED] = cmd_blocked,
	[USMCTL_STATS] = cmd_stats,   [USMCTL_TOP] = cmd_top,
};

static int run(const struct usmctl_opts *o)
{
	char err[API_ERROR_MAX];
	struct api a;
	int rc = api_open(&a, o->host, o->port, err, sizeof(err));
	if (rc != USMCTL_OK)
		return cmd_fail(rc, err);
	rc = commands[o->cmd](&a, o);
	api_close(&a);
	return rc;
}

int main(int argc, char **argv)
{
	struct usmctl_opts o;
	char err[256];
	if (cli_parse(argc, argv, getenv(USMCTL_API_ENV), &o, err, sizeof(err)) != 0) {
		fprintf(stderr, "usmctl: %s (usmctl --help: usage)\n", err);
		return USMCTL_EUSAGE;
	}
	if (o.cmd == USMCTL_HELP) {
		fputs(cli_usage, stdout);
		return USMCTL_OK;
	}
	if (o.cmd == USMCTL_VERSION) {
		printf("usmctl %s\n", USM_VERSION);
		return USMCTL_OK;
	}
	int rc = run(&o);
	nng_fini(); /* nng's threads and caches, so that nothing is left at exit */
	return rc;
}
