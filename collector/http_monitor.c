#include "http_monitor.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "connections.h"
#include "data_event.h"
#include "http_stats.h"
#include "ipc_codec.h"
#include "log.h"
#include "monotonic.h"
#include "proc_names.h"

int http_monitor_init(struct http_monitor *m, const struct usm_config *cfg)
{
	memset(m, 0, sizeof(*m));
	struct http_stats_limits sl = {.max_entries = cfg->max_http_stats_entries,
				       .max_path_len = cfg->http_max_path_len};
	struct conn_limits cl = {
		.max_connections = cfg->max_tracked_connections,
		.request_timeout_ns = (uint64_t)cfg->http_request_timeout_ms * 1000000u,
		.idle_timeout_ns = (uint64_t)cfg->http_idle_timeout_s * 1000000000u,
		.http = HTTP_LIMITS_DEFAULT,
	};
	cl.http.max_path_len = cfg->http_max_path_len;
	m->stats = http_stats_new(&sl);
	if (!m->stats)
		return -errno;
	m->conns = conn_table_new(&cl, m->stats);
	m->names = m->conns ? proc_names_new(PROC_NAMES_MAX) : NULL;
	if (!m->names) {
		int rc = m->conns ? -ENOMEM : -errno;
		conn_table_free(m->conns);
		m->conns = NULL;
		http_stats_free(m->stats);
		m->stats = NULL;
		return rc;
	}
	conn_table_set_names(m->conns, m->names);
	return 0;
}

void http_monitor_free(struct http_monitor *m)
{
	if (m->ring)
		ring_buffer__free(m->ring);
	conn_table_free(m->conns);
	proc_names_free(m->names);
	http_stats_free(m->stats);
	http_stats_free(m->snapshot);
	memset(m, 0, sizeof(*m));
}

static int on_record(void *ctx, void *rec, size_t size)
{
	struct http_monitor *m = ctx;
	const uint8_t *data;
	enum data_event_error err = data_event_check(rec, size, &data);
	if (err != DATA_EVENT_OK) {
		--m->budget;
		const struct usm_data_event *e = rec;
		if (m->malformed++ == 0 && size >= sizeof(*e))
			log_warn("malformed HTTP capture record (%s: type %u, pid %u, dir %u, tls "
				 "%u, family %u, ports %u/%u, len %u, captured %u); counted in "
				 "http_events_malformed, not logged again",
				 data_event_error_name(err), e->type, e->pid, e->dir, e->tls,
				 e->tuple.family, e->tuple.lport, e->tuple.rport, e->len,
				 e->captured);
		return m->budget == 0 ? -EAGAIN : 0;
	}
	conn_table_event(m->conns, rec, data);
	/* A negative return stops libbpf's loop after this record, which it
	 * has consumed: the batch is over. */
	return --m->budget == 0 ? -EAGAIN : 0;
}

int http_monitor_open_ring(struct http_monitor *m, int fd)
{
	m->ring = ring_buffer__new(fd, on_record, m, NULL);
	return m->ring ? 0 : -errno;
}

int http_monitor_poll_fd(const struct http_monitor *m)
{
	return m->ring ? ring_buffer__epoll_fd(m->ring) : -1;
}

bool http_monitor_consume(struct http_monitor *m)
{
	if (!m->ring)
		return false;
	m->budget = HTTP_MONITOR_BATCH;
	return ring_buffer__consume(m->ring) == -EAGAIN;
}

int64_t http_monitor_tick(struct http_monitor *m, uint64_t now_ms)
{
	if (now_ms >= m->next_expiry_ms) {
		conn_table_expire(m->conns, usm_monotonic_ns());
		m->next_expiry_ms = now_ms + 1000;
		/* After a burst of connections (or a reset) ends, give the
		 * memory back: free() alone keeps what is not at the top of
		 * the heap. Checked every HTTP_MONITOR_TRIM_EVERY seconds. */
		if (++m->ticks % HTTP_MONITOR_TRIM_EVERY == 0 &&
		    mallinfo2().fordblks > HTTP_MONITOR_TRIM_BYTES)
			malloc_trim(0);
	}
	return (int64_t)(m->next_expiry_ms - now_ms);
}

void http_monitor_process_exit(struct http_monitor *m, uint32_t pid)
{
	conn_table_drop_pid(m->conns, pid);
	proc_names_remove(m->names, pid);
}

