/* usm-inspector, the real binary (USM_INSPECTOR_PATH), started the way the
 * supervisor starts it: fd 3 the file, fd 4 one end of a SOCK_SEQPACKET
 * socketpair, 0 /dev/null, 1 and 2 a log the test reads, no environment,
 * as nobody (65534) with no capability and no_new_privs. Checks that its
 * answer is the resolver's in-process answer, that a hostile file is an
 * answer with its reason, that a malformed request or command line gets no
 * answer and exit status 2 with one line on stderr, and that it refuses to
 * run with privileges (exit 1).
 *
 * Running it as another user needs root: as anyone else those cases skip. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf_symbols.h"
#include "inspect_proto.h"

#if defined(__x86_64__)
#define LIBDIR "/usr/lib/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define LIBDIR "/usr/lib/aarch64-linux-gnu"
#endif
#define LIBSSL LIBDIR "/libssl.so.3"
#define LIBZ LIBDIR "/libz.so.1"
#define NOBODY 65534
#define WAIT_MS 20000 /* the inspector's own wall-clock limit is 30 s */

enum who {
	AS_NOBODY,             /* as the supervisor starts it */
	AS_ROOT,               /* uid 0 and every capability */
	AS_NOBODY_WITHOUT_NNP, /* no no_new_privs */
};

struct outcome {
	int status;                  /* waitpid's */
	ssize_t answer_len;          /* bytes of the answer datagram, 0: none */
	struct usm_inspect_rep rep;
	char log[2048];              /* what it wrote to fds 1 and 2 */
};

static bool is_root(void) { return geteuid() == 0; }

static int open_or_skip(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	return fd;
}

static struct usm_inspect_req request(const char *const *names, uint16_t n)
{
	struct usm_inspect_req req;
	memset(&req, 0, sizeof(req));
	req.magic = USM_INSPECT_MAGIC;
	req.kind = USM_INSPECT_ELF_SYMBOLS;
	req.nfuncs = n;
	for (uint16_t i = 0; i < n; i++)
		snprintf(req.names[i], sizeof(req.names[i]), "%s", names[i]);
	return req;
}

/* In the forked child: every capability out of the bounding set (privd
 * starts its children with it empty), then groups, gid, uid, no_new_privs. */
static void become(enum who who)
{
	if (who == AS_ROOT)
		return;
	for (int c = 0; c < 64; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
			_exit(120);
	if (syscall(SYS_setgroups, 0, NULL) != 0 ||
	    syscall(SYS_setresgid, NOBODY, NOBODY, NOBODY) != 0 ||
	    syscall(SYS_setresuid, NOBODY, NOBODY, NOBODY) != 0)
		_exit(121);
	cap_t none = cap_init(); /* the inheritable set too */
	if (!none || cap_set_proc(none) != 0)
		_exit(122);
	if (who == AS_NOBODY && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		_exit(123);
}

/* Puts fd at target in the child (fds are first moved above 9 so that no
 * dup2 overwrites a source still needed). */
static int high(int fd) { return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 10); }

/* Waits up to WAIT_MS for pid; kills it if it is still running then. */
static int wait_bounded(pid_t pid)
{
	int status;
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		assert_true(r >= 0);
		if (r == pid)
			return status;
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	fail_msg("the inspector did not finish within %d ms", WAIT_MS);
	return status;
}

/* Starts the inspector on file_fd (-1: none) with args, sends `req_len`
 * bytes of `req` (NULL: closes its end without sending), collects the
 * answer, the exit status and the log. */
static void run(enum who who, int file_fd, const void *req, size_t req_len,
		const char *const *args, struct outcome *out)
{
	memset(out, 0, sizeof(*out));
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int log = memfd_create("inspector-log", MFD_CLOEXEC);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(log >= 0 && null >= 0);
	int hfile = high(file_fd), hsock = high(sv[1]), hlog = high(log), hnull = high(null);
	assert_true(hsock >= 0 && hlog >= 0 && hnull >= 0 && (file_fd < 0 || hfile >= 0));

	char *argv[16] = { (char *)USM_INSPECTOR_PATH };
	for (int i = 0; args && args[i]; i++) {
		assert_true(i + 2 < 16);
		argv[i + 1] = (char *)args[i];
	}
	char *envp[] = { NULL };
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		become(who);
		if (dup2(hnull, 0) != 0 || dup2(hlog, 1) != 1 || dup2(hlog, 2) != 2 ||
		    dup2(hsock, USM_INSPECT_SOCKET_FD) != USM_INSPECT_SOCKET_FD)
			_exit(124);
		if (hfile >= 0 ? dup2(hfile, USM_INSPECT_FILE_FD) != USM_INSPECT_FILE_FD
			       : close(USM_INSPECT_FILE_FD) != 0 && errno != EBADF)
			_exit(125);
		execve(USM_INSPECTOR_PATH, argv, envp);
		_exit(126);
	}
	close(sv[1]);
	close(hsock);
	close(hlog);
	close(hnull);
	close(null);
	if (hfile >= 0)
		close(hfile);
	/* It may have refused and gone already: EPIPE is an outcome too. */
	if (req)
		(void)send(sv[0], req, req_len, MSG_NOSIGNAL);
	else
		shutdown(sv[0], SHUT_WR);
	out->status = wait_bounded(pid);

	/* Its end is closed: an answer is queued, or this reads end of stream
	 * (ECONNRESET when it left our request unread). */
	char buf[sizeof(out->rep) + 64];
	out->answer_len = recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT);
	if (out->answer_len < 0 && errno == ECONNRESET)
		out->answer_len = 0;
	assert_true(out->answer_len >= 0);
	memcpy(&out->rep, buf, (size_t)out->answer_len < sizeof(out->rep) ? (size_t)out->answer_len
									   : sizeof(out->rep));
	close(sv[0]);
	ssize_t n = pread(log, out->log, sizeof(out->log) - 1, 0);
	out->log[n > 0 ? n : 0] = '\0';
	close(log);
}

