/* The BPF owner's request table: every request the collector may make,
 * with its reply, payload bounds, allowed states and handler; nothing else
 * is served (common/ipc_socket.c enforces each column after the codec).
 * Handlers re-check meaning. A message that breaks the protocol is
 * answered, counted, and the collector restarted through the supervisor:
 * a collector that sends one is not the collector usm started. */
#ifndef USM_PRIVD_REQUESTS_H
#define USM_PRIVD_REQUESTS_H

#include <stddef.h>
#include <sys/types.h>

#include "attach.h"
#include "ipc_socket.h"
#include "kernel.h"

/* The server states (usm_ipc_server.state) rows are allowed in. */
enum owner_server_state {
	OWNER_KERNEL_UP = 1 << 0,   /* the TLS programs loaded: attaching makes sense */
	OWNER_KERNEL_DOWN = 1 << 1, /* start failed or monitoring disabled: nothing to attach */
};

struct owner_state {
	struct usm_ipc_server *server;
	struct kernel *kernel;
	struct attach_table *attachments;
	struct attach_context attach;
	struct usm_health health; /* the supervisor's last word on every process */
	pid_t self, supervisor;
	int channel;              /* to the supervisor */
};

extern const struct usm_ipc_route owner_routes[];
extern const size_t owner_nroutes;

/* The server's on_violation (it counts them): asks the supervisor to
 * restart the collector. */
void owner_protocol_violation(void *ctx, const char *what);

#endif