int http_monitor_process_names(struct http_monitor *m, uint32_t pid, const struct proc_name *n)
{
	int rc = proc_names_set(m->names, pid, n);
	m->names_dropped += rc != 0;
	return rc;
}

int http_monitor_process_fork(struct http_monitor *m, uint32_t parent, uint32_t child)
{
	int rc = proc_names_inherit(m->names, parent, child);
	m->names_dropped += rc == -ENOSPC || rc == -ENOMEM;
	return rc;
}

unsigned http_monitor_prune_names(struct http_monitor *m, bool (*alive)(void *ctx, uint32_t pid),
				  void *ctx)
{
	return proc_names_prune(m->names, alive, ctx);
}

void http_monitor_counters(const struct http_monitor *m, uint64_t *ctr)
{
	const struct conn_counters *cc = conn_table_counters(m->conns);
	const struct http_stats_counters *sc = http_stats_counters(m->stats);
	ctr[USM_CTR_HTTP_EVENTS] = cc->events;
	ctr[USM_CTR_HTTP_EVENTS_MALFORMED] = m->malformed;
	ctr[USM_CTR_HTTP_EXCHANGES] = cc->exchanges;
	ctr[USM_CTR_HTTP_UNANSWERED] = cc->unanswered;
	ctr[USM_CTR_HTTP_ORPHAN_RESPONSES] = cc->orphan_responses;
	ctr[USM_CTR_HTTP_PIPELINE_OVERFLOW] = cc->pipeline_overflow;
	ctr[USM_CTR_HTTP_PARSE_ERRORS] = cc->parse_errors;
	ctr[USM_CTR_HTTP_NOT_HTTP] = cc->not_http;
	ctr[USM_CTR_HTTP_CLIENT_DUPLICATES] = cc->client_duplicates;
	ctr[USM_CTR_HTTP_WITHOUT_TUPLE] = cc->without_tuple;
	ctr[USM_CTR_HTTP2_CONNECTIONS] = cc->h2_connections;
	ctr[USM_CTR_HTTP2_HPACK_DESYNC] = cc->h2_hpack_desync;
	ctr[USM_CTR_HTTP2_STARTED_UNSEEN] = cc->h2_started_unseen;
	ctr[USM_CTR_HTTP2_FRAMING_LOST] = cc->h2_framing_lost;
	ctr[USM_CTR_HTTP2_STREAMS_RESET] = cc->h2_streams_reset;
	ctr[USM_CTR_HTTP2_PUSHES_IGNORED] = cc->h2_pushes_ignored;
	ctr[USM_CTR_HTTP2_GOAWAY] = cc->h2_goaway;
	ctr[USM_CTR_PROCESS_NAMES_DROPPED] = m->names_dropped;
	ctr[USM_CTR_HTTP_CONNECTIONS] = conn_table_count(m->conns);
	ctr[USM_CTR_HTTP_CONNECTIONS_EVICTED] = cc->evicted;
	ctr[USM_CTR_HTTP_STATS_OVERFLOW] = m->overflow_base + sc->overflow_exchanges;
	ctr[USM_CTR_HTTP_PATHS_TRUNCATED] = m->truncated_base + sc->paths_truncated;
	ctr[USM_CTR_HTTP_STATS_ROWS] = http_stats_count(m->stats);
}

/* ---- pages ---- */

static bool row_matches(const struct http_stats_row *row, const struct usm_http_stats_req *r)
{
	return (r->pid == 0 || row->key.pid == r->pid) &&
	       (r->status == 0 || row->key.status == r->status) &&
	       (r->protocol == 0 || row->key.protocol == r->protocol) &&
	       (r->path[0] == '\0' || (strlen(r->path) == row->key.path_len &&
				       memcmp(r->path, row->key.path, row->key.path_len) == 0));
}

