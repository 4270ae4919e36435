#include "queries.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "collector.h"
#include "log.h"

static int handle_stats(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	struct usm_stats s;
	(void)req;
	memset(&s, 0, sizeof(s));
	s.state = (uint8_t)c->monitor.state;
	s.last_check = c->monitor.last_check;
	s.started_at = c->monitor.started_at;
	memcpy(s.error, c->monitor.error, sizeof(s.error));
	s.counters[USM_CTR_IPC_REQUESTS] = c->api_server.requests;
	s.counters[USM_CTR_IPC_BAD_MESSAGES] = c->api_server.bad_messages;
	s.counters[USM_CTR_IPC_REJECTED_PEERS] = atomic_load(&c->api_server.rejected_peers);
	s.counters[USM_CTR_PRIVD_CALL_FAILURES] = c->privd_call_failures;
	usm_ipc_reply_set(rep, USM_MSG_COLL_STATS_REP, &s, sizeof(s));
	return 0;
}

/* The registry of traced and blocked files arrives with process discovery;
 * until then both lists are complete when empty: one page, no cursor. */
static int empty_page(const struct usm_msg_view *req, uint16_t rep_type, size_t page_size,
		      struct usm_ipc_reply *rep)
{
	const struct usm_page_req *pr = req->payload;
	if (pr->cursor != 0) {
		usm_ipc_reply_error(rep, -EINVAL, "unknown cursor %llu",
				    (unsigned long long)pr->cursor);
		return -EINVAL;
	}
	memset(rep->payload, 0, page_size);
	rep->type = rep_type;
	rep->length = (uint32_t)page_size;
	return 0;
}

static int handle_traced(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	(void)ctx;
	return empty_page(req, USM_MSG_COLL_TRACED_REP, sizeof(struct usm_traced_page), rep);
}

static int handle_blocked(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	(void)ctx;
	return empty_page(req, USM_MSG_COLL_BLOCKED_REP, sizeof(struct usm_blocked_page), rep);
}

/* Relays privd's supervisor view: the collector cannot see it otherwise,
 * and apid may talk to nobody but the collector. */
static int handle_health(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	(void)req;
	int rc = usm_ipc_call(&c->privd, USM_MSG_PRIVD_HEALTH_REQ, NULL, 0,
			      USM_MSG_PRIVD_HEALTH_REP, rep);
	if (rc != 0) {
		c->privd_call_failures++;
		log_warn("health request to privd failed: %s", strerror(-rc));
		usm_ipc_reply_error(rep, -EHOSTUNREACH, "privd did not answer: %s", strerror(-rc));
		return -EHOSTUNREACH;
	}
	rep->type = USM_MSG_COLL_HEALTH_REP;
	return 0;
}

/* Reviewers: this is the complete list of what apid can ask. */
const struct usm_ipc_route collector_routes[] = {
	{USM_MSG_COLL_STATS_REQ, handle_stats},
	{USM_MSG_COLL_TRACED_REQ, handle_traced},
	{USM_MSG_COLL_BLOCKED_REQ, handle_blocked},
	{USM_MSG_COLL_HEALTH_REQ, handle_health},
};
const size_t collector_nroutes = sizeof(collector_routes) / sizeof(collector_routes[0]);
