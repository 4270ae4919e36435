/* usm-collector: unprivileged, sandboxed. Serves apid's queries and talks
 * to privd; later consumes the ring buffers, keeps the registry, parses
 * HTTP and aggregates (DESIGN.md).
 *
 * Start-up order: options, privilege check, listen for apid, dial privd,
 * seccomp, then the loop. Nothing is read from a peer before seccomp. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "child_start.h"
#include "collector.h"
#include "log.h"
#include "queries.h"

extern const char usm_policy_collector[];
extern const unsigned long usm_policy_collector_len;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_loop(struct collector *c, int sigfd)
{
	int ipcfd;
	if (usm_ipc_server_pollfd(&c->api_server, &ipcfd) != 0) {
		log_error("cannot poll the query socket");
		return;
	}
	int64_t interval = (int64_t)c->cfg.check_interval_s * 1000;
	int64_t next_check = now_ms() + interval;
	for (;;) {
		int64_t wait = next_check - now_ms();
		struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {ipcfd, POLLIN, 0}};
		if (poll(pfd, 2, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
				return;
		}
		if (pfd[1].revents & POLLIN) {
			int rc = usm_ipc_server_serve(&c->api_server, collector_routes,
						      collector_nroutes, c);
			if (rc < 0)
				log_warn("query socket: %s", strerror(-rc));
		}
		if (now_ms() >= next_check) {
			monitor_checked(&c->monitor);
			next_check = now_ms() + interval;
		}
	}
}

int main(int argc, char **argv)
{
	static struct collector c;
	char path[PATH_MAX];

	int sigfd = usm_child_start(argc, argv, "usm-collector", &c.cfg);
	monitor_init(&c.monitor, &c.cfg);

	snprintf(path, sizeof(path), "%s/collector/collector.ipc", c.cfg.runtime_dir);
	int rc = usm_ipc_server_listen(&c.api_server, "collector", path, c.cfg.api_user.uid, 0660);
	if (rc != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/privd/privd.ipc", c.cfg.runtime_dir);
	rc = usm_ipc_client_dial(&c.privd, path, (int)c.cfg.ipc_timeout_ms);
	if (rc != 0) {
		log_error("cannot dial privd at %s: %s", path, strerror(-rc));
		return 1;
	}
	usm_child_confine(usm_policy_collector, usm_policy_collector_len, "collector.policy",
			  &c.cfg);
	monitor_checked(&c.monitor);
	log_info("serving queries; monitor %s", usm_monitor_state_name((uint8_t)c.monitor.state));

	run_loop(&c, sigfd);

	monitor_stopped(&c.monitor);
	/* Closing the listener removes its socket file, so privd can remove
	 * the (then empty) directory it cannot list. */
	usm_ipc_server_close(&c.api_server);
	usm_ipc_client_close(&c.privd);
	log_info("stopped");
	return 0;
}
