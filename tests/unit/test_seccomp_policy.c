/* seccomp_policy: the parser's acceptance and error lines, then the filter's
 * behaviour in forked children (systemd test-seccomp.c style: the child
 * loads a filter and makes one call; the parent judges how it ended). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "seccomp_policy.h"

#define ORIGIN "t.policy"

static struct usm_policy *parse_ok(const char *text)
{
	struct usm_policy *policy = NULL;
	struct usm_policy_error err = { { 0 } };
	int rc = usm_policy_parse(text, strlen(text), ORIGIN, &policy, &err);
	if (rc != 0)
		print_error("unexpected parse error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(policy);
	return policy;
}

/* Asserts the text is refused with exactly "t.policy:LINE: MESSAGE". */
static void assert_rejected_len(const char *text, size_t len, unsigned line, const char *message)
{
	struct usm_policy *policy = (struct usm_policy *)1;
	struct usm_policy_error err = { { 0 } };
	int rc = usm_policy_parse(text, len, ORIGIN, &policy, &err);
	assert_int_equal(rc, -EINVAL);
	assert_null(policy);
	char want[sizeof(err.msg)];
	snprintf(want, sizeof(want), ORIGIN ":%u: %s", line, message);
	assert_string_equal(err.msg, want);
}

static void assert_rejected(const char *text, unsigned line, const char *message)
{
	assert_rejected_len(text, strlen(text), line, message);
}

/* Same, when only the start of the message matters. */
static void assert_rejected_prefix(const char *text, unsigned line, const char *prefix)
{
	struct usm_policy *policy = NULL;
	struct usm_policy_error err = { { 0 } };
	int rc = usm_policy_parse(text, strlen(text), ORIGIN, &policy, &err);
	assert_int_equal(rc, -EINVAL);
	char want[sizeof(err.msg)];
	snprintf(want, sizeof(want), ORIGIN ":%u: %s", line, prefix);
	if (strncmp(err.msg, want, strlen(want)) != 0)
		fail_msg("got \"%s\", want prefix \"%s\"", err.msg, want);
}

/* ---- parsing ---------------------------------------------------------- */

static void test_valid_policy_parses_with_rules_and_conditions(void **state)
{
	(void)state;
	struct usm_policy *p = parse_ok("# usm test policy\n"
					"\n"
					"read   # fds we own\n"
					"  socket arg0 == AF_UNIX && arg1 & 0xf == SOCK_STREAM  # ipc\n"
					"mmap arg2 & PROT_EXEC == 0   # no new code\n"
					"fcntl arg1 == F_GETFL|0x0   # flags\n"
					"socket arg0 == AF_INET6 => EAFNOSUPPORT # libc probing\n"
					"prctl arg0 >= 0x10 && arg1 != 22 # prctl\n"
					"madvise => ENOSYS\t#\tnot needed\r\n");
	assert_string_equal(p->origin, ORIGIN);
	assert_int_equal(p->nrules, 7);

	const struct usm_policy_rule *r = &p->rules[0];
	assert_string_equal(r->name, "read");
	assert_int_equal(r->syscall_nr, SYS_read);
	assert_int_equal(r->line, 3);
	assert_int_equal(r->ncond, 0);
	assert_int_equal(r->errno_action, 0);

	r = &p->rules[1];
	assert_string_equal(r->name, "socket");
	assert_int_equal(r->line, 4);
	assert_int_equal(r->ncond, 2);
	assert_int_equal(r->cond[0].arg, 0);
	assert_int_equal(r->cond[0].op, SCMP_CMP_EQ);
	assert_int_equal(r->cond[0].value, AF_UNIX);
	assert_int_equal(r->cond[1].arg, 1);
	assert_int_equal(r->cond[1].op, SCMP_CMP_MASKED_EQ);
	assert_int_equal(r->cond[1].mask, 0xf);
	assert_int_equal(r->cond[1].value, SOCK_STREAM);

	r = &p->rules[2];
	assert_int_equal(r->cond[0].arg, 2);
	assert_int_equal(r->cond[0].op, SCMP_CMP_MASKED_EQ);
	assert_int_equal(r->cond[0].mask, PROT_EXEC);
	assert_int_equal(r->cond[0].value, 0);

	assert_int_equal(p->rules[3].cond[0].value, F_GETFL);

	r = &p->rules[4];
	assert_int_equal(r->line, 7);
	assert_int_equal(r->errno_action, EAFNOSUPPORT);
	assert_int_equal(r->cond[0].value, AF_INET6);

	r = &p->rules[5];
	assert_int_equal(r->cond[0].op, SCMP_CMP_GE);
	assert_int_equal(r->cond[0].value, 0x10);
	assert_int_equal(r->cond[1].arg, 1);
	assert_int_equal(r->cond[1].op, SCMP_CMP_NE);
	assert_int_equal(r->cond[1].value, 22);

	assert_int_equal(p->rules[6].errno_action, ENOSYS);
	assert_int_equal(p->rules[6].ncond, 0);
	usm_policy_free(p);
}

