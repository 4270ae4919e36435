#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "log.h"
#include "monotonic.h"
#include "owner_channel.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 30000
#define STABLE_AFTER_MS 10000       /* a child up this long starts its backoff anew */
#define OWNER_STOP_TIMEOUT_MS 30000 /* closing thousands of links takes seconds */

/* Environment variables a child may inherit: sanitizer settings only. */
static const char *const passed_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
static char *child_envp[sizeof(passed_env) / sizeof(passed_env[0]) + 1];
/* collector, apid, inspector: the name, then the configuration as -o options */
static char *argvs[3][2 + 2 * SUPERVISOR_MAX_ARGS];
static const char *const names[3] = {"usm-collector", "usm-apid", "usm-inspector"};
static const char *const subdirs[3] = {"collector", "apid", "inspector"};

/* The build tree keeps each program in its own directory; an installation
 * keeps them in USM_LIBEXECDIR. Only root may have written the file. */
static int open_binary(unsigned i)
{
	char self[PATH_MAX], paths[2][PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(paths[0], sizeof(paths[0]), "%s/../%s/%s", dirname(self), subdirs[i], names[i]);
	snprintf(paths[1], sizeof(paths[1]), "%s/%s", USM_LIBEXECDIR, names[i]);
	for (size_t p = 0; p < 2; p++) {
		struct stat st;
		int fd = open(paths[p], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
		    !(st.st_mode & 022) && (st.st_mode & 01))
			return fd;
		log_error("%s: refusing to run it: it must be a regular file owned by root, "
			  "executable by others and writable by nobody else", paths[p]);
		close(fd);
		return -EPERM;
	}
	log_error("cannot find %s (looked for %s and %s)", names[i], paths[0], paths[1]);
	return -ENOENT;
}

int supervisor_init(struct supervisor *sup, const struct usm_config *cfg)
{
	memset(sup, 0, sizeof(*sup));
	sup->cfg = cfg;
	sup->self = getpid();
	sup->privd_started = time(NULL);
	sup->channel = sup->devnull_fd = -1;
	int rc = usm_config_to_args(cfg, sup->argv_options, SUPERVISOR_MAX_ARGS, &sup->noptions);
	for (unsigned i = 0; rc == 0 && i < 3; i++) {
		size_t a = 0;
		argvs[i][a++] = (char *)names[i];
		for (size_t o = 0; o < sup->noptions; o++) {
			argvs[i][a++] = "-o";
			argvs[i][a++] = sup->argv_options[o];
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < sizeof(passed_env) / sizeof(passed_env[0]); i++) {
		const char *v = getenv(passed_env[i]);
		size_t len = v ? strlen(passed_env[i]) + strlen(v) + 2 : 0;
		if (v && (child_envp[n] = malloc(len)) != NULL)
			snprintf(child_envp[n++], len, "%s=%s", passed_env[i], v);
	}
	const struct usm_user *users[2] = {&cfg->collector_user, &cfg->api_user};
	for (unsigned i = 0; i < 2; i++) {
		struct child *c = &sup->children[i];
		c->role = i == 0 ? USM_ROLE_COLLECTOR : USM_ROLE_APID;
		c->name = names[i];
		c->last_exit = -1;
		c->state = USM_PROC_RESTARTING; /* not started yet */
		c->uid = users[i]->uid;
		c->gid = users[i]->gid;
		c->exe_fd = -1;
	}
	return rc;
}

int supervisor_open_binaries(struct supervisor *sup)
{
	sup->devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sup->devnull_fd < 0)
		return -errno;
	for (unsigned i = 0; i < 3; i++) {
		int fd = open_binary(i);
		if (fd < 0)
			return fd;
		*(i < 2 ? &sup->children[i].exe_fd : &sup->inspector_exe_fd) = fd;
	}
	return 0;
}

/* Between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn)) exec_process(struct supervisor *sup, int exe_fd,
						   char **argv, uid_t uid, gid_t gid,
						   const int *fds, unsigned nfds)
{
	static const char msg[] = "usm-privd: child set-up failed before exec\n";
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	/* Passed fds go to 3.. by way of high numbers, so that a source fd
	 * that is itself in 3.. is never overwritten before it is copied. */
	int high[SUPERVISOR_MAX_PASSED_FDS];
	for (unsigned i = 0; i < nfds; i++)
		if ((high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100)) < 0)
			goto fail;
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0 || dup2(sup->devnull_fd, 0) < 0 ||
	    dup2(STDERR_FILENO, 1) < 0)
		goto fail;
	for (unsigned i = 0; i < nfds; i++)
		if (dup2(high[i], 3 + (int)i) < 0)
			goto fail;
	/* Everything else (the binary's fd included) closes at exec. */
	if (syscall(SYS_close_range, 3 + nfds, ~0U, CLOSE_RANGE_CLOEXEC) != 0 || chdir("/") != 0 ||
	    privd_drop_for_exec(uid, gid, SIGTERM, sup->self) != 0)
		goto fail;
	syscall(SYS_execveat, exe_fd, "", argv, child_envp, AT_EMPTY_PATH);
