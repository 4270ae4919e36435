/* Request/response pairing on one connection: see http_pair.h. */
#include "http_pair.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

enum conn_state {
	C_ACTIVE = 0,
	C_STOPPED,  /* 101, or a CONNECT tunnel */
	C_NOT_HTTP, /* TLS */
	C_CLOSED,
};

/* One waiting request; entries are `stride` bytes apart in the ring, the
 * path (max_path_len + 1 bytes) right after the fixed part. */
struct pending {
	uint64_t ts_ns;
	uint64_t bytes;
	uint32_t seq;
	uint16_t path_len;
	uint8_t method;
	uint8_t flags;
	char path[];
};

enum pending_flag {
	P_PATH_CUT = 1u << 0,
	P_ENDED = 1u << 1, /* the request ended with exact bytes */
};

/* What the parse callbacks need to know about the feed in progress. */
struct conn_feed {
	struct http_conn *c;
	int dir;
	const struct http_sink *sink;
	void *ctx;
};

static struct pending *pending_at(const struct http_conn *c, uint32_t i)
{
	size_t slot = (c->pending_head + i) % c->pending_cap;
	return (struct pending *)(void *)(c->pending + slot * c->stride);
}

static struct pending *oldest(const struct http_conn *c)
{
	return c->pending_count ? pending_at(c, 0) : NULL;
}

static int pending_grow(struct http_conn *c)
{
	uint32_t limit = c->lim.max_pending + 1; /* + the one being answered */
	uint32_t cap = c->pending_cap ? c->pending_cap * 2 : 2;
	unsigned char *ring;
	if (cap > limit)
		cap = limit;
	if (cap <= c->pending_cap)
		return -ENOSPC;
	ring = malloc((size_t)cap * c->stride);
	if (!ring)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->pending_count; i++)
		memcpy(ring + (size_t)i * c->stride, pending_at(c, i), c->stride);
	free(c->pending);
	c->pending = ring;
	c->pending_cap = cap;
	c->pending_head = 0;
	return 0;
}

static void pop_oldest(struct http_conn *c)
{
	c->pending_head = (c->pending_head + 1) % c->pending_cap;
	c->pending_count--;
}

/* Drops the second oldest: the oldest is being answered. */
static void pop_second(struct http_conn *c)
{
	memcpy(pending_at(c, 1), pending_at(c, 0), c->stride);
	pop_oldest(c);
}

static void push_request(struct http_conn *c, const struct http_message *m)
{
	uint32_t waiting = c->pending_count - (c->answering ? 1u : 0u);
	struct pending *e;
	c->reading_seq = 0;
	if (waiting >= c->lim.max_pending) {
		c->counters.overflow++;
		if (c->answering)
			pop_second(c);
		else
			pop_oldest(c);
	}
	if (c->pending_count == c->pending_cap && pending_grow(c) < 0) {
		c->counters.untracked++;
		return;
	}
	e = pending_at(c, c->pending_count);
	c->pending_count++;
	if (++c->next_seq == 0)
		c->next_seq = 1;
	e->seq = c->next_seq;
	e->ts_ns = m->start_ts_ns;
	e->bytes = m->bytes;
	e->method = (uint8_t)m->method;
	e->flags = m->path_cut ? P_PATH_CUT : 0;
	e->path_len = (uint16_t)m->path_len;
	memcpy(e->path, m->path, m->path_len);
	e->path[m->path_len] = '\0';
	c->reading_seq = e->seq;
}

static struct pending *find_seq(const struct http_conn *c, uint32_t seq)
{
	for (uint32_t i = c->pending_count; seq && i > 0; i--) {
		struct pending *e = pending_at(c, i - 1);
		if (e->seq == seq)
			return e;
	}
	return NULL;
}

/* The request a final response answers, or NULL. */
static struct pending *answered_by(const struct http_conn *c, const struct http_message *response)
{
	struct pending *e = oldest(c);
	if (!e || c->answering || e->ts_ns > response->start_ts_ns)
		return NULL;
	return e;
}

static void report_unanswered(const struct pending *e, const struct http_sink *sink, void *ctx)
{
	if (sink && sink->on_unanswered)
		sink->on_unanswered(ctx, (enum usm_http_method)e->method, e->path,
				    e->flags & P_PATH_CUT);
}

