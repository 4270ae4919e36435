/* collector/h2_conn.c, fed frames whose header blocks libnghttp2's own
 * HPACK encoder (nghttp2_hd_deflater) wrote, as a real peer's would be:
 * exchanges paired by stream with method, path, status, latency and gRPC
 * status; more distinct paths than the dynamic table holds; CONTINUATION,
 * padding and priority; never-indexed literals, Huffman and raw strings,
 * a dynamic table size update; statuses outside the static table;
 * RST_STREAM, GOAWAY, PUSH_PROMISE; and what must yield no row at all: a
 * connection first seen after its start, a block cut by the capture, a
 * frame between a HEADERS and its CONTINUATION. The connection is seen
 * from the server (requests are its reads). */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "h2_conn.h"

#define MAX_SEEN 2048
#define REQ HTTP_DIR_READ
#define RESP HTTP_DIR_WRITE

struct seen {
	struct h2_exchange e;
	char path[HTTP_PATH_MAX + 1];
};

struct fixture {
	struct h2_conn c;
	nghttp2_hd_deflater *client, *server; /* each end's encoder */
	struct seen seen[MAX_SEEN];
	unsigned nseen;
	uint64_t now;
};

static void on_exchange(void *ctx, const struct h2_exchange *e)
{
	struct fixture *f = ctx;
	assert_true(f->nseen < MAX_SEEN);
	struct seen *s = &f->seen[f->nseen++];
	s->e = *e;
	memcpy(s->path, e->path, e->path_len + 1);
	s->e.path = s->path;
}

static const struct h2_sink sink = {on_exchange};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct h2_limits lim = {.max_path_len = 64, .max_streams = 100};
	if (!f || h2_conn_init(&f->c, HTTP_ROLE_SERVER, &lim) != 0 ||
	    nghttp2_hd_deflate_new(&f->client, 4096) != 0 ||
	    nghttp2_hd_deflate_new(&f->server, 4096) != 0)
		return -1;
	f->now = 1000000000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	h2_conn_free(&f->c);
	nghttp2_hd_deflate_del(f->client);
	nghttp2_hd_deflate_del(f->server);
	free(f);
	return 0;
}

/* One frame, its payload captured up to `captured` (SIZE_MAX: whole). */
static void frame_cut(struct fixture *f, enum http_dir dir, uint8_t type, uint8_t flags,
		      uint32_t stream, const uint8_t *payload, size_t len, size_t captured)
{
	struct h2_frame_header h = {.length = (uint32_t)len, .type = type, .flags = flags,
				    .stream = stream};
	f->now += 1000;
	h2_conn_frame(&f->c, dir, &h, payload, captured < len ? captured : len, f->now, &sink, f);
}

