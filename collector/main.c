/* usm-collector: unprivileged, sandboxed. Consumes the discovery ring
 * buffer, keeps the file registry, decides what privd attaches, and
 * answers apid's queries (DESIGN.md).
 *
 * Start-up order: options, privilege check, Landlock and rlimits (before
 * nng starts threads), listen for apid, dial privd,
 * open the inherited ring buffer, seccomp; then, confined, ask privd how
 * the kernel side started, rebuild the registry and scan; then the loop.
 * Nothing is read from a peer before seccomp. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "child_start.h"
#include "libbpf_log.h"
#include "seccomp_install.h"
#include "collector_seccomp_filter.h"
#include "collector.h"
#include "sandbox.h"
#include "discovery.h"
#include "ipc_codec.h"
#include "log.h"
#include "privd_client.h"
#include "queries.h"


#define PROC_RING_FD 3 /* privd passes the discovery ring buffer here */
#define HTTP_RING_FD 4 /* and the HTTP capture ring buffer here */
#define HTTP_RING_POLL_MS 100

static int64_t now_ms(void) { return (int64_t)usm_monotonic_ms(); }

/* rlimits, a second wall behind seccomp and Landlock: no core dumps, few
 * descriptors, bounded memory (not in sanitizer builds, whose shadow
 * memory is reserved up front). Not RLIMIT_FSIZE: stderr, the log, may be
 * a file, and writing past the limit would kill the collector. */
static void limit_resources(const struct usm_config *cfg)
{
	int rc = usm_set_rlimit(RLIMIT_CORE, 0);
	if (rc == 0)
		rc = usm_set_rlimit(RLIMIT_NOFILE, 256);
#if !defined(__SANITIZE_ADDRESS__)
	if (rc == 0)
		rc = usm_set_rlimit(RLIMIT_DATA, (unsigned long long)cfg->collector_memory_mb << 20);
#else
	(void)cfg;
#endif
	if (rc != 0) {
		log_error("cannot set resource limits: %s", strerror(-rc));
		exit(1);
	}
}

/* Is fd a BPF map privd passed? (It passes none when the process monitor
 * is not needed or did not start; fd 3 is then whatever we opened.) */
