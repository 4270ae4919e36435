#include "queries.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "discovery.h"
#include "log.h"
#include "privd_client.h"

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
	/* The kernel's side of event loss is counted in maps only privd reads. */
	if (c->monitor.state == USM_STATE_RUNNING && c->proc_ring)
		privd_status_refresh(c);
	memcpy(s.counters, c->counters, sizeof(s.counters));
	s.counters[USM_CTR_IPC_REQUESTS] = c->api_server.requests;
	s.counters[USM_CTR_IPC_BAD_MESSAGES] = c->api_server.bad_messages;
	s.counters[USM_CTR_IPC_REJECTED_PEERS] = atomic_load(&c->api_server.rejected_peers);
	s.counters[USM_CTR_PROC_EVENTS_LOST] = c->kernel.proc_events_lost;
	s.counters[USM_CTR_HTTP_EVENTS_LOST] = c->kernel.http_events_lost;
	http_monitor_counters(&c->http, s.counters);
	s.counters[USM_CTR_PROBE_HITS] = c->kernel.probe_hits;
	s.counters[USM_CTR_ATTACHMENTS] = c->kernel.attachments;
	s.counters[USM_CTR_DETACH_PENDING] = c->kernel.detach_pending;
	s.counters[USM_CTR_INSPECTIONS] = c->kernel.inspections;
	s.counters[USM_CTR_INSPECT_FAILURES] = c->kernel.inspect_failures;
	s.counters[USM_CTR_INSPECT_TIMEOUTS] = c->kernel.inspect_timeouts;
	s.counters[USM_CTR_INSPECT_CACHE_HITS] = c->kernel.inspect_cache_hits;
	s.attach_latency_count = c->attach_latency.count;
	s.attach_latency_max_us = c->attach_latency.max;
	latency_quantiles(&c->attach_latency, &s.attach_latency_p50_us, &s.attach_latency_p99_us);
	const struct registry_counters *rc = registry_counters(c->registry);
	s.counters[USM_CTR_REG_REGISTERED] = rc->registered;
	s.counters[USM_CTR_REG_ALREADY_REGISTERED] = rc->already_registered;
	s.counters[USM_CTR_REG_HOOK_FAILED] = rc->hook_failed;
	s.counters[USM_CTR_REG_BLOCKED] = rc->blocked;
	s.counters[USM_CTR_REG_BLOCKED_HITS] = rc->blocked_hits;
	s.counters[USM_CTR_REG_UNREGISTERED] = rc->unregistered;
	s.counters[USM_CTR_REG_DETACHED] = rc->detached;
	s.counters[USM_CTR_REG_FULL] = rc->full;
	s.counters[USM_CTR_TRACED_FILES] = registry_traced_count(c->registry);
	s.counters[USM_CTR_BLOCKED_FILES] = registry_blocked_count(c->registry);
	usm_ipc_reply_set(rep, USM_MSG_COLL_STATS_REP, &s, sizeof(s));
	return 0;
}

static int handle_traced(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	const struct usm_page_req *pr = req->payload;
	struct usm_traced_page *pg = (void *)rep->payload;
	memset(pg, 0, sizeof(*pg));
	pg->generation = registry_generation(c->registry);
	registry_page_traced(c->registry, pr->cursor, (struct usm_traced_record *)(pg + 1),
			     USM_PAGE_MAX_RECORDS, &pg->count, &pg->next_cursor);
	rep->type = USM_MSG_COLL_TRACED_REP;
	rep->length = (uint32_t)usm_msg_payload_size(rep->type, pg->count);
	return 0;
}

static int handle_blocked(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	const struct usm_page_req *pr = req->payload;
	struct usm_blocked_page *pg = (void *)rep->payload;
	memset(pg, 0, sizeof(*pg));
	pg->generation = registry_generation(c->registry);
	registry_page_blocked(c->registry, pr->cursor, (struct usm_blocked_record *)(pg + 1),
			      USM_PAGE_MAX_RECORDS, &pg->count, &pg->next_cursor);
	rep->type = USM_MSG_COLL_BLOCKED_REP;
	rep->length = (uint32_t)usm_msg_payload_size(rep->type, pg->count);
	return 0;
}

