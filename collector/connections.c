#include "connections.h"

#include <errno.h>
#include <search.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "h2_link.h"
#include "ipc_codec.h"
#include "log.h"
#include "proc_names.h"

/* Streams tracked at once per HTTP/2 connection: SETTINGS_MAX_CONCURRENT_
 * STREAMS is commonly 100 to 256. */
#define CONN_H2_MAX_STREAMS 256

/* Lookups go through libc's tsearch trees (O(log n), nodes allocated by
 * libc); the lists are <sys/queue.h>'s. Three indexes: by event key, by
 * pid (for exits), and the server-side connections by tuple (for
 * counting an exchange once). */

/* An exchange of a TLS connection whose tuple is not known yet: kept until
 * it is (CONN_BIND, a later record that carries it, the close's record) or
 * DEFER_NS passed, because keyed without a tuple its server side cannot be
 * matched with its client side's report (both would count). */
#define DEFER_MAX 8
#define DEFER_NS (1000ull * 1000 * 1000)

struct deferred {
	enum usm_http_method method;
	uint16_t status;
	uint16_t path_len;
	bool path_cut;
	uint64_t bytes, latency_ns, at_ns;
	uint64_t request_ts_ns, request_bytes; /* an upgrade's, for its stream 1 */
	char *path;
};

struct conn {
	uint32_t pid;
	uint32_t tls;
	uint64_t id;
	struct usm_conn_tuple tuple; /* family 0 until an event carries it */
	char comm[USM_COMM_LEN];
	uint64_t last_ns;
	uint64_t reported_errors;  /* parse errors already added to the table's counter */
	uint64_t reported_orphans; /* likewise, orphan responses */
	uint64_t reported_overflow; /* likewise, requests past the pipelining depth */
	bool dead;                 /* not HTTP: events ignored */
	struct server_mark *mark;  /* its entry in by_server, when it is a server side */
	struct deferred *deferred; /* DEFER_MAX, allocated on first use */
	unsigned ndeferred;
	struct pid_entry *owner;
	TAILQ_ENTRY(conn) lru;
	TAILQ_ENTRY(conn) siblings; /* the pid's connections */
	struct http_conn http;
	struct h2_link *h2;        /* set when the connection turned out to be HTTP/2 */
	struct deferred *upgrade;  /* an exchange answered 101, until what follows is known */
	/* per direction: where the call in progress continues (its next
	 * record's offset; 0: it is complete) and its length */
	uint32_t call_next[2];
	uint32_t call_len[2];
	uint64_t call_ts[2];  /* its records' ts: the same for every record of a call */
	uint32_t walk_seq[2]; /* the kernel's HTTP/2 walk: the last call's number */
	struct h2_link_counters h2_reported; /* its counters already added to the table's */
};

TAILQ_HEAD(conn_list, conn);

/* A server-side connection's tuple, kept SERVER_MARK_GRACE_NS after the
 * connection ended: a server often closes right after its response, and
 * its close can reach us before the client's read of that response. */
struct server_mark {
	struct usm_conn_tuple tuple;
	struct conn *conn;  /* NULL once it ended */
	uint64_t ended_ns;  /* its last event's ts, once it ended */
	TAILQ_ENTRY(server_mark) ended; /* marks of ended connections, oldest first */
};

TAILQ_HEAD(mark_list, server_mark);

#define SERVER_MARK_GRACE_NS (10ull * 1000 * 1000 * 1000)

struct pid_entry {
	uint32_t pid;
	struct conn_list conns;
};

struct conn_table {
	struct conn_limits lim;
	struct http_stats *stats;
	const struct proc_names *names;
	void *by_key;
	void *by_pid;
	void *by_server;
	struct conn_list lru; /* least recently active first */
	struct mark_list ended_marks;
	uint32_t count;
	uint32_t nmarks;
	struct conn *last; /* the last event's connection: runs of events share one */
	struct conn_counters counters;
};

/* ---- orderings ---- */

