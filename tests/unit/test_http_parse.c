/* HTTP/1.x framing of one direction from captured prefixes: start lines
 * split anywhere, bodies skipped through uncaptured gaps, the heuristics
 * that resynchronize after garbage or lost framing, and the promise that
 * every byte fed is accounted for exactly once. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_parse.h"
#include "ipc_codec.h"

/* ---- a sink that records what the stream reported ---- */

#define MAX_MSGS 64

struct seen {
	struct http_message m;
	char path[HTTP_PATH_MAX + 1];
};

struct recorder {
	struct seen heads[MAX_MSGS];
	struct seen ends[MAX_MSGS];
	unsigned nheads, nends;
	enum usm_http_method answers; /* what request_method() returns */
	unsigned asked;
	uint64_t fed; /* bytes fed, for the accounting check */
	uint64_t ended_bytes;
};

static void record(struct seen *to, const struct http_message *m)
{
	to->m = *m;
	assert_true(m->path_len <= HTTP_PATH_MAX);
	assert_int_equal(strlen(m->path), m->path_len);
	memcpy(to->path, m->path, m->path_len + 1);
	to->m.path = to->path;
}

static void rec_head(void *ctx, const struct http_message *m)
{
	struct recorder *r = ctx;
	assert_int_equal(r->nheads, r->nends); /* heads and ends alternate */
	assert_true(r->nheads < MAX_MSGS);
	record(&r->heads[r->nheads++], m);
}

static enum usm_http_method rec_request_method(void *ctx, const struct http_message *response)
{
	struct recorder *r = ctx;
	assert_int_equal(response->kind, HTTP_MESSAGE_RESPONSE);
	r->asked++;
	return r->answers;
}

static void rec_end(void *ctx, const struct http_message *m)
{
	struct recorder *r = ctx;
	assert_int_equal(r->nheads, r->nends + 1);
	assert_true(m->end != HTTP_END_NONE);
	assert_true(m->bytes >= r->heads[r->nends].m.bytes);
	r->ended_bytes += m->bytes;
	record(&r->ends[r->nends++], m);
}

static const struct http_parse_sink rec_sink = {
	.on_head = rec_head,
	.request_method = rec_request_method,
	.on_end = rec_end,
};

/* Length of a string literal. */
#define LEN(lit) (sizeof(lit) - 1)

static struct http_stream stream;
static struct recorder rec;

static void start(enum http_stream_kind kind, size_t max_path_len)
{
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(http_stream_init(&stream, kind, max_path_len, 8192), 0);
}

/* A segment of which `text` is the captured prefix and `total` the size
 * of the read or write (0: all captured). */
static enum http_feed_result feed_ts(const char *text, size_t total, uint64_t ts)
{
	size_t captured = strlen(text);
	if (total < captured)
		total = captured;
	rec.fed += total;
	return http_stream_feed(&stream, (const uint8_t *)text, captured, total, ts, &rec_sink,
				&rec);
}

static enum http_feed_result feed(const char *text, size_t total)
{
	return feed_ts(text, total, 1000);
}

/* Every byte fed is in a reported message, skipped, or ignored. */
static void assert_bytes_accounted(void)
{
	http_stream_finish(&stream, &rec_sink, &rec);
	assert_int_equal(rec.nheads, rec.nends);
	assert_int_equal(rec.fed, rec.ended_bytes + stream.counters.skipped_bytes +
					  stream.counters.ignored_bytes);
}

/* ---- tests ---- */

static void test_start_line_split_into_one_byte_segments_is_read(void **state)
{
	(void)state;
	const char *req = "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
	start(HTTP_STREAM_REQUESTS, 64);
	for (size_t i = 0; req[i]; i++) {
		char one[2] = {req[i], 0};
		assert_int_equal(feed_ts(one, 0, 100 + i), HTTP_FEED_OK);
	}
	assert_int_equal(rec.nheads, 1);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.heads[0].m.method, USM_HTTP_METHOD_POST);
	assert_string_equal(rec.heads[0].path, "/upload");
	assert_true(rec.heads[0].m.head_complete);
	assert_int_equal(rec.ends[0].m.start_ts_ns, 100); /* the first byte's segment */
	assert_int_equal(rec.ends[0].m.end, HTTP_END_FRAMED);
	assert_int_equal(rec.ends[0].m.bytes, strlen(req));
	assert_int_equal(stream.counters.messages, 1);
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_status_line_split_into_one_byte_segments_is_read(void **state)
{
	(void)state;
	const char *resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno";
	start(HTTP_STREAM_RESPONSES, 64);
	for (size_t i = 0; resp[i]; i++) {
		char one[2] = {resp[i], 0};
		feed(one, 0);
	}
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.status, 404);
	assert_int_equal(rec.ends[0].m.bytes, strlen(resp));
	assert_int_equal(rec.asked, 1);
	assert_bytes_accounted();
}

