/* Landlock for the unprivileged daemons: no file access at all (but, in
 * socket_dir, creating and removing its own Unix socket), TCP bind
 * limited to one port (or none), no TCP connect, no signals or abstract
 * Unix sockets outside the daemon's own domain.
 *
 * The ruleset handles every access right the running kernel knows (probed
 * with the ABI version; rights of newer ABIs are dropped with a falling
 * switch, as the kernel's sandboxer sample does) and grants none, except
 * TCP bind on `bind_port` when it is not 0. Connecting to a pathname Unix
 * socket (nng's ipc://) is not a Landlock right: the directory
 * permissions and the peer-uid checks guard those.
 *
 * Landlock applies to the calling thread and the threads it creates
 * later: call it before nng starts any thread. Requires no_new_privs.
 * Returns 0, or -EOPNOTSUPP when the kernel has no Landlock (the caller
 * logs it: seccomp still stands), or -errno. */
#ifndef USM_LANDLOCK_H
#define USM_LANDLOCK_H

#include <stdint.h>

/* socket_dir: a directory where the daemon may create and remove its
 * listening socket (MAKE_SOCK, REMOVE_FILE), or NULL. */
int usm_landlock_confine(uint16_t bind_port, const char *socket_dir);

/* The ABI version the kernel offers, 0 if none. */
int usm_landlock_abi(void);

#endif
