/* privd's request table: every request the collector may make, its
 * handler, and nothing else. Sizes and fields are checked by the codec
 * (common/ipc_codec.c, one row per type) before a handler runs; handlers
 * re-check meaning (usm's own pids, known probe sets, known attachments). */
#ifndef USM_PRIVD_REQUESTS_H
#define USM_PRIVD_REQUESTS_H

#include <stddef.h>

#include "attach.h"
#include "attach_policy.h"
#include "ipc_socket.h"
#include "kernel.h"
#include "supervisor.h"

struct privd_state {
	struct supervisor *sup;
	struct usm_ipc_server *server;
	struct kernel *kernel;
	struct attach_table *attachments;
	const struct attach_policy *policy;
};

extern const struct usm_ipc_route privd_routes[];
extern const size_t privd_nroutes;

#endif
