/* The contract is in seccomp_install.h. Deliberately no libseccomp and no
 * policy text here: privd installs what the build compiled and reviewed. */
#include "seccomp_install.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

int usm_seccomp_install(const struct sock_filter *prog, unsigned len)
{
	if (!prog || len == 0 || len > BPF_MAXINSNS)
		return -EINVAL;
	/* Without CAP_SYS_ADMIN the kernel refuses a filter unless
	 * no_new_privs is set; set it here so a failure says so (setting it
	 * again is harmless). TSYNC gives it to every other thread too. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* The kernel only reads the program; sock_fprog just is not const. */
	struct sock_fprog fprog = {
		.len = (unsigned short)len,
		.filter = (struct sock_filter *)(uintptr_t)prog,
	};
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (rc < 0)
		return -errno;
	if (rc > 0) {
		/* TSYNC answers with the id of a thread whose filters are not
		 * an ancestor of ours; no thread got the filter. */
		log_error("seccomp: thread %ld has a filter of its own, cannot put every thread "
			  "under this one",
			  rc);
		return -EAGAIN;
	}
	return 0;
}