static int cmp_u64(uint64_t a, uint64_t b) { return (a > b) - (a < b); }

static int cmp_key(const void *pa, const void *pb)
{
	const struct conn *a = pa, *b = pb;
	int r = cmp_u64(a->pid, b->pid);
	if (r == 0)
		r = cmp_u64(a->tls, b->tls);
	return r ? r : cmp_u64(a->id, b->id);
}

static int cmp_pid(const void *pa, const void *pb)
{
	return cmp_u64(((const struct pid_entry *)pa)->pid, ((const struct pid_entry *)pb)->pid);
}

static int cmp_tuple(const void *pa, const void *pb)
{
	const struct usm_conn_tuple *a = &((const struct server_mark *)pa)->tuple;
	const struct usm_conn_tuple *b = &((const struct server_mark *)pb)->tuple;
	int r = cmp_u64(a->family, b->family);
	if (r == 0)
		r = cmp_u64(a->lport, b->lport);
	if (r == 0)
		r = cmp_u64(a->rport, b->rport);
	if (r == 0)
		r = memcmp(a->laddr, b->laddr, sizeof(a->laddr));
	return r ? r : memcmp(a->raddr, b->raddr, sizeof(a->raddr));
}

/* ---- the exchange sink ---- */

struct feed_ctx {
	struct conn_table *t;
	struct conn *c;
};

/* The direction requests travel in, -1 while not known. */
static int request_dir(const struct conn *c)
{
	if (!c->h2)
		return http_conn_request_dir(&c->http);
	enum http_role r = h2_link_role(c->h2);
	return r == HTTP_ROLE_UNKNOWN ? -1 : r == HTTP_ROLE_SERVER ? HTTP_DIR_READ : HTTP_DIR_WRITE;
}

static bool client_side(const struct conn *c)
{
	return request_dir(c) == HTTP_DIR_WRITE;
}

/* A client-side report whose server side is captured too: the server's
 * connection counts it. */
static bool counted_by_server(struct conn_table *t, const struct conn *c)
{
	if (!client_side(c) || c->tuple.family == 0)
		return false;
	struct server_mark mirror;
	memset(&mirror.tuple, 0, sizeof(mirror.tuple));
	mirror.tuple.family = c->tuple.family;
	mirror.tuple.lport = c->tuple.rport;
	mirror.tuple.rport = c->tuple.lport;
	memcpy(mirror.tuple.laddr, c->tuple.raddr, sizeof(mirror.tuple.laddr));
	memcpy(mirror.tuple.raddr, c->tuple.laddr, sizeof(mirror.tuple.raddr));
	if (tfind(&mirror, &t->by_server, cmp_tuple) == NULL)
		return false;
	t->counters.client_duplicates++;
	return true;
}

static void aggregate(struct conn_table *t, struct conn *c, enum usm_http_method method,
		      uint16_t status, const char *path, size_t path_len, uint64_t bytes,
		      uint64_t latency_ns, uint8_t protocol, int8_t grpc_status)
{
	if (counted_by_server(t, c))
		return;
	struct http_stats_key k;
	memset(&k, 0, sizeof(k));
	k.family = c->tuple.family;
	if (client_side(c)) {
		memcpy(k.addr, c->tuple.raddr, sizeof(k.addr));
		k.port = c->tuple.rport;
	} else {
		memcpy(k.addr, c->tuple.laddr, sizeof(k.addr));
		k.port = c->tuple.lport;
		k.pid = c->pid;
		memcpy(k.comm, c->comm, sizeof(k.comm));
		const struct proc_name *n = proc_names_get(t->names, c->pid);
		k.service = n ? n->service : NULL;
		k.container_id = n ? n->container_id : NULL;
	}
	k.method = (uint8_t)method;
	k.status = status;
	k.protocol = protocol;
	k.grpc_status = grpc_status;
	k.path = path;
	k.path_len = path_len;
	t->counters.exchanges++;
	/* Such a row has no address, and its other side (if captured) cannot
	 * be matched to it: said, not hidden. */
	t->counters.without_tuple += k.family == 0;
	const char *name = usm_http_method_name(method);
	log_debug("exchange: pid %u %s %s %.*s -> %u (%s side, port %u, %llu ns)", c->pid, c->comm,
		  name ? name : "UNKNOWN", (int)path_len, path, status,
		  client_side(c) ? "client" : "server", k.port, (unsigned long long)latency_ns);
	if (http_stats_add(t->stats, &k, bytes, latency_ns) != 0)
		t->counters.stats_failed++;
}

