/* The seccomp filters compiled at build time (policy/meson.build,
 * usm-policy-compile): each is byte for byte the program usm_policy_build()
 * makes at run time from the same policy text, and usm_seccomp_install()
 * puts it in force. Behaviour is checked in forked children (systemd
 * test-seccomp.c style: the child installs the filter and makes one call;
 * the parent judges how it ended).
 *
 * Confined children make raw system calls and leave with exit_group: the
 * daemons' policies allow those, and nothing the sanitizer runtime could
 * add calls of its own to. */
#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "apid_seccomp_filter.h"
#include "collector_seccomp_filter.h"
#include "privd_bpf_seccomp_filter.h"
#include "privd_seccomp_filter.h"
#include "seccomp_install.h"
#include "seccomp_policy.h"

extern const char usm_policy_privd[];
extern const unsigned long usm_policy_privd_len;
extern const char usm_policy_privd_bpf[];
extern const unsigned long usm_policy_privd_bpf_len;
extern const char usm_policy_collector[];
extern const unsigned long usm_policy_collector_len;
extern const char usm_policy_apid[];
extern const unsigned long usm_policy_apid_len;

/* One policy: its embedded text and what the build compiled from it. The
 * lengths are variables, not constants, hence the pointers. */
struct compiled {
	const char *name;
	const char *text;
	const unsigned long *text_len;
	const struct sock_filter *kill;
	const unsigned *kill_len;
	const struct sock_filter *log;
	const unsigned *log_len;
};