fail:
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(126);
}

static int spawn(struct supervisor *sup, struct child *c)
{
	pid_t pid = fork();
	if (pid == 0)
		exec_process(sup, c->exe_fd, argvs[c - sup->children], c->uid, c->gid, c->passed_fds,
			     c->npassed);
	if (pid < 0) {
		int e = errno;
		log_error("cannot fork %s: %s", c->name, strerror(e));
		return -e;
	}
	c->pid = pid;
	c->state = USM_PROC_RUNNING;
	c->up_since = time(NULL);
	c->started_mono_ms = (int64_t)usm_monotonic_ms();
	log_info("started %s, pid %d", c->name, (int)pid);
	return 0;
}

void supervisor_spawn_inspector(struct supervisor *sup, const int fds[2])
{
	unsigned slot = 0;
	while (slot < SUPERVISOR_MAX_INSPECTORS && sup->inspectors[slot] != 0)
		slot++;
	pid_t pid = slot == SUPERVISOR_MAX_INSPECTORS ? -EAGAIN : fork();
	if (pid == 0)
		exec_process(sup, sup->inspector_exe_fd, argvs[2], sup->cfg->inspector_user.uid,
			     sup->cfg->inspector_user.gid, fds, 2);
	if (pid < 0) /* the owner sees no answer: the file is refused, inspect-failed */
		log_warn("could not start an inspector: %s", strerror(pid == -EAGAIN ? EAGAIN : errno));
	else
		sup->inspectors[slot] = pid;
}

int supervisor_start_all(struct supervisor *sup)
{
	int rc = 0;
	for (unsigned i = 0; i < 2 && rc == 0; i++)
		rc = spawn(sup, &sup->children[i]);
	if (rc == 0)
		supervisor_publish_health(sup);
	return rc;
}

static void on_child_exit(struct supervisor *sup, struct child *c, int status)
{
	int64_t now = (int64_t)usm_monotonic_ms();
	c->pid = 0;
	c->last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	c->state = USM_PROC_RESTARTING;
	if (sup->stopping)
		return;
	if (WIFSIGNALED(status))
		log_warn("%s died from signal %d (%s)", c->name, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		log_warn("%s exited with status %d", c->name, WEXITSTATUS(status));

	c->deaths_ms[c->ndeaths++ % SUPERVISOR_DEATH_HISTORY] = now;
	unsigned recent = 0;
	for (unsigned i = 0; i < SUPERVISOR_DEATH_HISTORY && i < c->ndeaths; i++)
		recent += now - c->deaths_ms[i] <= (int64_t)sup->cfg->child_restart_window_s * 1000;
	if (recent > sup->cfg->child_max_restarts) {
		c->state = USM_PROC_FAILED;
		log_error("%s died %u times within %u s: giving up on it (see /health)", c->name,
			  recent, sup->cfg->child_restart_window_s);
		return;
	}
	if (now - c->started_mono_ms >= STABLE_AFTER_MS)
		c->consecutive_failures = 0;
	int64_t delay = BACKOFF_FIRST_MS;
	for (unsigned i = 0; i < c->consecutive_failures && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	delay = delay > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay;
	c->consecutive_failures++;
	c->restart_at_ms = now + delay;
	log_info("restarting %s in %lld ms", c->name, (long long)delay);
}

void supervisor_reap(struct supervisor *sup)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == sup->owner_pid) {
			sup->owner_pid = 0;
			sup->owner_status = status;
		}
		for (unsigned i = 0; i < SUPERVISOR_MAX_INSPECTORS; i++) {
			if (sup->inspectors[i] == pid) {
				sup->inspectors[i] = 0; /* SIGALRM: it reached inspect_timeout_ms */
				if (status != 0)
					log_warn("usm-inspector ended: wait status %#x", status);
			}
		}
		for (unsigned i = 0; i < 2; i++) {
			if (sup->children[i].pid == pid) {
				on_child_exit(sup, &sup->children[i], status);
				supervisor_publish_health(sup);
			}
		}
	}
}

