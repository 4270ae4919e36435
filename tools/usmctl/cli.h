/* usmctl's command line, read into a struct usmctl_opts.
 *
 *   usmctl [--api HOST:PORT] [--json] COMMAND [OPTIONS]
 *   COMMAND: status | traced | blocked | stats | top | help
 *   stats and top: [--path P] [--sort rate|p99|errors] [--interval SECONDS]
 *   top: [-n N | --iterations N]
 *
 * Options may come before or after the command. --api defaults to the
 * environment's USMCTL_API, then to 127.0.0.1:5050; HOST is a name, an
 * IPv4 address or a bracketed IPv6 address ("[::1]:5050"), PORT 1..65535.
 * --interval is 0.1..3600 seconds (default 1). --path is 1..255 bytes
 * without control characters (the API's own bounds: apid/http_query.h).
 *
 * Contract of cli_parse(): pure (no I/O; getopt_long's globals are reset
 * on entry, so it can be called more than once). Returns 0 with o filled,
 * or -EINVAL with a one-line message in err (cap bytes). --help and
 * --version set cmd to USMCTL_HELP / USMCTL_VERSION and succeed. */
#ifndef USMCTL_CLI_H
#define USMCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "table.h"

#define USMCTL_DEFAULT_API "127.0.0.1:5050"
#define USMCTL_API_ENV "USMCTL_API"
#define USMCTL_HOST_MAX 256
#define USMCTL_PORT_MAX 6 /* "65535" and its NUL */
#define USMCTL_PATH_MAX 255

enum usmctl_cmd {
	USMCTL_HELP,
	USMCTL_VERSION,
	USMCTL_STATUS,
	USMCTL_TRACED,
	USMCTL_BLOCKED,
	USMCTL_STATS,
	USMCTL_TOP,
};

struct usmctl_opts {
	enum usmctl_cmd cmd;
	char host[USMCTL_HOST_MAX]; /* as given: brackets kept around IPv6 */
	char port[USMCTL_PORT_MAX];
	bool json;
	const char *path; /* --path, or NULL; points into argv */
	enum table_sort sort;
	unsigned interval_ms;
	unsigned iterations; /* top: refreshes before quitting; 0: until q */
};

int cli_parse(int argc, char **argv, const char *env_api, struct usmctl_opts *o, char *err,
	      size_t cap);

/* HOST:PORT into host and port. Returns 0 or -EINVAL. */
int cli_parse_api(const char *text, char *host, size_t host_cap, char *port, size_t port_cap);

/* The usage text, for --help and after a usage error. */
extern const char cli_usage[];

#endif
