/* privd_claims: shows what whoever holds privd's BPF owner can and cannot
 * do, by putting a process in exactly the owner's position with the
 * owner's own code (privd/identity.c's privd_become, the kept capability
 * set from privd/owner.c, policy/privd_bpf.policy compiled at build time
 * and installed by privd/seccomp_install.c, as owner.c does) and attempting each act in a child of its own.
 *
 *   privd_claims BPF_UID BPF_GID WORLD_WRITABLE_FILE TARGET_PID
 *
 * TARGET_PID: a root process of the test's (standing for any process on
 * the host) whose /proc files the acts use.
 *
 * Prints one line per act: "NAME killed" (seccomp killed it, SIGSYS),
 * "NAME errno E" (the call failed with E) or "NAME ok". Run as root. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "identity.h"
#include "privd_bpf_seccomp_filter.h"
#include "seccomp_install.h"


static uid_t bpf_uid;
static gid_t bpf_gid;
static const char *writable;
static char target_mem[64], target_maps[64];

/* The owner's position: its uid, its capabilities, its filter. */
static void become_owner(void)
{
	static const cap_value_t caps[] = {CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE};
	if (privd_become(bpf_uid, bpf_gid, caps, 3, SIGKILL, getppid()) != 0 ||
	    usm_seccomp_install(usm_filter_privd_bpf_kill, usm_filter_privd_bpf_kill_len) != 0)
		_exit(100);
}

static int open_write_world_writable(void) { return open(writable, O_WRONLY); }
static int open_create_tmp(void) { return open("/tmp/usm-claims-created", O_WRONLY | O_CREAT, 0644); }
static int open_target_mem_rw(void) { return open(target_mem, O_RDWR); }
static int open_target_mem_ro(void) { return open(target_mem, O_RDONLY); }
static int openat2_write(void)
{
	struct {
		unsigned long long flags, mode, resolve;
	} how = {O_WRONLY, 0, 0};
	return (int)syscall(SYS_openat2, AT_FDCWD, writable, &how, sizeof(how));
}
static int setuid_root(void) { return (int)syscall(SYS_setresuid, 0, 0, 0); }
static int do_fork(void) { return (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0); }
static int do_exec(void)
{
	char *argv[] = {"true", NULL};
	return execve("/bin/true", argv, NULL);
}
static int do_ptrace(void) { return (int)ptrace(PTRACE_ATTACH, (pid_t)atoi(target_mem + 6), 0, 0); }
static int do_kill(void) { return kill((pid_t)atoi(target_mem + 6), 0); }
static int bpf_prog_load(void)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	return (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}
static int perf_event(void)
{
	char attr[128] = {0}; /* any event: the filter decides before the kernel looks */
	return (int)syscall(SYS_perf_event_open, attr, 0, -1, -1, 0);
}
static int bpf_map_create(void)
{
	union bpf_attr attr;
	memset(&attr, 0, sizeof(attr));
	return (int)syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}
/* What it needs, to show the filter is not simply "deny all". */
static int read_target_maps(void)
{
	int fd = open(target_maps, O_RDONLY);
	char c;
	return fd < 0 ? -1 : (int)read(fd, &c, 1) - 1;
}
static int read_a_library(void) { return open("/usr/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY); }

static const struct {
	const char *name;
	int (*act)(void);
} acts[] = {
	{"open-write-world-writable", open_write_world_writable},
	{"open-create", open_create_tmp},
	{"openat2-write", openat2_write},
	{"open-mem-rw", open_target_mem_rw},
	{"open-mem-ro", open_target_mem_ro},
	{"setuid-0", setuid_root},
	{"fork", do_fork},
	{"exec", do_exec},
	{"ptrace", do_ptrace},
	{"kill", do_kill},
	{"bpf-prog-load", bpf_prog_load},
	{"bpf-map-create", bpf_map_create},
	{"perf-event-open", perf_event},
	{"read-maps", read_target_maps},
	{"read-library", read_a_library},
};

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: privd_claims BPF_UID BPF_GID WORLD_WRITABLE_FILE TARGET_PID\n");
		return 2;
	}
	snprintf(target_mem, sizeof(target_mem), "/proc/%s/mem", argv[4]);
	snprintf(target_maps, sizeof(target_maps), "/proc/%s/maps", argv[4]);
	bpf_uid = (uid_t)strtoul(argv[1], NULL, 10);
	bpf_gid = (gid_t)strtoul(argv[2], NULL, 10);
	writable = argv[3];
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 3;
		if (pid == 0) {
			become_owner();
			int rc = acts[i].act();
			_exit(rc >= 0 ? 0 : errno);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid)
			return 3;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
			printf("%s killed\n", acts[i].name);
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 100)
			printf("%s setup-failed\n", acts[i].name);
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
			printf("%s errno %s\n", acts[i].name, strerrorname_np(WEXITSTATUS(status)));
		else if (WIFEXITED(status))
			printf("%s ok\n", acts[i].name);
		else
			printf("%s signal %d\n", acts[i].name, WTERMSIG(status));
	}
	return 0;
}
