/* usm-privd: the only privileged process.
 *
 * Start-up, in this order: read and check the configuration (exit 2 on
 * any error, before anything starts), block the signals it handles (before
 * nng starts threads, so they arrive on the signalfd only), prepare the
 * runtime directory, open the children's binaries, load the BPF objects,
 * listen for the collector, drop every capability but the ones in
 * policy/PRIVILEGES.md, apply policy/privd.policy (seccomp), start the
 * children. Then one loop: signals, requests, restarts. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "attach.h"
#include "attach_policy.h"
#include "link_closer.h"
#include "config.h"
#include "config_cli.h"
#include "kernel.h"
#include "ipc_socket.h"
#include "log.h"
#include "requests.h"
#include "runtime_dir.h"
#include "sandbox.h"
#include "seccomp_policy.h"
#include "supervisor.h"

#define STOP_TIMEOUT_MS 5000

/* What privd keeps after start-up, and why (policy/PRIVILEGES.md). */
static const cap_value_t kept_caps[] = {
	CAP_SETUID,     /* start (and restart) each child under its own uid */
	CAP_SETGID,     /* ... and its own gid, with supplementary groups cleared */
	CAP_KILL,       /* stop children, which run under other uids */
	CAP_BPF,        /* create uprobe links, read the kernel side's counters */
	CAP_PERFMON,    /* uprobes (uprobe_multi links, or perf events on old kernels) */
	CAP_SYS_PTRACE, /* read /proc/PID/{maps,exe,root} of processes of other users */
};

extern const char usm_policy_attach[];
extern const unsigned long usm_policy_attach_len;
extern const char usm_policy_privd[];
extern const unsigned long usm_policy_privd_len;

/* The kept set, plus CAP_SYS_ADMIN only where classic perf-event
 * uprobes are used (no uprobe_multi): creating them needs it. */
static int drop_capabilities(const struct kernel *k)
{
	cap_value_t caps[sizeof(kept_caps) / sizeof(kept_caps[0]) + 1];
	size_t n = sizeof(kept_caps) / sizeof(kept_caps[0]);
	memcpy(caps, kept_caps, sizeof(kept_caps));
	if (k->tls && !k->uprobe_multi) {
		caps[n++] = CAP_SYS_ADMIN;
		log_warn("keeping CAP_SYS_ADMIN: classic uprobes need it (no uprobe_multi)");
	}
	return usm_caps_keep_only(caps, n);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: usm-privd [-c FILE] [-o key=value]... [--version] [--help]\n"
		"\n"
		"Runs usm in the foreground: the privileged usm-privd, which starts and\n"
		"supervises usm-collector and usm-apid. Logs go to stderr; SIGTERM or\n"
		"SIGINT stops everything.\n"
		"\n"
		"  -c, --config FILE   read `key = value` settings from FILE\n"
		"  -o, --option K=V    set one key (after the file; may repeat)\n"
		"  -V, --version       print the version and exit\n"
		"  -h, --help          print this help and exit\n"
		"\n"
		"Keys and defaults: see README.md. Exit status 2: bad configuration.\n");
}

static int open_signalfd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return fd < 0 ? -errno : fd;
}

/* Returns true when privd should stop. */
static bool handle_signals(int sigfd, struct supervisor *sup)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			supervisor_reap(sup);
			break;
		case SIGHUP:
			log_info("SIGHUP: the configuration is read at start only; restart to change it");
			break;
		default:
			log_info("received %s, stopping", strsignal((int)si.ssi_signo));
			stop = true;
		}
	}
	return stop;
}