static void frame(struct fixture *f, enum http_dir dir, uint8_t type, uint8_t flags,
		  uint32_t stream, const uint8_t *payload, size_t len)
{
	frame_cut(f, dir, type, flags, stream, payload, len, SIZE_MAX);
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

/* A header block from an encoder: its length, the bytes in out. */
static size_t encode(nghttp2_hd_deflater *d, const nghttp2_nv *nv, size_t n, uint8_t *out,
		     size_t cap)
{
	ssize_t len = nghttp2_hd_deflate_hd(d, out, cap, nv, n);
	assert_true(len > 0);
	return (size_t)len;
}

/* Both prefaces: the client's 24 bytes and SETTINGS each way. */
static void start(struct fixture *f)
{
	h2_conn_preface(&f->c, REQ);
	frame(f, REQ, H2_SETTINGS, 0, 0, NULL, 0);
	frame(f, RESP, H2_SETTINGS, 0, 0, NULL, 0);
	frame(f, REQ, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
	frame(f, RESP, H2_SETTINGS, H2_FLAG_ACK, 0, NULL, 0);
}

static void request(struct fixture *f, uint32_t stream, const char *method, const char *path)
{
	nghttp2_nv nv[] = {NV(":method", method), NV(":scheme", "https"), NV(":path", path),
			   NV(":authority", "localhost")};
	uint8_t b[1024];
	size_t n = encode(f->client, nv, 4, b, sizeof(b));
	frame(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, stream, b, n);
}

static void response(struct fixture *f, uint32_t stream, const char *status, bool end)
{
	nghttp2_nv nv[] = {NV(":status", status), NV("content-type", "text/plain")};
	uint8_t b[256];
	size_t n = encode(f->server, nv, 2, b, sizeof(b));
	frame(f, RESP, H2_HEADERS, H2_FLAG_END_HEADERS | (end ? H2_FLAG_END_STREAM : 0), stream, b,
	      n);
}

static void test_a_get_is_one_exchange(void **state)
{
	struct fixture *f = *state;
	start(f);
	request(f, 1, "GET", "/index.html?x=1");
	uint64_t asked = f->now;
	response(f, 1, "200", false);
	uint64_t answered = f->now;
	frame(f, RESP, H2_DATA, H2_FLAG_END_STREAM, 1, (const uint8_t *)"hello", 5);
	assert_int_equal(f->nseen, 1);
	const struct h2_exchange *e = &f->seen[0].e;
	assert_int_equal(e->stream, 1);
	assert_int_equal(e->method, USM_HTTP_METHOD_GET);
	assert_string_equal(e->path, "/index.html"); /* no query */
	assert_int_equal(e->status, 200);
	assert_false(e->grpc);
	assert_int_equal(e->grpc_status, -1);
	assert_int_equal(e->latency_ns, answered - asked);
	assert_true(e->bytes > 5);
	assert_int_equal(f->c.counters.exchanges, 1);
	assert_int_equal(f->c.counters.hpack_desync, 0);
	assert_int_equal(f->c.nstreams, 0);
}

/* 1,500 distinct paths, 10 streams open at a time, far more than the
 * 4 KiB dynamic table holds: entries are evicted and every path is
 * still right. */
static void test_more_paths_than_the_dynamic_table_holds(void **state)
{
	struct fixture *f = *state;
	start(f);
	char path[64];
	for (unsigned i = 0; i < 1500; i += 10) {
		for (unsigned k = 0; k < 10; k++) {
			snprintf(path, sizeof(path), "/item/%u/detail", i + k);
			request(f, 2 * (i + k) + 1, "GET", path);
		}
		for (unsigned k = 10; k-- > 0;)
			response(f, 2 * (i + k) + 1, (i + k) % 7 ? "200" : "404", true);
	}
	assert_int_equal(f->nseen, 1500);
	for (unsigned j = 0; j < 1500; j++) {
		const struct h2_exchange *e = &f->seen[j].e;
		unsigned i = (e->stream - 1) / 2;
		snprintf(path, sizeof(path), "/item/%u/detail", i);
		assert_string_equal(e->path, path);
		assert_int_equal(e->status, i % 7 ? 200 : 404);
	}
	assert_int_equal(f->c.counters.hpack_desync, 0);
}

/* A request block in three pieces, padded and with priority fields, and
 * a response with SETTINGS, PING and WINDOW_UPDATE before its DATA. */
static void test_continuation_padding_and_frames_between(void **state)
{
	struct fixture *f = *state;
	start(f);
	nghttp2_nv nv[] = {NV(":method", "POST"), NV(":scheme", "https"),
			   NV(":path", "/upload/a/long/path/to/split"), NV(":authority", "localhost"),
			   NV("user-agent", "test/1.0 with a long enough value to split")};
	uint8_t b[512], p[600];
	size_t n = encode(f->client, nv, 5, b, sizeof(b));
	size_t a = n / 3, m = 2 * n / 3;
	/* HEADERS: pad length 4, priority (5 bytes), fragment, 4 bytes padding */
	p[0] = 4;
	memset(p + 1, 0, 5);
	memcpy(p + 6, b, a);
	memset(p + 6 + a, 0, 4);
	frame(f, REQ, H2_HEADERS, H2_FLAG_PADDED | H2_FLAG_PRIORITY, 1, p, 6 + a + 4);
	frame(f, REQ, H2_CONTINUATION, 0, 1, b + a, m - a);
	frame(f, REQ, H2_CONTINUATION, H2_FLAG_END_HEADERS, 1, b + m, n - m);
	frame(f, REQ, H2_DATA, H2_FLAG_END_STREAM, 1, (const uint8_t *)"body", 4);
	frame(f, RESP, H2_SETTINGS, 0, 0, NULL, 0);
	frame(f, RESP, H2_PING, 0, 0, (const uint8_t *)"12345678", 8);
	response(f, 1, "201", false);
	frame(f, RESP, H2_WINDOW_UPDATE, 0, 0, (const uint8_t *)"\0\0\1\0", 4);
	frame(f, REQ, H2_PING, H2_FLAG_ACK, 0, (const uint8_t *)"12345678", 8);
	frame(f, RESP, H2_DATA, H2_FLAG_END_STREAM, 1, (const uint8_t *)"ok", 2);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].e.method, USM_HTTP_METHOD_POST);
	assert_string_equal(f->seen[0].path, "/upload/a/long/path/to/split");
	assert_int_equal(f->seen[0].e.status, 201);
	assert_int_equal(f->c.counters.hpack_desync, 0);
}

