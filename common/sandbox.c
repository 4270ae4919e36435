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
