/* The socketpair between privd's supervisor and its BPF owner, made
 * before the fork. Every message is one struct owner_msg; descriptors
 * travel only with the types that carry them, in the number they say:
 *   owner -> supervisor: READY (once; arg = ring buffer fds that follow,
 *     0-2, for the collector), INSPECT (start an inspector on [file,
 *     socket]), RESTART_COLLECTOR (it broke the protocol);
 *   supervisor -> owner: HEALTH (every process's state, on each change).
 * Another size, an unknown type or the wrong number of descriptors is
 * -EBADMSG, every received descriptor closed. */
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
