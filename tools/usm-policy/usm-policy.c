/* usm-policy: check, export and try out usm's seccomp policies with the
 * daemons' own parser and compiler (common/seccomp_policy.c), so what this
 * tool accepts is exactly what the daemons load.
 *
 * `run` reports the calls a command makes outside a policy without killing
 * it and without ptrace: the command runs under the policy's filter with
 * SECCOMP_RET_USER_NOTIF as the default action, and this process answers
 * each notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE after counting it.
 *
 * Getting the listener fd without polluting the report: the fd only exists
 * once the filter is loaded, and after that every call of the child outside
 * the policy blocks until someone answers it. Sending the fd over a socket
 * would be such a call (and would deadlock), and allowing sendmsg for it
 * would hide the command's own sendmsg calls. So the child is created with
 * clone3(CLONE_FILES): it shares our fd table until its execve, the
 * listener fd it creates appears in our table, and it tells us the number
 * through a shared page (a memory write, not a syscall). The filter program
 * is compiled here beforehand and loaded by one raw seccomp(2) call, so
 * between loading and execve the child makes exactly one system call, the
 * execve itself, which is not counted. Everything after it is the
 * command's, including its children's and threads' calls. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp_policy.h"

#define EXIT_USAGE 2
#define EXIT_RUN_FAILED 125 /* usm-policy itself failed (env(1), timeout(1) use the same codes) */
#define EXIT_CANNOT_EXEC 126
#define EXIT_NOT_FOUND 127
#define MAX_NR 1024 /* native syscall numbers are below this on every arch libseccomp knows */

extern char **environ;

static const char usage_text[] =
	"NAME\n"
	"    usm-policy - check, compile and try out usm seccomp policies\n"
	"\n"
	"SYNOPSIS\n"
	"    usm-policy check FILE\n"
	"    usm-policy export FILE\n"
	"    usm-policy run FILE -- COMMAND [ARG]...\n"
	"    usm-policy --help\n"
	"\n"
	"DESCRIPTION\n"
	"    Each usm daemon confines itself with a seccomp allow-list written as a\n"
	"    policy file (policy/NAME.policy). usm-policy reads policies with the\n"
	"    daemons' own parser and compiler, so what it accepts is exactly what\n"
	"    the daemons load.\n"
	"\n"
	"COMMANDS\n"
	"    check FILE\n"
	"        Parse FILE. Print \"FILE: ok (N rules)\" on standard output, or the\n"
	"        first error as \"FILE:LINE: message\" on standard error.\n"
	"\n"
	"    export FILE\n"
	"        Print the filter compiled from FILE, as a daemon loads it in kill\n"
	"        mode, in libseccomp's pseudo filter code (PFC).\n"
	"\n"
	"    run FILE -- COMMAND [ARG]...\n"
	"        Run COMMAND under FILE's filter in reporting mode: a system call\n"
	"        the policy would kill the process for is let through instead and\n"
	"        counted; rules with \"=> ERRNO\" still fail their calls. When COMMAND\n"
	"        and every process it started have exited, print on standard error\n"
	"        each such call by name with its count, most frequent first\n"
	"        (\"usm-policy: 3 x openat\"), or \"usm-policy: no syscall outside the\n"
	"        policy\". Calls of COMMAND's threads and children are counted too;\n"
	"        the execve(2) that starts COMMAND is not. COMMAND is looked up in\n"
	"        PATH and runs with no_new_privs set, like the daemons (set-user-ID\n"
	"        bits have no effect). Uses seccomp user notification (Linux 5.9+),\n"
	"        not ptrace.\n"
	"\n"
	"POLICY SYNTAX\n"
	"    One rule per line; blank lines and lines starting with # are ignored.\n"
	"\n"
	"        NAME [COND [&& COND]...] [=> ERRNO]   # reason\n"
	"\n"
	"    NAME    a system call of the native architecture (read, openat...).\n"
	"    COND    argN OP VALUE, or argN & MASK == VALUE (masked equality).\n"
	"            N is 0 to 5, OP one of == != < <= > >=; each argument at\n"
	"            most once per rule. VALUE and MASK are decimal or 0x hex\n"
	"            numbers or constants (AF_UNIX, SOCK_CLOEXEC, PROT_EXEC,\n"
	"            O_RDONLY, MAP_SHARED, F_GETFL, FIONBIO, SIG_BLOCK,\n"
	"            PR_SET_NAME, CLONE_THREAD...), several joined with |.\n"
	"            The conditions of one rule are ANDed.\n"
	"    => ERRNO  fail the call with this errno (EPERM, ENOSYS...) instead of\n"
	"            allowing it: for harmless calls libc makes that must fail\n"
	"            softly rather than kill.\n"
	"    # reason  mandatory: every rule says why the call is needed.\n"
	"\n"
	"    A system call may be on several lines only if every one of them has\n"
	"    conditions; the lines are alternatives (ORed). Anything not allowed\n"
	"    kills the process (kill mode) or is logged by the kernel (log mode).\n"
	"\n"
	"EXIT STATUS\n"
	"    check, export: 0 if the policy is valid, 1 if not.\n"
	"    run: the exit status of COMMAND, or 128+N if signal N killed it;\n"
	"    125 if the policy is invalid or usm-policy failed, 126 if COMMAND\n"
	"    could not be executed, 127 if it was not found.\n"
	"    Any command: 2 on bad usage.\n"
	"\n"
	"EXAMPLES\n"
	"    usm-policy check policy/apid.policy\n"
	"    usm-policy export policy/collector.policy | less\n"
	"    usm-policy run policy/apid.policy -- usm-apid -o seccomp=log\n"
	"    usm-policy run my.policy -- usm-policy-demo\n"
	"        (the demo makes one ptrace(2) call, which is reported)\n";