#define COMPILED(n)                                                                              \
	{ #n, usm_policy_##n, &usm_policy_##n##_len, usm_filter_##n##_kill,                      \
	  &usm_filter_##n##_kill_len, usm_filter_##n##_log, &usm_filter_##n##_log_len }
static const struct compiled policies[] = { COMPILED(privd), COMPILED(privd_bpf), COMPILED(collector),
					    COMPILED(apid) };
#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))
static const struct compiled *const privd = &policies[0];

enum child_status {
	CHILD_OK = 0,
	CHILD_INSTALL_FAILED = 10,
	CHILD_CALL_FAILED = 11,
	CHILD_SETUP_FAILED = 12,
	CHILD_WRONG_ERROR = 13,
};

/* ---- the same program as at run time ---------------------------------- */

/* What the run-time path gives for this text and default action:
 * usm_policy_build(), then libseccomp's own export. */
static struct sock_filter *runtime_program(const struct compiled *c, uint32_t action,
					   unsigned *len)
{
	struct usm_policy *policy;
	struct usm_policy_error err;
	if (usm_policy_parse(c->text, *c->text_len, c->name, &policy, &err) != 0)
		fail_msg("%s", err.msg);
	scmp_filter_ctx ctx;
	assert_int_equal(usm_policy_build(policy, action, &ctx), 0);
	usm_policy_free(policy);
	int fd = memfd_create("bpf", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
	seccomp_release(ctx);
	off_t size = lseek(fd, 0, SEEK_END);
	assert_true(size > 0 && size % (off_t)sizeof(struct sock_filter) == 0);
	struct sock_filter *prog = malloc((size_t)size);
	assert_non_null(prog);
	assert_int_equal(pread(fd, prog, (size_t)size, 0), size);
	close(fd);
	*len = (unsigned)((size_t)size / sizeof(struct sock_filter));
	return prog;
}

static void assert_same_program(const char *what, const struct sock_filter *compiled,
				unsigned compiled_len, const struct sock_filter *runtime,
				unsigned runtime_len)
{
	if (compiled_len != runtime_len)
		fail_msg("%s: compiled %u instructions, run time %u", what, compiled_len,
			 runtime_len);
	for (unsigned i = 0; i < runtime_len; i++)
		if (memcmp(&compiled[i], &runtime[i], sizeof(runtime[i])) != 0)
			fail_msg("%s: instruction %u differs: compiled {%#x, %u, %u, %#x}, "
				 "run time {%#x, %u, %u, %#x}",
				 what, i, compiled[i].code, compiled[i].jt, compiled[i].jf,
				 compiled[i].k, runtime[i].code, runtime[i].jt, runtime[i].jf,
				 runtime[i].k);
}

/* Each policy's compiled kill (or log) program against the run time's. */
static void assert_every_policy_matches_runtime(bool log)
{
	for (size_t i = 0; i < NPOLICIES; i++) {
		const struct compiled *c = &policies[i];
		unsigned len;
		struct sock_filter *prog =
			runtime_program(c, log ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS, &len);
		char what[64];
		snprintf(what, sizeof(what), "%s (%s)", c->name, log ? "log" : "kill");
		if (log)
			assert_same_program(what, c->log, *c->log_len, prog, len);
		else
			assert_same_program(what, c->kill, *c->kill_len, prog, len);
		free(prog);
	}
}

static void test_compiled_kill_filters_are_what_the_runtime_path_builds(void **state)
{
	(void)state;
	assert_every_policy_matches_runtime(false);
}

static void test_compiled_log_filters_are_what_the_runtime_path_builds(void **state)
{
	(void)state;
	assert_every_policy_matches_runtime(true);
}

/* ---- installed, in a forked child ------------------------------------- */

static __attribute__((noreturn)) void child_exit(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

/* Allowed by every daemon's policy. */
static int allowed_call(void) { return syscall(SYS_getpid) > 0 ? CHILD_OK : CHILD_CALL_FAILED; }

/* Forbidden by every daemon's policy, and harmless if let through: pid 1
 * is not being traced by us, so the kernel answers ESRCH. */
static int forbidden_call(void)
{
	syscall(SYS_ptrace, PTRACE_PEEKDATA, 1, NULL, NULL);
	return CHILD_OK;
}

static int no_new_privs_is_set(void)
{
	return syscall(SYS_prctl, PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? CHILD_OK
									: CHILD_CALL_FAILED;
}

static void child_setup(void)
{
	/* A killed child must not leave a core file behind (or reach a
	 * core_pattern pipe, which ignores RLIMIT_CORE). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Forks; the child installs prog and returns fn()'s answer; returns the
 * child's wait status. */
static int run_child(const struct sock_filter *prog, unsigned len, int (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_setup();
		if (usm_seccomp_install(prog, len) != 0)
			child_exit(CHILD_INSTALL_FAILED);
		child_exit(fn());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed_by_sigsys(const char *what, int status)
{
	if (!WIFSIGNALED(status))
		fail_msg("%s: not killed (exit status %d)", what,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_exited_ok(const char *what, int status)
{
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status) != CHILD_OK)
		fail_msg("%s: exit status %d", what, WEXITSTATUS(status));
}

static void test_compiled_kill_filters_allow_a_listed_call(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPOLICIES; i++)
		assert_exited_ok(policies[i].name,
				 run_child(policies[i].kill, *policies[i].kill_len, allowed_call));
}

static void test_compiled_kill_filters_kill_a_forbidden_call_with_sigsys(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPOLICIES; i++)
		assert_killed_by_sigsys(policies[i].name, run_child(policies[i].kill,
								    *policies[i].kill_len,
								    forbidden_call));
}

static void test_compiled_log_filters_let_a_forbidden_call_through(void **state)
{
	(void)state;
	for (size_t i = 0; i < NPOLICIES; i++)
		assert_exited_ok(policies[i].name,
				 run_child(policies[i].log, *policies[i].log_len, forbidden_call));
}

static void test_install_sets_no_new_privs(void **state)
{
	(void)state;
	/* privd's policy lets prctl through, so the child can look. */
	assert_exited_ok("privd", run_child(privd->kill, *privd->kill_len, no_new_privs_is_set));
}

struct thread_pipes {
	int go[2];   /* main -> thread: go on */
	int done[2]; /* thread -> main: done */
};

/* Forks; the child starts thread(pipes) before anything is installed, then
 * exits with main_part(pipes)'s answer; returns the child's wait status. */
static int run_child_with_thread(void *(*thread)(void *), int (*main_part)(struct thread_pipes *))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_setup();
		static struct thread_pipes tp;
		pthread_t t;
		if (pipe(tp.go) != 0 || pipe(tp.done) != 0 || pthread_create(&t, NULL, thread, &tp) != 0)
			child_exit(CHILD_SETUP_FAILED);
		child_exit(main_part(&tp));
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void *forbidden_call_thread(void *arg)
{
	struct thread_pipes *tp = arg;
	char c;
	if (read(tp->go[0], &c, 1) != 1)
		return NULL;
	forbidden_call(); /* must kill the whole process */
	if (write(tp->done[1], "x", 1) != 1)
		return NULL;
	return NULL;
}

static int install_then_release_the_thread(struct thread_pipes *tp)
{
	if (usm_seccomp_install(privd->kill, *privd->kill_len) != 0)
		return CHILD_INSTALL_FAILED;
	char c;
	if (write(tp->go[1], "x", 1) != 1 || read(tp->done[0], &c, 1) != 1)
		return CHILD_CALL_FAILED;
	return CHILD_OK; /* the thread got through: not covered */
}

/* nng starts threads before a daemon confines itself: TSYNC must put them
 * under the filter too. */
static void test_install_covers_threads_started_before(void **state)
{
	(void)state;
	assert_killed_by_sigsys("thread started before install",
				run_child_with_thread(forbidden_call_thread,
						      install_then_release_the_thread));
}

/* A thread that installed a filter of its own cannot be synchronised:
 * the kernel answers with its id, which must come back as -EAGAIN with
 * nothing installed. */
static void *own_filter_thread(void *arg)
{
	struct thread_pipes *tp = arg;
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	char c = 'x';
	if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		c = 'e';
	if (write(tp->done[1], &c, 1) != 1 || read(tp->go[0], &c, 1) != 1)
		return NULL;
	return NULL;
}

static int install_beside_the_thread(struct thread_pipes *tp)
{
	char c;
	if (read(tp->done[0], &c, 1) != 1 || c != 'x')
		return CHILD_SETUP_FAILED;
	if (usm_seccomp_install(privd->kill, *privd->kill_len) != -EAGAIN)
		return CHILD_WRONG_ERROR;
	return forbidden_call(); /* nothing installed: not killed */
}

static void test_install_fails_with_eagain_when_a_thread_has_its_own_filter(void **state)
{
	(void)state;
	assert_exited_ok("install beside a thread with its own filter",
			 run_child_with_thread(own_filter_thread, install_beside_the_thread));
}

static void test_install_refuses_a_missing_or_oversized_program(void **state)
{
	(void)state;
	assert_int_equal(usm_seccomp_install(NULL, 1), -EINVAL);
	assert_int_equal(usm_seccomp_install(privd->kill, 0), -EINVAL);
	assert_int_equal(usm_seccomp_install(privd->kill, BPF_MAXINSNS + 1), -EINVAL);
	/* still unconfined: a call outside every policy works */
	assert_int_equal(forbidden_call(), CHILD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled_kill_filters_are_what_the_runtime_path_builds),
		cmocka_unit_test(test_compiled_log_filters_are_what_the_runtime_path_builds),
		cmocka_unit_test(test_compiled_kill_filters_allow_a_listed_call),
		cmocka_unit_test(test_compiled_kill_filters_kill_a_forbidden_call_with_sigsys),
		cmocka_unit_test(test_compiled_log_filters_let_a_forbidden_call_through),
		cmocka_unit_test(test_install_sets_no_new_privs),
		cmocka_unit_test(test_install_covers_threads_started_before),
		cmocka_unit_test(test_install_fails_with_eagain_when_a_thread_has_its_own_filter),
		cmocka_unit_test(test_install_refuses_a_missing_or_oversized_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