/* Keeps the exchange until the connection's tuple is known; false if it
 * cannot (full, or no memory): it is then aggregated as it is. */
static bool defer(struct conn *c, const struct http_exchange *x)
{
	if (!c->deferred && !(c->deferred = calloc(DEFER_MAX, sizeof(*c->deferred))))
		return false;
	char *path = c->ndeferred < DEFER_MAX ? malloc(x->path_len + 1) : NULL;
	if (!path)
		return false;
	memcpy(path, x->path, x->path_len);
	path[x->path_len] = '\0';
	c->deferred[c->ndeferred++] = (struct deferred){
		.method = x->method, .status = x->status, .path_len = (uint16_t)x->path_len,
		.bytes = x->request_bytes + x->response_bytes, .latency_ns = x->latency_ns,
		.at_ns = c->last_ns, .path = path};
	return true;
}

/* Aggregates what was kept, with the tuple as it is now. */
static void flush_deferred(struct conn_table *t, struct conn *c)
{
	for (unsigned i = 0; i < c->ndeferred; i++) {
		struct deferred *d = &c->deferred[i];
		aggregate(t, c, d->method, d->status, d->path, d->path_len, d->bytes, d->latency_ns,
			  USM_HTTP_PROTO_HTTP1, USM_GRPC_STATUS_NONE);
		free(d->path);
	}
	free(c->deferred);
	c->deferred = NULL;
	c->ndeferred = 0;
}

/* An exchange answered 101 is kept until the connection's next bytes
 * say what follows: HTTP/2 (h2c), where the request is stream 1 and its
 * response comes as frames (after_upgrade), or another protocol, where
 * the 101 was the answer. False if there is no memory: counted as it is. */
static bool keep_upgrade(struct conn *c, const struct http_exchange *x)
{
	struct deferred *u = c->upgrade ? NULL : calloc(1, sizeof(*u));
	char *path = u ? malloc(x->path_len + 1) : NULL;
	if (!path) {
		free(u);
		return false;
	}
	memcpy(path, x->path, x->path_len);
	path[x->path_len] = '\0';
	*u = (struct deferred){.method = x->method, .status = x->status,
			       .path_len = (uint16_t)x->path_len, .path_cut = x->path_cut,
			       .bytes = x->request_bytes + x->response_bytes,
			       .latency_ns = x->latency_ns, .request_ts_ns = x->request_ts_ns,
			       .request_bytes = x->request_bytes, .path = path};
	c->upgrade = u;
	return true;
}

/* The 101's exchange as it was (not h2c), or none (h2c: stream 1). */
static void drop_upgrade(struct conn_table *t, struct conn *c, bool count)
{
	struct deferred *u = c->upgrade;
	if (!u)
		return;
	if (count)
		aggregate(t, c, u->method, u->status, u->path, u->path_len, u->bytes, u->latency_ns,
			  USM_HTTP_PROTO_HTTP1, USM_GRPC_STATUS_NONE);
	free(u->path);
	free(u);
	c->upgrade = NULL;
}

static void on_exchange(void *ctx, const struct http_exchange *x)
{
	struct feed_ctx *f = ctx;
	struct conn *c = f->c;
	if (x->status == 101 && !c->h2 && keep_upgrade(c, x))
		return;
	if (c->tls && c->tuple.family == 0 && defer(c, x))
		return;
	aggregate(f->t, c, x->method, x->status, x->path, x->path_len,
		  x->request_bytes + x->response_bytes, x->latency_ns, USM_HTTP_PROTO_HTTP1,
		  USM_GRPC_STATUS_NONE);
}