/* Literals never indexed, a table shrunk to nothing and grown again (the
 * size updates the encoder emits), strings Huffman-coded or raw (the
 * encoder picks the shorter: '~' has a 13-bit code), statuses the static
 * table does not have, an extension method. */
static void test_literals_size_updates_and_odd_statuses(void **state)
{
	struct fixture *f = *state;
	start(f);
	nghttp2_nv secret[] = {NV(":method", "GET"), NV(":scheme", "https"),
			       NV(":path", "/private"), NV(":authority", "localhost"),
			       NV("authorization", "Bearer abc")};
	secret[2].flags = secret[4].flags = NGHTTP2_NV_FLAG_NO_INDEX;
	uint8_t b[512];
	size_t n = encode(f->client, secret, 5, b, sizeof(b));
	frame(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, b, n);
	response(f, 1, "418", true);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(f->client, 0), 0);
	request(f, 3, "GET", "/~~~~~~~~~~~~");
	assert_int_equal(nghttp2_hd_deflate_change_table_size(f->client, 4096), 0);
	request(f, 5, "PROPFIND", "/dav/");
	assert_int_equal(nghttp2_hd_deflate_change_table_size(f->server, 256), 0);
	response(f, 3, "299", true);
	response(f, 5, "207", true);
	assert_int_equal(f->nseen, 3);
	assert_string_equal(f->seen[0].path, "/private");
	assert_int_equal(f->seen[0].e.status, 418);
	assert_string_equal(f->seen[1].path, "/~~~~~~~~~~~~");
	assert_int_equal(f->seen[1].e.status, 299);
	assert_int_equal(f->seen[2].e.method, USM_HTTP_METHOD_UNKNOWN);
	assert_string_equal(f->seen[2].path, "/dav/");
	assert_int_equal(f->seen[2].e.status, 207);
	assert_int_equal(f->c.counters.hpack_desync, 0);
}

static void test_resets_goaway_and_a_1xx(void **state)
{
	struct fixture *f = *state;
	start(f);
	request(f, 1, "GET", "/cancelled");
	frame(f, REQ, H2_RST_STREAM, 0, 1, (const uint8_t *)"\0\0\0\x08", 4); /* CANCEL */
	request(f, 3, "GET", "/half");
	response(f, 3, "200", false);
	frame(f, RESP, H2_RST_STREAM, 0, 3, (const uint8_t *)"\0\0\0\x02", 4);
	request(f, 5, "POST", "/continue");
	response(f, 5, "100", false);
	response(f, 5, "200", true);
	frame(f, RESP, H2_GOAWAY, 0, 0, (const uint8_t *)"\0\0\0\x05\0\0\0\0", 8);
	assert_int_equal(f->c.counters.streams_reset, 2);
	assert_int_equal(f->c.counters.goaway, 1);
	assert_int_equal(f->nseen, 2); /* the one reset before a response: no row */
	assert_string_equal(f->seen[0].path, "/half");
	assert_true(f->seen[0].e.reset);
	assert_string_equal(f->seen[1].path, "/continue");
	assert_int_equal(f->seen[1].e.status, 200);
	assert_false(f->seen[1].e.reset);
}

/* gRPC: the method as the path, the status from the trailers, and a
 * trailers-only answer. */
static void test_grpc_status_from_trailers(void **state)
{
	struct fixture *f = *state;
	start(f);
	nghttp2_nv req[] = {NV(":method", "POST"), NV(":scheme", "http"),
			    NV(":path", "/helloworld.Greeter/SayHello"), NV(":authority", "x"),
			    NV("content-type", "application/grpc+proto"), NV("te", "trailers")};
	uint8_t b[512];
	size_t n = encode(f->client, req, 6, b, sizeof(b));
	frame(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS, 1, b, n);
	frame(f, REQ, H2_DATA, H2_FLAG_END_STREAM, 1, (const uint8_t *)"\0\0\0\0\0", 5);
	n = encode(f->client, req, 6, b, sizeof(b));
	frame(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS, 3, b, n);
	response(f, 1, "200", false);
	frame(f, RESP, H2_DATA, 0, 1, (const uint8_t *)"\0\0\0\0\0", 5);
	nghttp2_nv trailers[] = {NV("grpc-status", "5"), NV("grpc-message", "not found")};
	n = encode(f->server, trailers, 2, b, sizeof(b));
	frame(f, RESP, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, b, n);
	nghttp2_nv only[] = {NV(":status", "200"), NV("content-type", "application/grpc"),
			     NV("grpc-status", "16")};
	n = encode(f->server, only, 3, b, sizeof(b));
	frame(f, RESP, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 3, b, n);
	assert_int_equal(f->nseen, 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_true(f->seen[i].e.grpc);
		assert_string_equal(f->seen[i].path, "/helloworld.Greeter/SayHello");
		assert_int_equal(f->seen[i].e.status, 200);
	}
	assert_int_equal(f->seen[0].e.grpc_status, 5);
	assert_int_equal(f->seen[1].e.grpc_status, 16);
}

