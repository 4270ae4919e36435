#include "owner.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "attach.h"
#include "identity.h"
#include "inspect_client.h"
#include "ipc_socket.h"
#include "kernel.h"
#include "link_closer.h"
#include "log.h"
#include "owner_channel.h"
#include "requests.h"
#include "runtime_dir.h"
#include "privd_bpf_seccomp_filter.h"
#include "seccomp_install.h"

#define REQUESTS_PER_WAKEUP 16 /* then signals and the supervisor are heard again */
#define BASE_FDS 256           /* BPF objects, sockets, the closer, inspections in flight */


/* What the BPF owner keeps, and why (policy/PRIVILEGES.md). */
static const cap_value_t kept_caps[] = {
	CAP_BPF,        /* link the loaded TLS programs to files, read the kernel side's counters */
	CAP_PERFMON,    /* uprobes (uprobe_multi links, or perf events on old kernels) */
	CAP_SYS_PTRACE, /* read /proc/PID/{maps,exe,root} of processes of other users */
	CAP_SYS_ADMIN,  /* only for classic perf-event uprobes (no uprobe_multi): see below */
};

static int become_bpf_user(const struct usm_config *cfg, const struct kernel *k, pid_t parent)
{
	size_t n = sizeof(kept_caps) / sizeof(kept_caps[0]) - 1;
	if (k->tls && !k->uprobe_multi) {
		n++;
		log_warn("keeping CAP_SYS_ADMIN: classic uprobes need it (no uprobe_multi)");
	}
	return privd_become(cfg->bpf_user.uid, cfg->bpf_user.gid, kept_caps, n, SIGTERM, parent);
}

/* Each traced file holds two uprobe_multi links, or one classic link per
 * probe of its set: the limit follows max_traced_files, set while still
 * privileged (raising the hard limit needs CAP_SYS_RESOURCE). */
static int set_fd_limit(const struct usm_config *cfg, const struct attach_policy *policy,
			const struct kernel *k)
{
	unsigned long long per_file = 0;
	for (unsigned i = 0; k->tls && i < policy->nsets; i++) {
		unsigned n = 0;
		for (unsigned f = 0; f < policy->sets[i].nfuncs; f++)
			n += policy->sets[i].funcs[f].entry + policy->sets[i].funcs[f].ret;
		if (n > per_file)
			per_file = k->uprobe_multi ? 2 : n;
	}
	unsigned long long want = (unsigned long long)cfg->max_traced_files * per_file + BASE_FDS;
	struct rlimit rl = {want, want};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		int e = errno;
		log_error("cannot set RLIMIT_NOFILE to %llu for max_traced_files = %u: %s "
			  "(lower max_traced_files, or raise the hard limit usm-privd starts with)",
			  want, cfg->max_traced_files, strerror(e));
		return -e;
	}
	return 0;
}

/* policy/privd_bpf.policy, compiled at build time (no parser runs here). */
static int owner_confine(enum usm_seccomp_mode mode)
{
	return mode == USM_SECCOMP_LOG
		       ? usm_seccomp_install(usm_filter_privd_bpf_log, usm_filter_privd_bpf_log_len)
		       : usm_seccomp_install(usm_filter_privd_bpf_kill, usm_filter_privd_bpf_kill_len);
}

static int open_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* true: stop. */
static bool handle_signals(int sigfd)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo != SIGHUP)
			stop = true;
	return stop;
}

/* The supervisor's messages; true: stop (it is gone or misbehaved). */
static bool handle_supervisor(struct owner_state *st)
{
	for (;;) {
		struct owner_msg m;
		int fds[OWNER_MAX_FDS];
		unsigned nfds;
		int rc = owner_recv(st->channel, &m, fds, &nfds);
		if (rc == -EAGAIN)
			return false;
		if (rc == 0 && m.type == OWNER_HEALTH) {
			st->health = m.health;
			continue;
		}
		log_error("supervisor channel: %s", rc == -EPIPE ? "closed" : "unexpected message");
		return true;
	}
}

static void serve(struct owner_state *st, int sigfd)
{
	int ipcfd;
	if (usm_ipc_server_pollfd(st->server, &ipcfd) != 0) {
		log_error("cannot poll the request socket");
		return;
	}
	for (;;) {
		struct pollfd pfd[3] = {{sigfd, POLLIN, 0}, {st->channel, POLLIN, 0}, {ipcfd, POLLIN, 0}};
		if (poll(pfd, 3, -1) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return;
		}
		if ((pfd[0].revents & POLLIN) && handle_signals(sigfd))
			return;
		if (pfd[1].revents && handle_supervisor(st))
			return;
		if (pfd[2].revents & POLLIN) {
			int rc = usm_ipc_server_serve(st->server, owner_routes, owner_nroutes, st,
						      REQUESTS_PER_WAKEUP);
			if (rc < 0)
				log_warn("request socket: %s", strerror(-rc));
		}
	}
}

void owner_run(const struct owner_start *s)
{
	static struct kernel kernel;
	static struct attach_table attachments;
	static struct inspect_client inspector;
	static struct usm_ipc_server server;
	static struct owner_state st;
	const struct usm_config *cfg = s->cfg;
	char path[PATH_MAX];

	prctl(PR_SET_NAME, "usm-privd-bpf", 0, 0, 0);
	usm_log_init("usm-privd-bpf", cfg->log_level);
	int sigfd = open_signalfd();
	kernel_start(&kernel, cfg, s->policy, getpid());
	int rc = sigfd < 0 ? sigfd : set_fd_limit(cfg, s->policy, &kernel);
	if (rc == 0)
		rc = attach_table_init(&attachments, cfg->max_traced_files);
	if (rc == 0)
		rc = inspect_client_init(&inspector, s->channel, (int)cfg->inspect_timeout_ms,
					 cfg->max_traced_files);
	/* One thread until here: every thread from now on inherits this. */
	if (rc == 0)
		rc = become_bpf_user(cfg, &kernel, s->supervisor);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s", cfg->runtime_dir, USM_PRIVD_SOCKET);
		rc = usm_ipc_server_listen(&server, "privd", path, cfg->collector_user.uid, 0660);
	}
	if (rc == 0 && link_closer_start(cfg->detach_threads) != 0)
		rc = -EAGAIN;
	if (rc == 0)
		rc = owner_confine(cfg->seccomp);
	int rings[OWNER_MAX_FDS];
	unsigned nrings = 0;
	kernel_ring_fds(&kernel, rings);
	while (nrings < OWNER_MAX_FDS && rings[nrings] >= 0)
		nrings++;
	struct owner_msg ready = {.type = OWNER_READY, .arg = (int32_t)nrings};
	if (rc == 0)
		rc = owner_send(s->channel, &ready, rings, nrings);
	if (rc != 0) {
		log_error("start-up failed: %s", strerror(-rc));
		exit(1);
	}

	st = (struct owner_state){
		.server = &server,
		.kernel = &kernel,
		.attachments = &attachments,
		.attach = {&kernel, s->policy, cfg, &inspector},
		.self = getpid(),
		.supervisor = s->supervisor,
		.channel = s->channel,
	};
	server.state = kernel.tls ? OWNER_KERNEL_UP : OWNER_KERNEL_DOWN;
	server.on_violation = owner_protocol_violation;
	serve(&st, sigfd);

	usm_ipc_server_close(&server);
	/* Links left open at exit would be closed by the kernel one by one;
	 * close them here, in parallel. */
	attach_release_all(&attachments);
	kernel_stop(&kernel);
	log_info("stopped");
	exit(0);
}