static void assert_exit(const struct outcome *o, int code)
{
	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != code)
		fail_msg("want exit %d, got status 0x%x (%s%d); log:\n%s", code, o->status,
			 WIFSIGNALED(o->status) ? "signal " : "exit ",
			 WIFSIGNALED(o->status) ? WTERMSIG(o->status) : WEXITSTATUS(o->status),
			 o->log);
}

/* An answer came, of the right size and shape for n names. */
static void assert_answered(const struct outcome *o, uint16_t n)
{
	assert_exit(o, 0);
	assert_int_equal(o->answer_len, sizeof(struct usm_inspect_rep));
	assert_true(usm_inspect_rep_valid(&o->rep, n, USM_INSPECT_ELF_SYMBOLS));
}

/* No answer, exit 2, and exactly one line on stderr saying it refused. */
static void assert_refused(const struct outcome *o, const char *what)
{
	if (o->answer_len != 0)
		fail_msg("%s: answered (%zd bytes)", what, o->answer_len);
	assert_exit(o, 2);
	size_t len = strlen(o->log);
	const char *nl = strchr(o->log, '\n');
	if (len == 0 || !nl || (size_t)(nl - o->log) != len - 1)
		fail_msg("%s: want one line on stderr, got:\n%s", what, o->log);
}

/* The inspector's answer for names in path equals elf_resolve_functions'. */
static void assert_same_as_in_process(const char *path, const char *const *names, uint16_t n)
{
	int fd = open_or_skip(path);
	struct usm_inspect_req req = request(names, n);
	struct outcome o;
	run(AS_NOBODY, fd, &req, sizeof(req), NULL, &o);

	struct elf_func_query q[USM_INSPECT_MAX_FUNCS];
	for (uint16_t i = 0; i < n; i++)
		q[i] = (struct elf_func_query){ .name = names[i] };
	char reason[USM_INSPECT_REASON_MAX];
	int rc = elf_resolve_functions(fd, q, n, reason, sizeof(reason));
	close(fd);

	assert_answered(&o, n);
	assert_int_equal(o.rep.error, rc);
	assert_string_equal(o.rep.reason, reason);
	for (uint16_t i = 0; i < n; i++) {
		if (o.rep.funcs[i].found != q[i].found ||
		    (q[i].found && o.rep.funcs[i].offset != q[i].offset))
			fail_msg("%s in %s: inspector says found %u at 0x%" PRIx64
				 ", in-process found %d at 0x%" PRIx64,
				 names[i], path, o.rep.funcs[i].found, o.rep.funcs[i].offset,
				 q[i].found, q[i].offset);
	}
}

static void test_answers_what_the_resolver_says_in_process(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	static const char *const ssl[] = { "SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex",
					   "gnutls_record_recv" };
	assert_same_as_in_process(LIBSSL, ssl, 5);
	/* libz has no SSL_read; it has inflate */
	static const char *const z[] = { "SSL_read", "inflate" };
	assert_same_as_in_process(LIBZ, z, 2);

	/* and the values themselves, not only the agreement */
	int fd = open_or_skip(LIBSSL);
	struct usm_inspect_req req = request(ssl, 5);
	struct outcome o;
	run(AS_NOBODY, fd, &req, sizeof(req), NULL, &o);
	close(fd);
	assert_answered(&o, 5);
	assert_int_equal(o.rep.error, 0);
	assert_string_equal(o.rep.reason, "");
	assert_true(o.rep.funcs[0].found && o.rep.funcs[1].found);
	assert_true(o.rep.funcs[0].offset != 0 && o.rep.funcs[0].offset != o.rep.funcs[1].offset);
	assert_false(o.rep.funcs[4].found);
}

