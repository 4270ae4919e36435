#include "fetch.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static struct usm_ipc_reply reply; /* calls are serialized on the client */

static json_object *path_id(uint64_t dev, uint64_t inode)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "Dev", json_object_new_uint64(dev));
	json_object_object_add(o, "Inode", json_object_new_uint64(inode));
	return o;
}

/* Adds the record's pids to the last entry if it continues the same file
 * (a file with many pids spans several records), else starts an entry. */
static void add_traced_record(json_object *list, const struct usm_traced_record *r)
{
	size_t n = json_object_array_length(list);
	json_object *last = n ? json_object_array_get_idx(list, n - 1) : NULL;
	json_object *pids = NULL;
	if (last) {
		json_object *pid_obj, *dev, *ino, *type;
		json_object_object_get_ex(last, "PathID", &pid_obj);
		json_object_object_get_ex(pid_obj, "Dev", &dev);
		json_object_object_get_ex(pid_obj, "Inode", &ino);
		json_object_object_get_ex(last, "ProgramType", &type);
		if (json_object_get_uint64(dev) == r->dev && json_object_get_uint64(ino) == r->inode &&
		    strcmp(json_object_get_string(type), usm_program_type_name(r->program_type)) == 0)
			json_object_object_get_ex(last, "PIDs", &pids);
	}
	if (!pids) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "ProgramType",
				       json_object_new_string(usm_program_type_name(r->program_type)));
		json_object_object_add(e, "FilePath", json_object_new_string(r->path));
		pids = json_object_new_array();
		json_object_object_add(e, "PIDs", pids);
		json_object_object_add(e, "PathID", path_id(r->dev, r->inode));
		/* usm's own field (not in system-probe's shape): attached at
		 * start from resident_libraries, kept without pids. */
		json_object_object_add(e, "Resident",
				       json_object_new_boolean(r->flags & USM_TRACED_RESIDENT));
		json_object_array_add(list, e);
	}
	for (uint32_t i = 0; i < r->npids; i++)
		json_object_array_add(pids, json_object_new_int64(r->pids[i]));
}

static void add_blocked_record(json_object *by_type[USM_PROG_TYPE_COUNT],
			       const struct usm_blocked_record *r)
{
	json_object *id = path_id(r->dev, r->inode);
	json_object_object_add(id, "Reason", json_object_new_string(r->reason));
	json_object_object_add(id, "SamplePath", json_object_new_string(r->sample_path));
	json_object_array_add(by_type[r->program_type], id);
}

/* Every paged request starts with its cursor, and every page with
 * next_cursor and generation, which is all read_pages() looks at. */