static void test_constants_joined_with_bar_are_ored(void **state)
{
	(void)state;
	struct usm_policy *p =
		parse_ok("mmap arg2 == PROT_READ | PROT_WRITE && arg3 == MAP_PRIVATE|MAP_ANONYMOUS # heap\n");
	assert_int_equal(p->rules[0].cond[0].value, PROT_READ | PROT_WRITE);
	assert_int_equal(p->rules[0].cond[1].value, MAP_PRIVATE | MAP_ANONYMOUS);
	usm_policy_free(p);
}

static void test_conditions_are_stored_sorted_by_argument(void **state)
{
	(void)state;
	struct usm_policy *p = parse_ok("socket arg2 == 0 && arg0 == AF_UNIX # ipc\n");
	assert_int_equal(p->rules[0].cond[0].arg, 0);
	assert_int_equal(p->rules[0].cond[1].arg, 2);
	usm_policy_free(p);
}

static void test_several_conditional_lines_for_one_syscall_are_accepted(void **state)
{
	(void)state;
	struct usm_policy *p = parse_ok("socket arg0 == AF_UNIX # ipc\n"
					"socket arg0 == AF_NETLINK # uevents\n"
					"socket arg0 == AF_INET => EACCES # refused softly\n");
	assert_int_equal(p->nrules, 3);
	usm_policy_free(p);
}

static void test_errno_names_and_aliases_are_known(void **state)
{
	(void)state;
	struct usm_policy *p = parse_ok("getppid => EPERM # a\n"
					"getpid => EACCES # b\n"
					"gettid => EWOULDBLOCK # c\n"
					"getuid => ENOTSUP # d\n"
					"getgid => ENOENT # e\n"
					"geteuid => EINVAL # f\n");
	assert_int_equal(p->rules[0].errno_action, EPERM);
	assert_int_equal(p->rules[1].errno_action, EACCES);
	assert_int_equal(p->rules[2].errno_action, EAGAIN);
	assert_int_equal(p->rules[3].errno_action, EOPNOTSUPP);
	assert_int_equal(p->rules[4].errno_action, ENOENT);
	assert_int_equal(p->rules[5].errno_action, EINVAL);
	usm_policy_free(p);
}

static void test_empty_policy_parses_with_no_rules(void **state)
{
	(void)state;
	struct usm_policy *p = parse_ok("# nothing\n\n   \n");
	assert_int_equal(p->nrules, 0);
	usm_policy_free(p);
}

static void test_unknown_syscall_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\n# b\nfoo # c\n", 3, "unknown syscall 'foo'");
}

static void test_syscall_missing_on_this_architecture_is_rejected(void **state)
{
	(void)state;
#if defined(__x86_64__)
	assert_rejected("\nsocketcall # old x86\n", 2,
			"syscall 'socketcall' does not exist on this architecture");
#else
	skip();
#endif
}

static void test_unconditional_duplicate_is_rejected_with_first_line(void **state)
{
	(void)state;
	assert_rejected("write # a\n\nread # b\nclose # c\nread # again\n", 5,
			"duplicate rule for 'read' (first at line 3)");
}

static void test_unconditional_duplicate_of_conditional_entry_is_rejected(void **state)
{
	(void)state;
	assert_rejected("socket arg0 == AF_UNIX # ipc\nsocket # all\n", 2,
			"unconditional rule for 'socket' but line 1 has a conditional one "
			"(a syscall on several lines needs conditions on every line)");
}

static void test_conditional_entry_after_unconditional_is_rejected(void **state)
{
	(void)state;
	assert_rejected("socket # all\nsocket arg0 == AF_UNIX # ipc\n", 2,
			"conditional rule for 'socket' but line 1 already has an unconditional one");
}