/* A server push's promised request is decoded (it changes the server's
 * table) and not reported; responses after it still decode. */
static void test_push_promise_is_decoded_and_ignored(void **state)
{
	struct fixture *f = *state;
	start(f);
	request(f, 1, "GET", "/page");
	nghttp2_nv promised[] = {NV(":method", "GET"), NV(":scheme", "https"),
				 NV(":path", "/pushed/style.css"), NV(":authority", "localhost"),
				 NV("x-pushed-by", "a value the server's table now holds")};
	uint8_t b[512], p[520];
	size_t n = encode(f->server, promised, 5, b, sizeof(b));
	memcpy(p, "\0\0\0\2", 4); /* promised stream 2 */
	memcpy(p + 4, b, n);
	frame(f, RESP, H2_PUSH_PROMISE, H2_FLAG_END_HEADERS, 1, p, n + 4);
	nghttp2_nv again[] = {NV(":status", "200"),
			      NV("x-pushed-by", "a value the server's table now holds")};
	n = encode(f->server, again, 2, b, sizeof(b));
	frame(f, RESP, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, b, n);
	assert_int_equal(f->c.counters.pushes_ignored, 1);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].path, "/page");
	assert_int_equal(f->seen[0].e.status, 200);
}

static void test_long_paths_are_cut_and_counted(void **state)
{
	struct fixture *f = *state;
	start(f);
	char path[200];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	request(f, 1, "GET", path);
	response(f, 1, "200", true);
	assert_int_equal(f->nseen, 1);
	assert_int_equal(f->seen[0].e.path_len, 64);
	assert_true(f->seen[0].e.path_cut);
	assert_int_equal(f->c.counters.paths_cut, 1);
}

/* A connection already open when usm came: no preface, no SETTINGS
 * first. Its blocks refer to tables never seen: no row, counted. */
static void test_a_connection_started_before_is_not_decoded(void **state)
{
	struct fixture *f = *state;
	request(f, 1, "GET", "/warm-up"); /* the encoders' tables fill as on a real peer */
	response(f, 1, "200", true);
	assert_int_equal(f->nseen, 0);
	request(f, 3, "GET", "/warm-up");
	response(f, 3, "200", true);
	assert_int_equal(f->nseen, 0);
	assert_int_equal(f->c.counters.started_unseen, 1);
	assert_int_equal(f->c.counters.undecoded_blocks, 4);
	assert_int_equal(f->c.counters.exchanges, 0);
}

/* A SETTINGS frame met first in the response direction looks like the
 * server's preface; a header block there before any request means it was
 * a connection's later SETTINGS (it started before usm, and the side
 * guessed may be the wrong one): started unseen, not a desync, no row. */
static void test_a_settings_frame_met_mid_connection(void **state)
{
	struct fixture *f = *state;
	frame(f, RESP, H2_SETTINGS, 0, 0, NULL, 0);
	/* the other end's request, with the table it built before usm came */
	request(f, 1, "GET", "/before");
	uint8_t b[256];
	nghttp2_nv nv[] = {NV(":method", "GET"), NV(":scheme", "https"), NV(":path", "/before"),
			   NV(":authority", "localhost")};
	size_t n = encode(f->client, nv, 4, b, sizeof(b)); /* all indexed now */
	struct h2_conn fresh;
	struct h2_limits lim = {.max_path_len = 64, .max_streams = 100};
	assert_int_equal(h2_conn_init(&fresh, HTTP_ROLE_SERVER, &lim), 0);
	struct h2_frame_header settings = {.type = H2_SETTINGS};
	h2_conn_frame(&fresh, RESP, &settings, NULL, 0, f->now, &sink, f);
	struct h2_frame_header h = {.length = (uint32_t)n, .type = H2_HEADERS,
				    .flags = H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, .stream = 3};
	h2_conn_frame(&fresh, RESP, &h, b, n, f->now + 1, &sink, f);
	assert_int_equal(fresh.counters.started_unseen, 1);
	assert_int_equal(fresh.counters.hpack_desync, 0);
	assert_int_equal(fresh.counters.exchanges, 0);
	h2_conn_free(&fresh);
	assert_int_equal(f->nseen, 0);
}