#define PAGE_HEADER_IS_COMMON(page)                                                                \
	_Static_assert(offsetof(page, next_cursor) == offsetof(struct usm_traced_page, next_cursor) && \
			       offsetof(page, generation) ==                                       \
				       offsetof(struct usm_traced_page, generation),               \
		       #page " starts like the other pages")
PAGE_HEADER_IS_COMMON(struct usm_blocked_page);
PAGE_HEADER_IS_COMMON(struct usm_http_stats_page);
_Static_assert(offsetof(struct usm_page_req, cursor) == 0 &&
		       offsetof(struct usm_http_stats_req, cursor) == 0,
	       "paged requests start with their cursor");

/* One paged listing: req (req_len bytes, starting with its cursor, which
 * is rewritten) is sent once per page. Returns 0 or -errno. */
static int read_pages(struct usm_ipc_client *cl, uint16_t req_type, void *req, size_t req_len,
		      uint16_t rep_type, void (*on_page)(void *arg, const void *page), void *arg,
		      void (*reset)(void *arg))
{
	for (int attempt = 0; attempt <= FETCH_MAX_RETRIES; attempt++) {
		uint64_t cursor = 0, generation = 0;
		bool restarted = false;
		reset(arg);
		for (int page = 0; page < FETCH_MAX_PAGES; page++) {
			memcpy(req, &cursor, sizeof(cursor));
			reply.type = 0; /* so that a transport failure is not taken for a refusal */
			int rc = usm_ipc_call(cl, req_type, req, req_len, rep_type, &reply);
			if (rc != 0)
				return rc;
			const struct usm_traced_page *hdr = (const void *)reply.payload;
			if (page == 0)
				generation = hdr->generation;
			else if (hdr->generation != generation) {
				restarted = true;
				break;
			}
			on_page(arg, reply.payload);
			if (hdr->next_cursor == 0)
				return 0;
			cursor = hdr->next_cursor;
		}
		if (!restarted) {
			log_warn("listing %s stopped after %d pages", usm_msg_type_name(req_type),
				 FETCH_MAX_PAGES);
			return -E2BIG;
		}
	}
	return -EAGAIN;
}

struct traced_ctx {
	json_object *list;
};

static void traced_reset(void *arg)
{
	struct traced_ctx *t = arg;
	json_object_put(t->list);
	t->list = json_object_new_array();
}

static void traced_page(void *arg, const void *page)
{
	struct traced_ctx *t = arg;
	const struct usm_traced_page *p = page;
	const struct usm_traced_record *r = (const void *)(p + 1);
	for (uint32_t i = 0; i < p->count; i++)
		add_traced_record(t->list, &r[i]);
}

int fetch_traced_programs(struct usm_ipc_client *cl, json_object **out)
{
	struct traced_ctx t = {NULL};
	struct usm_page_req pr = {0};
	int rc = read_pages(cl, USM_MSG_COLL_TRACED_REQ, &pr, sizeof(pr), USM_MSG_COLL_TRACED_REP,
			    traced_page, &t, traced_reset);
	if (rc != 0) {
		json_object_put(t.list);
		return rc;
	}
	*out = t.list;
	return 0;
}

struct blocked_ctx {
	json_object *by_type[USM_PROG_TYPE_COUNT];
};

static void blocked_reset(void *arg)
{
	struct blocked_ctx *b = arg;
	for (int i = 0; i < USM_PROG_TYPE_COUNT; i++) {
		json_object_put(b->by_type[i]);
		b->by_type[i] = json_object_new_array();
	}
}

static void blocked_page(void *arg, const void *page)
{
	struct blocked_ctx *b = arg;
	const struct usm_blocked_page *p = page;
	const struct usm_blocked_record *r = (const void *)(p + 1);
	for (uint32_t i = 0; i < p->count; i++)
		add_blocked_record(b->by_type, &r[i]);
}

int fetch_blocked_processes(struct usm_ipc_client *cl, json_object **out)
{
	struct blocked_ctx b = {{NULL}};
	struct usm_page_req pr = {0};
	int rc = read_pages(cl, USM_MSG_COLL_BLOCKED_REQ, &pr, sizeof(pr), USM_MSG_COLL_BLOCKED_REP,
			    blocked_page, &b, blocked_reset);
	json_object *list = rc == 0 ? json_object_new_array() : NULL;
	for (int i = 0; i < USM_PROG_TYPE_COUNT; i++) {
		/* Program types with nothing blocked are left out. */
		if (list && json_object_array_length(b.by_type[i]) > 0) {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "ProgramType",
					       json_object_new_string(usm_program_type_name((uint8_t)i)));
			json_object_object_add(e, "PathIdentifiers", json_object_get(b.by_type[i]));
			json_object_array_add(list, e);
		}
		json_object_put(b.by_type[i]);
	}
	if (rc == 0)
		*out = list;
	return rc;
}

int fetch_stats_raw(struct usm_ipc_client *cl, struct usm_stats *out)
{
	int rc = usm_ipc_call(cl, USM_MSG_COLL_STATS_REQ, NULL, 0, USM_MSG_COLL_STATS_REP, &reply);
	if (rc == 0)
		memcpy(out, reply.payload, sizeof(*out));
	return rc;
}

int fetch_stats(struct usm_ipc_client *cl, json_object **out)
{
	struct usm_stats s;
	int rc = fetch_stats_raw(cl, &s);
	if (rc != 0)
		return rc;

	json_object *blocked, *traced;
	if ((rc = fetch_blocked_processes(cl, &blocked)) != 0)
		return rc;
	if ((rc = fetch_traced_programs(cl, &traced)) != 0) {
		json_object_put(blocked);
		return rc;
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "state", json_object_new_string(usm_monitor_state_name(s.state)));
	if (s.error[0])
		json_object_object_add(o, "error", json_object_new_string(s.error));
	json_object_object_add(o, "blocked_processes", blocked);
	json_object_object_add(o, "traced_programs", traced);
	json_object_object_add(o, "last_check", json_object_new_int64(s.last_check));
	json_object *counters = json_object_new_object();
	for (unsigned i = 0; i < USM_CTR_COUNT; i++)
		json_object_object_add(counters, usm_counter_name(i),
				       json_object_new_uint64(s.counters[i]));
	json_object_object_add(o, "counters", counters);
	json_object *lat = json_object_new_object();
	json_object_object_add(lat, "count", json_object_new_uint64(s.attach_latency_count));
	json_object_object_add(lat, "p50_us", json_object_new_uint64(s.attach_latency_p50_us));
	json_object_object_add(lat, "p99_us", json_object_new_uint64(s.attach_latency_p99_us));
	json_object_object_add(lat, "max_us", json_object_new_uint64(s.attach_latency_max_us));
	json_object_object_add(o, "attach_latency", lat);
	*out = o;
	return 0;
}