static void test_identical_duplicate_is_rejected(void **state)
{
	(void)state;
	/* same conditions written in another order are still the same rule */
	assert_rejected("socket arg0 == AF_UNIX && arg2 == 0 # ipc\n"
			"read # r\n"
			"socket arg2 == 0 && arg0 == 1 # ipc again\n",
			3, "duplicate rule for 'socket' (identical to line 1)");
}

static void test_same_conditions_with_another_action_are_rejected(void **state)
{
	(void)state;
	assert_rejected("socket arg0 == AF_INET # a\nsocket arg0 == AF_INET => EPERM # b\n", 2,
			"rule for 'socket' has the same conditions as line 1 but another action");
}

static void test_bad_argument_index_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\nwrite arg7 == 1 # b\n", 2,
			"bad argument index 'arg7' (arguments are arg0 to arg5)");
	assert_rejected("write arg == 1 # b\n", 1,
			"bad argument index 'arg' (arguments are arg0 to arg5)");
	assert_rejected("write arg10 == 1 # b\n", 1,
			"bad argument index 'arg10' (arguments are arg0 to arg5)");
}

static void test_bad_operator_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\n\nwrite arg0 = 1 # b\n", 3,
			"bad operator '=' after arg0 (use == != < <= > >= or '& MASK ==')");
	assert_rejected_prefix("write arg0 =< 1 # b\n", 1, "bad operator '=<'");
	assert_rejected_prefix("write arg0 === 1 # b\n", 1, "bad operator '==='");
	assert_rejected("write arg0 & 0xf != 1 # b\n", 1,
			"masked condition must read 'arg0 & MASK == VALUE', found '!='");
}

static void test_unknown_constant_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\nsocket arg0 == AF_FOO # b\n", 2, "unknown constant 'AF_FOO'");
	assert_rejected("mmap arg2 == PROT_READ|PROT_FOO # b\n", 1, "unknown constant 'PROT_FOO'");
}

static void test_unknown_errno_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\nwrite => EFOO # b\n", 2, "unknown errno 'EFOO'");
	assert_rejected("write => # b\n", 1, "'=>' without an errno name (e.g. '=> EPERM')");
	assert_rejected("write => EPERM EACCES # b\n", 1, "unexpected 'EACCES' after the errno");
}

static void test_missing_reason_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\nwrite\n", 2,
			"missing reason comment (write 'RULE  # why it is needed')");
	assert_rejected("read # a\nwrite #   \n", 2,
			"missing reason comment (write 'RULE  # why it is needed')");
	/* the last line without a newline is still a line */
	assert_rejected("read # a\nclose", 2,
			"missing reason comment (write 'RULE  # why it is needed')");
}

static void test_condition_without_value_is_rejected(void **state)
{
	(void)state;
	assert_rejected("socket arg0 == # b\n", 1, "condition on arg0 without value");
	assert_rejected("socket arg0 == && arg1 == 1 # b\n", 1, "condition on arg0 without value");
	assert_rejected("socket arg0 & 0xf == # b\n", 1, "condition on arg0 without value");
	assert_rejected("socket arg1 # b\n", 1, "condition on arg1 without operator");
	assert_rejected("socket arg0 == AF_UNIX| # b\n", 1, "missing value after '|'");
}

static void test_bad_numbers_are_rejected(void **state)
{
	(void)state;
	assert_rejected("write arg0 == 12abc # b\n", 1, "bad number '12abc'");
	assert_rejected("write arg0 == 0x # b\n", 1, "bad number '0x'");
	assert_rejected("write arg0 == 0xfffffffffffffffff # b\n", 1,
			"number '0xfffffffffffffffff' does not fit in 64 bits");
	assert_rejected("write arg0 == 010 # b\n", 1,
			"ambiguous number '010' (octal is not supported: write decimal or 0x hex)");
}

static void test_same_argument_twice_in_one_rule_is_rejected(void **state)
{
	(void)state;
	assert_rejected("read arg0 >= 3 && arg0 <= 9 # b\n", 1,
			"arg0 is tested twice in one rule (use one condition, or two lines)");
}