/* A block cut by the capture: the request direction's table is lost for
 * good; answers to streams opened before still count, nothing after. */
static void test_a_cut_block_stops_decoding_that_direction(void **state)
{
	struct fixture *f = *state;
	start(f);
	request(f, 1, "GET", "/before");
	nghttp2_nv nv[] = {NV(":method", "GET"), NV(":scheme", "https"), NV(":path", "/cut"),
			   NV(":authority", "localhost"), NV("x-big", "0123456789012345678901234")};
	uint8_t b[512];
	size_t n = encode(f->client, nv, 5, b, sizeof(b));
	frame_cut(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 3, b, n, n / 2);
	request(f, 5, "GET", "/after");
	response(f, 1, "200", true);
	response(f, 3, "200", true);
	response(f, 5, "200", true);
	assert_int_equal(f->c.counters.hpack_desync, 1);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].path, "/before");
	assert_int_equal(f->c.counters.orphan_responses, 2);
}

/* Anything between a HEADERS without END_HEADERS and its CONTINUATION is
 * a protocol error: that direction is not trusted any more. */
static void test_a_frame_inside_a_block_stops_decoding(void **state)
{
	struct fixture *f = *state;
	start(f);
	request(f, 1, "GET", "/open");
	nghttp2_nv nv[] = {NV(":status", "200"), NV("server", "test")};
	uint8_t b[256];
	size_t n = encode(f->server, nv, 2, b, sizeof(b));
	frame(f, RESP, H2_HEADERS, 0, 1, b, n / 2);
	frame(f, RESP, H2_PING, 0, 0, (const uint8_t *)"12345678", 8);
	frame(f, RESP, H2_CONTINUATION, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, b + n / 2,
	      n - n / 2);
	assert_int_equal(f->nseen, 0);
	assert_int_equal(f->c.counters.hpack_desync, 1);
	assert_int_equal(f->c.nstreams, 0); /* its response can no longer be read */
}

static void test_garbage_blocks_are_refused_not_guessed(void **state)
{
	struct fixture *f = *state;
	start(f);
	static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x7f}; /* an index far out */
	frame(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS, 1, junk, sizeof(junk));
	/* padding longer than the frame */
	frame(f, RESP, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_PADDED, 1,
	      (const uint8_t *)"\x09xx", 3);
	assert_int_equal(f->c.counters.hpack_desync, 2);
	assert_int_equal(f->nseen, 0);
}

/* A :path with a NUL (HPACK carries any byte; RFC 9113 makes it a
 * malformed request): no stream, no row, counted. */
static void test_a_path_with_a_control_character_is_refused(void **state)
{
	struct fixture *f = *state;
	start(f);
	nghttp2_nv nv[] = {NV(":method", "GET"), NV(":scheme", "https"), NV(":path", "/a"),
			   NV(":authority", "localhost")};
	nv[2].value = (uint8_t *)"/a\0b";
	nv[2].valuelen = 4;
	uint8_t b[256];
	size_t n = encode(f->client, nv, 4, b, sizeof(b));
	frame(f, REQ, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, b, n);
	response(f, 1, "200", true);
	request(f, 3, "GET", "/fine"); /* the tables stay right */
	response(f, 3, "200", true);
	assert_int_equal(f->c.counters.malformed_requests, 1);
	assert_int_equal(f->c.counters.orphan_responses, 1);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0].path, "/fine");
}

static void test_limits_are_checked(void **state)
{
	(void)state;
	struct h2_conn c;
	struct h2_limits bad[] = {{0, 10}, {HTTP_PATH_MAX + 1, 10}, {64, 0},
				  {64, H2_MAX_STREAMS_LIMIT + 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(h2_conn_init(&c, HTTP_ROLE_SERVER, &bad[i]), -EINVAL);
	assert_int_equal(h2_conn_init(&c, HTTP_ROLE_SERVER, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_get_is_one_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_more_paths_than_the_dynamic_table_holds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_continuation_padding_and_frames_between, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_literals_size_updates_and_odd_statuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resets_goaway_and_a_1xx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grpc_status_from_trailers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_promise_is_decoded_and_ignored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_paths_are_cut_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_settings_frame_met_mid_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_connection_started_before_is_not_decoded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_cut_block_stops_decoding_that_direction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_frame_inside_a_block_stops_decoding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_blocks_are_refused_not_guessed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_path_with_a_control_character_is_refused, setup,
						teardown),
		cmocka_unit_test(test_limits_are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