static void on_h2_exchange(void *ctx, const struct h2_exchange *x)
{
	struct feed_ctx *f = ctx;
	aggregate(f->t, f->c, x->method, x->status, x->path, x->path_len, x->bytes, x->latency_ns,
		  USM_HTTP_PROTO_H2, x->grpc ? (int8_t)x->grpc_status : USM_GRPC_STATUS_NONE);
}

static const struct h2_sink h2_sink = {on_h2_exchange};

static void on_unanswered(void *ctx, enum usm_http_method method, const char *path, bool path_cut)
{
	struct feed_ctx *f = ctx;
	(void)method, (void)path, (void)path_cut;
	if (!counted_by_server(f->t, f->c))
		f->t->counters.unanswered++;
}

static const struct http_sink sink = {on_exchange, on_unanswered};

/* Adds what the connection's parser and pairing counted since last time. */
static void account(struct conn_table *t, struct conn *c)
{
	uint64_t errors = 0;
	for (int d = 0; d < 2; d++) {
		const struct http_stream_counters *s = &c->http.stream[d].counters;
		errors += s->garbage + s->desync + s->oversized;
	}
	t->counters.parse_errors += errors - c->reported_errors;
	c->reported_errors = errors;
	t->counters.orphan_responses += c->http.counters.orphan_responses - c->reported_orphans;
	c->reported_orphans = c->http.counters.orphan_responses;
	t->counters.pipeline_overflow += c->http.counters.overflow - c->reported_overflow;
	c->reported_overflow = c->http.counters.overflow;
	if (!c->h2)
		return;
	struct h2_link_counters now, *was = &c->h2_reported;
	h2_link_counters(c->h2, &now);
	struct conn_counters *tc = &t->counters;
	tc->h2_hpack_desync += now.conn.hpack_desync - was->conn.hpack_desync;
	tc->h2_started_unseen += now.conn.started_unseen - was->conn.started_unseen;
	tc->h2_framing_lost += now.framing_lost - was->framing_lost;
	tc->h2_streams_reset += now.conn.streams_reset - was->conn.streams_reset;
	tc->h2_pushes_ignored += now.conn.pushes_ignored - was->conn.pushes_ignored;
	tc->h2_goaway += now.conn.goaway - was->conn.goaway;
	tc->orphan_responses += now.conn.orphan_responses - was->conn.orphan_responses;
	tc->parse_errors += now.conn.malformed_requests - was->conn.malformed_requests;
	*was = now;
}

/* ---- connection life ---- */

static void drop_mark(struct conn_table *t, struct server_mark *m)
{
	tdelete(m, &t->by_server, cmp_tuple);
	TAILQ_REMOVE(&t->ended_marks, m, ended);
	t->nmarks--;
	free(m);
}

/* A connection that read a request is a server side: mark its tuple. */
static void mark_server(struct conn_table *t, struct conn *c)
{
	struct server_mark probe = {.tuple = c->tuple};
	void *node = tfind(&probe, &t->by_server, cmp_tuple);
	struct server_mark *m = node ? *(struct server_mark **)node : NULL;
	if (m && m->conn)
		return; /* another live connection has it (a shared socket) */
	if (m) {
		TAILQ_REMOVE(&t->ended_marks, m, ended);
	} else {
		/* Marks of ended connections are bounded like connections. */
		if (t->nmarks >= t->lim.max_connections * 2u && !TAILQ_EMPTY(&t->ended_marks))
			drop_mark(t, TAILQ_FIRST(&t->ended_marks));
		m = calloc(1, sizeof(*m));
		if (!m)
			return;
		m->tuple = c->tuple;
		if (tsearch(m, &t->by_server, cmp_tuple) == NULL) {
			free(m);
			return;
		}
		t->nmarks++;
	}
	m->conn = c;
	c->mark = m;
}

