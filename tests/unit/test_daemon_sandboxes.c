/* The daemons' own sandboxes, as built into their binaries: in a forked
 * child, each daemon's seccomp policy (kill mode) lets an ordinary call
 * through and kills a forbidden one with SIGSYS; Landlock as apid, the
 * collector and the inspector apply it denies files, other TCP ports and
 * TCP connects.
 *
 * Forked children call raw syscalls and _exit(): nothing the sanitizer
 * runtime could intercept with calls of its own. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "landlock.h"
#include "seccomp_policy.h"

extern const char usm_policy_collector[];
extern const unsigned long usm_policy_collector_len;
extern const char usm_policy_apid[];
extern const unsigned long usm_policy_apid_len;
extern const char usm_policy_privd[];
extern const unsigned long usm_policy_privd_len;
extern const char usm_policy_inspector[];
extern const unsigned long usm_policy_inspector_len;

enum forbidden {
	CALL_GETPID, /* allowed everywhere: the control */
	CALL_EXECVE,
	CALL_PTRACE,
	CALL_BPF_PROG_LOAD,
	CALL_OPEN_PROC_MEM,
	CALL_SOCKET_PACKET,
	CALL_SOCKET_INET,
	CALL_BIND,
	CALL_MOUNT,
	/* what the inspector may and may not do with its descriptors */
	CALL_OPENAT,         /* any file, by name */
	CALL_SOCKET_UNIX,
	CALL_PREAD_FILE,     /* pread64 on fd 3, the file handed over */
	CALL_PREAD_OTHER,    /* pread64 on fd 5 */
	CALL_READ_FILE,      /* read(2) on fd 3: libelf uses pread64 */
	CALL_WRITE_STDERR,
	CALL_WRITE_STDOUT,
	CALL_MMAP_ANON,      /* read-write, anonymous: malloc */
	CALL_MMAP_EXEC,      /* anonymous but executable */
	CALL_MMAP_FILE,      /* the file on fd 3, read-only */
};

static long make_call(enum forbidden call)
{
	switch (call) {
	case CALL_GETPID:
		return syscall(SYS_getpid);
	case CALL_EXECVE: {
		char *argv[] = {"/bin/true", NULL};
		return syscall(SYS_execve, "/bin/true", argv, NULL);
	}
	case CALL_PTRACE:
		return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
	case CALL_BPF_PROG_LOAD: {
		union bpf_attr attr;
		memset(&attr, 0, sizeof(attr));
		return syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
	}
	case CALL_OPEN_PROC_MEM:
		return syscall(SYS_openat, AT_FDCWD, "/proc/1/mem", O_RDONLY);
	case CALL_SOCKET_PACKET:
		return syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
	case CALL_SOCKET_INET:
		return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	case CALL_BIND:
		return syscall(SYS_bind, 0, NULL, 0);
	case CALL_MOUNT:
		return syscall(SYS_mount, "none", "/mnt", "tmpfs", 0, NULL);
	case CALL_OPENAT:
		return syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
	case CALL_SOCKET_UNIX:
		return syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET, 0);
	case CALL_PREAD_FILE:
	case CALL_PREAD_OTHER: {
		char b[1];
		return syscall(SYS_pread64, call == CALL_PREAD_FILE ? 3 : 5, b, sizeof(b), 0);
	}
	case CALL_READ_FILE: {
		char b[1];
		return syscall(SYS_read, 3, b, sizeof(b));
	}
	case CALL_WRITE_STDERR:
	case CALL_WRITE_STDOUT:
		return syscall(SYS_write, call == CALL_WRITE_STDERR ? 2 : 1, "", 0);
	case CALL_MMAP_ANON:
	case CALL_MMAP_EXEC:
		return syscall(SYS_mmap, NULL, 4096,
			       PROT_READ | (call == CALL_MMAP_EXEC ? PROT_EXEC : PROT_WRITE),
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	case CALL_MMAP_FILE:
		return syscall(SYS_mmap, NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0);
	}
	return -1;
}

/* Forks, applies the policy in kill mode, makes the call; returns the
 * wait status. */
