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
#define STABLE_AFTER_MS 10000 /* a child up this long starts its backoff anew */

/* Environment variables a child may inherit: sanitizer settings only. */
static const char *const passed_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
static char *child_envp[sizeof(passed_env) / sizeof(passed_env[0]) + 1];

static char *child_argv[2][2 + 2 * SUPERVISOR_MAX_ARGS];
static char *inspector_argv[2 + 2 * SUPERVISOR_MAX_ARGS];

#define OWNER_STOP_TIMEOUT_MS 30000 /* closing thousands of links takes seconds */
#define INSPECTOR_GRACE_MS 250 /* past the BPF owner's own wait, before the kill */

/* The build tree keeps each daemon in its own directory; an installation
 * keeps the children in USM_LIBEXECDIR. */
static int open_child_binary(const char *name, const char *subdir)
{
	char self[PATH_MAX], candidates[2][PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	snprintf(candidates[0], sizeof(candidates[0]), "%s/../%s/%s", dirname(self), subdir, name);
	snprintf(candidates[1], sizeof(candidates[1]), "%s/%s", USM_LIBEXECDIR, name);

	for (size_t i = 0; i < 2; i++) {
		int fd = open(candidates[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
		    (st.st_mode & 022) || !(st.st_mode & 01)) {
			log_error("%s: refusing to run it: it must be a regular file owned by root, "
				  "executable by others and writable by nobody else",
				  candidates[i]);
			close(fd);
			return -EPERM;
		}
		log_debug("%s: %s", name, candidates[i]);
		return fd;
	}
	log_error("cannot find %s (looked for %s and %s)", name, candidates[0], candidates[1]);
	return -ENOENT;
}

static void build_env(void)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(passed_env) / sizeof(passed_env[0]); i++) {
		const char *v = getenv(passed_env[i]);
		if (!v)
			continue;
		size_t len = strlen(passed_env[i]) + strlen(v) + 2;
		char *kv = malloc(len);
		if (kv) {
			snprintf(kv, len, "%s=%s", passed_env[i], v);
			child_envp[n++] = kv;
		}
	}
	child_envp[n] = NULL;
}

static void build_argv(struct supervisor *sup, char **argv, const char *name)
{
	size_t a = 0;
	argv[a++] = (char *)name;
	for (size_t i = 0; i < sup->noptions; i++) {
		argv[a++] = "-o";
		argv[a++] = sup->argv_options[i];
	}
	argv[a] = NULL;
}

int supervisor_init(struct supervisor *sup, const struct usm_config *cfg)
{
	memset(sup, 0, sizeof(*sup));
	sup->cfg = cfg;
	sup->self = getpid();
	sup->privd_started = time(NULL);
	sup->devnull_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (sup->devnull_fd < 0)
		return -errno;
	int rc = usm_config_to_args(cfg, sup->argv_options, SUPERVISOR_MAX_ARGS, &sup->noptions);
	if (rc)
		return rc;
	build_env();

	static const struct {
		enum usm_role role;
		const char *name, *subdir;
	} roles[2] = {
		{USM_ROLE_COLLECTOR, "usm-collector", "collector"},
		{USM_ROLE_APID, "usm-apid", "apid"},
	};
	sup->children[0].exe_fd = sup->children[1].exe_fd = sup->inspector_exe_fd = -1;
	sup->channel = -1;
	for (unsigned i = 0; i < 2; i++) {
		struct child *c = &sup->children[i];
		c->role = roles[i].role;
		c->name = roles[i].name;
		c->last_exit = -1;
		c->state = USM_PROC_RESTARTING; /* not started yet */
		c->uid = i == 0 ? cfg->collector_user.uid : cfg->api_user.uid;
		c->gid = i == 0 ? cfg->collector_user.gid : cfg->api_user.gid;
		c->exe_fd = open_child_binary(roles[i].name, roles[i].subdir);
		if (c->exe_fd < 0)
			return c->exe_fd;
		build_argv(sup, child_argv[i], roles[i].name);
	}
	sup->inspector_exe_fd = open_child_binary("usm-inspector", "inspector");
	if (sup->inspector_exe_fd < 0)
		return sup->inspector_exe_fd;
	build_argv(sup, inspector_argv, "usm-inspector");
	return 0;
}