static void unmark_server(struct conn_table *t, struct conn *c)
{
	struct server_mark *m = c->mark;
	if (!m)
		return;
	m->conn = NULL;
	m->ended_ns = c->last_ns;
	TAILQ_INSERT_TAIL(&t->ended_marks, m, ended);
	c->mark = NULL;
}

static void end_conn(struct conn_table *t, struct conn *c)
{
	struct feed_ctx f = {t, c};
	http_conn_close(&c->http, &sink, &f);
	account(t, c);
	flush_deferred(t, c); /* without a tuple, if none came */
	drop_upgrade(t, c, true); /* nothing came after its 101 */
	unmark_server(t, c);
	h2_link_free(c->h2);
	tdelete(c, &t->by_key, cmp_key);
	TAILQ_REMOVE(&t->lru, c, lru);
	TAILQ_REMOVE(&c->owner->conns, c, siblings);
	if (TAILQ_EMPTY(&c->owner->conns)) {
		tdelete(c->owner, &t->by_pid, cmp_pid);
		free(c->owner);
	}
	if (t->last == c)
		t->last = NULL;
	t->count--;
	free(c);
}

static struct pid_entry *pid_entry(struct conn_table *t, uint32_t pid)
{
	struct pid_entry probe = {.pid = pid};
	void *node = tfind(&probe, &t->by_pid, cmp_pid);
	if (node)
		return *(struct pid_entry **)node;
	struct pid_entry *p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	TAILQ_INIT(&p->conns);
	node = tsearch(p, &t->by_pid, cmp_pid);
	if (!node) {
		free(p);
		return NULL;
	}
	return p;
}

static struct conn *new_conn(struct conn_table *t, const struct usm_data_event *e)
{
	if (t->count >= t->lim.max_connections) {
		end_conn(t, TAILQ_FIRST(&t->lru));
		t->counters.evicted++;
	}
	struct conn *c = calloc(1, sizeof(*c));
	struct pid_entry *p = c ? pid_entry(t, e->pid) : NULL;
	if (!p) {
		free(c);
		return NULL;
	}
	c->pid = e->pid;
	c->tls = e->tls;
	c->id = e->conn;
	if (tsearch(c, &t->by_key, cmp_key) == NULL) {
		if (TAILQ_EMPTY(&p->conns)) {
			tdelete(p, &t->by_pid, cmp_pid);
			free(p);
		}
		free(c);
		return NULL;
	}
	(void)http_conn_init(&c->http, &t->lim.http, HTTP_ROLE_UNKNOWN); /* limits checked at new */
	c->owner = p;
	TAILQ_INSERT_TAIL(&p->conns, c, siblings);
	TAILQ_INSERT_TAIL(&t->lru, c, lru);
	t->count++;
	return c;
}

static struct conn *find_conn(struct conn_table *t, const struct usm_data_event *e)
{
	struct conn *c = t->last;
	if (c && c->pid == e->pid && c->tls == e->tls && c->id == e->conn)
		return c;
	struct conn probe = {.pid = e->pid, .tls = e->tls, .id = e->conn};
	void *node = tfind(&probe, &t->by_key, cmp_key);
	return node ? *(struct conn **)node : NULL;
}

/* The connection's tuple, first known now: a server side is marked, and
 * the exchanges kept for it are aggregated. */
static void learn_tuple(struct conn_table *t, struct conn *c, const struct usm_conn_tuple *tuple)
{
	c->tuple = *tuple;
	if (!c->mark && !c->dead && request_dir(c) == HTTP_DIR_READ)
		mark_server(t, c);
	flush_deferred(t, c);
}

/* A connection whose first segment is an HTTP/2 preface (the client's, or
 * the server's SETTINGS), or a frame (one that started before usm), is
 * HTTP/2 from then on; one that carried HTTP/1 first stays HTTP/1 until a
 * 101 (after_upgrade). */