static void test_all_sixteen_names_and_options(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	const char *names[USM_INSPECT_MAX_FUNCS];
	char buf[USM_INSPECT_MAX_FUNCS][16];
	for (int i = 0; i < USM_INSPECT_MAX_FUNCS; i++) {
		snprintf(buf[i], sizeof(buf[i]), i % 2 ? "SSL_write" : "SSL_nope%d", i);
		names[i] = buf[i];
	}
	int fd = open_or_skip(LIBSSL);
	struct usm_inspect_req req = request(names, USM_INSPECT_MAX_FUNCS);
	/* the other children's options are accepted; log_level=debug logs */
	static const char *const args[] = { "-o", "seccomp=kill", "-o", "log_level=debug", "-o",
					    "check_interval=30", NULL };
	struct outcome o;
	run(AS_NOBODY, fd, &req, sizeof(req), args, &o);
	close(fd);
	assert_answered(&o, USM_INSPECT_MAX_FUNCS);
	for (int i = 0; i < USM_INSPECT_MAX_FUNCS; i++)
		assert_int_equal(o.rep.funcs[i].found, i % 2);
	assert_non_null(strstr(o.log, "seccomp policy inspector.policy applied (kill mode)"));
}

/* A file it cannot inspect: an answer, with the resolver's error and reason. */
static void assert_answer_is(int fd, int error, const char *reason)
{
	static const char *const names[] = { "SSL_read" };
	struct usm_inspect_req req = request(names, 1);
	struct outcome o;
	run(AS_NOBODY, fd, &req, sizeof(req), NULL, &o);
	assert_answered(&o, 1);
	if (o.rep.error != error || strcmp(o.rep.reason, reason) != 0)
		fail_msg("want %d %s, got %d %s", error, reason, o.rep.error, o.rep.reason);
	assert_false(o.rep.funcs[0].found);
	assert_int_equal(o.rep.funcs[0].offset, 0);
}

static void test_hostile_files_get_an_answer_with_the_reason(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	int fd = memfd_create("text", MFD_CLOEXEC);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	assert_answer_is(fd, -ENOEXEC, "not-elf");
	close(fd);

	/* a sparse 4 GiB file: refused from its size, nothing read */
	fd = memfd_create("sparse", MFD_CLOEXEC);
	assert_int_equal(write(fd, "\177ELF", 4), 4);
	assert_int_equal(ftruncate(fd, 4LL << 30), 0);
	assert_answer_is(fd, -E2BIG, "too-large");
	close(fd);

	/* libssl cut after 4 KiB */
	int lib = open_or_skip(LIBSSL);
	char head[4096];
	assert_int_equal(pread(lib, head, sizeof(head), 0), sizeof(head));
	close(lib);
	fd = memfd_create("cut", MFD_CLOEXEC);
	assert_int_equal(write(fd, head, sizeof(head)), sizeof(head));
	assert_answer_is(fd, -EINVAL, "bad-elf");
	close(fd);

	/* a directory is not an ELF file; no file at all cannot be looked at */
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_answer_is(fd, -ENOEXEC, "not-elf");
	close(fd);
	assert_answer_is(-1, -EBADF, "stat");
}

/* Go programs nobody vouches for: a small fake one is read like a real
 * one; a DWARF decompression bomb (1 GiB promised, 1 MiB stored) and a
 * file whose DWARF names a supplementary debug file (.gnu_debugaltlink,
 * DW_FORM_strp_sup: libdw would open it) still get an answer, under the
 * inspector's filter and limits, instead of a kill. */
static void test_hostile_go_files_get_an_answer(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	static const char *const names[] = {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write",
					    "crypto/tls.(*Conn).Close"};
	struct usm_inspect_req req = request(names, 3);
	req.kind = USM_INSPECT_GO_TLS;
	static const char *const files[] = {USM_FAKE_GO_DIR "/fake_go_plain.elf",
					    USM_FAKE_GO_DIR "/fake_go_bomb.elf",
					    USM_TEST_DATA_DIR "/go_debugaltlink.elf"};
	for (unsigned i = 0; i < 3; i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail_msg("%s: %s", files[i], strerror(errno));
		struct outcome o;
		run(AS_NOBODY, fd, &req, sizeof(req), NULL, &o);
		close(fd);
		assert_exit(&o, 0);
		assert_int_equal(o.answer_len, sizeof(struct usm_inspect_rep));
		assert_true(usm_inspect_rep_valid(&o.rep, 3, USM_INSPECT_GO_TLS));
		if (i < 2) { /* the bomb's DWARF is skipped: go1.19.8's table answers */
			assert_int_equal(o.rep.error, 0);
			assert_string_equal(o.rep.go.version, "go1.19.8");
			for (unsigned k = 0; k < 3; k++)
				assert_int_equal(o.rep.funcs[k].nreturns, 1);
		} else {
			assert_string_equal(o.rep.reason, "no-symbols"); /* no function table */
		}
	}
}