static void fill_record(const struct http_stats_row *row, struct usm_http_stats_record *out)
{
	static const uint64_t bounds[USM_HTTP_BUCKETS] = USM_HTTP_BUCKET_BOUNDS_NS;
	memset(out, 0, sizeof(*out));
	memcpy(out->addr, row->key.addr, sizeof(out->addr));
	out->family = row->key.family;
	out->method = row->key.method;
	out->port = row->key.port;
	out->status = row->key.status;
	/* rows keep canonical keys (http_stats.c); the overflow row's is
	 * all zero: HTTP/1 */
	out->protocol = row->key.protocol == USM_HTTP_PROTO_H2 ? USM_HTTP_PROTO_H2
							      : USM_HTTP_PROTO_HTTP1;
	out->grpc_status = out->protocol == USM_HTTP_PROTO_H2 ? row->key.grpc_status
							      : USM_GRPC_STATUS_NONE;
	out->pid = row->key.pid;
	/* A command is whatever a process named itself (prctl), control
	 * characters included, which the codec refuses: replace them. */
	usm_copy_printable(out->comm, sizeof(out->comm), row->key.comm);
	/* The service: the name the process chose (checked printable by
	 * proc_name.c), else its command. */
	if (row->key.service && row->key.service[0])
		usm_copy_printable(out->service, sizeof(out->service), row->key.service);
	else
		memcpy(out->service, out->comm, sizeof(out->comm));
	if (row->key.container_id)
		usm_copy_printable(out->container_id, sizeof(out->container_id),
				   row->key.container_id);
	/* The parser keeps no control character in a path (they end the
	 * request-target); the row's length is at most 255 */
	memcpy(out->path, row->key.path, row->key.path_len);
	out->count = row->count;
	out->bytes = row->bytes;
	const struct sketch *s = row->latency;
	out->latency_sum_ns = (uint64_t)sketch_sum(s);
	out->p50_ns = (uint64_t)sketch_quantile(s, 0.50);
	out->p90_ns = (uint64_t)sketch_quantile(s, 0.90);
	out->p99_ns = (uint64_t)sketch_quantile(s, 0.99);
	out->max_ns = (uint64_t)sketch_max(s);
	for (int i = 0; i < USM_HTTP_BUCKETS; i++)
		out->buckets[i] = sketch_count_le(s, (double)bounds[i]);
}

/* Starts a reset read: the live table becomes the snapshot. One reset
 * read at a time; one left unfinished for HTTP_MONITOR_RESET_ABANDON_MS
 * is abandoned (its rows are dropped, and said so). */
static int start_reset(struct http_monitor *m, uint64_t now_ms)
{
	if (m->snapshot && now_ms - m->snapshot_ms < HTTP_MONITOR_RESET_ABANDON_MS)
		return -EBUSY;
	const struct http_stats_counters *sc = http_stats_counters(m->stats);
	struct http_stats *fresh = http_stats_new(http_stats_limits(m->stats));
	if (!fresh)
		return -ENOMEM;
	if (m->snapshot)
		log_warn("a reset read of the HTTP statistics was abandoned: %u rows dropped",
			 http_stats_count(m->snapshot));
	m->overflow_base += sc->overflow_exchanges;
	m->truncated_base += sc->paths_truncated;
	http_stats_free(m->snapshot);
	m->snapshot = m->stats;
	m->snapshot_ms = now_ms;
	m->stats = fresh;
	conn_table_set_stats(m->conns, fresh);
	return 0;
}

int http_monitor_page(struct http_monitor *m, const struct usm_http_stats_req *r,
		      struct usm_http_stats_page *pg, struct usm_http_stats_record *out)
{
	struct http_stats *t = m->stats;
	if (r->flags & USM_HTTP_STATS_RESET) {
		if (r->cursor == 0) {
			int rc = start_reset(m, usm_monotonic_ms());
			if (rc != 0)
				return rc;
		}
		if (!m->snapshot)
			return -ESTALE;
		t = m->snapshot;
	}
	memset(pg, 0, sizeof(*pg));
	pg->generation = http_stats_generation(t);
	struct http_stats_row rows[32];
	uint64_t cursor = r->cursor;
	uint32_t examined = 0;
	do {
		uint32_t n = 0;
		uint32_t room = USM_HTTP_PAGE_MAX_RECORDS - pg->count;
		uint64_t next = 0;
		http_stats_page(t, cursor, rows, room < 32 ? room : 32, &n, &next);
		for (uint32_t i = 0; i < n; i++)
			if (row_matches(&rows[i], r))
				fill_record(&rows[i], &out[pg->count++]);
		examined += n;
		cursor = next;
	} while (cursor != 0 && pg->count < USM_HTTP_PAGE_MAX_RECORDS &&
		 examined < HTTP_MONITOR_SCAN_LIMIT);
	pg->next_cursor = cursor;
	if (cursor == 0 && t == m->snapshot) {
		http_stats_free(m->snapshot);
		m->snapshot = NULL;
	}
	return 0;
}