/* A call arrives as one record or several in order (usm_events.h), every
 * record of it with the call's ts and len; a record that is not where the
 * last one said the next would start means records between were lost (a
 * full ring buffer, counted there). Returns how many of the connection's
 * bytes in this direction went missing before e: for the parsers, a gap
 * like any other; *stale: e is behind what was already fed, dropped. */
static uint32_t records_lost(struct conn *c, enum http_dir dir, const struct usm_data_event *e,
			     bool *stale)
{
	uint32_t gap = 0, expected = c->call_next[dir];
	uint32_t rest = expected ? c->call_len[dir] - expected : 0; /* the last call's */
	bool same_call = e->ts_ns == c->call_ts[dir] && e->len == c->call_len[dir];
	*stale = false;
	if (e->offset == 0) {
		gap = rest;
	} else if (same_call) {
		if (!expected || e->offset < expected) { /* the call was fed past it */
			*stale = true;
			return 0;
		}
		gap = e->offset - expected;
	} else {
		gap = rest + e->offset; /* this call's first records were lost */
	}
	c->call_next[dir] = e->next < e->len ? e->next : 0;
	c->call_len[dir] = e->len;
	c->call_ts[dir] = e->ts_ns;
	return gap;
}

/* The kernel numbers the calls of a direction it walks as HTTP/2: a
 * number skipped, or a walk that ended, is a call lost whole. */
static void walk_continuity(struct conn *c, enum http_dir dir, const struct usm_data_event *e)
{
	uint32_t last = c->walk_seq[dir], want = last + 1 ? last + 1 : 1;
	if (e->offset != 0)
		return;
	if (c->h2 && last != 0 && e->walk_seq != want)
		h2_link_lose(c->h2, dir);
	c->walk_seq[dir] = e->walk_seq;
}

static void start_h2(struct conn_table *t, struct conn *c, enum http_dir dir, const uint8_t *data,
		     size_t captured)
{
	enum h2_detect d = h2_link_detect(data, captured);
	const struct http_conn_counters *h = &c->http.counters;
	if (d == H2_NOT || h->requests || h->responses || h->interim)
		return;
	/* the client preface travels with the requests, the server's with
	 * the responses; a connection met mid-way has no known side (it is
	 * counted as started unseen and yields no rows) */
	bool requests_here = d == H2_CLIENT_PREFACE;
	enum http_role role = d == H2_MIDSTREAM ? HTTP_ROLE_UNKNOWN
			      : requests_here == (dir == HTTP_DIR_READ) ? HTTP_ROLE_SERVER
									 : HTTP_ROLE_CLIENT;
	struct h2_limits lim = {.max_path_len = HTTP_PATH_MAX, .max_streams = CONN_H2_MAX_STREAMS};
	if ((c->h2 = h2_link_new(role, &lim)) != NULL)
		t->counters.h2_connections++;
	else
		t->counters.alloc_failed++;
}

/* The first bytes after a 101 (the rest of its segment, or the next
 * one): HTTP/2 (the client's preface, or the server's SETTINGS) makes the
 * connection h2c, whose stream 1 is the upgraded request; anything else
 * (a WebSocket) leaves the 101 as the exchange's answer. */
static void after_upgrade(struct conn_table *t, struct conn *c, enum http_dir dir,
			  const uint8_t *data, size_t captured, size_t total, uint64_t ts_ns)
{
	enum h2_detect d = h2_link_detect(data, captured);
	struct deferred *u = c->upgrade;
	bool requests_here = d == H2_CLIENT_PREFACE;
	enum http_role role = requests_here == (dir == HTTP_DIR_READ) ? HTTP_ROLE_SERVER
								   : HTTP_ROLE_CLIENT;
	struct h2_limits lim = {.max_path_len = HTTP_PATH_MAX, .max_streams = CONN_H2_MAX_STREAMS};
	if (d == H2_NOT || d == H2_MIDSTREAM || !(c->h2 = h2_link_new(role, &lim))) {
		drop_upgrade(t, c, true);
		return;
	}
	t->counters.h2_connections++;
	h2_link_upgraded(c->h2, u->method, u->path, u->path_len, u->path_cut, u->request_ts_ns,
			 u->request_bytes);
	drop_upgrade(t, c, false);
	struct feed_ctx f = {t, c};
	h2_link_feed(c->h2, dir, data, captured, total, ts_ns, &h2_sink, &f);
}

