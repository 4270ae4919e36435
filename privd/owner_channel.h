/* The channel between privd's two processes (policy/PRIVILEGES.md):
 *
 *   the supervisor   uid 0, CAP_SETUID, CAP_SETGID, CAP_KILL: starts,
 *                    restarts and stops every other process;
 *   the BPF owner    its own uid, CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE:
 *                    owns the kernel side and answers the collector.
 *
 * A SOCK_SEQPACKET socketpair made before the fork. Every message is one
 * struct owner_msg; descriptors travel only with the types that carry
 * them, in the number the type says:
 *
 *   owner -> supervisor
 *     OWNER_READY              once, when the collector may connect; arg =
 *                              number of ring buffer fds that follow (0-2),
 *                              which the supervisor hands to each collector
 *     OWNER_INSPECT            start an inspector on [file fd, socket fd]
 *     OWNER_RESTART_COLLECTOR  the collector broke the protocol: restart it
 *   supervisor -> owner
 *     OWNER_HEALTH             every process's state, whenever it changes
 *
 * A message of another size, an unknown type, or the wrong number of
 * descriptors is refused (-EBADMSG) with every received descriptor closed. */
#ifndef USM_PRIVD_OWNER_CHANNEL_H
#define USM_PRIVD_OWNER_CHANNEL_H

#include <stdint.h>

#include "ipc_proto.h"

#define OWNER_MAX_FDS 2

enum owner_msg_type {
	OWNER_READY = 1,
	OWNER_INSPECT = 2,
	OWNER_RESTART_COLLECTOR = 3,
	OWNER_HEALTH = 4,
};

struct owner_msg {
	uint32_t type; /* enum owner_msg_type */
	int32_t arg;   /* READY: ring fds that follow */
	struct usm_health health; /* HEALTH only */
};

/* Sends m with nfds descriptors; 0 or -errno. */
int owner_send(int sock, const struct owner_msg *m, const int *fds, unsigned nfds);

/* Receives one message and its descriptors (fds has OWNER_MAX_FDS slots,
 * *nfds gets the count). 0, -EAGAIN (nothing waiting), -EPIPE (the other
 * process is gone), or -EBADMSG. */
int owner_recv(int sock, struct owner_msg *m, int *fds, unsigned *nfds);

#endif
