#include "requests.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "link_closer.h"
#include "log.h"
#include "owner_channel.h"
#include "scan.h"

/* usm's own processes, which are never traced or scanned. */
static size_t own_pids(const struct owner_state *st, pid_t out[4])
{
	size_t n = 0;
	out[n++] = st->supervisor;
	out[n++] = st->self;
	for (unsigned i = USM_ROLE_COLLECTOR; i < USM_ROLE_COUNT; i++)
		if (st->health.proc[i].pid > 0)
			out[n++] = (pid_t)st->health.proc[i].pid;
	return n;
}

/* HEALTH: the supervisor's view of the three processes, and privd's own
 * IPC counters. */
static int handle_health(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct owner_state *st = ctx;
	struct usm_health h = st->health;
	(void)req;
	h.ipc_rejected_peers = atomic_load(&st->server->rejected_peers);
	h.ipc_bad_messages = st->server->bad_messages;
	usm_ipc_reply_set(rep, USM_MSG_PRIVD_HEALTH_REP, &h, sizeof(h));
	return 0;
}

/* STATUS: whether the kernel side started, and its counters. */
static int handle_status(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct owner_state *st = ctx;
	struct usm_privd_status s;
	(void)req;
	memset(&s, 0, sizeof(s));
	s.start_error = st->kernel->start_error;
	s.process_monitor = st->kernel->proc != NULL;
	s.uprobe_multi = st->kernel->uprobe_multi;
	usm_copy_printable(s.error, sizeof(s.error), st->kernel->error);
	kernel_counters(st->kernel, &s);
	s.attachments = st->attachments->count;
	s.detach_pending = (uint32_t)link_closer_pending();
	const struct inspect_client *ic = st->attach.inspector;
	s.inspections = ic->inspections;
	s.inspect_failures = ic->failures;
	s.inspect_timeouts = ic->timeouts;
	s.inspect_cache_hits = ic->cache_hits;
	usm_ipc_reply_set(rep, USM_MSG_PRIVD_STATUS_REP, &s, sizeof(s));
	return 0;
}

/* ATTACH(pid, path, probe set, program type). */
static int handle_attach(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct owner_state *st = ctx;
	const struct usm_attach_req *a = req->payload;
	struct usm_attach_rep r;
	pid_t own[4];
	size_t nown = own_pids(st, own);
	for (size_t i = 0; i < nown; i++)
		if ((pid_t)a->pid == own[i]) {
			usm_ipc_reply_error(rep, -EPERM, "pid %u is usm's own process", a->pid);
			return -EPERM;
		}
	attach_file(st->attachments, &st->attach, a, &r);
	usm_ipc_reply_set(rep, USM_MSG_PRIVD_ATTACH_REP, &r, sizeof(r));
	return 0;
}

/* DETACH(attachment id): answered at once; the links close in the background. */
static int handle_detach(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct owner_state *st = ctx;
	const struct usm_detach_req *d = req->payload;
	if (detach_attachment(st->attachments, d->attachment) != 0) {
		usm_ipc_reply_error(rep, -ENOENT, "no attachment %llu",
				    (unsigned long long)d->attachment);
		return -ENOENT;
	}
	usm_ipc_reply_set(rep, USM_MSG_PRIVD_DETACH_REP, NULL, 0);
	return 0;
}

/* LIST: every attachment, so a restarted collector rebuilds its registry
 * without attaching twice. */
static int handle_list(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct owner_state *st = ctx;
	const struct usm_page_req *pr = req->payload;
	if (pr->cursor > st->attachments->count) {
		usm_ipc_reply_error(rep, -EINVAL, "cursor past the end");
		return -EINVAL;
	}
	rep->type = USM_MSG_PRIVD_LIST_REP;
	rep->length = (uint32_t)attach_list_page(st->attachments, pr->cursor, rep->payload);
	return 0;
}

/* SCAN: running processes' executables and TLS libraries, a page at a time. */
static int handle_scan(void *ctx, const struct usm_msg_view *req, struct usm_ipc_reply *rep)
{
	struct owner_state *st = ctx;
	const struct usm_page_req *pr = req->payload;
	if (pr->cursor > UINT32_MAX) {
		usm_ipc_reply_error(rep, -EINVAL, "cursor is not a pid");
		return -EINVAL;
	}
	pid_t own[4];
	size_t nown = own_pids(st, own);
	rep->type = USM_MSG_PRIVD_SCAN_REP;
	rep->length = (uint32_t)scan_page(st->attach.policy, pr->cursor, own, nown, rep->payload);
	return 0;
}

void owner_protocol_violation(void *ctx, const char *what)
{
	struct owner_state *st = ctx;
	log_warn("protocol violation from the collector's uid (%s): restarting the collector", what);
	struct owner_msg m = {.type = OWNER_RESTART_COLLECTOR};
	int rc = owner_send(st->channel, &m, NULL, 0);
	if (rc)
		log_error("cannot ask the supervisor to restart the collector: %s", strerror(-rc));
}

#define ALWAYS (OWNER_KERNEL_UP | OWNER_KERNEL_DOWN)
/* Every request to privd is fixed-size: one exact length per row. */
#define ROW(req, rep, len, when, fn)                                                               \
	{.request = req, .reply = rep, .min_len = len, .max_len = len, .allowed_states = when,     \
	 .handler = fn}

/* Reviewers: this is the complete list of what the collector can ask. */
const struct usm_ipc_route owner_routes[] = {
	/*  request                   reply                     payload bytes (exact)          allowed          handler */
	ROW(USM_MSG_PRIVD_HEALTH_REQ, USM_MSG_PRIVD_HEALTH_REP, 0,                             ALWAYS,          handle_health),
	ROW(USM_MSG_PRIVD_STATUS_REQ, USM_MSG_PRIVD_STATUS_REP, 0,                             ALWAYS,          handle_status),
	ROW(USM_MSG_PRIVD_LIST_REQ,   USM_MSG_PRIVD_LIST_REP,   sizeof(struct usm_page_req),   ALWAYS,          handle_list),
	ROW(USM_MSG_PRIVD_SCAN_REQ,   USM_MSG_PRIVD_SCAN_REP,   sizeof(struct usm_page_req),   ALWAYS,          handle_scan),
	ROW(USM_MSG_PRIVD_ATTACH_REQ, USM_MSG_PRIVD_ATTACH_REP, sizeof(struct usm_attach_req), OWNER_KERNEL_UP, handle_attach),
	ROW(USM_MSG_PRIVD_DETACH_REQ, USM_MSG_PRIVD_DETACH_REP, sizeof(struct usm_detach_req), OWNER_KERNEL_UP, handle_detach),
};
const size_t owner_nroutes = sizeof(owner_routes) / sizeof(owner_routes[0]);
