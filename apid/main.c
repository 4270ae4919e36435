/* usm-apid: the HTTP/JSON API. Unprivileged, no files, seccomp.
 *
 * Start-up order: one malloc arena (see main), options, privilege check,
 * RLIMIT_NOFILE for the API's connections, Landlock (before nng starts
 * threads: no files, TCP bind on the API port only), dial the collector,
 * bind the HTTP listener (api_server.h), seccomp (so bind and listen need
 * not be allowed after), then wait for a signal while nng's threads
 * serve. */
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
#include "api_server.h"
#include "routes.h"


int main(int argc, char **argv)
{
	static struct usm_config cfg;
	static struct usm_ipc_client collector;
	char path[PATH_MAX];

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
	unsigned max_connections = api_server_fit_fds(API_MAX_CONNECTIONS);
	/* api_listen was checked as host:port by the config parser. */
	usm_child_landlock((uint16_t)strtoul(strrchr(cfg.api_listen, ':') + 1, NULL, 10), NULL);
	snprintf(path, sizeof(path), "%s/collector/collector.ipc", cfg.runtime_dir);
	int rc = usm_ipc_client_dial(&collector, path, (int)cfg.ipc_timeout_ms);
	if (rc != 0) {
		log_error("cannot dial the collector at %s: %s", path, strerror(-rc));
		return 1;
	}
	routes_init(&collector, cfg.api_control);
	if (api_server_start(cfg.api_listen, max_connections) != 0)
		return 1;
	usm_child_confine(USM_SECCOMP_INSTALL(apid, cfg.seccomp), "apid.policy", &cfg);
	log_info("serving http://%s (at most %u connections)", cfg.api_listen, max_connections);

	for (;;) {
		struct pollfd pfd = {sigfd, POLLIN, 0};
		struct signalfd_siginfo si;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
			break;
	}
	api_server_stop();
	usm_ipc_client_close(&collector);
	log_info("stopped");
	return 0;
}