static void set_request_dir(struct http_conn *c, int dir)
{
	c->request_dir = (int8_t)dir;
	http_stream_set_kind(&c->stream[dir], HTTP_STREAM_REQUESTS);
	http_stream_set_kind(&c->stream[!dir], HTTP_STREAM_RESPONSES);
}

/* ---- http_parse callbacks ---- */

static void pair_on_head(void *arg, const struct http_message *m)
{
	struct conn_feed *cf = arg;
	struct http_conn *c = cf->c;
	bool request = m->kind == HTTP_MESSAGE_REQUEST;
	if (c->request_dir < 0)
		set_request_dir(c, request ? cf->dir : !cf->dir);
	c->ignoring[cf->dir] = true;
	if (request != (cf->dir == c->request_dir)) {
		c->counters.misdirected++;
		return;
	}
	if (request) {
		c->counters.requests++;
		push_request(c, m);
		c->ignoring[cf->dir] = false;
		return;
	}
	if (m->status < 200 && m->status != 101) {
		c->counters.interim++;
		return;
	}
	c->counters.responses++;
	if (!answered_by(c, m)) {
		c->counters.orphan_responses++;
		return;
	}
	c->answering = true;
	c->response_status = m->status;
	c->response_ts_ns = m->start_ts_ns;
	c->ignoring[cf->dir] = false;
}

static enum usm_http_method pair_request_method(void *arg, const struct http_message *response)
{
	struct conn_feed *cf = arg;
	const struct pending *e;
	if (cf->dir == cf->c->request_dir)
		return USM_HTTP_METHOD_UNKNOWN;
	e = answered_by(cf->c, response);
	return e ? (enum usm_http_method)e->method : USM_HTTP_METHOD_UNKNOWN;
}

static bool exact(enum http_end end)
{
	return end == HTTP_END_FRAMED || end == HTTP_END_CLOSE;
}

static void pair_on_end(void *arg, const struct http_message *m)
{
	struct conn_feed *cf = arg;
	struct http_conn *c = cf->c;
	struct pending *e;
	if (c->ignoring[cf->dir]) {
		c->ignoring[cf->dir] = false;
		return;
	}
	if (m->kind == HTTP_MESSAGE_REQUEST) {
		e = find_seq(c, c->reading_seq);
		c->reading_seq = 0;
		if (e) {
			e->bytes = m->bytes;
			if (exact(m->end))
				e->flags |= P_ENDED;
		}
		return;
	}
	if (!c->answering)
		return;
	e = oldest(c);
	struct http_exchange x = {
		.method = (enum usm_http_method)e->method,
		.status = c->response_status,
		.path_cut = e->flags & P_PATH_CUT,
		.bytes_exact = (e->flags & P_ENDED) && exact(m->end),
		.path = e->path,
		.path_len = e->path_len,
		.request_ts_ns = e->ts_ns,
		.latency_ns = c->response_ts_ns - e->ts_ns,
		.request_bytes = e->bytes,
		.response_bytes = m->bytes,
	};
	c->counters.exchanges++;
	if (cf->sink && cf->sink->on_exchange)
		cf->sink->on_exchange(cf->ctx, &x);
	if (e->seq == c->reading_seq)
		c->reading_seq = 0;
	pop_oldest(c);
	c->answering = false;
}

static const struct http_parse_sink pair_parse_sink = {
	.on_head = pair_on_head,
	.request_method = pair_request_method,
	.on_end = pair_on_end,
};

/* ---- the connection ---- */

static void finish_streams(struct http_conn *c, const struct http_sink *sink, void *ctx)
{
	for (int d = 0; d < 2; d++) {
		struct conn_feed cf = {.c = c, .dir = d, .sink = sink, .ctx = ctx};
		http_stream_finish(&c->stream[d], &pair_parse_sink, &cf);
	}
}

/* HTTP ended on the connection (101, tunnel, TLS). */
static void stop(struct http_conn *c, enum conn_state why, const struct http_sink *sink, void *ctx)
{
	c->state = (uint8_t)why;
	finish_streams(c, sink, ctx);
	c->counters.abandoned += c->pending_count;
	c->pending_count = 0;
	c->answering = false;
	c->reading_seq = 0;
}

