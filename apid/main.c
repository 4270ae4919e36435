/* usm-apid: the HTTP/JSON API. Unprivileged, no files, seccomp.
 *
 * Start-up order: one malloc arena (see main), options, privilege check,
 * Landlock (before nng starts threads: no files, TCP bind on the API port
 * only), dial the collector, bind the HTTP listener, seccomp (so bind and
 * listen need not be allowed after), then wait for a signal while nng's
 * threads serve. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "child_start.h"
#include "seccomp_install.h"
#include "apid_seccomp_filter.h"
#include "log.h"
#include "routes.h"


static int start_http(const char *listen, nng_http_server **srv)
{
	char url[128];
	nng_url *u;
	snprintf(url, sizeof(url), "http://%s", listen);
	int rv = nng_url_parse(&u, url);
	if (rv == 0) {
		rv = nng_http_server_hold(srv, u);
		nng_url_free(u);
	}
	if (rv != 0) {
		log_error("cannot create the HTTP server for %s: %s", url, nng_strerror(rv));
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct usm_config cfg;
	static struct usm_ipc_client collector;
	char path[PATH_MAX];
	nng_http_server *srv;

	/* One malloc arena, set before any thread exists. glibc's per-thread
	 * arenas read /proc/sys/vm/overcommit_memory the first time one
	 * shrinks (after a large answer is freed), which Landlock and seccomp
	 * forbid; the main arena shrinks with brk. apid's requests are
	 * serialized anyway, so one arena costs nothing. */
	mallopt(M_ARENA_MAX, 1);
	/* A fixed mmap threshold: large answers (a /usm/http_stats of
	 * thousands of rows is megabytes) are mapped and unmapped whole.
	 * glibc's own threshold rises to the largest block freed, after which
	 * such answers come from the heap and stay (the soak bench saw apid
	 * keep 30 MB after one); setting it also fixes the trim threshold. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	int sigfd = usm_child_start(argc, argv, "usm-apid", &cfg);
	/* api_listen was checked as host:port by the config parser. */
	usm_child_landlock((uint16_t)strtoul(strrchr(cfg.api_listen, ':') + 1, NULL, 10), NULL);
	snprintf(path, sizeof(path), "%s/collector/collector.ipc", cfg.runtime_dir);
	int rc = usm_ipc_client_dial(&collector, path, (int)cfg.ipc_timeout_ms);
	if (rc != 0) {
		log_error("cannot dial the collector at %s: %s", path, strerror(-rc));
		return 1;
	}
	if (start_http(cfg.api_listen, &srv) != 0 || routes_register(srv, &collector, cfg.api_control) != 0)
		return 1;
	int rv = nng_http_server_start(srv);
	if (rv != 0) {
		log_error("cannot listen on %s: %s", cfg.api_listen, nng_strerror(rv));
		return 1;
	}
	usm_child_confine(USM_SECCOMP_INSTALL(apid, cfg.seccomp), "apid.policy", &cfg);
	log_info("serving http://%s", cfg.api_listen);

	for (;;) {
		struct pollfd pfd = {sigfd, POLLIN, 0};
		struct signalfd_siginfo si;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
			break;
	}
	nng_http_server_stop(srv);
	nng_http_server_release(srv);
	usm_ipc_client_close(&collector);
	log_info("stopped");
	return 0;
}
