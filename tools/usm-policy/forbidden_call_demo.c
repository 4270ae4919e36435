/* usm-policy-demo: makes one system call that no usm policy allows, then
 * exits 0. It exists to check `usm-policy run`: run under any daemon
 * policy, the report must include "1 x ptrace" (more in a sanitizer build:
 * LeakSanitizer itself uses ptrace at exit).
 *
 * PTRACE_PEEKDATA on pid 0 can only fail (ESRCH): seccomp sees the call,
 * and nothing is traced, even though `run` lets the call through. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long rc = syscall(SYS_ptrace, PTRACE_PEEKDATA, 0, 0, 0);
	printf("usm-policy-demo: ptrace(PTRACE_PEEKDATA, 0) = %ld (%s)\n", rc,
	       rc < 0 ? strerror(errno) : "no error");
	return 0;
}