void conn_table_event(struct conn_table *t, const struct usm_data_event *e, const uint8_t *data)
{
	t->counters.events++;
	struct conn *c = find_conn(t, e);
	if (e->type != USM_EVENT_DATA) {
		/* a close's or a bind's tuple is the session's, known by now */
		if (c && c->tuple.family == 0 && e->tuple.family != 0)
			learn_tuple(t, c, &e->tuple);
		if (c && e->type == USM_EVENT_CONN_CLOSE)
			end_conn(t, c);
		return;
	}
	/* A key whose tuple changed is a new connection that reused the
	 * socket or session address of one whose end we did not see (a
	 * lost CONN_CLOSE, or an fd closed by dup2 or close_range). */
	if (c && c->tuple.family != 0 && e->tuple.family != 0 &&
	    memcmp(&c->tuple, &e->tuple, sizeof(c->tuple)) != 0) {
		end_conn(t, c);
		t->counters.reused++;
		c = NULL;
	}
	if (!c && !(c = new_conn(t, e))) {
		t->counters.alloc_failed++;
		return;
	}
	t->last = c;
	c->last_ns = e->ts_ns;
	TAILQ_REMOVE(&t->lru, c, lru);
	TAILQ_INSERT_TAIL(&t->lru, c, lru);
	memcpy(c->comm, e->comm, sizeof(c->comm));
	if (c->tuple.family == 0 && e->tuple.family != 0)
		learn_tuple(t, c, &e->tuple);
	if (c->dead && !c->h2 && !c->upgrade)
		return;
	struct feed_ctx f = {t, c};
	enum http_dir dir = e->dir == USM_DIR_READ ? HTTP_DIR_READ : HTTP_DIR_WRITE;
	bool stale;
	uint32_t lost = records_lost(c, dir, e, &stale);
	if (stale)
		return;
	/* the record stands for the call's bytes [offset, next) */
	size_t total = e->next - e->offset;
	if (c->dead && !c->h2) { /* HTTP/1 ended with a 101: what comes next? */
		if (e->offset == 0 && lost == 0)
			after_upgrade(t, c, dir, data, e->captured, total, e->ts_ns);
		else
			drop_upgrade(t, c, true);
		if (c->h2)
			walk_continuity(c, dir, e);
		account(t, c);
		return;
	}
	if (!c->h2 && e->offset == 0 && lost == 0)
		start_h2(t, c, dir, data, e->captured);
	if (c->h2) {
		walk_continuity(c, dir, e);
		if (lost)
			h2_link_feed(c->h2, dir, data, 0, lost, e->ts_ns, &h2_sink, &f);
		h2_link_feed(c->h2, dir, data, e->captured, total, e->ts_ns, &h2_sink, &f);
		if (!c->mark && c->tuple.family != 0 && request_dir(c) == HTTP_DIR_READ)
			mark_server(t, c);
		account(t, c);
		return;
	}
	int r = lost ? http_conn_feed(&c->http, dir, data, 0, lost, e->ts_ns, &sink, &f)
		     : HTTP_FEED_OK;
	if (r != HTTP_FEED_NOT_HTTP && r != HTTP_FEED_STOPPED)
		r = http_conn_feed(&c->http, dir, data, e->captured, total, e->ts_ns, &sink, &f);
	if (r == HTTP_FEED_NOT_HTTP || r == HTTP_FEED_STOPPED) {
		if (r == HTTP_FEED_NOT_HTTP)
			t->counters.not_http++;
		c->dead = true;
		size_t at = http_conn_stopped_at(&c->http, dir);
		http_conn_close(&c->http, &sink, &f);
		if (c->upgrade && at < e->captured) /* the segment goes on past the 101 */
			after_upgrade(t, c, dir, data + at, e->captured - at, total - at, e->ts_ns);
		if (c->h2 && !c->mark && c->tuple.family != 0 && request_dir(c) == HTTP_DIR_READ)
			mark_server(t, c);
	} else if (!c->mark && c->tuple.family != 0 &&
		   http_conn_request_dir(&c->http) == HTTP_DIR_READ) {
		mark_server(t, c);
	}
	account(t, c);
}

