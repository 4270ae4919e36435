/* How privd's processes shed what they do not need. Capabilities are per
 * thread: call these while the process has a single thread, so every
 * later thread inherits the result (the live audit reads each task).
 *   privd_keep_only_caps(): stay uid 0 with exactly these capabilities;
 *     inheritable, ambient and the whole bounding set cleared.
 *   privd_become(): become uid:gid (no supplementary groups) with exactly
 *     these, an empty bounding set, no_new_privs and a parent-death signal
 *     (armed after the uid change, which clears it); the kernel makes the
 *     process non-dumpable on the way.
 *   privd_drop_for_exec(): between fork and exec, raw syscalls only:
 *     groups, gid, uid (clearing every capability), no_new_privs,
 *     parent-death signal, then a check the parent is still `parent`.
 * All return 0 or -errno. */
#ifndef USM_PRIVD_IDENTITY_H
#define USM_PRIVD_IDENTITY_H

#include <stddef.h>
#include <sys/capability.h>
#include <sys/types.h>

int privd_keep_only_caps(const cap_value_t *caps, size_t n);

int privd_become(uid_t uid, gid_t gid, const cap_value_t *caps, size_t n, int pdeathsig,
		 pid_t parent);

int privd_drop_for_exec(uid_t uid, gid_t gid, int pdeathsig, pid_t parent);

#endif