static void test_masked_value_outside_mask_is_rejected(void **state)
{
	(void)state;
	assert_rejected("mmap arg2 & PROT_EXEC == PROT_READ # b\n", 1,
			"arg2 & 0x4 == 0x1 can never be true (value has bits outside the mask)");
}

static void test_garbage_is_rejected_with_line(void **state)
{
	(void)state;
	assert_rejected("read # a\n!!! # b\n", 2, "expected a syscall name, found '!!!'");
	assert_rejected("read foo # a\n", 1, "expected a condition 'argN OP VALUE', found 'foo'");
	assert_rejected("read arg0 == 1 arg1 == 2 # a\n", 1,
			"expected '&&', '=> ERRNO' or '# reason', found 'arg1'");
	assert_rejected("read arg0 == 1 || arg0 == 2 # a\n", 1,
			"'||' is not supported: write each alternative on its own line");
	static const char with_nul[] = "read # a\nwr\0ite # b\n";
	assert_rejected_len(with_nul, sizeof(with_nul) - 1, 2, "NUL byte in policy text");
}

static void test_overlong_line_is_rejected(void **state)
{
	(void)state;
	char text[2100];
	memset(text, ' ', sizeof(text));
	memcpy(text, "read # a\n", 9);
	memcpy(text + 9, "write #", 7);
	text[sizeof(text) - 2] = 'x';
	text[sizeof(text) - 1] = '\0';
	assert_rejected(text, 2, "line too long (at most 1023 bytes)");
}

static void test_too_many_rules_is_e2big(void **state)
{
	(void)state;
	/* Distinct conditions, spread over syscalls so that no syscall has
	 * more than USM_POLICY_MAX_ALTERNATIVES lines: only the count fails. */
	static const char *const names[] = {
		"read", "write", "close", "fstat", "lseek", "mmap", "mprotect", "munmap",
		"brk", "ioctl", "pread64", "pwrite64", "readv", "writev", "pipe", "dup",
		"dup2", "nanosleep", "getitimer", "alarm", "setitimer", "socket", "connect",
		"accept", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "bind",
		"listen", "getsockname", "getpeername", "futex"};
	size_t cap = (USM_POLICY_MAX_RULES + 1) * 48;
	char *text = malloc(cap);
	assert_non_null(text);
	size_t len = 0;
	for (unsigned i = 0; i <= USM_POLICY_MAX_RULES; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s arg0 == %u # fd\n",
					names[i / USM_POLICY_MAX_ALTERNATIVES],
					i % USM_POLICY_MAX_ALTERNATIVES);
	struct usm_policy *policy = NULL;
	struct usm_policy_error err;
	assert_int_equal(usm_policy_parse(text, len, ORIGIN, &policy, &err), -E2BIG);
	assert_null(policy);
	assert_string_equal(err.msg, ORIGIN ":513: too many rules (at most 512)");
	/* one fewer fits */
	*strrchr(text, 'f') = '\0'; /* cut the last line's reason... */
	*strrchr(text, '\n') = '\0'; /* ...and the line: 512 rules */
	strcat(text, "\n");
	policy = parse_ok(text);
	assert_int_equal(policy->nrules, USM_POLICY_MAX_RULES);
	usm_policy_free(policy);
	free(text);
}

static void test_parse_file_reports_missing_file_with_path(void **state)
{
	(void)state;
	struct usm_policy *policy = NULL;
	struct usm_policy_error err;
	int rc = usm_policy_parse_file("/nonexistent/x.policy", &policy, &err);
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err.msg, "/nonexistent/x.policy: No such file or directory");
}

