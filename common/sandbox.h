/* Checks and limits the unprivileged processes apply to themselves.
 * (How privd drops privileges lives with it: privd/identity.h.)
 *
 * usm_require_unprivileged() is the first thing an unprivileged process
 * runs, refusing to start if it somehow has uid 0, a capability or no
 * no_new_privs (defence in depth against a wrong spawn). */
#ifndef USM_SANDBOX_H
#define USM_SANDBOX_H

#include <stddef.h>
#include <sys/capability.h>
#include <sys/types.h>

/* 0 if uid != 0, every capability set is empty and no_new_privs is set;
 * otherwise logs what is wrong and returns -EPERM. */
int usm_require_unprivileged(void);

/* Sets RLIMIT_`resource` soft and hard to value; -errno on failure. */
int usm_set_rlimit(int resource, unsigned long long value);

#endif
