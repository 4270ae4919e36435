/* Installs a seccomp filter compiled at build time (policy/meson.build
 * turns policy/NAME.policy into usm_filter_NAME_kill[] and _log[], the
 * program libseccomp generates, architecture check included), so that the
 * process installing it runs no parser and links no libseccomp.
 *
 * usm_seccomp_install(): sets no_new_privs (the kernel wants it from a
 * process without CAP_SYS_ADMIN), then installs prog with SECCOMP_FILTER_FLAG_TSYNC so that every thread of the
 * process (nng starts its own) is under the filter. Returns 0, -EINVAL
 * (no program, or more than BPF_MAXINSNS instructions), -EAGAIN (a thread
 * could not be synchronised: it already has a filter this one does not
 * extend; logged with its id), or the -errno of prctl(2) or seccomp(2).
 * On failure nothing is installed: the caller must exit. */
#ifndef USM_SECCOMP_INSTALL_H
#define USM_SECCOMP_INSTALL_H

#include <linux/filter.h>

#include "config.h" /* enum usm_seccomp_mode */

int usm_seccomp_install(const struct sock_filter *prog, unsigned len);

/* Installs the compiled policy NAME (its NAME_seccomp_filter.h included)
 * in the configuration's mode: kill, or log for diagnosis. */
#define USM_SECCOMP_INSTALL(name, mode)                                                            \
	((mode) == USM_SECCOMP_LOG                                                                 \
		 ? usm_seccomp_install(usm_filter_##name##_log, usm_filter_##name##_log_len)       \
		 : usm_seccomp_install(usm_filter_##name##_kill, usm_filter_##name##_kill_len))

#endif