void conn_table_expire(struct conn_table *t, uint64_t now_ns)
{
	struct server_mark *m;
	while ((m = TAILQ_FIRST(&t->ended_marks)) && now_ns > m->ended_ns &&
	       now_ns - m->ended_ns > SERVER_MARK_GRACE_NS)
		drop_mark(t, m);
	struct conn *c, *next;
	for (c = TAILQ_FIRST(&t->lru); c; c = next) {
		next = TAILQ_NEXT(c, lru);
		if (c->ndeferred && now_ns > c->deferred[0].at_ns &&
		    now_ns - c->deferred[0].at_ns > DEFER_NS)
			flush_deferred(t, c); /* no tuple came: as they are */
		if (now_ns > c->last_ns && now_ns - c->last_ns > t->lim.idle_timeout_ns) {
			end_conn(t, c);
			t->counters.idle_closed++;
		} else if (!c->dead && http_conn_pending(&c->http) > 0) {
			struct feed_ctx f = {t, c};
			http_conn_expire(&c->http, now_ns, t->lim.request_timeout_ns, &sink, &f);
		}
	}
}

unsigned conn_table_drop_pid(struct conn_table *t, uint32_t pid)
{
	struct pid_entry probe = {.pid = pid};
	void *node = tfind(&probe, &t->by_pid, cmp_pid);
	if (!node)
		return 0;
	struct pid_entry *p = *(struct pid_entry **)node;
	unsigned n = 0;
	/* The last end_conn frees p: stop on the count, not on p's list. */
	for (bool more = true; more; n++) {
		struct conn *c = TAILQ_FIRST(&p->conns);
		more = TAILQ_NEXT(c, siblings) != NULL;
		end_conn(t, c);
	}
	return n;
}

/* ---- the table ---- */

struct conn_table *conn_table_new(const struct conn_limits *lim, struct http_stats *stats)
{
	struct http_conn probe;
	if (!lim || !stats || lim->max_connections == 0 ||
	    http_conn_init(&probe, &lim->http, HTTP_ROLE_UNKNOWN) != 0) {
		errno = EINVAL;
		return NULL;
	}
	http_conn_close(&probe, NULL, NULL);
	struct conn_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->lim = *lim;
	t->stats = stats;
	TAILQ_INIT(&t->lru);
	TAILQ_INIT(&t->ended_marks);
	return t;
}

static void noop_free(void *p) { (void)p; }

void conn_table_free(struct conn_table *t)
{
	if (!t)
		return;
	/* Without reports: the statistics are being torn down too. */
	struct conn *c, *next;
	for (c = TAILQ_FIRST(&t->lru); c; c = next) {
		next = TAILQ_NEXT(c, lru);
		http_conn_close(&c->http, NULL, NULL);
		h2_link_free(c->h2);
		for (unsigned i = 0; i < c->ndeferred; i++)
			free(c->deferred[i].path);
		free(c->deferred);
		free(c);
	}
	tdestroy(t->by_key, noop_free);
	tdestroy(t->by_server, free);
	tdestroy(t->by_pid, free);
	free(t);
}

void conn_table_set_stats(struct conn_table *t, struct http_stats *stats) { t->stats = stats; }

void conn_table_set_names(struct conn_table *t, const struct proc_names *names)
{
	t->names = names;
}

uint32_t conn_table_count(const struct conn_table *t) { return t->count; }

const struct conn_counters *conn_table_counters(const struct conn_table *t)
{
	return &t->counters;
}