/* What a process is started with. */
struct spawn_spec {
	const char *name;
	int exe_fd;
	char **argv;
	uid_t uid;
	gid_t gid;
	const int *fds; /* become fds 3, 4, ... */
	unsigned nfds;
};

/* Between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn)) exec_process(struct supervisor *sup,
						   const struct spawn_spec *sp)
{
	static const char msg[] = "usm-privd: child set-up failed before exec\n";
	sigset_t none;
	sigemptyset(&none);
	signal(SIGPIPE, SIG_DFL);
	if (sigprocmask(SIG_SETMASK, &none, NULL) != 0)
		goto fail;
	/* Passed fds go to 3.. by way of high numbers, so that a source fd
	 * that is itself in 3.. is never overwritten before it is copied. */
	int high[SUPERVISOR_MAX_PASSED_FDS];
	for (unsigned i = 0; i < sp->nfds; i++)
		if ((high[i] = fcntl(sp->fds[i], F_DUPFD_CLOEXEC, 100)) < 0)
			goto fail;
	if (dup2(sup->devnull_fd, 0) < 0 || dup2(STDERR_FILENO, 1) < 0)
		goto fail;
	for (unsigned i = 0; i < sp->nfds; i++)
		if (dup2(high[i], 3 + (int)i) < 0)
			goto fail;
	/* Everything else (the binary's fd included) closes at exec. */
	if (syscall(SYS_close_range, 3 + sp->nfds, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		goto fail;
	if (chdir("/") != 0)
		goto fail;
	if (privd_drop_for_exec(sp->uid, sp->gid, SIGTERM, sup->self) != 0)
		goto fail;
	syscall(SYS_execveat, sp->exe_fd, "", sp->argv, child_envp, AT_EMPTY_PATH);
fail:
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(126);
}

static pid_t spawn_process(struct supervisor *sup, const struct spawn_spec *sp)
{
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		log_error("cannot fork %s: %s", sp->name, strerror(e));
		return -e;
	}
	if (pid == 0)
		exec_process(sup, sp);
	return pid;
}

static int spawn(struct supervisor *sup, struct child *c)
{
	struct spawn_spec sp = {c->name, c->exe_fd, child_argv[c == &sup->children[0] ? 0 : 1],
				c->uid, c->gid, c->passed_fds, c->npassed};
	pid_t pid = spawn_process(sup, &sp);
	if (pid < 0)
		return pid;
	c->pid = pid;
	c->state = USM_PROC_RUNNING;
	c->up_since = time(NULL);
	c->started_mono_ms = (int64_t)usm_monotonic_ms();
	log_info("started %s, pid %d", c->name, (int)pid);
	supervisor_publish_health(sup);
	return 0;
}

int supervisor_spawn_inspector(struct supervisor *sup, const int fds[2])
{
	unsigned slot = 0;
	while (slot < SUPERVISOR_MAX_INSPECTORS && sup->inspectors[slot].pid != 0)
		slot++;
	if (slot == SUPERVISOR_MAX_INSPECTORS) {
		log_warn("%u inspectors already running: not starting another",
			 SUPERVISOR_MAX_INSPECTORS);
		return -EAGAIN;
	}
	struct spawn_spec sp = {"usm-inspector", sup->inspector_exe_fd, inspector_argv,
				sup->cfg->inspector_user.uid, sup->cfg->inspector_user.gid, fds, 2};
	pid_t pid = spawn_process(sup, &sp);
	if (pid < 0)
		return pid;
	sup->inspectors[slot].pid = pid;
	sup->inspectors[slot].deadline_ms =
		(int64_t)usm_monotonic_ms() + sup->cfg->inspect_timeout_ms + INSPECTOR_GRACE_MS;
	sup->inspectors_started++;
	log_debug("started usm-inspector, pid %d", (int)pid);
	return 0;
}

