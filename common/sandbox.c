#include "sandbox.h"

#include <errno.h>
#include <string.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

int usm_caps_keep_only(const cap_value_t *caps, size_t n)
{
	/* Bounding set first: dropping an entry needs CAP_SETPCAP, which is
	 * itself dropped below. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0) {
			int e = errno;
			log_error("cannot drop capability %s from the bounding set: %s",
				  cap_to_name(c), strerror(e));
			return -e;
		}
	}
	if (cap_reset_ambient() != 0) {
		int e = errno;
		log_error("cannot clear the ambient capability set: %s", strerror(e));
		return -e;
	}
	cap_t set = cap_init(); /* all three sets empty */
	if (!set)
		return -ENOMEM;
	int rc = 0;
	if (n > 0 && (cap_set_flag(set, CAP_PERMITTED, (int)n, caps, CAP_SET) != 0 ||
		      cap_set_flag(set, CAP_EFFECTIVE, (int)n, caps, CAP_SET) != 0))
		rc = -EINVAL;
	if (rc == 0 && cap_set_proc(set) != 0) {
		rc = -errno;
		log_error("cannot reduce capabilities: %s", strerror(-rc));
	}
	cap_free(set);
	return rc;
}

int usm_child_drop_privileges(uid_t uid, gid_t gid, int pdeathsig, pid_t parent)
{
	/* Raw syscalls: glibc's set*id wrappers synchronise credentials across
	 * threads with signals, which is not safe after fork in a threaded
	 * parent; the child has a single thread anyway. */
	if (syscall(SYS_setgroups, 0, NULL) != 0)
		return -errno;
	if (syscall(SYS_setresgid, gid, gid, gid) != 0)
		return -errno;
	if (syscall(SYS_setresuid, uid, uid, uid) != 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if (prctl(PR_SET_PDEATHSIG, pdeathsig, 0, 0, 0) != 0)
		return -errno;
	if (getppid() != parent) /* the parent died before PDEATHSIG was armed */
		return -ESRCH;
	return 0;
}

int usm_require_unprivileged(void)
{
	if (getuid() == 0 || geteuid() == 0) {
		log_error("refusing to run as uid 0: this daemon must be started by usm-privd");
		return -EPERM;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		log_error("refusing to run without no_new_privs: start it through usm-privd");
		return -EPERM;
	}
	cap_t now = cap_get_proc();
	cap_t none = cap_init();
	int differ = !now || !none || cap_compare(now, none) != 0;
	cap_free(now);
	cap_free(none);
	if (differ) {
		log_error("refusing to run with capabilities: start it through usm-privd");
		return -EPERM;
	}
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		if (CAP_IS_SUPPORTED(c) && (cap_get_bound(c) == 1 || cap_get_ambient(c) == 1)) {
			log_error("refusing to run with %s in the bounding or ambient set",
				  cap_to_name(c));
			return -EPERM;
		}
	}
	return 0;
}

int usm_set_rlimit(int resource, unsigned long long value)
{
	struct rlimit rl = {.rlim_cur = value, .rlim_max = value};
	return setrlimit(resource, &rl) == 0 ? 0 : -errno;
}