static int status_after(const char *text, unsigned long len, enum forbidden call)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (usm_policy_apply_text(text, len, "test", USM_SECCOMP_KILL) != 0)
			_exit(100);
		make_call(call);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(const char *text, unsigned long len, enum forbidden call)
{
	int status = status_after(text, len, call);
	if (!WIFSIGNALED(status))
		fail_msg("call %d was not killed (exit %d)", call, WEXITSTATUS(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

/* Not killed: the call fails with err (a policy line with "=> ERRNO"). */
static void assert_fails_with(const char *text, unsigned long len, enum forbidden call, int err)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (usm_policy_apply_text(text, len, "test", USM_SECCOMP_KILL) != 0)
			_exit(100);
		_exit(make_call(call) < 0 ? errno : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != err)
		fail_msg("call %d: want errno %d, got status 0x%x", call, err, status);
}

static void assert_allowed(const char *text, unsigned long len, enum forbidden call)
{
	int status = status_after(text, len, call);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_apid_policy_kills_what_apid_must_never_do(void **state)
{
	(void)state;
	assert_allowed(usm_policy_apid, usm_policy_apid_len, CALL_GETPID);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_EXECVE);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_PTRACE);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_BPF_PROG_LOAD);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_OPEN_PROC_MEM);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_SOCKET_PACKET);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_SOCKET_INET);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_BIND);
	assert_killed(usm_policy_apid, usm_policy_apid_len, CALL_MOUNT);
}

static void test_collector_policy_kills_bpf_ptrace_and_file_opens(void **state)
{
	(void)state;
	assert_allowed(usm_policy_collector, usm_policy_collector_len, CALL_GETPID);
	assert_killed(usm_policy_collector, usm_policy_collector_len, CALL_BPF_PROG_LOAD);
	assert_killed(usm_policy_collector, usm_policy_collector_len, CALL_PTRACE);
	assert_killed(usm_policy_collector, usm_policy_collector_len, CALL_OPEN_PROC_MEM);
	assert_killed(usm_policy_collector, usm_policy_collector_len, CALL_EXECVE);
	assert_killed(usm_policy_collector, usm_policy_collector_len, CALL_SOCKET_PACKET);
	assert_killed(usm_policy_collector, usm_policy_collector_len, CALL_MOUNT);
}

static void test_privd_policy_kills_ptrace_mount_and_plain_execve(void **state)
{
	(void)state;
	assert_allowed(usm_policy_privd, usm_policy_privd_len, CALL_GETPID);
	assert_killed(usm_policy_privd, usm_policy_privd_len, CALL_PTRACE);
	assert_killed(usm_policy_privd, usm_policy_privd_len, CALL_MOUNT);
	assert_killed(usm_policy_privd, usm_policy_privd_len, CALL_EXECVE);
	assert_killed(usm_policy_privd, usm_policy_privd_len, CALL_SOCKET_PACKET);
}

static void test_inspector_policy_allows_reading_its_file_and_kills_the_rest(void **state)
{
	(void)state;
	const char *p = usm_policy_inspector;
	unsigned long n = usm_policy_inspector_len;
	assert_allowed(p, n, CALL_GETPID);
	assert_allowed(p, n, CALL_PREAD_FILE);
	assert_allowed(p, n, CALL_WRITE_STDERR);
	assert_allowed(p, n, CALL_MMAP_ANON);
	/* opens fail rather than kill (libdw's lazy ones must not cost the answer) */
	assert_fails_with(p, n, CALL_OPENAT, EACCES);
	assert_fails_with(p, n, CALL_OPEN_PROC_MEM, EACCES);
	assert_killed(p, n, CALL_SOCKET_UNIX);
	assert_killed(p, n, CALL_SOCKET_INET);
	assert_killed(p, n, CALL_EXECVE);
	assert_killed(p, n, CALL_PTRACE);
	assert_killed(p, n, CALL_BPF_PROG_LOAD);
	assert_killed(p, n, CALL_MOUNT);
	/* argument filters: only fd 3 is read, only stderr written, memory is
	 * anonymous and never executable */
	assert_killed(p, n, CALL_PREAD_OTHER);
	assert_killed(p, n, CALL_READ_FILE);
	assert_killed(p, n, CALL_WRITE_STDOUT);
	assert_killed(p, n, CALL_MMAP_EXEC);
	assert_killed(p, n, CALL_MMAP_FILE);
}

/* ---- Landlock ---- */