static void test_parse_file_reports_errors_with_file_name(void **state)
{
	(void)state;
	char path[] = "/tmp/test_seccomp_policy.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "read # a\nfoo # b\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct usm_policy *policy = NULL;
	struct usm_policy_error err;
	int rc = usm_policy_parse_file(path, &policy, &err);
	unlink(path);
	assert_int_equal(rc, -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:2: unknown syscall 'foo'", path);
	assert_string_equal(err.msg, want);
}

/* Found by the fuzzer: alternatives comparing with != or ranges made
 * libseccomp take minutes; the parser refuses them with a reason, while
 * one line with those operators, and == alternatives, build at once. */
static void test_inequality_alternatives_are_refused_with_line(void **state)
{
	(void)state;
	const char *text = "lseek arg3 != 5000000 && arg4 < 9000000 # a\n"
			   "lseek arg3 != 5000000 && arg4 == 90 # b\n";
	struct usm_policy *p = NULL;
	struct usm_policy_error err;
	assert_int_equal(usm_policy_parse(text, strlen(text), "t.policy", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "t.policy:2: 'lseek' on several lines may only compare"));
	const char *ok = "lseek arg3 != 5000000 && arg4 < 9000000 # a\n"
			 "socket arg0 == 1 # b\nsocket arg0 == 2 # c\nsocket arg0 & 0xff == 10 # d\n";
	assert_int_equal(usm_policy_parse(ok, strlen(ok), "t.policy", &p, &err), 0);
	scmp_filter_ctx ctx;
	assert_int_equal(usm_policy_build(p, SCMP_ACT_KILL_PROCESS, &ctx), 0);
	seccomp_release(ctx);
	usm_policy_free(p);
}

/* Every seccomp policy shipped in policy/ must at least parse
 * (attach.policy is the attach policy, another language). */
static void test_shipped_policies_parse(void **state)
{
	(void)state;
	glob_t g;
	int rc = glob(USM_SOURCE_ROOT "/policy/*.policy", 0, NULL, &g);
	if (rc == GLOB_NOMATCH)
		skip();
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (strcmp(strrchr(g.gl_pathv[i], '/'), "/attach.policy") == 0)
			continue;
		struct usm_policy *policy = NULL;
		struct usm_policy_error err;
		if (usm_policy_parse_file(g.gl_pathv[i], &policy, &err) != 0)
			fail_msg("%s", err.msg);
		scmp_filter_ctx ctx;
		assert_int_equal(usm_policy_build(policy, SCMP_ACT_KILL_PROCESS, &ctx), 0);
		seccomp_release(ctx);
		usm_policy_free(policy);
	}
	globfree(&g);
}

static void test_export_pfc_renders_the_rules(void **state)
{
	(void)state;
	struct usm_policy *p = parse_ok("getppid # a\nsocket arg0 == AF_UNIX # b\n");
	int fd = memfd_create("pfc", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(usm_policy_export_pfc(p, fd), 0);
	char buf[8192];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "getppid"));
	assert_non_null(strstr(buf, "socket"));
	assert_non_null(strstr(buf, "KILL_PROCESS"));
	usm_policy_free(p);
}

static void test_apply_text_refuses_a_bad_policy_without_loading(void **state)
{
	(void)state;
	const char text[] = "read # a\nfoo # b\n";
	assert_int_equal(usm_policy_apply_text(text, sizeof(text) - 1, "embedded", USM_SECCOMP_KILL),
			 -EINVAL);
	/* still unconfined: a call outside that policy works */
	assert_true(syscall(SYS_getppid) > 0);
}

/* ---- behaviour in a forked child -------------------------------------- */

/* What the child itself needs once confined: exiting, the allocator
 * (libseccomp frees its program after loading; ASan maps and unmaps) and
 * writing a sanitizer report if there is one. */
#define CHILD_BASE_POLICY                                     \
	"exit_group # child exit\n"                           \
	"exit # thread exit\n"                                \
	"write # sanitizer reports\n"                         \
	"read # test pipe\n"                                  \
	"brk # allocator\n"                                   \
	"mmap # allocator\n"                                  \
	"munmap # allocator\n"                                \
	"mprotect # allocator\n"                              \
	"madvise # allocator\n"                               \
	"futex # threads\n"                                   \
	"rt_sigprocmask # libc\n"                             \
	"rt_sigreturn # signals\n"                            \
	"sigaltstack # sanitizer signal handling\n"           \
	"sched_yield # sanitizer spin locks\n"                \
	"gettid # sanitizer\n"                                \
	"getpid # sanitizer\n"                                \
	"close # sockets made by the tests\n"

enum child_status {
	CHILD_OK = 0,
	CHILD_PARSE_FAILED = 10,
	CHILD_APPLY_FAILED = 11,
	CHILD_CALL_FAILED = 12,
	CHILD_WRONG_ERRNO = 13,
	CHILD_SETUP_FAILED = 14,
};

/* exit_group directly: no atexit handlers, no sanitizer exit hooks, so no
 * syscall the child's policy did not plan for. */
static __attribute__((noreturn)) void child_exit(int code)
{
	syscall(SYS_exit_group, code);
	__builtin_unreachable();
}