static void test_keep_alive_requests_with_length_and_chunked_bodies_are_framed(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
#define POST_B "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
#define PUT_C "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
#define CHUNK1 "4\r\nwiki\r\n"
#define CHUNK2 "5;ext=1\r\npedia\r\n"
#define LAST "0\r\n\r\n"
	feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 0);
	feed(POST_B, 0);
	/* chunked, with the chunks split across writes as servers do */
	feed(PUT_C, 0);
	feed(CHUNK1, 0);
	feed(CHUNK2, 0);
	feed(LAST, 0);
	feed("DELETE /d HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 4);
	assert_int_equal(rec.ends[0].m.method, USM_HTTP_METHOD_GET);
	assert_int_equal(rec.ends[1].m.method, USM_HTTP_METHOD_POST);
	assert_int_equal(rec.ends[1].m.bytes, LEN(POST_B));
	assert_int_equal(rec.ends[2].m.method, USM_HTTP_METHOD_PUT);
	assert_string_equal(rec.ends[2].path, "/c");
	assert_int_equal(rec.ends[2].m.end, HTTP_END_FRAMED);
	assert_int_equal(rec.ends[2].m.bytes, LEN(PUT_C CHUNK1 CHUNK2 LAST));
	assert_int_equal(rec.ends[3].m.method, USM_HTTP_METHOD_DELETE);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(rec.ends[i].m.end, HTTP_END_FRAMED);
	assert_int_equal(stream.counters.messages, 4);
	assert_int_equal(stream.counters.desync, 0);
	assert_bytes_accounted();
}

static void test_pipelined_requests_in_one_write_are_all_read(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nHEAD /3 HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 3);
	assert_string_equal(rec.ends[0].path, "/1");
	assert_string_equal(rec.ends[1].path, "/2");
	assert_string_equal(rec.ends[2].path, "/3");
	assert_int_equal(rec.ends[2].m.method, USM_HTTP_METHOD_HEAD);
	assert_bytes_accounted();
}

