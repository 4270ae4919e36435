/* Who privd's processes are, and how each sheds what it does not need.
 *
 * Capabilities are per thread: every function here must run while the
 * calling process has a single thread, so that every thread started later
 * inherits the reduced credentials (the live audit reads each
 * /proc/PID/task/TID/status).
 *
 * privd_keep_only_caps(): the supervisor stays uid 0 and keeps exactly the
 * listed capabilities (permitted = effective); inheritable, ambient and the
 * whole bounding set are cleared, so nothing it executes regains one.
 *
 * privd_become(): the BPF owner becomes uid:gid (no supplementary groups)
 * keeping exactly the listed capabilities, with an empty bounding set,
 * no_new_privs, and a parent-death signal (armed after the uid change,
 * which would clear it). The kernel makes it non-dumpable on the way, so
 * processes of its new uid cannot read its /proc files or ptrace it.
 *
 * privd_drop_for_exec(): between fork and exec of an unprivileged child:
 * async-signal-safe raw syscalls only. Order: groups, gid, uid (which
 * clears the permitted, effective and ambient sets), no_new_privs,
 * parent-death signal, then a check that the parent is still `parent`.
 *
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
