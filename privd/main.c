/* usm-privd: the supervisor, and the start of privd's BPF owner.
 *
 * Start-up, as root, in this order: read and check the configuration
 * (exit 2 on any error, before anything starts), block the signals it
 * handles (before any thread exists, so they arrive on the signalfd
 * only), prepare the runtime directory, open the children's and the
 * inspector's binaries, mount tracefs if nobody did, fork the BPF owner
 * (owner.c: it loads the BPF objects and drops to bpf_user itself) and
 * wait for it to be ready, keep only CAP_SETUID, CAP_SETGID and CAP_KILL,
 * apply policy/privd.policy (seccomp), start the children. Then one loop:
 * signals, the owner's requests (inspectors, collector restarts),
 * restarts, inspector deadlines. The supervisor parses nothing but
 * fixed-size messages from the owner, and holds no BPF object. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach_policy.h"
#include "config.h"
#include "config_cli.h"
#include "identity.h"
#include "log.h"
#include "owner.h"
#include "owner_channel.h"
#include "runtime_dir.h"
#include "privd_seccomp_filter.h"
#include "seccomp_install.h"
#include "supervisor.h"

#define STOP_TIMEOUT_MS 5000

/* What the supervisor keeps, and why (policy/PRIVILEGES.md). */
static const cap_value_t kept_caps[] = {
	CAP_SETUID, /* start (and restart) each child and inspector under its own uid */
	CAP_SETGID, /* ... and its own gid, with supplementary groups cleared */
	CAP_KILL,   /* stop the children, the BPF owner and late inspectors (other uids) */
};


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
	if (sup->owner_pid == 0 && !stop) {
		log_error("usm-privd-bpf exited (status %d): stopping", sup->owner_status);
		stop = true;
	}
	return stop;
}

/* The BPF owner's requests after READY. Returns true when privd should
 * stop (the owner is gone or broke the protocol). */
static bool handle_owner(struct supervisor *sup)
{
	for (;;) {
		struct owner_msg m;
		int fds[OWNER_MAX_FDS];
		unsigned nfds;
		int rc = owner_recv(sup->channel, &m, fds, &nfds);
		if (rc == -EAGAIN)
			return false;
		if (rc == 0 && m.type == OWNER_INSPECT) {
			if (supervisor_spawn_inspector(sup, fds) != 0)
				log_warn("could not start an inspector: the file is not inspected");
			close(fds[0]);
			close(fds[1]);
			continue;
		}
		if (rc == 0 && m.type == OWNER_RESTART_COLLECTOR) {
			supervisor_restart_collector(sup);
			continue;
		}
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (rc == -EPIPE)
			log_error("usm-privd-bpf is gone (its channel closed): stopping");
		else
			log_error("usm-privd-bpf sent an unexpected message: stopping");
		return true;
	}
}

static void run_loop(int sigfd, struct supervisor *sup)
{
	for (;;) {
		struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {sup->channel, POLLIN, 0}};
		int timeout = supervisor_next_timeout_ms(sup);
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return;
		}
		if ((pfd[0].revents & POLLIN) && handle_signals(sigfd, sup))
			return;
		if (pfd[1].revents && handle_owner(sup))
			return;
		supervisor_tick(sup);
	}
}

/* The syscall tracepoints are found through tracefs: mount it if the
 * kernel has it but nobody did (before any process is confined: a
 * Landlocked or capability-less process cannot mount). */
static void ensure_tracefs(void)
{
	struct stat st;
	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) == 0)
		log_info("mounted tracefs on /sys/kernel/tracing (the syscall tracepoints need it)");
	else
		log_warn("cannot mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
}

/* Forks the BPF owner and waits for OWNER_READY; on success the ring
 * buffer fds it sent become the collector's fds 3 and 4. */
static int start_owner(struct supervisor *sup, const struct usm_config *cfg,
		       const struct attach_policy *policy, int sigfd)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* What only the supervisor needs stays with it. */
		close(sv[0]);
		close(sigfd);
		supervisor_close_fds(sup);
		struct owner_start os = {cfg, policy, sv[1], sup->self};
		owner_run(&os);
	}
	close(sv[1]);
	sup->owner_pid = pid;
	sup->channel = sv[0];
	log_info("started usm-privd-bpf, pid %d", (int)pid);
	struct pollfd p = {sv[0], POLLIN, 0};
	if (poll(&p, 1, -1) < 0)
		return -errno;
	struct owner_msg m;
	int fds[OWNER_MAX_FDS];
	unsigned nfds;
	int rc = owner_recv(sv[0], &m, fds, &nfds);
	if (rc != 0 || m.type != OWNER_READY) {
		for (unsigned i = 0; rc == 0 && i < nfds; i++)
			close(fds[i]);
		log_error("usm-privd-bpf did not start (see its messages above)");
		return rc ? rc : -EPROTO;
	}
	struct child *collector = &sup->children[0];
	for (unsigned i = 0; i < nfds; i++)
		collector->passed_fds[collector->npassed++] = fds[i];
	return 0;
}

int main(int argc, char **argv)
{
	static struct usm_config cfg;
	static struct supervisor sup;

	usm_log_init("usm-privd", USM_LOG_INFO);
	usm_config_from_args(argc, argv, "usm-privd", usage, &cfg);
	usm_log_set_level(cfg.log_level);
	if (geteuid() != 0) {
		log_error("usm-privd must be started as root (it drops what it does not need)");
		return 1;
	}

	int sigfd = open_signalfd();
	if (sigfd < 0) {
		log_error("cannot set up signal handling: %s", strerror(-sigfd));
		return 1;
	}
	int rc = runtime_dir_prepare(cfg.runtime_dir, cfg.bpf_user.uid, cfg.collector_user.uid,
				     cfg.collector_user.gid, cfg.api_user.gid);
	if (rc == 0)
		rc = supervisor_init(&sup, &cfg);
	if (rc == 0) {
		if (!usm_config_monitoring_disabled(&cfg))
			ensure_tracefs();
		rc = start_owner(&sup, &cfg, &usm_attach_policy_compiled, sigfd);
	}
	if (rc == 0)
		rc = privd_keep_only_caps(kept_caps, sizeof(kept_caps) / sizeof(kept_caps[0]));
	/* From here the supervisor runs under its own filter, and so do the
	 * processes it starts until they install theirs. */
	if (rc == 0)
		rc = cfg.seccomp == USM_SECCOMP_LOG
			     ? usm_seccomp_install(usm_filter_privd_log, usm_filter_privd_log_len)
			     : usm_seccomp_install(usm_filter_privd_kill, usm_filter_privd_kill_len);
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

	run_loop(sigfd, &sup);

	supervisor_stop_all(&sup, STOP_TIMEOUT_MS);
	runtime_dir_remove(cfg.runtime_dir);
	supervisor_free(&sup);
	log_info("stopped");
	return 0;
}
