/* usm-privd, the supervisor. Start-up as root: the configuration (exit
 * 2 on any error, before anything starts); the pre-flight checks, tracefs
 * mounted if nobody did among them (common/preflight.h: an exit status of
 * its own for each environment usm cannot run in); the signals blocked
 * before any thread exists anywhere, so they arrive on the signalfd; the
 * runtime directory; the BPF owner forked
 * (owner.c); the binaries opened (after the fork: the owner never holds
 * them); the owner's READY; only CAP_SETUID, CAP_SETGID and CAP_KILL
 * kept; policy/privd.policy (compiled at build time); the children. Then
 * one loop: signals and the owner's requests. It runs no thread, holds no
 * BPF object, and parses nothing but the owner's fixed-size messages. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_cli.h"
#include "identity.h"
#include "kernel.h"
#include "log.h"
#include "owner.h"
#include "owner_channel.h"
#include "preflight.h"
#include "privd_seccomp_filter.h"
#include "runtime_dir.h"
#include "seccomp_install.h"
#include "signal_fd.h"
#include "supervisor.h"

#define STOP_TIMEOUT_MS 5000

/* What the supervisor keeps, and why (policy/PRIVILEGES.md). */
static const cap_value_t kept_caps[] = {
	CAP_SETUID, /* start (and restart) each child and inspector under its own uid */
	CAP_SETGID, /* ... and its own gid, with supplementary groups cleared */
	CAP_KILL,   /* stop the children and the BPF owner (other uids) */
};

static void usage(FILE *out)
{
	fprintf(out, "usage: usm-privd [-c FILE] [-o key=value]... [--version] [--help]\n\n"
		     "Runs usm in the foreground: usm-privd starts and supervises the others.\n"
		     "Logs go to stderr; SIGTERM or SIGINT stops everything.\n\n"
		     "  -c, --config FILE   read `key = value` settings from FILE\n"
		     "  -o, --option K=V    set one key (after the file; may repeat)\n"
		     "  -V, --version       print the version and exit (-h, --help: this help)\n\n"
		     "Keys, defaults and exit statuses: see README.md.\n");
}

/* Read from the signalfd, and inherited (blocked, the fd too) by the BPF owner. */
static const int handled_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};

/* true: stop. */
static bool handle_signals(int sigfd, struct supervisor *sup)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			supervisor_reap(sup);
		} else if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: the configuration is read at start only; restart to change it");
		} else {
			log_info("received %s, stopping", strsignal((int)si.ssi_signo));
			stop = true;
		}
	}
	if (sup->owner_pid == 0 && !stop)
		log_error("usm-privd-bpf exited (status %d): stopping", sup->owner_status);
	return stop || sup->owner_pid == 0;
}

/* The owner's requests after READY; true: stop (it is gone or broke the
 * protocol). */
static bool handle_owner(struct supervisor *sup)
{
	for (unsigned n = 0; n < 16; n++) { /* then signals are heard again */
		struct owner_msg m;
		int fds[OWNER_MAX_FDS];
		unsigned nfds;
		int rc = owner_recv(sup->channel, &m, fds, &nfds);
		if (rc == -EAGAIN)
			return false;
		bool known = rc == 0 && (m.type == OWNER_RESTART_COLLECTOR || m.type == OWNER_INSPECT);
		if (known && m.type == OWNER_RESTART_COLLECTOR)
			supervisor_restart_collector(sup);
		else if (known)
			supervisor_spawn_inspector(sup, fds); /* it got its own copies of fds */
		for (unsigned i = 0; i < nfds; i++)       /* 0 but for INSPECT's 2 */
			close(fds[i]);
		if (!known) {
			log_error("usm-privd-bpf %s: stopping", rc == -EPIPE ? "is gone (its channel closed)"
									      : "sent an unexpected message");
			return true;
		}
	}
	return false;
}

/* Returns privd's exit status: 0 when asked to stop, USM_EXIT_FAILED
 * when the owner went away or broke the protocol. */
static int run_loop(int sigfd, struct supervisor *sup)
{
	for (;;) {
		struct pollfd pfd[2] = {{sigfd, POLLIN, 0}, {sup->channel, POLLIN, 0}};
		if (poll(pfd, 2, supervisor_next_timeout_ms(sup)) < 0 && errno != EINTR)
			return USM_EXIT_FAILED;
		if ((pfd[0].revents & POLLIN) && handle_signals(sigfd, sup))
			return sup->owner_pid == 0 ? USM_EXIT_FAILED : 0;
		if (pfd[1].revents && handle_owner(sup))
			return USM_EXIT_FAILED;
		supervisor_tick(sup);
	}
}

