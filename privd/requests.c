#include "requests.h"

#include <stdatomic.h>

/* HEALTH: the supervisor's view of the three processes, and privd's own
 * IPC counters. Takes no argument; the codec checked the payload is empty. */
static int handle_health(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct privd_state *st = ctx;
	struct usm_health h;
	(void)req;
	supervisor_health(st->sup, &h);
	h.ipc_rejected_peers = atomic_load(&st->server->rejected_peers);
	h.ipc_bad_messages = st->server->bad_messages;
	usm_ipc_reply_set(rep, USM_MSG_PRIVD_HEALTH_REP, &h, sizeof(h));
	return 0;
}

/* Reviewers: this is the complete list of what the collector can ask. */
const struct usm_ipc_route privd_routes[] = {
	{USM_MSG_PRIVD_HEALTH_REQ, handle_health},
};
const size_t privd_nroutes = sizeof(privd_routes) / sizeof(privd_routes[0]);