static bool inherited_ring(int fd)
{
	char link[64], target[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:bpf-map") == 0;
}

/* Asks privd whether the kernel side started; a failure there is this
 * monitor's start failure, served by the API. Returns whether the
 * discovery ring buffer is at PROC_RING_FD. */
static bool learn_kernel_status(struct collector *c)
{
	struct usm_privd_status s;
	int rc = -EAGAIN;
	for (int attempt = 0; attempt < 50 && rc != 0; attempt++)
		rc = privd_status(c, &s);
	if (rc != 0) {
		monitor_start_failed(&c->monitor, rc, 0, "asking privd for the kernel side's status");
		return false;
	}
	if (s.start_error != 0) {
		monitor_start_failed(&c->monitor, s.start_error, s.socket_filter, s.error);
		return false;
	}
	return s.process_monitor;
}

static void start_monitoring(struct collector *c, bool ring_ok)
{
	if (c->monitor.state != USM_STATE_RUNNING || usm_config_monitoring_disabled(&c->cfg))
		return;
	if (!learn_kernel_status(c))
		return;
	if (!ring_ok) {
		monitor_start_failed(&c->monitor, -EBADF, 0, "opening the discovery ring buffer");
		return;
	}
	int rc = discovery_start(c);
	if (rc != 0)
		monitor_start_failed(&c->monitor, rc, 0, "the start-up scan");
}

static void run_loop(struct collector *c, int sigfd)
{
	int ipcfd;
	if (usm_ipc_server_pollfd(&c->api_server, &ipcfd) != 0) {
		log_error("cannot poll the query socket");
		return;
	}
	int ringfd = c->proc_ring ? ring_buffer__epoll_fd(c->proc_ring) : -1;
	int httpfd = http_monitor_poll_fd(&c->http);
	bool more_http = false;
	int64_t interval = (int64_t)c->cfg.check_interval_s * 1000;
	int64_t next_check = now_ms() + interval;
	for (;;) {
		int64_t wait = next_check - now_ms();
		int linger = registry_expire(c->registry, usm_monotonic_ms());
		if (linger >= 0 && linger < wait)
			wait = linger;
		int retry = discovery_retry(c);
		if (retry >= 0 && retry < wait)
			wait = retry;
		int64_t expiry = http_monitor_tick(&c->http, usm_monotonic_ms());
		if (expiry < wait)
			wait = expiry;
		/* The capture programs wake us only once a batch waits (a
		 * wakeup per record would cost the traced processes more than
		 * the record): look at the ring every 100 ms anyway. */
		if (httpfd >= 0 && wait > HTTP_RING_POLL_MS)
			wait = HTTP_RING_POLL_MS;
		if (more_http)
			wait = 0;
		/* A negative fd is skipped by poll(). */
		struct pollfd pfd[4] = {{sigfd, POLLIN, 0}, {ipcfd, POLLIN, 0}, {ringfd, POLLIN, 0},
					{httpfd, POLLIN, 0}};
		if (poll(pfd, 4, wait > 0 ? (int)wait : 0) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
				return;
		}
		/* Events first: a query right after a process started should
		 * see it. Whether or not poll() said so: a fork event is
		 * committed before the child's first capture record, and must
		 * be applied before it even when both came after poll(). */
		if (c->proc_ring)
			ring_buffer__consume(c->proc_ring);
		/* Captured data in batches, so that a flood of it delays
		 * queries and discovery by one batch at most. */
		if (httpfd >= 0)
			more_http = http_monitor_consume(&c->http);
		if (pfd[1].revents & POLLIN) {
			int rc = usm_ipc_server_serve(&c->api_server, collector_routes,
						      collector_nroutes, c, 0);
			if (rc < 0)
				log_warn("query socket: %s", strerror(-rc));
		}
		if (now_ms() >= next_check) {
			unsigned gone = discovery_prune(c);
			if (gone)
				log_info("consistency check: %u pid(s) gone without an exit event", gone);
			monitor_checked(&c->monitor);
			next_check = now_ms() + interval;
		}
	}
}

int main(int argc, char **argv)
{
	static struct collector c;
	char path[PATH_MAX];

	/* One malloc arena: glibc opens /proc/sys/vm/overcommit_memory when a
	 * thread's arena shrinks, which Landlock and seccomp forbid (the main
	 * arena shrinks with brk). The collector's work is on one thread. */
	mallopt(M_ARENA_MAX, 1);
	int sigfd = usm_child_start(argc, argv, "usm-collector", &c.cfg);
	usm_libbpf_log_init(); /* the ring buffers' messages, in our log's form */
	char sockdir[PATH_MAX];
	snprintf(sockdir, sizeof(sockdir), "%s/collector", c.cfg.runtime_dir);
	usm_child_landlock(0, sockdir); /* no files but its socket, no TCP at all */
	limit_resources(&c.cfg);
	monitor_init(&c.monitor, &c.cfg);
	c.self_pid = (uint32_t)getpid();
	c.privd_pid = (uint32_t)getppid();
	/* Compiled from policy/attach.policy at build time: nothing to parse. */
	c.policy = usm_attach_policy_compiled;
	struct registry_limits limits = {
		.max_entries = c.cfg.max_traced_files,
		.max_pids_per_entry = 65536,
		.max_blocked = c.cfg.max_blocked_files,
		.linger_ms = c.cfg.attach_linger_ms,
	};
	c.registry = registry_new(&limits, &discovery_registry_ops, &c);
	if (!c.registry || http_monitor_init(&c.http, &c.cfg) != 0) {
		log_error("out of memory");
		return 1;
	}

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
	/* fds 3 and 4 are the ring buffers when privd started the kernel
	 * side; libbpf maps them now, before seccomp forbids new mappings. */
	int rc_ring = inherited_ring(HTTP_RING_FD) ? http_monitor_open_ring(&c.http, HTTP_RING_FD) : 0;
	if (rc_ring != 0)
		log_error("cannot map the HTTP capture ring buffer: %s", strerror(-rc_ring));
	bool ring_ok = inherited_ring(PROC_RING_FD) && discovery_open_ring(&c, PROC_RING_FD) == 0;
	usm_child_confine(USM_SECCOMP_INSTALL(collector, c.cfg.seccomp), "collector.policy", &c.cfg);
	start_monitoring(&c, ring_ok);
	monitor_checked(&c.monitor);
	log_info("serving queries; monitor %s", usm_monitor_state_name((uint8_t)c.monitor.state));

	run_loop(&c, sigfd);

	monitor_stopped(&c.monitor);
	/* Probes stay with privd, which closes them when it stops; a
	 * restarted collector adopts them (LIST). */
	if (c.proc_ring)
		ring_buffer__free(c.proc_ring);
	http_monitor_free(&c.http);
	registry_free(c.registry);
	/* Closing the listener removes its socket file, so privd can remove
	 * the (then empty) directory it cannot list. */
	usm_ipc_server_close(&c.api_server);
	usm_ipc_client_close(&c.privd);
	log_info("stopped");
	return 0;
}