static int usage_error(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static struct usm_policy *load_policy(const char *path)
{
	struct usm_policy *policy;
	struct usm_policy_error err;
	if (usm_policy_parse_file(path, &policy, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return NULL;
	}
	return policy;
}

static int cmd_check(const char *path)
{
	struct usm_policy *policy = load_policy(path);
	if (!policy)
		return EXIT_FAILURE;
	/* Compile too: a policy that parses but libseccomp refuses is not ok. */
	scmp_filter_ctx ctx;
	int rc = usm_policy_build(policy, SCMP_ACT_KILL_PROCESS, &ctx);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot compile the filter: %s\n", path, strerror(-rc));
	} else {
		seccomp_release(ctx);
		printf("%s: ok (%zu rule%s)\n", path, policy->nrules, policy->nrules == 1 ? "" : "s");
	}
	usm_policy_free(policy);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int cmd_export(const char *path)
{
	struct usm_policy *policy = load_policy(path);
	if (!policy)
		return EXIT_FAILURE;
	fflush(stdout);
	int rc = usm_policy_export_pfc(policy, STDOUT_FILENO);
	if (rc < 0)
		fprintf(stderr, "%s: cannot export the filter: %s\n", path, strerror(-rc));
	usm_policy_free(policy);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- run ---------------------------------------------------------------- */

/* The page shared with the launcher child (MAP_SHARED, so it survives the
 * copy-on-write of clone3 without CLONE_VM). */
struct launch {
	int state; /* enum launch_state, accessed atomically */
	int notify_fd;
	int error; /* errno of the step that failed */
};

enum launch_state {
	LAUNCH_STARTING,
	LAUNCH_CONFINED,    /* filter loaded, notify_fd valid, execve next */
	LAUNCH_LOAD_FAILED, /* prctl or seccomp failed: nothing ran */
	LAUNCH_EXEC_FAILED, /* execve failed: COMMAND never ran */
};

struct report {
	unsigned long count[MAX_NR];
	unsigned long out_of_range; /* numbers no table here knows */
};

/* execvp's search, done before forking so that the child, once confined,
 * has a single execve to make. */
static int find_command(const char *name, char *out, size_t size)
{
	if (strchr(name, '/')) {
		snprintf(out, size, "%s", name);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	int rc = -ENOENT;
	while (*path) {
		size_t dirlen = strcspn(path, ":");
		int n = snprintf(out, size, "%.*s%s%s", (int)dirlen, path, dirlen ? "/" : "", name);
		path += dirlen + (path[dirlen] == ':');
		struct stat st;
		if (n < 0 || (size_t)n >= size || stat(out, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (access(out, X_OK) == 0)
			return 0;
		rc = -EACCES; /* found but not executable: keep looking, like execvp */
	}
	return rc;
}

/* The compiled program, ready for a raw seccomp(2) call. */
static int compile_program(const struct usm_policy *policy, struct sock_fprog *prog)
{
	struct sock_filter *insns;
	unsigned len;
	int rc = usm_policy_export_bpf(policy, SCMP_ACT_NOTIFY, &insns, &len);
	if (rc < 0)
		return rc;
	prog->len = (unsigned short)len; /* at most BPF_MAXINSNS */
	prog->filter = insns;
	return 0;
}

/* In the child, between clone3 and execve. Only raw system calls after the
 * filter is loaded: the parent counts on the execve being the only one. */
static __attribute__((noreturn)) void launcher(struct launch *l, const struct sock_fprog *prog,
					       const char *path, char *const argv[])
{
	/* The parent ignores ^C while it waits; the command must not. */
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		l->error = errno;
		__atomic_store_n(&l->state, LAUNCH_LOAD_FAILED, __ATOMIC_RELEASE);
		_exit(EXIT_RUN_FAILED);
	}
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
	if (fd < 0) {
		l->error = errno;
		__atomic_store_n(&l->state, LAUNCH_LOAD_FAILED, __ATOMIC_RELEASE);
		_exit(EXIT_RUN_FAILED);
	}
	l->notify_fd = (int)fd;
	__atomic_store_n(&l->state, LAUNCH_CONFINED, __ATOMIC_RELEASE);
	syscall(SYS_execve, path, argv, environ);
	l->error = errno;
	__atomic_store_n(&l->state, LAUNCH_EXEC_FAILED, __ATOMIC_RELEASE);
	syscall(SYS_exit_group, l->error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
	__builtin_unreachable();
}

/* The listener fd appears in our table once the child has loaded the
 * filter; the child blocks at its execve until answered, so nothing is
 * missed by looking every millisecond. Returns the state reached. */
static int wait_confined(struct launch *l, int pidfd)
{
	for (;;) {
		int state = __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
		if (state != LAUNCH_STARTING)
			return state;
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		if (poll(&pfd, 1, 1) > 0) /* exited before storing a state */
			return __atomic_load_n(&l->state, __ATOMIC_ACQUIRE);
	}
}

/* Answers notifications until no process uses the filter any more (the
 * listener then reports POLLHUP), reaping the child on the way: on some
 * kernels a zombie still holds its filter until it is reaped. */
static int serve(const struct launch *l, pid_t child, int pidfd, struct report *report,
		 int *status)
{
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int rc = seccomp_notify_alloc(&req, &resp);
	if (rc < 0)
		return rc;
	const int execve_nr = SCMP_SYS(execve);
	bool reaped = false, launcher_done = false;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = l->notify_fd, .events = POLLIN },
			{ .fd = pidfd, .events = POLLIN },
		};
		if (poll(pfd, reaped ? 1 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (!reaped && (pfd[1].revents & POLLIN)) {
			if (waitpid(child, status, 0) < 0) {
				rc = -errno;
				break;
			}
			reaped = true;
		}
		if (!(pfd[0].revents & POLLIN)) {
			if (pfd[0].revents & (POLLHUP | POLLERR))
				break;
			continue;
		}
		/* the kernel refuses a receive buffer that is not zeroed */
		memset(req, 0, sizeof(*req));
		/* libseccomp 2.5 turns every ioctl error into -ECANCELED; errno
		 * still says what happened */
		if (seccomp_notify_receive(l->notify_fd, req) < 0) {
			if (errno == ENOENT || errno == EINTR)
				continue; /* the caller died before we looked */
			rc = -errno;
			break;
		}
		if (!launcher_done) {
			/* The launcher's execve: only the calls after it count. */
			launcher_done = req->pid == (uint32_t)child && req->data.nr == execve_nr;
		} else if (__atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == LAUNCH_EXEC_FAILED) {
			/* the launcher exiting after a failed execve */
		} else if (req->data.nr >= 0 && req->data.nr < MAX_NR) {
			report->count[req->data.nr]++;
		} else {
			report->out_of_range++;
		}
		memset(resp, 0, sizeof(*resp));
		resp->id = req->id;
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; /* as if allowed */
		if (seccomp_notify_respond(l->notify_fd, resp) < 0 && errno != ENOENT) {
			rc = -errno;
			break;
		}
	}
	seccomp_notify_free(req, resp);
	/* Depending on the kernel the hangup may come before the exit is
	 * visible on the pidfd; the child is gone or going either way. */
	if (rc == 0 && !reaped && waitpid(child, status, 0) < 0)
		rc = -errno;
	return rc;
}

struct seen_call {
	char *name;
	unsigned long count;
};

static int by_count_then_name(const void *a, const void *b)
{
	const struct seen_call *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

static void print_report(const struct report *report)
{
	struct seen_call seen[MAX_NR];
	size_t n = 0;
	for (int nr = 0; nr < MAX_NR; nr++) {
		if (!report->count[nr])
			continue;
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (!name && asprintf(&name, "syscall %d", nr) < 0)
			name = NULL;
		if (name)
			seen[n++] = (struct seen_call){ name, report->count[nr] };
	}
	qsort(seen, n, sizeof(seen[0]), by_count_then_name);
	for (size_t i = 0; i < n; i++) {
		fprintf(stderr, "usm-policy: %lu x %s\n", seen[i].count, seen[i].name);
		free(seen[i].name);
	}
	if (report->out_of_range)
		fprintf(stderr, "usm-policy: %lu x (syscall numbers above %d)\n", report->out_of_range,
			MAX_NR - 1);
	if (n == 0 && report->out_of_range == 0)
		fprintf(stderr, "usm-policy: no syscall outside the policy\n");
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_RUN_FAILED;
}

static int cmd_run(const char *policy_path, char *const argv[])
{
	char path[PATH_MAX];
	int rc = find_command(argv[0], path, sizeof(path));
	if (rc < 0) {
		fprintf(stderr, "usm-policy: %s: %s\n", argv[0],
			rc == -ENOENT ? "command not found" : strerror(-rc));
		return rc == -ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	}
	struct usm_policy *policy = load_policy(policy_path);
	if (!policy)
		return EXIT_RUN_FAILED;
	struct sock_fprog prog;
	rc = compile_program(policy, &prog);
	usm_policy_free(policy);
	if (rc < 0) {
		fprintf(stderr, "usm-policy: %s: cannot compile the filter: %s\n", policy_path,
			strerror(-rc));
		return EXIT_RUN_FAILED;
	}
	struct launch *l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				-1, 0);
	struct report *report = calloc(1, sizeof(*report));
	if (l == MAP_FAILED || !report) {
		fprintf(stderr, "usm-policy: out of memory\n");
		return EXIT_RUN_FAILED;
	}
	*l = (struct launch){ .state = LAUNCH_STARTING, .notify_fd = -1 };

	/* Like system(3): ^C is for the command; we report after it exits. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	fflush(NULL);
	int pidfd = -1;
	struct clone_args args = {
		.flags = CLONE_FILES | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
	};
	long pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		fprintf(stderr, "usm-policy: clone3: %s\n", strerror(errno));
		return EXIT_RUN_FAILED;
	}
	if (pid == 0)
		launcher(l, &prog, path, argv);
	free(prog.filter);

	int status = 0;
	int state = wait_confined(l, pidfd);
	if (state == LAUNCH_CONFINED) {
		rc = serve(l, (pid_t)pid, pidfd, report, &status);
		close(l->notify_fd);
	} else {
		rc = waitpid((pid_t)pid, &status, 0) < 0 ? -errno : 0;
	}
	close(pidfd);

	int code;
	if (rc < 0) {
		/* Closing the listener (at exit) makes calls still waiting on it
		 * fail with ENOSYS rather than hang. */
		fprintf(stderr, "usm-policy: lost track of %s: %s\n", path, strerror(-rc));
		code = EXIT_RUN_FAILED;
	} else if (state == LAUNCH_LOAD_FAILED) {
		fprintf(stderr, "usm-policy: cannot load the filter: %s\n", strerror(l->error));
		code = EXIT_RUN_FAILED;
	} else if (state == LAUNCH_EXEC_FAILED ||
		   __atomic_load_n(&l->state, __ATOMIC_ACQUIRE) == LAUNCH_EXEC_FAILED) {
		fprintf(stderr, "usm-policy: cannot execute %s: %s\n", path, strerror(l->error));
		code = l->error == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC;
	} else if (state != LAUNCH_CONFINED) {
		fprintf(stderr, "usm-policy: the launcher died before loading the filter\n");
		code = EXIT_RUN_FAILED;
	} else {
		print_report(report);
		code = exit_code(status);
	}
	free(report);
	munmap(l, sizeof(*l));
	return code;
}

int main(int argc, char *argv[])
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_text, stdout);
		return EXIT_SUCCESS;
	}
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	if (argc == 3 && strcmp(argv[1], "export") == 0)
		return cmd_export(argv[2]);
	if (argc >= 5 && strcmp(argv[1], "run") == 0 && strcmp(argv[3], "--") == 0)
		return cmd_run(argv[2], &argv[4]);
	return usage_error();
}
