/* Privilege dropping and checks shared by the daemons.
 *
 * privd: usm_caps_keep_only() at start-up, once the root-only set-up is
 * done, leaves exactly the listed capabilities in the permitted and
 * effective sets and clears the inheritable, ambient and whole bounding
 * sets, so nothing privd executes can ever regain a capability.
 *
 * Children: usm_child_drop_privileges() runs in the forked child before
 * exec; usm_require_unprivileged() is the first thing an unprivileged
 * daemon runs, refusing to start if it somehow has uid 0, a capability or
 * no no_new_privs (defence in depth against a wrong spawn). */
#ifndef USM_SANDBOX_H
#define USM_SANDBOX_H

#include <stddef.h>
#include <sys/capability.h>
#include <sys/types.h>

int usm_caps_keep_only(const cap_value_t *caps, size_t n);

/* Async-signal-safe (raw syscalls only): callable between fork and exec
 * of a multi-threaded parent. Order: groups, gid, uid (which clears the
 * permitted, effective and ambient sets), no_new_privs, parent-death
 * signal (after setuid, which would reset it), then a check that the
 * parent is still `parent`. Returns 0 or -errno. */
int usm_child_drop_privileges(uid_t uid, gid_t gid, int pdeathsig, pid_t parent);

/* 0 if uid != 0, every capability set is empty and no_new_privs is set;
 * otherwise logs what is wrong and returns -EPERM. */
int usm_require_unprivileged(void);

/* Sets RLIMIT_`resource` soft and hard to value; -errno on failure. */
int usm_set_rlimit(int resource, unsigned long long value);

#endif