static void test_malformed_requests_get_no_answer(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	static const char *const names[] = { "SSL_read", "SSL_write" };
	const struct usm_inspect_req good = request(names, 2);
	struct {
		struct usm_inspect_req req;
		char extra[8];
	} big;
	memset(&big, 0, sizeof(big));
	big.req = good;
	struct usm_inspect_req bad[6];
	for (int i = 0; i < 6; i++)
		bad[i] = good;
	bad[0].magic ^= 1;
	bad[1].kind = 3;
	bad[2].nfuncs = 0;
	bad[3].nfuncs = USM_INSPECT_MAX_FUNCS + 1;
	strcpy(bad[4].names[1], "SSL-write");                      /* not an identifier */
	memset(bad[5].names[1], 'a', USM_INSPECT_NAME_MAX);        /* no NUL */
	static const char *const why[] = { "bad magic", "unknown kind", "no names",
					   "17 names", "not an identifier", "no NUL" };

	int fd = open_or_skip(LIBSSL);
	struct outcome o;
	run(AS_NOBODY, fd, &good, sizeof(good) - 1, NULL, &o);
	assert_refused(&o, "one byte short");
	assert_non_null(strstr(o.log, "refused"));
	run(AS_NOBODY, fd, &big, sizeof(good) + 1, NULL, &o);
	assert_refused(&o, "one byte long");
	run(AS_NOBODY, fd, &big, sizeof(big), NULL, &o);
	assert_refused(&o, "8 bytes long");
	run(AS_NOBODY, fd, NULL, 0, NULL, &o);
	assert_refused(&o, "end of stream, no request");
	for (int i = 0; i < 6; i++) {
		run(AS_NOBODY, fd, &bad[i], sizeof(bad[i]), NULL, &o);
		assert_refused(&o, why[i]);
		assert_non_null(strstr(o.log, "refused"));
	}
	/* the control: the same start with the good request is answered */
	run(AS_NOBODY, fd, &good, sizeof(good), NULL, &o);
	assert_answered(&o, 2);
	close(fd);
}

static void test_bad_command_line_is_refused(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	static const char *const names[] = { "SSL_read" };
	struct usm_inspect_req req = request(names, 1);
	static const char *const unknown[] = { "--verbose", NULL };
	static const char *const bad_value[] = { "-o", "seccomp=maybe", NULL };
	static const char *const no_value[] = { "-o", NULL };
	const char *const *cases[] = { unknown, bad_value, no_value };
	int fd = open_or_skip(LIBSSL);
	for (int i = 0; i < 3; i++) {
		struct outcome o;
		run(AS_NOBODY, fd, &req, sizeof(req), cases[i], &o);
		assert_refused(&o, cases[i][0]);
	}
	close(fd);
}

/* Started as `who`, it refuses before reading anything: no answer, exit 1,
 * and the log says why. */
static void assert_refuses_to_start(enum who who, const char *log_says)
{
	static const char *const names[] = { "SSL_read" };
	struct usm_inspect_req req = request(names, 1);
	int fd = open_or_skip(LIBSSL);
	struct outcome o;
	run(who, fd, &req, sizeof(req), NULL, &o);
	close(fd);
	assert_int_equal(o.answer_len, 0);
	assert_exit(&o, 1);
	if (!strstr(o.log, log_says))
		fail_msg("the log does not say \"%s\":\n%s", log_says, o.log);
}

static void test_refuses_to_run_as_root(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	assert_refuses_to_start(AS_ROOT, "refusing to run as uid 0");
}

static void test_refuses_to_run_without_no_new_privs(void **state)
{
	(void)state;
	if (!is_root())
		skip();
	assert_refuses_to_start(AS_NOBODY_WITHOUT_NNP, "without no_new_privs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_what_the_resolver_says_in_process),
		cmocka_unit_test(test_all_sixteen_names_and_options),
		cmocka_unit_test(test_hostile_files_get_an_answer_with_the_reason),
		cmocka_unit_test(test_hostile_go_files_get_an_answer),
		cmocka_unit_test(test_malformed_requests_get_no_answer),
		cmocka_unit_test(test_bad_command_line_is_refused),
		cmocka_unit_test(test_refuses_to_run_as_root),
		cmocka_unit_test(test_refuses_to_run_without_no_new_privs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
