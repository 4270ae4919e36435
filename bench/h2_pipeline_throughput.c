/* HTTP/2 pipeline throughput: the collector's HTTP/2 path on one core, fed
 * records as the kernel side delivers them for h2 connections (struct
 * usm_data_event + captured bytes, a call cut into records by its frame
 * walk), through the same functions the ring buffer callback runs: the
 * record check, the connection table, the framer, HPACK (libnghttp2's
 * inflater), stream pairing and aggregation.
 *
 * usage: h2_pipeline_throughput [FRAMES [CONNECTIONS [PATHS [STREAMS [ROUNDS]]]]]
 *   FRAMES       frames to feed (at least; whole passes), default 4 M
 *   CONNECTIONS  connections of one pass, interleaved round-robin
 *   PATHS        distinct request paths
 *   STREAMS      streams per call (a client's write of STREAMS requests,
 *                the server's write of their responses), default 8
 *   ROUNDS       calls each way per connection in a pass, default 16
 * Prints one JSON object: frames, records, seconds, frames_per_s,
 * ns_per_frame, records_per_s, exchanges (and the number expected),
 * rows, the h2 counters that say something was lost (none should be),
 * malformed records, max_rss_kb and rss_before_feeding_kb (the records
 * and their generation, before the collector's tables exist).
 *
 * What one pass is, as a server's side sees it (records of its reads and
 * writes, capture cap 512 bytes as usm's default):
 * - read:  the client preface, SETTINGS, WINDOW_UPDATE;
 * - write: SETTINGS, WINDOW_UPDATE, SETTINGS ACK;
 * - ROUNDS times, read: (a SETTINGS ACK the first time) STREAMS requests,
 *   each a HEADERS frame (POST, its block encoded by libnghttp2's
 *   deflater, one per connection and direction as a real client keeps)
 *   and a DATA frame ending the stream, interleaved (each stream's DATA
 *   after the next stream's HEADERS); write: a WINDOW_UPDATE, then the
 *   responses in reverse order, HEADERS (:status, 404 for one path in 16)
 *   and a DATA frame of 2 to ~2,000 bytes ending the stream;
 * - the connection's close.
 * nghttp2's deflater never indexes :path (so distinct paths alone would
 * not touch the dynamic table); each request also carries a per-path
 * header and a per-request id, and each response a per-path header, all
 * indexed, so that with more distinct paths than the 4,096-byte table
 * holds, every header block adds entries and evicts others.
 *
 * Each call is cut into records as bpf/http_capture.bpf.c's h2_plan and
 * emit_rest do: the first record is the call's first 512 bytes; after
 * it, every frame header and every HEADERS, SETTINGS (...) payload, in
 * records of at most 512 bytes, each saying where the next starts; DATA
 * payloads are never captured (gaps). Calls here hold whole frames, so
 * no frame header is split between calls.
 *
 * A pass is generated before the clock starts and fed as many times as
 * FRAMES asks: each pass's connections start with a preface and end with
 * a close, so the same bytes are valid again (new connections reusing
 * the keys, as sockets are reused). */
#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "connections.h"
#include "data_event.h"

#define CAPTURE 512      /* http_capture_bytes' default */
#define RANGES_MAX 32    /* bpf/http_capture.bpf.c's USM_RANGES_MAX */
#define CALL_MAX 65536
#define STREAMS_MAX 32

enum { F_DATA = 0, F_HEADERS = 1, F_SETTINGS = 4, F_WINDOW_UPDATE = 8 };