int supervisor_start_all(struct supervisor *sup)
{
	for (unsigned i = 0; i < 2; i++) {
		int rc = spawn(sup, &sup->children[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static unsigned deaths_within(const struct child *c, int64_t now, int64_t window_ms)
{
	unsigned n = 0;
	unsigned kept = c->ndeaths < SUPERVISOR_DEATH_HISTORY ? c->ndeaths : SUPERVISOR_DEATH_HISTORY;
	for (unsigned i = 0; i < kept; i++)
		if (now - c->deaths_ms[i] <= window_ms)
			n++;
	return n;
}

static void on_child_exit(struct supervisor *sup, struct child *c, int status)
{
	int64_t now = (int64_t)usm_monotonic_ms();
	c->pid = 0;
	c->last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (sup->stopping) {
		c->state = USM_PROC_RESTARTING;
		return;
	}
	if (WIFSIGNALED(status))
		log_warn("%s died from signal %d (%s)", c->name, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		log_warn("%s exited with status %d", c->name, WEXITSTATUS(status));

	c->deaths_ms[c->ndeaths++ % SUPERVISOR_DEATH_HISTORY] = now;
	unsigned recent = deaths_within(c, now, (int64_t)sup->cfg->child_restart_window_s * 1000);
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
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	c->consecutive_failures++;
	c->state = USM_PROC_RESTARTING;
	c->restart_at_ms = now + delay;
	log_info("restarting %s in %lld ms", c->name, (long long)delay);
}

static void on_inspector_exit(struct supervisor *sup, unsigned slot, int status)
{
	sup->inspectors[slot].pid = 0;
	if (WIFSIGNALED(status))
		log_warn("usm-inspector died from signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) != 0)
		log_warn("usm-inspector exited with status %d", WEXITSTATUS(status));
}

void supervisor_reap(struct supervisor *sup)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		if (pid == sup->owner_pid) {
			sup->owner_pid = 0;
			sup->owner_status = status;
			continue;
		}
		for (unsigned i = 0; i < SUPERVISOR_MAX_INSPECTORS; i++)
			if (sup->inspectors[i].pid == pid)
				on_inspector_exit(sup, i, status);
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
	for (unsigned i = 0; i < SUPERVISOR_MAX_INSPECTORS; i++) {
		if (sup->inspectors[i].pid > 0 && now >= sup->inspectors[i].deadline_ms &&
		    !sup->inspectors[i].killed) {
			log_warn("usm-inspector pid %d did not answer in time: killing it",
				 (int)sup->inspectors[i].pid);
			kill(sup->inspectors[i].pid, SIGKILL);
			sup->inspectors[i].killed = true;
		}
	}
	for (unsigned i = 0; i < 2; i++) {
		struct child *c = &sup->children[i];
		if (sup->stopping || c->pid != 0 || c->state != USM_PROC_RESTARTING ||
		    now < c->restart_at_ms)
			continue;
		if (spawn(sup, c) == 0) {
			c->restarts++;
			supervisor_publish_health(sup);
		} else
			c->restart_at_ms = now + BACKOFF_MAX_MS;
	}
}

int supervisor_next_timeout_ms(const struct supervisor *sup)
{
	int64_t now = (int64_t)usm_monotonic_ms(), best = -1;
	for (unsigned i = 0; i < 2; i++) {
		const struct child *c = &sup->children[i];
		if (c->pid != 0 || c->state != USM_PROC_RESTARTING)
			continue;
		int64_t wait = c->restart_at_ms > now ? c->restart_at_ms - now : 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	for (unsigned i = 0; i < SUPERVISOR_MAX_INSPECTORS; i++) {
		if (sup->inspectors[i].pid <= 0 || sup->inspectors[i].killed)
			continue;
		int64_t d = sup->inspectors[i].deadline_ms;
		int64_t wait = d > now ? d - now : 0;
		if (best < 0 || wait < best)
			best = wait;
	}
	return (int)best;
}

/* SIGTERM, then SIGKILL after timeout_ms; reaped. */
static void stop_owner(struct supervisor *sup, int timeout_ms)
{
	if (sup->owner_pid <= 0)
		return;
	kill(sup->owner_pid, SIGTERM);
	int64_t deadline = (int64_t)usm_monotonic_ms() + timeout_ms;
	while (sup->owner_pid > 0 && (int64_t)usm_monotonic_ms() < deadline) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		supervisor_reap(sup);
	}
	if (sup->owner_pid > 0) {
		log_warn("usm-privd-bpf did not stop within %d ms: killing it", timeout_ms);
		kill(sup->owner_pid, SIGKILL);
		waitpid(sup->owner_pid, NULL, 0);
		sup->owner_pid = 0;
	}
}

static void stop_children(struct supervisor *sup, int timeout_ms)
{
	for (unsigned i = 0; i < 2; i++)
		if (sup->children[i].pid > 0)
			kill(sup->children[i].pid, SIGTERM);
	int64_t deadline = (int64_t)usm_monotonic_ms() + timeout_ms;
	for (;;) {
		supervisor_reap(sup);
		bool alive = sup->children[0].pid > 0 || sup->children[1].pid > 0;
		if (!alive)
			return;
		if ((int64_t)usm_monotonic_ms() >= deadline)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	for (unsigned i = 0; i < 2; i++) {
		struct child *c = &sup->children[i];
		if (c->pid <= 0)
			continue;
		log_warn("%s did not stop within %d ms: killing it", c->name, timeout_ms);
		kill(c->pid, SIGKILL);
		int status;
		if (waitpid(c->pid, &status, 0) == c->pid)
			on_child_exit(sup, c, status);
	}
}

void supervisor_stop_all(struct supervisor *sup, int timeout_ms)
{
	sup->stopping = true;
	for (unsigned i = 0; i < SUPERVISOR_MAX_INSPECTORS; i++)
		if (sup->inspectors[i].pid > 0)
			kill(sup->inspectors[i].pid, SIGKILL);
	stop_children(sup, timeout_ms);
	/* Last: the collector must not lose privd while it still runs, and
	 * the owner closes every link before it exits. */
	stop_owner(sup, OWNER_STOP_TIMEOUT_MS);
	supervisor_reap(sup);
}

void supervisor_health(const struct supervisor *sup, struct usm_health *out)
{
	memset(out, 0, sizeof(*out));
	out->proc[USM_ROLE_PRIVD] = (struct usm_proc_health){
		.pid = (uint32_t)sup->self,
		.role = USM_ROLE_PRIVD,
		.state = USM_PROC_RUNNING,
		.up_since = sup->privd_started,
		.last_exit = -1,
	};
	for (unsigned i = 0; i < 2; i++) {
		const struct child *c = &sup->children[i];
		out->proc[c->role] = (struct usm_proc_health){
			.pid = (uint32_t)c->pid,
			.role = (uint8_t)c->role,
			.state = (uint8_t)c->state,
			.up_since = c->up_since,
			.restarts = c->restarts,
			.last_exit = c->last_exit,
		};
	}
}

void supervisor_publish_health(struct supervisor *sup)
{
	if (sup->channel < 0)
		return;
	struct owner_msg m = {.type = OWNER_HEALTH};
	supervisor_health(sup, &m.health);
	int rc = owner_send(sup->channel, &m, NULL, 0);
	if (rc != 0 && rc != -EPIPE && rc != -ECONNREFUSED)
		log_warn("cannot tell usm-privd-bpf the processes' state: %s", strerror(-rc));
}

void supervisor_restart_collector(struct supervisor *sup)
{
	struct child *c = &sup->children[0];
	if (c->pid > 0) {
		log_warn("restarting %s (pid %d): it broke the protocol with privd", c->name,
			 (int)c->pid);
		kill(c->pid, SIGKILL);
	}
}

void supervisor_close_fds(struct supervisor *sup)
{
	for (unsigned i = 0; i < 2; i++)
		if (sup->children[i].exe_fd >= 0)
			close(sup->children[i].exe_fd);
	if (sup->inspector_exe_fd >= 0)
		close(sup->inspector_exe_fd);
	if (sup->devnull_fd >= 0)
		close(sup->devnull_fd);
}

void supervisor_free(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->noptions; i++)
		free(sup->argv_options[i]);
	for (unsigned i = 0; i < 2; i++)
		if (sup->children[i].exe_fd >= 0)
			close(sup->children[i].exe_fd);
	if (sup->inspector_exe_fd >= 0)
		close(sup->inspector_exe_fd);
	if (sup->devnull_fd >= 0)
		close(sup->devnull_fd);
}