static void run_loop(int sigfd, struct usm_ipc_server *server, struct privd_state *state)
{
	int ipcfd;
	if (usm_ipc_server_pollfd(server, &ipcfd) != 0) {
		log_error("cannot poll the request socket");
		return;
	}
	for (;;) {
		struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {ipcfd, POLLIN, 0}};
		int timeout = supervisor_next_timeout_ms(state->sup);
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return;
		}
		if ((pfd[0].revents & POLLIN) && handle_signals(sigfd, state->sup))
			return;
		if (pfd[1].revents & POLLIN) {
			int rc = usm_ipc_server_serve(server, privd_routes, privd_nroutes, state);
			if (rc < 0)
				log_warn("request socket: %s", strerror(-rc));
		}
		supervisor_tick(state->sup);
	}
}

int main(int argc, char **argv)
{
	static struct usm_config cfg;
	static struct supervisor sup;
	static struct usm_ipc_server server;
	static struct attach_policy policy;
	static struct kernel kernel;
	static struct attach_table attachments;
	char path[PATH_MAX];

	usm_log_init("usm-privd", USM_LOG_INFO);
	usm_config_from_args(argc, argv, "usm-privd", usage, &cfg);
	usm_log_set_level(cfg.log_level);
	if (geteuid() != 0) {
		log_error("usm-privd must be started as root (it drops what it does not need)");
		return 1;
	}

	struct attach_policy_error perr;
	if (attach_policy_parse(usm_policy_attach, usm_policy_attach_len, "attach.policy", &policy,
				&perr) != 0) {
		log_error("built-in attach policy: %s", perr.msg);
		return 1;
	}
	int sigfd = open_signalfd();
	if (sigfd < 0) {
		log_error("cannot set up signal handling: %s", strerror(-sigfd));
		return 1;
	}
	int rc = runtime_dir_prepare(cfg.runtime_dir, cfg.collector_user.uid,
				     cfg.collector_user.gid, cfg.api_user.gid);
	if (rc == 0)
		rc = supervisor_init(&sup, &cfg);
	if (rc == 0)
		rc = attach_table_init(&attachments, cfg.max_traced_files);
	if (rc == 0 && link_closer_start(cfg.detach_threads) != 0)
		rc = -EAGAIN;
	if (rc == 0) {
		kernel_start(&kernel, &cfg, &policy, getpid());
		/* The collector reads the ring buffers itself, from fds it
		 * inherits (3, 4): the data plane never crosses privd. */
		int rings[2];
		kernel_ring_fds(&kernel, rings);
		for (unsigned i = 0; i < 2 && rings[i] >= 0; i++)
			sup.children[0].passed_fds[sup.children[0].npassed++] = rings[i];
	}
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/%s", cfg.runtime_dir, USM_PRIVD_SOCKET);
		rc = usm_ipc_server_listen(&server, "privd", path, cfg.collector_user.uid, 0660);
	}
	if (rc == 0)
		rc = drop_capabilities(&kernel);
	/* From here privd runs under its own filter, and so do the children
	 * it starts until they install theirs. */
	if (rc == 0)
		rc = usm_policy_apply_text(usm_policy_privd, usm_policy_privd_len, "privd.policy",
					   cfg.seccomp);
	if (rc == 0)
		rc = supervisor_start_all(&sup);
	if (rc != 0) {
		log_error("start-up failed: %s", strerror(-rc));
		supervisor_stop_all(&sup, STOP_TIMEOUT_MS);
		runtime_dir_remove(cfg.runtime_dir);
		return 1;
	}
	log_info("usm %s running: API on http://%s, runtime directory %s", USM_VERSION,
		 cfg.api_listen, cfg.runtime_dir);

	struct privd_state state = {.sup = &sup,
				    .server = &server,
				    .kernel = &kernel,
				    .attachments = &attachments,
				    .policy = &policy};
	run_loop(sigfd, &server, &state);

	supervisor_stop_all(&sup, STOP_TIMEOUT_MS);
	usm_ipc_server_close(&server);
	/* Links left open at exit would be closed by the kernel one by one;
	 * close them here, in parallel. */
	attach_release_all(&attachments);
	kernel_stop(&kernel);
	runtime_dir_remove(cfg.runtime_dir);
	supervisor_free(&sup);
	log_info("stopped");
	return 0;
}
