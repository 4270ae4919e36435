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

#include "log.h"
#include "monotonic.h"
#include "sandbox.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 30000
#define STABLE_AFTER_MS 10000 /* a child up this long starts its backoff anew */

/* Environment variables a child may inherit: sanitizer settings only. */
static const char *const passed_env[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"};
static char *child_envp[sizeof(passed_env) / sizeof(passed_env[0]) + 1];

static char *child_argv[2][2 + 2 * SUPERVISOR_MAX_ARGS];

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

static void build_argv(struct supervisor *sup, unsigned idx, const char *name)
{
	size_t a = 0;
	child_argv[idx][a++] = (char *)name;
	for (size_t i = 0; i < sup->noptions; i++) {
		child_argv[idx][a++] = "-o";
		child_argv[idx][a++] = sup->argv_options[i];
	}
	child_argv[idx][a] = NULL;
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
	sup->children[0].exe_fd = sup->children[1].exe_fd = -1;
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
		build_argv(sup, i, roles[i].name);
	}
	return 0;
}

/* Between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn)) exec_child(struct supervisor *sup, struct child *c,
						 char **argv)
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
	for (unsigned i = 0; i < c->npassed; i++)
		if ((high[i] = fcntl(c->passed_fds[i], F_DUPFD_CLOEXEC, 100)) < 0)
			goto fail;
	if (dup2(sup->devnull_fd, 0) < 0 || dup2(STDERR_FILENO, 1) < 0)
		goto fail;
	for (unsigned i = 0; i < c->npassed; i++)
		if (dup2(high[i], 3 + (int)i) < 0)
			goto fail;
	/* Everything else (the binary's fd included) closes at exec. */
	if (syscall(SYS_close_range, 3 + c->npassed, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		goto fail;
	if (chdir("/") != 0)
		goto fail;
	if (usm_child_drop_privileges(c->uid, c->gid, SIGTERM, sup->self) != 0)
		goto fail;
	syscall(SYS_execveat, c->exe_fd, "", argv, child_envp, AT_EMPTY_PATH);
fail:
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(126);
}

static int spawn(struct supervisor *sup, struct child *c)
{
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		log_error("cannot fork %s: %s", c->name, strerror(e));
		return -e;
	}
	if (pid == 0)
		exec_child(sup, c, child_argv[c == &sup->children[0] ? 0 : 1]);
	c->pid = pid;
	c->state = USM_PROC_RUNNING;
	c->up_since = time(NULL);
	c->started_mono_ms = (int64_t)usm_monotonic_ms();
	log_info("started %s, pid %d", c->name, (int)pid);
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

void supervisor_reap(struct supervisor *sup)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		for (unsigned i = 0; i < 2; i++)
			if (sup->children[i].pid == pid)
				on_child_exit(sup, &sup->children[i], status);
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
		if (spawn(sup, c) == 0)
			c->restarts++;
		else
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
	return (int)best;
}

void supervisor_stop_all(struct supervisor *sup, int timeout_ms)
{
	sup->stopping = true;
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

void supervisor_free(struct supervisor *sup)
{
	for (size_t i = 0; i < sup->noptions; i++)
		free(sup->argv_options[i]);
	for (unsigned i = 0; i < 2; i++)
		if (sup->children[i].exe_fd >= 0)
			close(sup->children[i].exe_fd);
	if (sup->devnull_fd >= 0)
		close(sup->devnull_fd);
}
