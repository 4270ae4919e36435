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
#include <sys/socket.h>
#include <unistd.h>

#include "attach.h"
#include "identity.h"
#include "link_closer.h"
#include "log.h"
#include "owner_channel.h"
#include "privd_bpf_classic_seccomp_filter.h"
#include "privd_bpf_seccomp_filter.h"
#include "requests.h"
#include "runtime_dir.h"
#include "seccomp_install.h"

#define REQUESTS_PER_WAKEUP 16 /* then signals and the supervisor are heard again */
#define BASE_FDS 256           /* BPF objects, sockets, the closer, inspections in flight */

/* What the BPF owner keeps, and why (policy/PRIVILEGES.md). */
static const cap_value_t kept_caps[] = {
	CAP_BPF,        /* link the loaded TLS programs to files, read the kernel side's counters */
	CAP_PERFMON,    /* uprobes (uprobe_multi links, or perf events on old kernels) */
	CAP_SYS_PTRACE, /* read /proc/PID/{maps,exe,root} of processes of other users */
	CAP_SYS_ADMIN,  /* only for classic perf-event uprobes (no uprobe_multi) */
};

/* Each traced file holds two uprobe_multi links, or one classic link per
 * probe of its set (at most): the limit follows max_traced_files, set while still
 * privileged (raising the hard limit needs CAP_SYS_RESOURCE). */
static int set_fd_limit(const struct usm_config *cfg, const struct attach_policy *policy,
			const struct kernel *k)
{
	unsigned long long per_file = 0;
	for (unsigned i = 0; k->tls && i < policy->nsets; i++) {
		const struct probe_set *s = &policy->sets[i];
		unsigned n = 0;
		for (unsigned f = 0; f < s->nfuncs; f++) /* Go's: a probe per RET too */
			n += s->funcs[f].entry + s->funcs[f].ret + s->funcs[f].ret_insns * s->max_returns;
		if (n > per_file)
			per_file = k->uprobe_multi ? 2 : n;
	}
	unsigned long long want = (unsigned long long)cfg->max_traced_files * per_file + BASE_FDS;
	struct rlimit rl = {want, want};
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return 0;
	int e = errno;
	log_error("cannot set RLIMIT_NOFILE to %llu for max_traced_files = %u: %s (lower "
		  "max_traced_files, or raise the hard limit usm-privd starts with)",
		  want, cfg->max_traced_files, strerror(e));
	return -e;
}

/* true: stop (a signal other than SIGHUP; the supervisor gone or misbehaving). */
static bool handle_wakeup(struct owner_state *st, int sigfd)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si))
		stop |= si.ssi_signo != SIGHUP && si.ssi_signo != SIGCHLD;
	for (;;) {
		struct owner_msg m;
		int fds[OWNER_MAX_FDS];
		unsigned nfds;
		int rc = owner_recv(st->channel, &m, fds, &nfds);
		if (rc == -EAGAIN)
			return stop;
		if (rc != 0 || m.type != OWNER_HEALTH) {
			log_error("supervisor channel: %s", rc == -EPIPE ? "closed" : "bad message");
			return true;
		}
		st->health = m.health;
	}
}

static void serve(struct owner_state *st, int sigfd)
{
	int ipcfd;
	if (usm_ipc_server_pollfd(st->server, &ipcfd) != 0)
		return;
	for (;;) {
		struct pollfd pfd[3] = {{sigfd, POLLIN, 0}, {st->channel, POLLIN, 0}, {ipcfd, POLLIN, 0}};
		if (poll(pfd, 3, -1) < 0 && errno != EINTR)
			return;
		if ((pfd[0].revents || pfd[1].revents) && handle_wakeup(st, sigfd))
			return;
		int rc = (pfd[2].revents & POLLIN) ? usm_ipc_server_serve(st->server, owner_routes,
									  owner_nroutes, st,
									  REQUESTS_PER_WAKEUP)
						   : 0;
		if (rc < 0)
			log_warn("request socket: %s", strerror(-rc));
	}
}

static __attribute__((noreturn)) void run(const struct usm_config *cfg,
					  const struct attach_policy *policy, int channel,
					  int sigfd, pid_t supervisor)
{
	static struct kernel kernel;
	static struct attach_table attachments;
	static struct inspect_client inspector;
	static struct usm_ipc_server server;
	static struct owner_state st;
	char path[PATH_MAX];

	prctl(PR_SET_NAME, "usm-privd-bpf", 0, 0, 0);
	usm_log_init("usm-privd-bpf", cfg->log_level);
	kernel_start(&kernel, cfg, policy, getpid());
	bool classic = kernel.tls && !kernel.uprobe_multi;
	int rc = set_fd_limit(cfg, policy, &kernel);
	if (rc == 0)
		rc = attach_table_init(&attachments, cfg->max_traced_files);
	if (rc == 0)
		rc = inspect_client_init(&inspector, channel, (int)cfg->inspect_timeout_ms,
					 cfg->max_traced_files);
	/* One thread until here: every thread from now on inherits this. */
	if (classic)
		log_warn("keeping CAP_SYS_ADMIN: classic uprobes need it (no uprobe_multi)");
	if (rc == 0)
		rc = privd_become(cfg->bpf_user.uid, cfg->bpf_user.gid, kept_caps, 3 + classic,
				  SIGTERM, supervisor);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s", cfg->runtime_dir, USM_PRIVD_SOCKET);
		rc = usm_ipc_server_listen(&server, "privd", path, cfg->collector_user.uid, 0660);
	}
	if (rc == 0 && link_closer_start(cfg->detach_threads) != 0)
		rc = -EAGAIN;
	if (rc == 0)
		rc = classic ? USM_SECCOMP_INSTALL(privd_bpf_classic, cfg->seccomp) /* compiled */
			     : USM_SECCOMP_INSTALL(privd_bpf, cfg->seccomp);
	int rings[OWNER_MAX_FDS];
	unsigned nrings = kernel_ring_fds(&kernel, rings);
	struct owner_msg ready = {.type = OWNER_READY, .arg = (int32_t)nrings};
	if (rc == 0)
		rc = owner_send(channel, &ready, rings, nrings);
	if (rc != 0) {
		log_error("start-up failed: %s", strerror(-rc));
		exit(1);
	}

	st = (struct owner_state){.server = &server, .kernel = &kernel, .attachments = &attachments,
				  .attach = {&kernel, policy, cfg, &inspector}, .self = getpid(),
				  .supervisor = supervisor, .channel = channel};
	server.state = kernel.tls ? OWNER_KERNEL_UP : OWNER_KERNEL_DOWN;
	server.on_violation = owner_protocol_violation;
	serve(&st, sigfd);

	/* Links left open at exit would be closed by the kernel one by one;
	 * close them here, in parallel. Then no nng_close(): under a flood of
	 * requests it can wait for peers forever; the socket file goes, and
	 * the process ends with its connections. */
	attach_release_all(&attachments);
	kernel_stop(&kernel);
	unlink(path);
	log_info("stopped");
	_exit(0);
}

pid_t owner_start(const struct usm_config *cfg, const struct attach_policy *policy, int sigfd,
		  int *channel)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		close(sv[0]);
		run(cfg, policy, sv[1], sigfd, parent);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -errno;
	}
	*channel = sv[0];
	return pid;
}