static void child_confine(const char *extra_rules, enum usm_seccomp_mode mode)
{
	/* A killed child must not leave a core file behind (or reach a
	 * core_pattern pipe, which ignores RLIMIT_CORE). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", CHILD_BASE_POLICY, extra_rules);
	struct usm_policy *policy;
	struct usm_policy_error err;
	if (usm_policy_parse(text, strlen(text), "child", &policy, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		child_exit(CHILD_PARSE_FAILED);
	}
	if (usm_policy_apply(policy, mode) != 0)
		child_exit(CHILD_APPLY_FAILED);
	/* the policy is left allocated: freeing could need calls not listed */
}

typedef int (*child_fn)(void);

/* Runs fn in a confined child; returns its wait status. */
static int run_child(const char *extra_rules, enum usm_seccomp_mode mode, child_fn fn)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_confine(extra_rules, mode);
		child_exit(fn());
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed_by_sigsys(int status)
{
	if (!WIFSIGNALED(status))
		fail_msg("child not killed: exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void assert_exited_ok(int status)
{
	if (WIFSIGNALED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

static int call_getppid(void) { return syscall(SYS_getppid) > 0 ? CHILD_OK : CHILD_CALL_FAILED; }

static int open_socket(int family, int type)
{
	long fd = syscall(SYS_socket, family, type, 0);
	if (fd < 0)
		return CHILD_CALL_FAILED;
	syscall(SYS_close, fd);
	return CHILD_OK;
}

static int call_socket_unix(void) { return open_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC); }

static int call_socket_packet(void) { return open_socket(AF_PACKET, SOCK_RAW); }

static int call_socket_unix_dgram(void) { return open_socket(AF_UNIX, SOCK_DGRAM); }

static int call_getppid_expect_eperm(void)
{
	errno = 0;
	if (syscall(SYS_getppid) != -1)
		return CHILD_CALL_FAILED;
	return errno == EPERM ? CHILD_OK : CHILD_WRONG_ERRNO;
}

static void test_forbidden_syscall_kills_the_process_with_sigsys(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_child("", USM_SECCOMP_KILL, call_getppid));
}

static void test_allowed_syscall_succeeds(void **state)
{
	(void)state;
	assert_exited_ok(run_child("getppid # test\n", USM_SECCOMP_KILL, call_getppid));
}

static void test_socket_with_allowed_family_succeeds(void **state)
{
	(void)state;
	assert_exited_ok(run_child("socket arg0 == AF_UNIX && arg1 & 0xf == SOCK_STREAM # ipc\n",
				   USM_SECCOMP_KILL, call_socket_unix));
}

static void test_socket_with_other_family_kills_the_process(void **state)
{
	(void)state;
	assert_killed_by_sigsys(run_child("socket arg0 == AF_UNIX # ipc\n", USM_SECCOMP_KILL,
					  call_socket_packet));
}

static void test_masked_condition_decides_on_the_masked_bits_only(void **state)
{
	(void)state;
	const char *rule = "socket arg0 == AF_UNIX && arg1 & 0xf == SOCK_STREAM # ipc\n";
	/* SOCK_CLOEXEC is outside the mask: still allowed */
	assert_exited_ok(run_child(rule, USM_SECCOMP_KILL, call_socket_unix));
	assert_killed_by_sigsys(run_child(rule, USM_SECCOMP_KILL, call_socket_unix_dgram));
}

static void test_errno_rule_fails_the_call_with_eperm(void **state)
{
	(void)state;
	assert_exited_ok(run_child("getppid => EPERM # test\n", USM_SECCOMP_KILL,
				   call_getppid_expect_eperm));
}

static void test_log_mode_does_not_kill(void **state)
{
	(void)state;
	assert_exited_ok(run_child("", USM_SECCOMP_LOG, call_getppid));
	assert_exited_ok(run_child("", USM_SECCOMP_LOG, call_socket_packet));
}

static int check_no_new_privs(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? CHILD_OK : CHILD_CALL_FAILED;
}

static void test_apply_sets_no_new_privs(void **state)
{
	(void)state;
	assert_exited_ok(run_child("prctl arg0 == PR_GET_NO_NEW_PRIVS # test\n", USM_SECCOMP_KILL,
				   check_no_new_privs));
}

struct thread_pipes {
	int go[2];   /* main -> thread: the filter is loaded */
	int done[2]; /* thread -> main: the forbidden call returned */
};

static void *forbidden_call_thread(void *arg)
{
	struct thread_pipes *tp = arg;
	char c;
	if (read(tp->go[0], &c, 1) != 1)
		return NULL;
	syscall(SYS_getppid); /* must kill the whole process */
	if (write(tp->done[1], "x", 1) != 1)
		return NULL;
	return NULL;
}

/* nng starts threads before a daemon confines itself: TSYNC must put them
 * under the filter too. */
static void test_filter_covers_threads_started_before_apply(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct thread_pipes tp;
		pthread_t thread;
		if (pipe(tp.go) != 0 || pipe(tp.done) != 0 ||
		    pthread_create(&thread, NULL, forbidden_call_thread, &tp) != 0)
			child_exit(CHILD_SETUP_FAILED);
		child_confine("", USM_SECCOMP_KILL);
		char c;
		if (write(tp.go[1], "x", 1) != 1 || read(tp.done[0], &c, 1) != 1)
			child_exit(CHILD_CALL_FAILED);
		child_exit(CHILD_OK); /* the thread got through: not covered */
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_killed_by_sigsys(status);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_policy_parses_with_rules_and_conditions),
		cmocka_unit_test(test_constants_joined_with_bar_are_ored),
		cmocka_unit_test(test_conditions_are_stored_sorted_by_argument),
		cmocka_unit_test(test_several_conditional_lines_for_one_syscall_are_accepted),
		cmocka_unit_test(test_errno_names_and_aliases_are_known),
		cmocka_unit_test(test_empty_policy_parses_with_no_rules),
		cmocka_unit_test(test_unknown_syscall_is_rejected_with_line),
		cmocka_unit_test(test_syscall_missing_on_this_architecture_is_rejected),
		cmocka_unit_test(test_unconditional_duplicate_is_rejected_with_first_line),
		cmocka_unit_test(test_unconditional_duplicate_of_conditional_entry_is_rejected),
		cmocka_unit_test(test_conditional_entry_after_unconditional_is_rejected),
		cmocka_unit_test(test_identical_duplicate_is_rejected),
		cmocka_unit_test(test_same_conditions_with_another_action_are_rejected),
		cmocka_unit_test(test_bad_argument_index_is_rejected_with_line),
		cmocka_unit_test(test_bad_operator_is_rejected_with_line),
		cmocka_unit_test(test_unknown_constant_is_rejected_with_line),
		cmocka_unit_test(test_unknown_errno_is_rejected_with_line),
		cmocka_unit_test(test_missing_reason_is_rejected_with_line),
		cmocka_unit_test(test_condition_without_value_is_rejected),
		cmocka_unit_test(test_bad_numbers_are_rejected),
		cmocka_unit_test(test_same_argument_twice_in_one_rule_is_rejected),
		cmocka_unit_test(test_masked_value_outside_mask_is_rejected),
		cmocka_unit_test(test_garbage_is_rejected_with_line),
		cmocka_unit_test(test_overlong_line_is_rejected),
		cmocka_unit_test(test_too_many_rules_is_e2big),
		cmocka_unit_test(test_parse_file_reports_missing_file_with_path),
		cmocka_unit_test(test_parse_file_reports_errors_with_file_name),
		cmocka_unit_test(test_shipped_policies_parse),
		cmocka_unit_test(test_inequality_alternatives_are_refused_with_line),
		cmocka_unit_test(test_export_pfc_renders_the_rules),
		cmocka_unit_test(test_apply_text_refuses_a_bad_policy_without_loading),
		cmocka_unit_test(test_forbidden_syscall_kills_the_process_with_sigsys),
		cmocka_unit_test(test_allowed_syscall_succeeds),
		cmocka_unit_test(test_socket_with_allowed_family_succeeds),
		cmocka_unit_test(test_socket_with_other_family_kills_the_process),
		cmocka_unit_test(test_masked_condition_decides_on_the_masked_bits_only),
		cmocka_unit_test(test_errno_rule_fails_the_call_with_eperm),
		cmocka_unit_test(test_log_mode_does_not_kill),
		cmocka_unit_test(test_apply_sets_no_new_privs),
		cmocka_unit_test(test_filter_covers_threads_started_before_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