/* CONTROL: clear the blocklist, attach or detach one pid. apid refuses
 * these unless api_control is set; the collector checks again, because it
 * cannot know whether the apid talking to it is the one configured. */
static int handle_control(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	const struct usm_control_req *r = req->payload;
	struct usm_control_rep out;
	memset(&out, 0, sizeof(out));
	if (!c->cfg.api_control) {
		usm_ipc_reply_error(rep, -EPERM, "control requests are disabled (api_control)");
		return -EPERM;
	}
	int n = 0;
	switch (r->action) {
	case USM_CONTROL_CLEAR_BLOCKED:
		n = (int)registry_clear_blocked(c->registry);
		break;
	case USM_CONTROL_ATTACH_PID:
		if (r->pid == c->self_pid || r->pid == c->privd_pid)
			n = -EPERM;
		else
			n = discovery_attach_pid(c, r->pid, r->program_type);
		break;
	case USM_CONTROL_DETACH_PID:
		n = (int)registry_unregister_type(c->registry, r->pid, r->program_type,
						  usm_monotonic_ms());
		break;
	}
	if (n < 0) {
		out.error = n;
		snprintf(out.message, sizeof(out.message), "%s", strerror(-n));
	} else {
		out.affected = (uint32_t)n;
		snprintf(out.message, sizeof(out.message), "ok");
	}
	usm_ipc_reply_set(rep, USM_MSG_COLL_CONTROL_REP, &out, sizeof(out));
	return 0;
}

/* Relays privd's supervisor view: the collector cannot see it otherwise,
 * and apid may talk to nobody but the collector. */
static int handle_health(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	(void)req;
	struct usm_health h;
	int rc = privd_health(c, &h);
	if (rc != 0) {
		log_warn("health request to privd failed: %s", strerror(-rc));
		usm_ipc_reply_error(rep, -EHOSTUNREACH, "privd did not answer: %s", strerror(-rc));
		return -EHOSTUNREACH;
	}
	usm_ipc_reply_set(rep, USM_MSG_COLL_HEALTH_REP, &h, sizeof(h));
	return 0;
}

/* HTTP_STATS: one page of the statistics, filtered; with the reset flag
 * (api_control only, checked here too) a read that resets. */
static int handle_http_stats(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct collector *c = ctx;
	const struct usm_http_stats_req *r = req->payload;
	if ((r->flags & USM_HTTP_STATS_RESET) && !c->cfg.api_control) {
		usm_ipc_reply_error(rep, -EPERM, "reset on read is disabled (api_control)");
		return -EPERM;
	}
	struct usm_http_stats_page *pg = (void *)rep->payload;
	int rc = http_monitor_page(&c->http, r, pg, (struct usm_http_stats_record *)(pg + 1));
	if (rc != 0) {
		usm_ipc_reply_error(rep, rc, "%s",
				    rc == -EBUSY    ? "another reset read is in progress"
				    : rc == -ESTALE ? "the reset read ended; start again"
						    : strerror(-rc));
		return rc;
	}
	rep->type = USM_MSG_COLL_HTTP_STATS_REP;
	rep->length = (uint32_t)usm_msg_payload_size(rep->type, pg->count);
	return 0;
}

/* Reviewers: this is the complete list of what apid can ask. */
const struct usm_ipc_route collector_routes[] = {
	{USM_MSG_COLL_STATS_REQ, handle_stats},
	{USM_MSG_COLL_TRACED_REQ, handle_traced},
	{USM_MSG_COLL_BLOCKED_REQ, handle_blocked},
	{USM_MSG_COLL_HEALTH_REQ, handle_health},
	{USM_MSG_COLL_CONTROL_REQ, handle_control},
	{USM_MSG_COLL_HTTP_STATS_REQ, handle_http_stats},
};
const size_t collector_nroutes = sizeof(collector_routes) / sizeof(collector_routes[0]);