/* The syscall tracepoints are found through tracefs: mount it if the
 * kernel has it but nobody did, while privd may still mount. 0 or -errno. */
static int ensure_tracefs(void)
{
	struct stat st;
	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) != 0)
		return -errno;
	log_info("mounted tracefs on /sys/kernel/tracing (the syscall tracepoints need it)");
	return 0;
}

/* Waits for OWNER_READY (its ring buffer fds become the collector's 3 and
 * 4), or a signal: SIGTERM, or SIGCHLD of an owner that died. */
static int wait_for_owner(struct supervisor *sup, int sigfd)
{
	struct pollfd p[2] = {{sup->channel, POLLIN, 0}, {sigfd, POLLIN, 0}};
	struct owner_msg m;
	struct child *collector = &sup->children[0];
	int rc = poll(p, 2, -1) < 0 ? -errno
	       : !p[0].revents	    ? -EINTR
				    : owner_recv(sup->channel, &m, collector->passed_fds,
						 &collector->npassed);
	if (rc == 0 && m.type != OWNER_READY)
		rc = -EPROTO; /* the process stops: what it received goes with it */
	if (rc != 0)
		log_error("usm-privd-bpf did not start (see its messages above)");
	return rc;
}

int main(int argc, char **argv)
{
	static struct usm_config cfg;
	static struct supervisor sup;

	usm_log_init("usm-privd", USM_LOG_INFO);
	umask(022); /* runtime_dir is made 0755 whatever umask privd was started with */
	usm_config_from_args(argc, argv, "usm-privd", usage, &cfg);
	usm_log_set_level(cfg.log_level);
	if (geteuid() != 0) {
		log_error("usm-privd must be started as root (it drops what it does not need)");
		return USM_EXIT_FAILED;
	}
	int bad = usm_preflight(&cfg);
	if (bad == 0 && !usm_config_monitoring_disabled(&cfg)) /* what only root can find out */
		bad = usm_preflight_root(&cfg, ensure_tracefs(), uprobe_multi_supported());
	if (bad != 0)
		return bad;
	int sigfd = usm_signal_fd(handled_signals, sizeof(handled_signals) / sizeof(int));
	int rc = sigfd < 0 ? sigfd
			   : runtime_dir_prepare(cfg.runtime_dir, cfg.bpf_user.uid,
						 cfg.collector_user.uid, cfg.collector_user.gid,
						 cfg.api_user.gid);
	if (rc == 0)
		rc = supervisor_init(&sup, &cfg);
	if (rc == 0) {
		sup.owner_pid = owner_start(&cfg, &usm_attach_policy_compiled, sigfd, &sup.channel);
		rc = sup.owner_pid < 0 ? sup.owner_pid : 0;
		if (rc == 0)
			log_info("started usm-privd-bpf, pid %d", (int)sup.owner_pid);
	}
	if (rc == 0)
		rc = supervisor_open_binaries(&sup);
	if (rc == 0)
		rc = privd_keep_only_caps(kept_caps, sizeof(kept_caps) / sizeof(kept_caps[0]));
	/* From here, before it reads anything from the owner, the supervisor
	 * runs under its own filter, and so do the processes it starts until
	 * they install theirs. */
	if (rc == 0)
		rc = USM_SECCOMP_INSTALL(privd, cfg.seccomp);
	if (rc == 0)
		rc = wait_for_owner(&sup, sigfd);
	if (rc == 0)
		rc = supervisor_start_all(&sup);
	if (rc != 0) {
		log_error("start-up failed: %s", strerror(-rc));
		supervisor_stop_all(&sup, STOP_TIMEOUT_MS);
		runtime_dir_remove(cfg.runtime_dir);
		return USM_EXIT_FAILED;
	}
	log_info("usm %s running: API on http://%s, runtime directory %s", USM_VERSION,
		 cfg.api_listen, cfg.runtime_dir);
	int status = run_loop(sigfd, &sup);
	supervisor_stop_all(&sup, STOP_TIMEOUT_MS);
	runtime_dir_remove(cfg.runtime_dir);
	log_info("stopped");
	return status;
}
