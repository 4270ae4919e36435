/* without_landlock: runs a command as if the kernel had no Landlock.
 *
 *   without_landlock COMMAND [ARG]...
 *
 * It installs a seccomp filter that answers landlock_create_ruleset with
 * ENOSYS (what a kernel built without Landlock answers) and allows every
 * other call, then execs COMMAND. The filter is inherited by everything
 * COMMAND starts and stacks under their own filters (the stricter answer
 * wins), so usm sees, from outside, exactly a kernel without Landlock:
 * nothing in usm knows it is being tested. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: without_landlock COMMAND [ARG]...\n");
		return 2;
	}
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = ctx ? seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS),
					SCMP_SYS(landlock_create_ruleset), 0)
		     : -ENOMEM;
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0) {
		fprintf(stderr, "without_landlock: cannot install the filter: %d\n", rc);
		return 1;
	}
	execvp(argv[1], argv + 1);
	perror("without_landlock: exec");
	return 127;
}