static void die(const char *what)
{
	fprintf(stderr, "h2_pipeline_throughput: %s\n", what);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one call's bytes ---- */

struct call {
	uint8_t b[CALL_MAX];
	size_t len;
	unsigned frames;
};

static void frame(struct call *c, uint8_t type, uint8_t flags, uint32_t stream, const void *payload,
		  size_t n)
{
	if (c->len + 9 + n > sizeof(c->b))
		die("call too long");
	uint8_t *h = c->b + c->len;
	h[0] = (uint8_t)(n >> 16);
	h[1] = (uint8_t)(n >> 8);
	h[2] = (uint8_t)n;
	h[3] = type;
	h[4] = flags;
	h[5] = (uint8_t)(stream >> 24 & 0x7f);
	h[6] = (uint8_t)(stream >> 16);
	h[7] = (uint8_t)(stream >> 8);
	h[8] = (uint8_t)stream;
	if (n)
		memcpy(h + 9, payload, n);
	c->len += 9 + n;
	c->frames++;
}

static void headers(struct call *c, nghttp2_hd_deflater *d, uint32_t stream, nghttp2_nv *nv,
		    size_t n)
{
	uint8_t block[4096];
	if (nghttp2_hd_deflate_bound(d, nv, n) > sizeof(block))
		die("header block too long");
	ssize_t len = nghttp2_hd_deflate_hd(d, block, sizeof(block), nv, n);
	if (len < 0)
		die(nghttp2_strerror((int)len));
	frame(c, F_HEADERS, 0x4 /* END_HEADERS */, stream, block, (size_t)len);
}

#define NV(name, value, vlen)                                                                   \
	{(uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, (vlen), NGHTTP2_NV_FLAG_NONE}

/* ---- records as the kernel side cuts a call ---- */

struct arena {
	uint8_t *b;
	size_t len, cap;
	size_t *at; /* each record's start */
	size_t n, ncap;
	uint64_t frames;
};

static struct usm_data_event *record(struct arena *a, size_t captured)
{
	size_t size = (sizeof(struct usm_data_event) + captured + 7) & ~(size_t)7; /* ring-aligned */
	if (a->len + size > a->cap) {
		a->cap = (a->cap + size) * 2;
		if (!(a->b = realloc(a->b, a->cap)))
			die("out of memory");
	}
	if (a->n == a->ncap) {
		a->ncap = a->ncap ? a->ncap * 2 : 4096;
		if (!(a->at = realloc(a->at, a->ncap * sizeof(*a->at))))
			die("out of memory");
	}
	a->at[a->n++] = a->len;
	struct usm_data_event *e = (struct usm_data_event *)(a->b + a->len);
	memset(e, 0, size);
	a->len += size;
	return e;
}

static size_t record_size(const struct arena *a, size_t i)
{
	return (i + 1 < a->n ? a->at[i + 1] : a->len) - a->at[i];
}

static void head(struct usm_data_event *e, uint32_t type, uint32_t conn, uint8_t dir, uint64_t ts)
{
	e->type = type;
	e->pid = 1000 + conn % 8; /* a few server processes */
	e->tid = e->pid;
	e->dir = dir;
	e->conn = 0x10000 + conn;
	e->ts_ns = ts;
	e->tuple.family = AF_INET;
	e->tuple.laddr[0] = e->tuple.raddr[0] = 127;
	e->tuple.laddr[3] = e->tuple.raddr[3] = 1;
	e->tuple.lport = 8443;
	e->tuple.rport = (uint16_t)(20000 + conn % 40000);
	memcpy(e->comm, "server", 7);
}

static void piece(struct arena *a, const struct call *c, uint32_t conn, uint8_t dir, uint64_t ts,
		  size_t off, size_t n, size_t next)
{
	struct usm_data_event *e = record(a, n);
	head(e, USM_EVENT_DATA, conn, dir, ts);
	e->len = (uint32_t)c->len;
	e->offset = (uint32_t)off;
	e->next = (uint32_t)next;
	e->captured = (uint16_t)n;
	memcpy(e->data, c->b + off, n);
}

/* h2_plan + emit_rest for a call of whole frames (the walk starts at its
 * first frame: after the preface, if it carries one). */
static void emit_call(struct arena *a, const struct call *c, uint32_t conn, uint8_t dir,
		      uint64_t ts, bool preface)
{
	struct {
		size_t start, end;
	} r[RANGES_MAX];
	size_t nr = 0, first = c->len < CAPTURE ? c->len : CAPTURE;
	for (size_t off = preface ? 24 : 0; off + 9 <= c->len;) {
		const uint8_t *h = c->b + off;
		size_t flen = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
		/* h2_payload_kept: HEADERS, CONTINUATION, PUSH_PROMISE, SETTINGS,
		 * RST_STREAM, GOAWAY */
		bool kept = h[3] == 1 || h[3] == 9 || h[3] == 5 || h[3] == 4 || h[3] == 3 || h[3] == 7;
		size_t keep = kept ? flen : 0;
		size_t start = off > first ? off : first, end = off + 9 + keep;
		if (end > start) {
			if (nr && r[nr - 1].end >= start) {
				if (end > r[nr - 1].end)
					r[nr - 1].end = end;
			} else if (nr == RANGES_MAX) {
				die("more ranges than the kernel plans in a call: fewer streams");
			} else {
				r[nr].start = start;
				r[nr++].end = end;
			}
		}
		off += 9 + flen;
	}
	piece(a, c, conn, dir, ts, 0, first, nr ? r[0].start : c->len);
	for (size_t k = 0; k < nr; k++)
		for (size_t s = r[k].start; s < r[k].end;) {
			size_t n = r[k].end - s < CAPTURE ? r[k].end - s : CAPTURE;
			size_t next = s + n < r[k].end ? s + n : k + 1 < nr ? r[k + 1].start : c->len;
			piece(a, c, conn, dir, ts, s, n, next);
			s += n;
		}
	a->frames += c->frames;
}

/* ---- one pass: every connection's life, interleaved round-robin ---- */

struct peer {
	nghttp2_hd_deflater *req, *resp; /* the client's and the server's */
	uint32_t next_stream;
};

int main(int argc, char **argv)
{
	uint64_t frames = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
	uint32_t conns = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000;
	uint32_t paths = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 1000;
	uint32_t streams = argc > 4 ? (uint32_t)strtoul(argv[4], NULL, 10) : 8;
	uint32_t rounds = argc > 5 ? (uint32_t)strtoul(argv[5], NULL, 10) : 16;
	if (frames == 0 || conns == 0 || paths == 0 || streams == 0 || streams > STREAMS_MAX ||
	    rounds == 0)
		return 2;
	struct peer *p = calloc(conns, sizeof(*p));
	struct call *c = malloc(sizeof(*c));
	struct arena a = {0};
	if (!p || !c)
		die("out of memory");
	static const uint8_t settings[] = {0, 3, 0, 0, 0, 100, 0, 4, 0, 0x60, 0, 0}; /* streams, window */
	static const uint8_t window[] = {0, 0xef, 0, 1};
	static const char body[] = "{\"item\":42,\"name\":\"bench\"}";
	static char out[2048];
	memset(out, 'x', sizeof(out));
	uint64_t ts = 1000000000, request = 0;
	for (uint32_t i = 0; i < conns; i++) {
		if (nghttp2_hd_deflate_new(&p[i].req, 4096) || nghttp2_hd_deflate_new(&p[i].resp, 4096))
			die("nghttp2_hd_deflate_new");
		p[i].next_stream = 1;
	}
	for (uint32_t i = 0; i < conns; i++, ts += 1000) {
		c->len = c->frames = 0;
		memcpy(c->b, NGHTTP2_CLIENT_MAGIC, 24);
		c->len = 24;
		frame(c, F_SETTINGS, 0, 0, settings, sizeof(settings));
		frame(c, F_WINDOW_UPDATE, 0, 0, window, sizeof(window));
		emit_call(&a, c, i, USM_DIR_READ, ts, true);
		c->len = c->frames = 0;
		frame(c, F_SETTINGS, 0, 0, settings, sizeof(settings));
		frame(c, F_WINDOW_UPDATE, 0, 0, window, sizeof(window));
		frame(c, F_SETTINGS, 0x1 /* ACK */, 0, NULL, 0);
		emit_call(&a, c, i, USM_DIR_WRITE, ts + 50000, false);
	}
	uint64_t exchanges_per_pass = 0;
	for (uint32_t round = 0; round < rounds; round++) {
		for (uint32_t i = 0; i < conns; i++, ts += 1000) {
			uint32_t ids[STREAMS_MAX], which[STREAMS_MAX];
			c->len = c->frames = 0;
			if (round == 0)
				frame(c, F_SETTINGS, 0x1, 0, NULL, 0);
			for (uint32_t s = 0; s < streams; s++, request++) {
				ids[s] = p[i].next_stream;
				p[i].next_stream += 2;
				which[s] = (uint32_t)((request * 7919) % paths);
				char path[64], hint[48], id[24], clen[8];
				int pl = snprintf(path, sizeof(path), "/api/v1/items/%u", which[s]);
				int hl = snprintf(hint, sizeof(hint), "items-%u-v%u", which[s], which[s] % 7);
				int il = snprintf(id, sizeof(id), "%016llx",
						  (unsigned long long)(request * 0x9e3779b97f4a7c15ull));
				int cl = snprintf(clen, sizeof(clen), "%zu", sizeof(body) - 1);
				nghttp2_nv nv[] = {
					NV(":method", "POST", 4),
					NV(":scheme", "https", 5),
					NV(":authority", "bench.example:8443", 18),
					NV(":path", path, (size_t)pl),
					NV("user-agent", "h2-bench/1.0", 12),
					NV("content-type", "application/json", 16),
					NV("content-length", clen, (size_t)cl),
					NV("x-resource", hint, (size_t)hl),
					NV("x-request-id", id, (size_t)il),
				};
				headers(c, p[i].req, ids[s], nv, sizeof(nv) / sizeof(nv[0]));
				if (s > 0)
					frame(c, F_DATA, 0x1 /* END_STREAM */, ids[s - 1], body,
					      sizeof(body) - 1);
			}
			frame(c, F_DATA, 0x1, ids[streams - 1], body, sizeof(body) - 1);
			emit_call(&a, c, i, USM_DIR_READ, ts, false);

			c->len = c->frames = 0;
			frame(c, F_WINDOW_UPDATE, 0, 0, window, sizeof(window));
			for (uint32_t k = streams; k-- > 0;) {
				uint32_t w = which[k];
				size_t n = 2 + (w * 37) % 2000;
				char hint[48], clen[8], date[40];
				int hl = snprintf(hint, sizeof(hint), "items-%u", w);
				int cl = snprintf(clen, sizeof(clen), "%zu", n);
				int dl = snprintf(date, sizeof(date), "Tue, 01 Dec 2026 10:%02u:%02u GMT",
						  (unsigned)(ts / 60000000000ull % 60),
						  (unsigned)(ts / 1000000000ull % 60));
				nghttp2_nv nv[] = {
					NV(":status", w % 16 == 15 ? "404" : "200", 3),
					NV("server", "nginx/1.22.1", 12),
					NV("date", date, (size_t)dl),
					NV("content-type", "text/plain", 10),
					NV("content-length", clen, (size_t)cl),
					NV("x-resource", hint, (size_t)hl),
				};
				headers(c, p[i].resp, ids[k], nv, sizeof(nv) / sizeof(nv[0]));
				frame(c, F_DATA, 0x1, ids[k], out, n);
			}
			emit_call(&a, c, i, USM_DIR_WRITE, ts + 100000, false);
			exchanges_per_pass += streams;
		}
	}
	for (uint32_t i = 0; i < conns; i++, ts += 1000) {
		struct usm_data_event *e = record(&a, 0);
		head(e, USM_EVENT_CONN_CLOSE, i, USM_DIR_READ, ts);
		nghttp2_hd_deflate_del(p[i].req);
		nghttp2_hd_deflate_del(p[i].resp);
	}
	free(p);
	free(c);
	uint64_t passes = (frames + a.frames - 1) / a.frames;

	struct http_stats_limits sl = {.max_entries = 100000, .max_path_len = 128};
	struct conn_limits cl = {.max_connections = conns + 16,
				 .request_timeout_ns = 30ull * 1000000000,
				 .idle_timeout_ns = 300ull * 1000000000,
				 .http = HTTP_LIMITS_DEFAULT};
	struct http_stats *stats = http_stats_new(&sl);
	struct conn_table *t = stats ? conn_table_new(&cl, stats) : NULL;
	if (!t)
		die("conn_table_new");
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long rss_records = ru.ru_maxrss; /* the pass's records (and the generation's peak) */
	uint64_t malformed = 0;
	double start = now_s();
	for (uint64_t pass = 0; pass < passes; pass++)
		for (size_t i = 0; i < a.n; i++) {
			const uint8_t *data;
			const void *rec = a.b + a.at[i];
			if (data_event_check(rec, record_size(&a, i), &data) != DATA_EVENT_OK) {
				malformed++;
				continue;
			}
			conn_table_event(t, rec, data);
		}
	double secs = now_s() - start;
	getrusage(RUSAGE_SELF, &ru);
	const struct conn_counters *k = conn_table_counters(t);
	uint64_t fed = passes * a.frames, records = passes * a.n;
	printf("{\"frames\": %llu, \"records\": %llu, \"passes\": %llu, \"connections\": %u, "
	       "\"paths\": %u, \"streams_per_call\": %u, \"rounds\": %u, \"seconds\": %.6f, "
	       "\"frames_per_s\": %.0f, \"ns_per_frame\": %.1f, \"records_per_s\": %.0f, "
	       "\"exchanges\": %llu, \"exchanges_expected\": %llu, \"rows\": %u, "
	       "\"h2_connections\": %llu, \"h2_hpack_desync\": %llu, \"h2_framing_lost\": %llu, "
	       "\"h2_started_unseen\": %llu, \"parse_errors\": %llu, \"malformed\": %llu, "
	       "\"max_rss_kb\": %ld, \"rss_before_feeding_kb\": %ld}\n",
	       (unsigned long long)fed, (unsigned long long)records, (unsigned long long)passes,
	       conns, paths, streams, rounds, secs, fed / secs, secs * 1e9 / fed, records / secs,
	       (unsigned long long)k->exchanges,
	       (unsigned long long)(passes * exchanges_per_pass), http_stats_count(stats),
	       (unsigned long long)k->h2_connections, (unsigned long long)k->h2_hpack_desync,
	       (unsigned long long)k->h2_framing_lost, (unsigned long long)k->h2_started_unseen,
	       (unsigned long long)k->parse_errors, (unsigned long long)malformed, ru.ru_maxrss, rss_records);
	conn_table_free(t);
	http_stats_free(stats);
	free(a.b);
	free(a.at);
	return 0;
}