static int tcp_bind(uint16_t port)
{
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int rc = (int)syscall(SYS_bind, fd, &a, sizeof(a)) == 0 ? 0 : -errno;
	syscall(SYS_close, fd);
	return rc;
}

static int tcp_connect(uint16_t port)
{
	int fd = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int rc = (int)syscall(SYS_connect, fd, &a, sizeof(a)) == 0 ? 0 : -errno;
	syscall(SYS_close, fd);
	return rc;
}

/* A free port: bind to 0 and read it back (before any sandbox). */
static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* Child exit codes: 0 all as expected, else the number of the check that failed. */
static void test_landlock_as_apid_denies_files_other_ports_and_connects(void **state)
{
	(void)state;
	if (usm_landlock_abi() < 4)
		skip(); /* TCP rules need ABI 4 */
	uint16_t port = free_port(), other = free_port();
	while (other == port)
		other = free_port();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (usm_landlock_confine(port, NULL) != 0)
			_exit(10);
		if (syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
			_exit(1);
		if (tcp_bind(other) != -EACCES)
			_exit(2);
		if (tcp_bind(port) != 0)
			_exit(3);
		if (tcp_connect(port) != -EACCES)
			_exit(4);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_landlock_as_collector_allows_only_its_socket_directory(void **state)
{
	(void)state;
	if (usm_landlock_abi() < 1)
		skip();
	char dir[] = "/tmp/usm-landlock-XXXXXX";
	assert_non_null(mkdtemp(dir));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (usm_landlock_confine(0, dir) != 0)
			_exit(10);
		int s = (int)syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un {
			sa_family_t family;
			char path[108];
		} a = {.family = AF_UNIX};
		memcpy(a.path, dir, strlen(dir));
		memcpy(a.path + strlen(dir), "/s.ipc", 7);
		if (syscall(SYS_bind, s, &a, sizeof(a)) != 0)
			_exit(1); /* its own socket: allowed */
		if (syscall(SYS_unlinkat, AT_FDCWD, a.path, 0) != 0)
			_exit(2); /* and removing it */
		if (syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY) >= 0 || errno != EACCES)
			_exit(3);
		char file[sizeof(dir) + 8];
		memcpy(file, dir, sizeof(dir) - 1);
		memcpy(file + sizeof(dir) - 1, "/f", 3);
		if (syscall(SYS_openat, AT_FDCWD, file, O_WRONLY | O_CREAT, 0600) >= 0 ||
		    errno != EACCES)
			_exit(4); /* but no regular file, even there */
		if (usm_landlock_abi() >= 4 && tcp_bind(0) != -EACCES)
			_exit(5);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rmdir(dir);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The inspector's Landlock: no file by name and no TCP at all; the file it
 * was handed (opened before) still reads. */
static void test_landlock_as_inspector_denies_files_and_all_tcp(void **state)
{
	(void)state;
	if (usm_landlock_abi() < 1)
		skip();
	uint16_t port = free_port();
	int handed = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	assert_true(handed >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (usm_landlock_confine(0, NULL) != 0)
			_exit(10);
		char b[1];
		if (syscall(SYS_pread64, handed, b, sizeof(b), 0) != 1)
			_exit(1);
		if (syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY) >= 0 ||
		    errno != EACCES)
			_exit(2);
		if (syscall(SYS_openat, AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY) >= 0 ||
		    errno != EACCES)
			_exit(3);
		if (usm_landlock_abi() >= 4 &&
		    (tcp_bind(port) != -EACCES || tcp_bind(0) != -EACCES ||
		     tcp_connect(port) != -EACCES))
			_exit(4);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(handed);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apid_policy_kills_what_apid_must_never_do),
		cmocka_unit_test(test_collector_policy_kills_bpf_ptrace_and_file_opens),
		cmocka_unit_test(test_privd_policy_kills_ptrace_mount_and_plain_execve),
		cmocka_unit_test(test_inspector_policy_allows_reading_its_file_and_kills_the_rest),
		cmocka_unit_test(test_landlock_as_apid_denies_files_other_ports_and_connects),
		cmocka_unit_test(test_landlock_as_collector_allows_only_its_socket_directory),
		cmocka_unit_test(test_landlock_as_inspector_denies_files_and_all_tcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