int fetch_health(struct usm_ipc_client *cl, json_object **out, int *healthy)
{
	int rc = usm_ipc_call(cl, USM_MSG_COLL_HEALTH_REQ, NULL, 0, USM_MSG_COLL_HEALTH_REP, &reply);
	if (rc != 0)
		return rc;
	struct usm_health h;
	memcpy(&h, reply.payload, sizeof(h));
	*healthy = 1;
	json_object *procs = json_object_new_array();
	for (unsigned i = 0; i < USM_ROLE_COUNT; i++) {
		const struct usm_proc_health *p = &h.proc[i];
		json_object *e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(usm_role_name(p->role)));
		json_object_object_add(e, "state", json_object_new_string(usm_proc_state_name(p->state)));
		json_object_object_add(e, "pid", p->pid ? json_object_new_int64(p->pid) : NULL);
		json_object_object_add(e, "up_since", json_object_new_int64(p->up_since));
		json_object_object_add(e, "restarts", json_object_new_int64(p->restarts));
		json_object_object_add(e, "last_exit",
				       p->last_exit >= 0 ? json_object_new_int(p->last_exit) : NULL);
		json_object_array_add(procs, e);
		if (p->state != USM_PROC_RUNNING)
			*healthy = 0;
	}
	json_object *ipc = json_object_new_object();
	json_object_object_add(ipc, "privd_rejected_peers",
			       json_object_new_uint64(h.ipc_rejected_peers));
	json_object_object_add(ipc, "privd_bad_messages", json_object_new_uint64(h.ipc_bad_messages));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(*healthy ? "ok" : "degraded"));
	json_object_object_add(o, "processes", procs);
	json_object_object_add(o, "ipc", ipc);
	*out = o;
	return 0;
}

int fetch_control(struct usm_ipc_client *cl, uint8_t action, uint32_t pid, uint8_t program_type,
		  json_object **out)
{
	struct usm_control_req req = {.action = action, .program_type = program_type, .pid = pid};
	int rc = usm_ipc_call(cl, USM_MSG_COLL_CONTROL_REQ, &req, sizeof(req),
			      USM_MSG_COLL_CONTROL_REP, &reply);
	if (rc != 0 && reply.type != USM_MSG_ERROR)
		return rc; /* transport failure */
	json_object *o = json_object_new_object();
	if (rc != 0) {
		const struct usm_msg_error *e = (const void *)reply.payload;
		json_object_object_add(o, "error", json_object_new_string(e->message));
		*out = o;
		return rc;
	}
	const struct usm_control_rep *r = (const void *)reply.payload;
	if (r->error != 0) {
		json_object_object_add(o, "error", json_object_new_string(r->message));
		*out = o;
		return r->error;
	}
	json_object_object_add(o, "affected", json_object_new_int64(r->affected));
	*out = o;
	return 0;
}

static void http_reset(void *arg)
{
	struct http_records *h = arg;
	h->n = 0;
	h->failed = false;
}

static void http_page(void *arg, const void *page)
{
	struct http_records *h = arg;
	const struct usm_http_stats_page *p = page;
	if (h->failed || p->count == 0) /* filtered pages may be empty */
		return;
	if (h->n + p->count > h->cap) {
		size_t cap = h->cap ? h->cap : USM_HTTP_PAGE_MAX_RECORDS;
		while (cap < h->n + p->count)
			cap *= 2;
		struct usm_http_stats_record *v = realloc(h->v, cap * sizeof(*v));
		if (!v) {
			h->failed = true;
			return;
		}
		h->v = v;
		h->cap = cap;
	}
	memcpy(h->v + h->n, p + 1, p->count * sizeof(*h->v));
	h->n += p->count;
}

int fetch_http_stats(struct usm_ipc_client *cl, const struct usm_http_stats_req *filter,
		     struct http_records *out, char *refusal, size_t cap)
{
	/* A reset read pages through a table the collector set aside, whose
	 * generation does not change. Should it change anyway, the restart at
	 * cursor 0 asks for a new reset, which the collector refuses (-EBUSY)
	 * while the first is unfinished: nothing is reset twice unseen. */
	struct usm_http_stats_req req = *filter;
	*out = (struct http_records){0};
	int rc = read_pages(cl, USM_MSG_COLL_HTTP_STATS_REQ, &req, sizeof(req),
			    USM_MSG_COLL_HTTP_STATS_REP, http_page, out, http_reset);
	if (rc == 0 && out->failed)
		rc = -ENOMEM;
	if (rc != 0)
		http_records_free(out);
	if (cap > 0)
		refusal[0] = '\0';
	if (rc != 0 && reply.type == USM_MSG_ERROR)
		snprintf(refusal, cap, "%s", ((const struct usm_msg_error *)reply.payload)->message);
	return rc;
}

void http_records_free(struct http_records *h)
{
	free(h->v);
	*h = (struct http_records){0};
}