static int result_of(const struct http_conn *c)
{
	switch (c->state) {
	case C_ACTIVE:
		return HTTP_FEED_OK;
	case C_NOT_HTTP:
		return HTTP_FEED_NOT_HTTP;
	default:
		return HTTP_FEED_STOPPED;
	}
}

int http_conn_feed(struct http_conn *c, enum http_dir dir, const uint8_t *data, size_t captured,
		   size_t total, uint64_t ts_ns, const struct http_sink *sink, void *ctx)
{
	struct conn_feed cf = {.c = c, .dir = (int)dir, .sink = sink, .ctx = ctx};
	enum http_feed_result r;
	if (dir != HTTP_DIR_READ && dir != HTTP_DIR_WRITE)
		return -EINVAL;
	r = http_stream_feed(&c->stream[dir], data, captured, total, ts_ns, &pair_parse_sink, &cf);
	if (c->state == C_ACTIVE) {
		if (r == HTTP_FEED_NOT_HTTP)
			stop(c, C_NOT_HTTP, sink, ctx);
		else if (r == HTTP_FEED_STOPPED && (int)dir != c->request_dir)
			stop(c, C_STOPPED, sink, ctx);
		/* a request stream stops alone: the client's side of a CONNECT
		 * tunnel, before the response that opens it is read */
	}
	return result_of(c);
}

unsigned http_conn_expire(struct http_conn *c, uint64_t now_ns, uint64_t timeout_ns,
			  const struct http_sink *sink, void *ctx)
{
	unsigned expired = 0;
	struct pending *e;
	while (!c->answering && (e = oldest(c)) != NULL) {
		if (now_ns < e->ts_ns || now_ns - e->ts_ns <= timeout_ns)
			break;
		if (e->seq == c->reading_seq)
			c->reading_seq = 0;
		c->counters.unanswered++;
		report_unanswered(e, sink, ctx);
		pop_oldest(c);
		expired++;
	}
	return expired;
}

void http_conn_close(struct http_conn *c, const struct http_sink *sink, void *ctx)
{
	if (c->state == C_CLOSED)
		return;
	finish_streams(c, sink, ctx);
	c->answering = false;
	while (c->pending_count > 0) {
		c->counters.unanswered++;
		report_unanswered(pending_at(c, 0), sink, ctx);
		pop_oldest(c);
	}
	free(c->pending);
	c->pending = NULL;
	c->pending_cap = 0;
	c->pending_head = 0;
	c->reading_seq = 0;
	c->state = C_CLOSED;
}

int http_conn_request_dir(const struct http_conn *c)
{
	return c->request_dir;
}

size_t http_conn_stopped_at(const struct http_conn *c, enum http_dir dir)
{
	return http_stream_stopped_at(&c->stream[dir]);
}

unsigned http_conn_pending(const struct http_conn *c)
{
	return c->pending_count;
}

int http_conn_init(struct http_conn *c, const struct http_limits *lim, enum http_role role)
{
	size_t stride;
	int rc = -EINVAL;
	memset(c, 0, sizeof(*c));
	c->request_dir = -1;
	c->state = C_CLOSED;
	if (!lim || lim->max_pending < 1 || lim->max_pending > HTTP_PENDING_MAX ||
	    role > HTTP_ROLE_SERVER)
		goto fail;
	for (int d = 0; d < 2; d++) {
		rc = http_stream_init(&c->stream[d], HTTP_STREAM_EITHER, lim->max_path_len,
				      lim->max_header_bytes);
		if (rc < 0)
			goto fail;
	}
	c->lim = *lim;
	stride = sizeof(struct pending) + lim->max_path_len + 1;
	stride = (stride + alignof(struct pending) - 1) / alignof(struct pending) *
		 alignof(struct pending);
	c->stride = (uint32_t)stride;
	if (role == HTTP_ROLE_CLIENT)
		set_request_dir(c, HTTP_DIR_WRITE);
	else if (role == HTTP_ROLE_SERVER)
		set_request_dir(c, HTTP_DIR_READ);
	c->state = C_ACTIVE;
	return 0;
fail:
	/* parse nothing: both streams finished */
	for (int d = 0; d < 2; d++)
		(void)http_stream_init(&c->stream[d], HTTP_STREAM_EITHER, 0, 0);
	return rc;
}