void supervisor_tick(struct supervisor *sup)
{
	int64_t now = (int64_t)usm_monotonic_ms();
	for (unsigned i = 0; i < 2; i++) {
		struct child *c = &sup->children[i];
		if (sup->stopping || c->pid != 0 || c->state != USM_PROC_RESTARTING ||
		    now < c->restart_at_ms)
			continue;
		if (spawn(sup, c) != 0) {
			c->restart_at_ms = now + BACKOFF_MAX_MS;
			continue;
		}
		c->restarts++;
		supervisor_publish_health(sup);
	}
}

int supervisor_next_timeout_ms(const struct supervisor *sup)
{
	int64_t now = (int64_t)usm_monotonic_ms(), best = -1;
	for (unsigned i = 0; i < 2; i++) {
		const struct child *c = &sup->children[i];
		int64_t wait = c->restart_at_ms > now ? c->restart_at_ms - now : 0;
		if (c->pid == 0 && c->state == USM_PROC_RESTARTING && (best < 0 || wait < best))
			best = wait;
	}
	return (int)best;
}

/* Sends sig to each running pid of *pids and waits up to ms for all to be
 * reaped (supervisor_reap zeroes the pids it reaps); true if they were. */
static bool signal_and_wait(struct supervisor *sup, pid_t *const *pids, unsigned n, int sig, int ms)
{
	for (unsigned i = 0; i < n; i++)
		if (*pids[i] > 0)
			kill(*pids[i], sig);
	for (int64_t deadline = (int64_t)usm_monotonic_ms() + ms;;) {
		supervisor_reap(sup);
		bool alive = false;
		for (unsigned i = 0; i < n; i++)
			alive |= *pids[i] > 0;
		if (!alive || (int64_t)usm_monotonic_ms() >= deadline)
			return !alive;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
}

/* SIGTERM, then SIGKILL to what is left after timeout_ms. */
static void stop_pids(struct supervisor *sup, pid_t *const *pids, unsigned n, int timeout_ms)
{
	if (signal_and_wait(sup, pids, n, SIGTERM, timeout_ms))
		return;
	log_warn("stopping took more than %d ms: killing what is left", timeout_ms);
	signal_and_wait(sup, pids, n, SIGKILL, timeout_ms);
}

void supervisor_stop_all(struct supervisor *sup, int timeout_ms)
{
	sup->stopping = true;
	for (unsigned i = 0; i < SUPERVISOR_MAX_INSPECTORS; i++)
		if (sup->inspectors[i] > 0)
			kill(sup->inspectors[i], SIGKILL);
	pid_t *children[2] = {&sup->children[0].pid, &sup->children[1].pid};
	stop_pids(sup, children, 2, timeout_ms);
	/* Last: the collector must not lose privd while it still runs, and
	 * the owner closes every link before it exits. */
	pid_t *owner[1] = {&sup->owner_pid};
	stop_pids(sup, owner, 1, OWNER_STOP_TIMEOUT_MS);
}

void supervisor_publish_health(struct supervisor *sup)
{
	struct owner_msg m = {.type = OWNER_HEALTH};
	m.health.proc[USM_ROLE_PRIVD] = (struct usm_proc_health){
		.pid = (uint32_t)sup->self, .role = USM_ROLE_PRIVD, .state = USM_PROC_RUNNING,
		.up_since = sup->privd_started, .last_exit = -1};
	for (unsigned i = 0; i < 2; i++) {
		const struct child *c = &sup->children[i];
		m.health.proc[c->role] = (struct usm_proc_health){
			.pid = (uint32_t)c->pid, .role = (uint8_t)c->role, .state = (uint8_t)c->state,
			.up_since = c->up_since, .restarts = c->restarts, .last_exit = c->last_exit};
	}
	int rc = sup->channel < 0 ? 0 : owner_send(sup->channel, &m, NULL, 0);
	if (rc != 0 && rc != -EPIPE)
		log_warn("cannot tell usm-privd-bpf the processes' state: %s", strerror(-rc));
}

void supervisor_restart_collector(struct supervisor *sup)
{
	pid_t pid = sup->children[0].pid;
	log_warn("restarting usm-collector (pid %d): it broke the protocol with privd", (int)pid);
	if (pid > 0)
		kill(pid, SIGKILL);
}
