#include "identity.h"

#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* Bounding set first: dropping an entry needs CAP_SETPCAP, which the
 * calls below drop. */
static int clear_bounding_and_ambient(void)
{
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0)
			return -errno;
	return cap_reset_ambient() == 0 ? 0 : -errno;
}

/* permitted = effective = caps, inheritable empty. */
static int set_caps(const cap_value_t *caps, size_t n)
{
	cap_t set = cap_init();
	if (!set)
		return -ENOMEM;
	int rc = (n > 0 && (cap_set_flag(set, CAP_PERMITTED, (int)n, caps, CAP_SET) != 0 ||
			    cap_set_flag(set, CAP_EFFECTIVE, (int)n, caps, CAP_SET) != 0)) ||
			 cap_set_proc(set) != 0
		 ? -errno
		 : 0;
	cap_free(set);
	return rc;
}

int privd_keep_only_caps(const cap_value_t *caps, size_t n)
{
	int rc = clear_bounding_and_ambient();
	if (rc == 0)
		rc = set_caps(caps, n);
	if (rc != 0)
		log_error("cannot reduce capabilities: %s", strerror(-rc));
	return rc;
}

int privd_become(uid_t uid, gid_t gid, const cap_value_t *caps, size_t n, int pdeathsig,
		 pid_t parent)
{
	/* KEEPCAPS: the uid change keeps the permitted set (and clears the
	 * effective one, raised again from the kept ones only). */
	int rc = clear_bounding_and_ambient();
	if (rc == 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
		rc = -errno;
	if (rc == 0)
		rc = privd_drop_for_exec(uid, gid, pdeathsig, parent);
	if (rc == 0)
		rc = set_caps(caps, n);
	if (rc == 0 && (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)))
		rc = -errno; /* non-dumpable whatever fs.suid_dumpable says */
	if (rc != 0)
		log_error("cannot become %u:%u: %s", (unsigned)uid, (unsigned)gid, strerror(-rc));
	return rc;
}

int privd_drop_for_exec(uid_t uid, gid_t gid, int pdeathsig, pid_t parent)
{
	/* Raw syscalls: glibc's set*id wrappers synchronise credentials across
	 * threads with signals, which is not safe after fork; the child has
	 * a single thread anyway. */
	if (syscall(SYS_setgroups, 0, NULL) != 0 || syscall(SYS_setresgid, gid, gid, gid) != 0 ||
	    syscall(SYS_setresuid, uid, uid, uid) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) != 0)
		return -errno;
	/* The parent died before PDEATHSIG was armed? */
	return getppid() == parent ? 0 : -ESRCH;
}