static void test_chunked_body_with_trailers_and_chunk_split_mid_line_is_framed(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n1", 0);
	feed("0\r\n0123456789abcdef\r", 0);
	feed("\n0\r\nX-Trailer: 1\r\n\r\n", 0);
	feed("HTTP/1.1 204 No Content\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_FRAMED);
	assert_int_equal(rec.ends[1].m.status, 204);
	assert_int_equal(stream.counters.desync, 0);
	assert_bytes_accounted();
}

static void test_header_split_across_segments_still_frames_the_body(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.1 200 OK\r\nConte", 0);
	feed("nt-Len", 0);
	feed("gth: 4\r", 0);
	feed("\n\r", 0);
	feed("\nbodyHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_int_equal(rec.ends[0].m.bytes,
			 LEN("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"));
	assert_int_equal(rec.ends[1].m.end, HTTP_END_FRAMED);
	assert_bytes_accounted();
}

static void test_body_bytes_in_gaps_are_counted_to_find_the_next_message(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	/* 42-byte head + 10000-byte body written at once, 64 bytes captured */
	feed("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n0123456789012345678901", 10042);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_FRAMED);
	assert_int_equal(rec.ends[0].m.bytes, 10042);
	/* a body spread over several writes, each mostly uncaptured */
	feed("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n", 0);
	feed("aaaa", 1000);
	feed("bbbb", 1000);
	feed("cccc", 1000);
	/* a chunked body whose chunk data runs through gaps that end at chunk ends */
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
	feed("3e8\r\nxxxx", 5 + 1000 + 2); /* data and its CRLF, mostly uncaptured */
	feed("3e8\r\nyyyy", 5 + 1000);     /* its CRLF comes in the next write */
	feed("\r\n0\r\n\r\n", 0);
	feed("HTTP/1.1 304 Not Modified\r\n\r\n", 0);
	assert_int_equal(rec.nends, 4);
	assert_int_equal(rec.ends[1].m.bytes,
			 LEN("HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n") + 3000);
	assert_int_equal(rec.ends[2].m.end, HTTP_END_FRAMED);
	assert_int_equal(rec.ends[3].m.status, 304);
	assert_int_equal(stream.counters.desync, 0);
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_query_string_and_fragment_are_stripped_from_the_path(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("GET /search?q=a%20b&x=/y HTTP/1.1\r\n\r\n", 0);
	feed("GET /page#section HTTP/1.1\r\n\r\n", 0);
	feed("OPTIONS * HTTP/1.1\r\n\r\n", 0);
	feed("GET ?only-query HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 4);
	assert_string_equal(rec.ends[0].path, "/search");
	assert_false(rec.ends[0].m.path_cut);
	assert_string_equal(rec.ends[1].path, "/page");
	assert_string_equal(rec.ends[2].path, "*");
	assert_int_equal(rec.ends[2].m.method, USM_HTTP_METHOD_OPTIONS);
	assert_string_equal(rec.ends[3].path, "");
	assert_bytes_accounted();
}

static void test_long_path_is_cut_at_max_path_len(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 8);
	feed("GET /12345678901234?q HTTP/1.1\r\n\r\n", 0);
	feed("GET /1234567 HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_string_equal(rec.ends[0].path, "/1234567");
	assert_int_equal(rec.ends[0].m.path_len, 8);
	assert_true(rec.ends[0].m.path_cut);
	assert_string_equal(rec.ends[1].path, "/1234567"); /* exactly max: not cut */
	assert_false(rec.ends[1].m.path_cut);
	assert_bytes_accounted();
}

static void test_garbage_then_valid_request_resyncs_and_counts_garbage_once(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("\x01\x02 binary junk", 0);
	feed("more junk", 0);
	feed("G3T / HTTP/1.1\r\n\r\n", 0);  /* no method has a digit */
	feed("get / HTTP/1.1\r\n\r\n", 0);  /* methods are case-sensitive */
	assert_int_equal(stream.counters.garbage, 1);
	assert_int_equal(rec.nheads, 0);
	feed("GET /ok HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 1);
	assert_string_equal(rec.ends[0].path, "/ok");
	/* once in sync, garbage is counted again */
	feed("zzz", 0);
	assert_int_equal(stream.counters.garbage, 2);
	assert_bytes_accounted();
}

static void test_http09_and_malformed_request_lines_are_garbage(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("GET /\r\n", 0);
	assert_int_equal(stream.counters.garbage, 1);
	feed("GET / HTTP/2.0\r\n\r\n", 0);
	feed("GET  / HTTP/1.1\r\n\r\n", 0);
	feed("GET / HTTP/1.1 extra\r\n\r\n", 0);
	assert_int_equal(rec.nheads, 0);
	feed("GET / HTTP/1.0\r\n\r\n", 0);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.version_minor, 0);
	assert_true(rec.ends[0].m.closes);
	assert_bytes_accounted();
}

static void test_status_600_and_abc_are_rejected_as_garbage(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.1 600 Too Far\r\n\r\n", 0);
	assert_int_equal(stream.counters.garbage, 1);
	assert_int_equal(rec.nheads, 0);
	feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0); /* resync */
	feed("HTTP/1.1 abc OK\r\n\r\n", 0);
	assert_int_equal(stream.counters.garbage, 2);
	feed("HTTP/1.1 099 Low\r\n\r\n", 0);
	feed("HTTP/1.1 2000 OK\r\n\r\n", 0);
	feed("HTTP/1.1 20 OK\r\n\r\n", 0);
	assert_int_equal(stream.counters.garbage, 2);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.status, 200);
	/* a status line without a reason phrase is accepted */
	feed("HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_int_equal(rec.ends[1].m.status, 599);
	assert_bytes_accounted();
}

static void test_requests_are_refused_by_a_response_stream(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("GET / HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(stream.counters.garbage, 1);
	start(HTTP_STREAM_EITHER, 64);
	feed("GET / HTTP/1.1\r\n\r\n", 0);
	feed("HTTP/1.1 204 No Content\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_int_equal(rec.ends[0].m.kind, HTTP_MESSAGE_REQUEST);
	assert_int_equal(rec.ends[1].m.kind, HTTP_MESSAGE_RESPONSE);
	assert_bytes_accounted();
}

static void test_oversized_headers_are_counted_and_resynced(void **state)
{
	(void)state;
	char big[400];
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(http_stream_init(&stream, HTTP_STREAM_REQUESTS, 64, 128), 0);
	snprintf(big, sizeof(big), "GET /big HTTP/1.1\r\nCookie: %0300d\r\n", 0);
	feed(big, 0);
	assert_int_equal(stream.counters.oversized, 1);
	/* the request is still reported, its head incomplete */
	assert_int_equal(rec.nends, 1);
	assert_string_equal(rec.ends[0].path, "/big");
	assert_false(rec.ends[0].m.head_complete);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_GUESSED);
	/* the rest of that head is skipped silently, then the stream resyncs */
	feed("X-More: 1\r\n\r\n", 0);
	feed("GET /next HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_string_equal(rec.ends[1].path, "/next");
	assert_true(rec.ends[1].m.head_complete);
	assert_int_equal(stream.counters.garbage, 0);
	assert_int_equal(stream.counters.oversized, 1);
	assert_bytes_accounted();
}

static void test_tls_records_are_not_http_and_not_garbage(void **state)
{
	(void)state;
	start(HTTP_STREAM_EITHER, 64);
	assert_int_equal(feed("\x16\x03\x01\x02\x00\x01", 517), HTTP_FEED_NOT_HTTP);
	assert_int_equal(stream.counters.not_http, 1);
	assert_int_equal(stream.counters.garbage, 0);
	/* nothing more is parsed */
	assert_int_equal(feed("GET / HTTP/1.1\r\n\r\n", 0), HTTP_FEED_NOT_HTTP);
	assert_int_equal(rec.nheads, 0);
	assert_bytes_accounted();

	start(HTTP_STREAM_REQUESTS, 64);
	feed("GET / HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(feed("\x17\x03\x03\x00\x20", 37), HTTP_FEED_NOT_HTTP);
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();

	/* 0x16 followed by anything else is garbage */
	start(HTTP_STREAM_REQUESTS, 64);
	assert_int_equal(feed("\x16\x04xx", 0), HTTP_FEED_OK);
	assert_int_equal(stream.counters.garbage, 1);
	assert_int_equal(stream.counters.not_http, 0);
	assert_bytes_accounted();
}

static void test_tls_after_connect_request_stops_quietly(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0);
	assert_int_equal(feed("\x16\x03\x01\x00\x10", 300), HTTP_FEED_STOPPED);
	assert_int_equal(stream.counters.not_http, 0);
	assert_int_equal(rec.nends, 1);
	assert_string_equal(rec.ends[0].path, "example.com:443");
	assert_bytes_accounted();
}

static void test_response_to_head_has_no_body_though_it_has_a_length(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	rec.answers = USM_HTTP_METHOD_HEAD;
	feed("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 0);
	rec.answers = USM_HTTP_METHOD_GET;
	feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	assert_int_equal(rec.nends, 2);
	assert_int_equal(rec.ends[0].m.bytes,
			 LEN("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"));
	assert_int_equal(rec.ends[1].m.bytes,
			 LEN("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
	assert_int_equal(rec.asked, 2);
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_1xx_204_and_304_have_no_body(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	rec.answers = USM_HTTP_METHOD_GET;
	feed("HTTP/1.1 100 Continue\r\n\r\n", 0);
	feed("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 0);
	feed("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
	feed("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
	     "0\r\n\r\n",
	     0);
	assert_int_equal(rec.nends, 5);
	assert_int_equal(rec.ends[0].m.status, 100);
	assert_int_equal(rec.ends[1].m.status, 204);
	assert_int_equal(rec.ends[2].m.status, 304);
	assert_int_equal(rec.ends[3].m.status, 103);
	assert_int_equal(rec.ends[4].m.status, 200);
	assert_int_equal(rec.asked, 3); /* final responses only */
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_101_and_2xx_to_connect_stop_the_stream(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	assert_int_equal(
		feed("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
		     0),
		HTTP_FEED_STOPPED);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.status, 101);
	assert_int_equal(feed("HTTP/1.1 200 OK\r\n\r\n", 0), HTTP_FEED_STOPPED);
	assert_int_equal(rec.nheads, 1);
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();

	start(HTTP_STREAM_RESPONSES, 64);
	rec.answers = USM_HTTP_METHOD_CONNECT;
	assert_int_equal(feed("HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", 0), HTTP_FEED_OK);
	assert_int_equal(feed("HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03", 0),
			 HTTP_FEED_STOPPED);
	assert_int_equal(stream.counters.not_http, 0);
	assert_bytes_accounted();
}

static void test_http10_response_without_length_ends_at_close(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome", 0);
	feed("HTTP/1.1 200 OK\r\n\r\n", 5000); /* just body text now */
	assert_int_equal(rec.nheads, 1);
	assert_int_equal(rec.nends, 0);
	http_stream_finish(&stream, &rec_sink, &rec);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_CLOSE);
	assert_true(rec.ends[0].m.closes);
	assert_int_equal(rec.ends[0].m.bytes,
			 LEN("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome") + 5000);
	assert_int_equal(feed("HTTP/1.1 200 OK\r\n\r\n", 0), HTTP_FEED_STOPPED);
	assert_bytes_accounted();
}

static void test_transfer_encoding_without_chunked_reads_a_response_until_close(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: "
	     "3\r\n\r\nabcdef",
	     0);
	http_stream_finish(&stream, &rec_sink, &rec);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_CLOSE);
	assert_bytes_accounted();
}

static void test_conflicting_lengths_end_the_message_with_its_segment(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 0);
	feed("more body", 0);
	feed("POST /y HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\nab", 0);
	feed("GET /z HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(rec.nends, 3);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_GUESSED);
	assert_true(rec.ends[0].m.head_complete);
	assert_int_equal(rec.ends[1].m.end, HTTP_END_GUESSED);
	assert_int_equal(rec.ends[2].m.end, HTTP_END_FRAMED); /* equal values are fine */
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_head_cut_by_a_gap_is_reported_and_ends_with_its_segment(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	/* a 256-byte capture of a request with big headers and a body */
	feed("POST /api/v1/items?id=3 HTTP/1.1\r\nHost: example\r\nCookie: aaaa", 2000);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.method, USM_HTTP_METHOD_POST);
	assert_string_equal(rec.ends[0].path, "/api/v1/items");
	assert_false(rec.ends[0].m.path_cut);
	assert_false(rec.ends[0].m.head_complete);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_GUESSED);
	assert_int_equal(rec.ends[0].m.bytes, 2000);
	assert_int_equal(stream.counters.truncated, 1);
	/* its body in a later write is skipped silently */
	feed("{\"json\": true}", 0);
	/* a path cut by the gap is reported cut */
	feed("GET /very/long/pa", 3000);
	assert_int_equal(rec.nends, 2);
	assert_string_equal(rec.ends[1].path, "/very/long/pa");
	assert_true(rec.ends[1].m.path_cut);
	assert_int_equal(stream.counters.garbage, 0);
	assert_int_equal(stream.counters.desync, 0);
	assert_bytes_accounted();
}

static void test_chunk_size_line_in_a_gap_desyncs_until_a_segment_starts_a_message(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0);
	/* chunk data, its CRLF and the next chunk-size line all in one write */
	feed("10\r\n0123", 4 + 16 + 2 + 3 + 100);
	assert_int_equal(stream.counters.desync, 1);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_LOST);
	feed("more body, not a status line", 500);
	feed("0\r\n\r\n", 0);
	assert_int_equal(rec.nheads, 1);
	feed("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	assert_int_equal(rec.ends[1].m.end, HTTP_END_FRAMED);
	assert_int_equal(stream.counters.desync, 1);
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_invalid_chunk_size_is_a_desync(void **state)
{
	(void)state;
	start(HTTP_STREAM_RESPONSES, 64);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0);
	assert_int_equal(stream.counters.desync, 1);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_LOST);
	feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab", 0);
	assert_int_equal(stream.counters.desync, 2); /* no CRLF after the chunk */
	assert_bytes_accounted();
}

static void test_message_starting_in_a_gap_counts_one_desync_and_resyncs(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	/* two pipelined requests in one write, the second not captured */
	feed("GET /1 HTTP/1.1\r\n\r\n", 100);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(stream.counters.desync, 1);
	/* a write of which nothing was captured */
	feed("", 50);
	assert_int_equal(stream.counters.desync, 1);
	feed("GET /3 HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nends, 2);
	/* the second one's method captured: it is reported, cut */
	feed("GET /4 HTTP/1.1\r\n\r\nGET /5", 100);
	assert_int_equal(rec.nends, 4);
	assert_string_equal(rec.ends[3].path, "/5");
	assert_true(rec.ends[3].m.path_cut);
	assert_int_equal(rec.ends[3].m.end, HTTP_END_GUESSED);
	assert_int_equal(stream.counters.desync, 1);
	assert_int_equal(stream.counters.truncated, 1);
	assert_bytes_accounted();
}

static void test_empty_lines_before_a_request_are_skipped(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nx\r\n", 0);
	feed("\r\nGET /b HTTP/1.1\n\n", 0); /* bare LF accepted too */
	assert_int_equal(rec.nends, 2);
	assert_string_equal(rec.ends[1].path, "/b");
	assert_int_equal(stream.counters.garbage, 0);
	assert_bytes_accounted();
}

static void test_close_in_the_middle_of_a_body_ends_it_lost(void **state)
{
	(void)state;
	start(HTTP_STREAM_REQUESTS, 64);
	feed("PUT /f HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", 0);
	http_stream_finish(&stream, &rec_sink, &rec);
	assert_int_equal(rec.nends, 1);
	assert_int_equal(rec.ends[0].m.end, HTTP_END_LOST);
	/* a start line cut by the close is reported with what was read */
	start(HTTP_STREAM_REQUESTS, 64);
	feed("GET /par", 0);
	http_stream_finish(&stream, &rec_sink, &rec);
	assert_int_equal(rec.nends, 1);
	assert_true(rec.ends[0].m.path_cut);
	assert_false(rec.ends[0].m.head_complete);
	assert_bytes_accounted();
}

static void test_invalid_limits_are_refused_and_the_stream_parses_nothing(void **state)
{
	(void)state;
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(http_stream_init(&stream, HTTP_STREAM_REQUESTS, 0, 8192), -EINVAL);
	assert_int_equal(http_stream_init(&stream, HTTP_STREAM_REQUESTS, HTTP_PATH_MAX + 1, 8192),
			 -EINVAL);
	assert_int_equal(http_stream_init(&stream, HTTP_STREAM_REQUESTS, 64, 10), -EINVAL);
	assert_int_equal(http_stream_init(&stream, (enum http_stream_kind)7, 64, 8192), -EINVAL);
	assert_int_equal(feed("GET / HTTP/1.1\r\n\r\n", 0), HTTP_FEED_STOPPED);
	assert_int_equal(rec.nheads, 0);
	assert_int_equal(http_stream_init(&stream, HTTP_STREAM_REQUESTS, HTTP_PATH_MAX, 8192), 0);
}

/* The parser reads the methods the records carry, spelled as
 * usm_http_method_name() spells them, and no other. */
static void test_every_named_method_is_read_as_its_enum_value(void **state)
{
	(void)state;
	for (uint8_t m = USM_HTTP_METHOD_GET; m < USM_HTTP_METHOD_COUNT; m++) {
		char req[64];
		snprintf(req, sizeof(req), "%s /x HTTP/1.1\r\n\r\n", usm_http_method_name(m));
		start(HTTP_STREAM_REQUESTS, 64);
		assert_int_equal(feed(req, 0), HTTP_FEED_OK);
		assert_int_equal(rec.nheads, 1);
		assert_int_equal(rec.heads[0].m.method, m);
	}
}

/* Methods outside the nine (WebDAV's, PURGE, SSDP's M-SEARCH...) are
 * requests of an unknown method, once their request line ends with
 * HTTP/1.x; anything else shaped like one is garbage, and a head cut
 * before its version is not reported (it may not be HTTP at all). */
static void test_extension_methods_are_requests_of_unknown_method(void **state)
{
	(void)state;
	static const char *const ok[] = {"PURGE", "PROPFIND", "MKCOL", "M-SEARCH", "BREW",
					 "BASELINE-CONTROL", "GETX"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char req[96];
		snprintf(req, sizeof(req), "%s /p HTTP/1.1\r\nContent-Length: 2\r\n\r\nab", ok[i]);
		start(HTTP_STREAM_REQUESTS, 64);
		assert_int_equal(feed(req, 0), HTTP_FEED_OK);
		assert_int_equal(rec.nheads, 1);
		assert_int_equal(rec.heads[0].m.method, USM_HTTP_METHOD_UNKNOWN);
		assert_int_equal(rec.nends, 1); /* its body framed like any request's */
		assert_string_equal(rec.ends[0].path, "/p");
		assert_int_equal(stream.counters.garbage, 0);
	}
	static const char *const bad[] = {
		"BR3W /pot HTTP/1.1\r\n\r\n",  /* a digit */
		"Brew /pot HTTP/1.1\r\n\r\n",  /* lower case */
		"-BREW /pot HTTP/1.1\r\n\r\n", /* starts with '-' */
		"AB /pot HTTP/1.1\r\n\r\n",    /* shorter than any method */
		"BREW /pot\r\n\r\n",           /* no version */
		"BREW /pot HTTP/2.0\r\n\r\n",
		"ABCDEFGHIJKLMNOPQRSTU /pot HTTP/1.1\r\n\r\n", /* 21 letters */
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(HTTP_STREAM_REQUESTS, 64);
		feed(bad[i], 0);
		if (rec.nheads != 0 || stream.counters.garbage != 1)
			fail_msg("%s: heads %u garbage %llu", bad[i], rec.nheads,
				 (unsigned long long)stream.counters.garbage);
	}
	/* cut before its version: nothing reported */
	start(HTTP_STREAM_REQUESTS, 64);
	feed("PURGE /a/very/long", 300); /* 300 bytes written, these captured */
	http_stream_finish(&stream, &rec_sink, &rec);
	assert_int_equal(rec.nheads, 0);
	/* a response stream takes none */
	start(HTTP_STREAM_RESPONSES, 64);
	feed("PURGE /p HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(rec.nheads, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_line_split_into_one_byte_segments_is_read),
		cmocka_unit_test(test_status_line_split_into_one_byte_segments_is_read),
		cmocka_unit_test(
			test_keep_alive_requests_with_length_and_chunked_bodies_are_framed),
		cmocka_unit_test(test_pipelined_requests_in_one_write_are_all_read),
		cmocka_unit_test(
			test_chunked_body_with_trailers_and_chunk_split_mid_line_is_framed),
		cmocka_unit_test(test_header_split_across_segments_still_frames_the_body),
		cmocka_unit_test(test_body_bytes_in_gaps_are_counted_to_find_the_next_message),
		cmocka_unit_test(test_query_string_and_fragment_are_stripped_from_the_path),
		cmocka_unit_test(test_long_path_is_cut_at_max_path_len),
		cmocka_unit_test(test_garbage_then_valid_request_resyncs_and_counts_garbage_once),
		cmocka_unit_test(test_extension_methods_are_requests_of_unknown_method),
		cmocka_unit_test(test_http09_and_malformed_request_lines_are_garbage),
		cmocka_unit_test(test_status_600_and_abc_are_rejected_as_garbage),
		cmocka_unit_test(test_requests_are_refused_by_a_response_stream),
		cmocka_unit_test(test_oversized_headers_are_counted_and_resynced),
		cmocka_unit_test(test_tls_records_are_not_http_and_not_garbage),
		cmocka_unit_test(test_tls_after_connect_request_stops_quietly),
		cmocka_unit_test(test_response_to_head_has_no_body_though_it_has_a_length),
		cmocka_unit_test(test_1xx_204_and_304_have_no_body),
		cmocka_unit_test(test_101_and_2xx_to_connect_stop_the_stream),
		cmocka_unit_test(test_http10_response_without_length_ends_at_close),
		cmocka_unit_test(
			test_transfer_encoding_without_chunked_reads_a_response_until_close),
		cmocka_unit_test(test_conflicting_lengths_end_the_message_with_its_segment),
		cmocka_unit_test(test_head_cut_by_a_gap_is_reported_and_ends_with_its_segment),
		cmocka_unit_test(
			test_chunk_size_line_in_a_gap_desyncs_until_a_segment_starts_a_message),
		cmocka_unit_test(test_invalid_chunk_size_is_a_desync),
		cmocka_unit_test(test_message_starting_in_a_gap_counts_one_desync_and_resyncs),
		cmocka_unit_test(test_empty_lines_before_a_request_are_skipped),
		cmocka_unit_test(test_close_in_the_middle_of_a_body_ends_it_lost),
		cmocka_unit_test(test_invalid_limits_are_refused_and_the_stream_parses_nothing),
		cmocka_unit_test(test_every_named_method_is_read_as_its_enum_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
