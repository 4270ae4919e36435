/* Pairing requests with responses on one connection: pipelining, interim
 * and bodiless responses, expiry, overflow, close, protocol switches, and
 * finding which direction carries requests. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_pair.h"

/* ---- a sink that records exchanges and unanswered requests ---- */

#define MAX_SEEN 128

struct exchange_seen {
	struct http_exchange x;
	char path[HTTP_PATH_MAX + 1];
};

struct unanswered_seen {
	enum usm_http_method method;
	bool path_cut;
	char path[HTTP_PATH_MAX + 1];
};

struct recorder {
	struct exchange_seen ex[MAX_SEEN];
	unsigned nex;
	struct unanswered_seen un[MAX_SEEN];
	unsigned nun;
};

static void rec_exchange(void *ctx, const struct http_exchange *x)
{
	struct recorder *r = ctx;
	assert_true(r->nex < MAX_SEEN);
	assert_int_equal(strlen(x->path), x->path_len);
	r->ex[r->nex].x = *x;
	memcpy(r->ex[r->nex].path, x->path, x->path_len + 1);
	r->ex[r->nex].x.path = r->ex[r->nex].path;
	r->nex++;
}

static void rec_unanswered(void *ctx, enum usm_http_method method, const char *path, bool path_cut)
{
	struct recorder *r = ctx;
	assert_true(r->nun < MAX_SEEN);
	r->un[r->nun].method = method;
	r->un[r->nun].path_cut = path_cut;
	snprintf(r->un[r->nun].path, sizeof(r->un[r->nun].path), "%s", path);
	r->nun++;
}

static const struct http_sink sink = {
	.on_exchange = rec_exchange,
	.on_unanswered = rec_unanswered,
};

static struct http_conn conn;
static struct recorder rec;

static void open_conn(enum http_role role, unsigned max_pending)
{
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	lim.max_pending = max_pending;
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(http_conn_init(&conn, &lim, role), 0);
}

static int feed(enum http_dir dir, const char *text, size_t total, uint64_t ts)
{
	size_t captured = strlen(text);
	return http_conn_feed(&conn, dir, (const uint8_t *)text, captured,
			      total > captured ? total : captured, ts, &sink, &rec);
}

/* The server's view: requests are read, responses written. */
static int request(const char *text, uint64_t ts)
{
	return feed(HTTP_DIR_READ, text, 0, ts);
}

static int response(const char *text, uint64_t ts)
{
	return feed(HTTP_DIR_WRITE, text, 0, ts);
}

/* The counters' promises, once closed. */
static void close_and_check(void)
{
	const struct http_conn_counters *k = &conn.counters;
	http_conn_close(&conn, &sink, &rec);
	assert_int_equal(http_conn_pending(&conn), 0);
	assert_null(conn.pending);
	assert_int_equal(k->requests,
			 k->exchanges + k->unanswered + k->overflow + k->untracked + k->abandoned);
	assert_int_equal(k->responses, k->exchanges + k->orphan_responses);
	assert_int_equal(k->exchanges, rec.nex);
	assert_int_equal(k->unanswered, rec.nun);
}

/* ---- tests ---- */

static void test_one_exchange_reports_method_path_status_latency_and_bytes(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("POST /orders?id=1 HTTP/1.1\r\nContent-Length: 4\r\n\r\n", 1000);
	request("abcd", 1500);
	response("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", 4000);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.method, USM_HTTP_METHOD_POST);
	assert_string_equal(rec.ex[0].path, "/orders");
	assert_false(rec.ex[0].x.path_cut);
	assert_int_equal(rec.ex[0].x.status, 201);
	assert_int_equal(rec.ex[0].x.request_ts_ns, 1000);
	assert_int_equal(rec.ex[0].x.latency_ns, 3000);
	assert_int_equal(rec.ex[0].x.request_bytes,
			 strlen("POST /orders?id=1 HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"));
	assert_int_equal(rec.ex[0].x.response_bytes,
			 strlen("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"));
	assert_true(rec.ex[0].x.bytes_exact);
	assert_int_equal(http_conn_pending(&conn), 0);
	close_and_check();
	assert_int_equal(rec.nun, 0);
}

static void test_pipelined_requests_pair_with_their_responses_in_order(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", 100);
	request("GET /3 HTTP/1.1\r\n\r\n", 200);
	assert_int_equal(http_conn_pending(&conn), 3);
	response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"
		 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		 1000);
	response("HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n", 2000);
	assert_int_equal(rec.nex, 3);
	assert_string_equal(rec.ex[0].path, "/1");
	assert_int_equal(rec.ex[0].x.status, 200);
	assert_int_equal(rec.ex[0].x.latency_ns, 900);
	assert_string_equal(rec.ex[1].path, "/2");
	assert_int_equal(rec.ex[1].x.status, 404);
	assert_int_equal(rec.ex[1].x.latency_ns, 900);
	assert_string_equal(rec.ex[2].path, "/3");
	assert_int_equal(rec.ex[2].x.status, 500);
	assert_int_equal(rec.ex[2].x.latency_ns, 1800);
	close_and_check();
}

static void test_head_response_with_length_has_no_body_before_the_next_response(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("HEAD /file HTTP/1.1\r\n\r\nGET /file HTTP/1.1\r\n\r\n", 10);
	response("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 20);
	response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 30);
	assert_int_equal(rec.nex, 2);
	assert_int_equal(rec.ex[0].x.method, USM_HTTP_METHOD_HEAD);
	assert_int_equal(rec.ex[0].x.response_bytes,
			 strlen("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"));
	assert_int_equal(rec.ex[1].x.method, USM_HTTP_METHOD_GET);
	assert_int_equal(rec.ex[1].x.latency_ns, 20);
	assert_int_equal(conn.stream[HTTP_DIR_WRITE].counters.garbage, 0);
	close_and_check();
}

static void test_100_continue_then_200_pairs_once(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("PUT /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n", 100);
	response("HTTP/1.1 100 Continue\r\n\r\n", 150);
	assert_int_equal(rec.nex, 0);
	request("xyz", 200);
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 300);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.status, 200);
	assert_int_equal(rec.ex[0].x.latency_ns, 200);
	assert_true(rec.ex[0].x.bytes_exact);
	assert_int_equal(conn.counters.interim, 1);
	close_and_check();
}

static void test_204_and_304_responses_have_no_body(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("DELETE /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\nGET /z HTTP/1.1\r\n\r\n", 1);
	response("HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"
		 "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
		 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		 2);
	assert_int_equal(rec.nex, 3);
	assert_int_equal(rec.ex[0].x.status, 204);
	assert_int_equal(rec.ex[1].x.status, 304);
	assert_int_equal(rec.ex[2].x.status, 200);
	close_and_check();
}

static void test_response_bodies_in_gaps_still_pair_the_next_exchange(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /a HTTP/1.1\r\n\r\n", 10);
	feed(HTTP_DIR_WRITE, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<html>", 16384, 20);
	feed(HTTP_DIR_WRITE, "<div>", 16384, 21);
	feed(HTTP_DIR_WRITE, "</div>", 100000 - 2 * 16384 + 43, 22);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.response_bytes, 100043);
	request("GET /b HTTP/1.1\r\n\r\n", 30);
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 40);
	assert_int_equal(rec.nex, 2);
	assert_string_equal(rec.ex[1].path, "/b");
	close_and_check();
}

static void test_unanswered_request_expires_and_is_reported(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /slow HTTP/1.1\r\n\r\n", 1000);
	request("GET /later HTTP/1.1\r\n\r\n", 5000);
	assert_int_equal(http_conn_expire(&conn, 3000, 2000, &sink, &rec), 0); /* not older yet */
	assert_int_equal(http_conn_expire(&conn, 3001, 2000, &sink, &rec), 1);
	assert_int_equal(rec.nun, 1);
	assert_int_equal(rec.un[0].method, USM_HTTP_METHOD_GET);
	assert_string_equal(rec.un[0].path, "/slow");
	assert_int_equal(conn.counters.unanswered, 1);
	/* the next response answers the request still waiting */
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 6000);
	assert_int_equal(rec.nex, 1);
	assert_string_equal(rec.ex[0].path, "/later");
	close_and_check();
}

static void test_request_whose_response_is_being_read_does_not_expire(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /stream HTTP/1.1\r\n\r\n", 1000);
	response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 2000);
	assert_int_equal(http_conn_expire(&conn, 1000000, 10, &sink, &rec), 0);
	response("5\r\nhello\r\n0\r\n\r\n", 900000);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.latency_ns, 1000);
	close_and_check();
	assert_int_equal(rec.nun, 0);
}

static void test_fifo_overflow_counts_and_drops_the_oldest(void **state)
{
	(void)state;
	char line[64];
	open_conn(HTTP_ROLE_SERVER, 4);
	for (int i = 0; i < 6; i++) {
		snprintf(line, sizeof(line), "GET /%d HTTP/1.1\r\n\r\n", i);
		request(line, 100 + (uint64_t)i);
	}
	assert_int_equal(conn.counters.overflow, 2);
	assert_int_equal(http_conn_pending(&conn), 4);
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1000);
	assert_int_equal(rec.nex, 1);
	assert_string_equal(rec.ex[0].path, "/2");
	/* while a response is read, its request is kept (max_pending + 1 in
	 * all) and the next oldest goes */
	response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 1001);
	request("GET /6 HTTP/1.1\r\n\r\n", 1002);
	request("GET /7 HTTP/1.1\r\n\r\n", 1003);
	assert_int_equal(conn.counters.overflow, 2);
	assert_int_equal(http_conn_pending(&conn), 5);
	request("GET /8 HTTP/1.1\r\n\r\n", 1004);
	assert_int_equal(conn.counters.overflow, 3);
	response("0123456789", 1005);
	assert_int_equal(rec.nex, 2);
	assert_string_equal(rec.ex[1].path, "/3");
	assert_int_equal(http_conn_pending(&conn), 4); /* /5 /6 /7 /8 */
	close_and_check();
	assert_int_equal(rec.nun, 4);
	assert_string_equal(rec.un[0].path, "/5");
	assert_string_equal(rec.un[3].path, "/8");
}

static void test_close_reports_waiting_requests_unanswered(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n", 1);
	close_and_check();
	assert_int_equal(rec.nun, 2);
	assert_int_equal(rec.un[0].method, USM_HTTP_METHOD_GET);
	assert_string_equal(rec.un[0].path, "/a");
	assert_int_equal(rec.un[1].method, USM_HTTP_METHOD_POST);
	/* closing twice reports nothing more; feeding a closed one is ignored */
	http_conn_close(&conn, &sink, &rec);
	assert_int_equal(rec.nun, 2);
	assert_int_equal(request("GET /c HTTP/1.1\r\n\r\n", 2), HTTP_FEED_STOPPED);
}

static void test_http10_response_without_length_ends_at_close_and_pairs(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_CLIENT, 64);
	feed(HTTP_DIR_WRITE, "GET /old HTTP/1.0\r\n\r\n", 0, 10);
	feed(HTTP_DIR_READ, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody", 0, 50);
	feed(HTTP_DIR_READ, "more", 2000, 60);
	assert_int_equal(rec.nex, 0);
	close_and_check();
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.status, 200);
	assert_int_equal(rec.ex[0].x.latency_ns, 40);
	assert_true(rec.ex[0].x.bytes_exact);
	assert_int_equal(rec.ex[0].x.response_bytes,
			 strlen("HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody") + 2000);
	assert_int_equal(rec.nun, 0);
}

static void test_101_switching_protocols_answers_and_stops_parsing(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		"GET /pipelined HTTP/1.1\r\n\r\n",
		100);
	assert_int_equal(
		response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 200),
		HTTP_FEED_STOPPED);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.status, 101);
	assert_string_equal(rec.ex[0].path, "/ws");
	assert_int_equal(conn.counters.abandoned, 1);
	/* websocket frames both ways: nothing is counted */
	assert_int_equal(request("\x81\x85\x01\x02\x03\x04hello", 300), HTTP_FEED_STOPPED);
	assert_int_equal(response("GET / HTTP/1.1\r\n\r\n", 400), HTTP_FEED_STOPPED);
	assert_int_equal(conn.stream[HTTP_DIR_READ].counters.garbage, 0);
	assert_int_equal(conn.counters.requests, 2);
	close_and_check();
	assert_int_equal(rec.nun, 0);
}

static void test_connect_tunnel_pairs_and_stops_even_if_tls_comes_first(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_CLIENT, 64);
	feed(HTTP_DIR_WRITE, "CONNECT db:443 HTTP/1.1\r\n\r\n", 0, 10);
	feed(HTTP_DIR_READ, "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 0\r\n\r\n", 0, 20);
	feed(HTTP_DIR_WRITE, "CONNECT db:443 HTTP/1.1\r\nProxy-Authorization: x\r\n\r\n", 0, 30);
	/* the client's ClientHello reaches us before the proxy's 200 */
	assert_int_equal(feed(HTTP_DIR_WRITE, "\x16\x03\x01\x02\x00", 517, 40), HTTP_FEED_OK);
	assert_int_equal(feed(HTTP_DIR_READ, "HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03", 0, 50),
			 HTTP_FEED_STOPPED);
	assert_int_equal(rec.nex, 2);
	assert_int_equal(rec.ex[0].x.status, 407);
	assert_int_equal(rec.ex[1].x.status, 200);
	assert_string_equal(rec.ex[1].path, "db:443");
	assert_int_equal(conn.stream[HTTP_DIR_WRITE].counters.not_http, 0);
	close_and_check();
}

static void test_tls_records_make_the_connection_not_http(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_UNKNOWN, 64);
	assert_int_equal(feed(HTTP_DIR_READ, "\x16\x03\x01\x00\xc8\x01", 205, 1),
			 HTTP_FEED_NOT_HTTP);
	assert_int_equal(feed(HTTP_DIR_WRITE, "GET / HTTP/1.1\r\n\r\n", 0, 2), HTTP_FEED_NOT_HTTP);
	assert_int_equal(conn.stream[HTTP_DIR_READ].counters.not_http, 1);
	assert_int_equal(conn.stream[HTTP_DIR_READ].counters.garbage, 0);
	assert_int_equal(conn.counters.requests, 0);
	close_and_check();
}

static void test_direction_is_detected_from_a_request_read_by_a_server(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_UNKNOWN, 64);
	assert_int_equal(http_conn_request_dir(&conn), -1);
	feed(HTTP_DIR_READ, "GET /s HTTP/1.1\r\n\r\n", 0, 1);
	assert_int_equal(http_conn_request_dir(&conn), HTTP_DIR_READ);
	feed(HTTP_DIR_WRITE, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 2);
	assert_int_equal(rec.nex, 1);
	assert_string_equal(rec.ex[0].path, "/s");
	/* a request line written by this process is now garbage */
	feed(HTTP_DIR_WRITE, "GET /no HTTP/1.1\r\n\r\n", 0, 3);
	assert_int_equal(conn.stream[HTTP_DIR_WRITE].counters.garbage, 1);
	close_and_check();
}

static void test_direction_is_detected_from_a_request_written_by_a_client(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_UNKNOWN, 64);
	feed(HTTP_DIR_WRITE, "PATCH /c HTTP/1.1\r\nContent-Length: 1\r\n\r\n1", 0, 1);
	assert_int_equal(http_conn_request_dir(&conn), HTTP_DIR_WRITE);
	feed(HTTP_DIR_READ, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 5);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.method, USM_HTTP_METHOD_PATCH);
	assert_int_equal(rec.ex[0].x.latency_ns, 4);
	close_and_check();
}

static void test_direction_is_detected_from_a_first_response_as_an_orphan(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_UNKNOWN, 64);
	/* observation began mid-exchange: the response comes first */
	feed(HTTP_DIR_READ, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 1);
	assert_int_equal(http_conn_request_dir(&conn), HTTP_DIR_WRITE);
	assert_int_equal(conn.counters.orphan_responses, 1);
	feed(HTTP_DIR_WRITE, "GET /next HTTP/1.1\r\n\r\n", 0, 2);
	feed(HTTP_DIR_READ, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 3);
	assert_int_equal(rec.nex, 1);
	close_and_check();
}

static void test_response_older_than_the_oldest_request_is_an_orphan(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("GET /late HTTP/1.1\r\n\r\n", 500);
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 400);
	assert_int_equal(conn.counters.orphan_responses, 1);
	assert_int_equal(rec.nex, 0);
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 600);
	assert_int_equal(rec.nex, 1);
	close_and_check();
}

static void test_long_path_is_cut_and_reported_cut(void **state)
{
	(void)state;
	struct http_limits lim = {.max_path_len = 10, .max_header_bytes = 8192, .max_pending = 8};
	memset(&rec, 0, sizeof(rec));
	assert_int_equal(http_conn_init(&conn, &lim, HTTP_ROLE_SERVER), 0);
	request("GET /0123456789abcdef?x=1 HTTP/1.1\r\n\r\nGET /short HTTP/1.1\r\n\r\n", 1);
	response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2);
	assert_int_equal(rec.nex, 1);
	assert_string_equal(rec.ex[0].path, "/012345678");
	assert_true(rec.ex[0].x.path_cut);
	close_and_check();
	assert_string_equal(rec.un[0].path, "/short");
	assert_false(rec.un[0].path_cut);
}

static void test_early_response_reports_request_bytes_as_a_lower_bound(void **state)
{
	(void)state;
	open_conn(HTTP_ROLE_SERVER, 64);
	request("POST /up HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n", 1);
	response("HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 2);
	assert_int_equal(rec.nex, 1);
	assert_int_equal(rec.ex[0].x.status, 413);
	assert_false(rec.ex[0].x.bytes_exact);
	request("x", 999999); /* the rest of the upload ends the request */
	close_and_check();
}

static void test_invalid_arguments_are_refused(void **state)
{
	(void)state;
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	memset(&rec, 0, sizeof(rec));
	lim.max_pending = 0;
	assert_int_equal(http_conn_init(&conn, &lim, HTTP_ROLE_SERVER), -EINVAL);
	assert_int_equal(request("GET / HTTP/1.1\r\n\r\n", 1), HTTP_FEED_STOPPED);
	http_conn_close(&conn, &sink, &rec);
	lim = (struct http_limits)HTTP_LIMITS_DEFAULT;
	lim.max_path_len = HTTP_PATH_MAX + 1;
	assert_int_equal(http_conn_init(&conn, &lim, HTTP_ROLE_SERVER), -EINVAL);
	assert_int_equal(http_conn_init(&conn, NULL, HTTP_ROLE_SERVER), -EINVAL);
	lim = (struct http_limits)HTTP_LIMITS_DEFAULT;
	assert_int_equal(http_conn_init(&conn, &lim, (enum http_role)9), -EINVAL);
	assert_int_equal(http_conn_init(&conn, &lim, HTTP_ROLE_SERVER), 0);
	assert_int_equal(
		http_conn_feed(&conn, (enum http_dir)2, (const uint8_t *)"x", 1, 1, 0, &sink, &rec),
		-EINVAL);
	close_and_check();
}

static void test_connection_struct_stays_small(void **state)
{
	(void)state;
	/* about 10k of them live at once */
	assert_true(sizeof(struct http_conn) <= 1100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_exchange_reports_method_path_status_latency_and_bytes),
		cmocka_unit_test(test_pipelined_requests_pair_with_their_responses_in_order),
		cmocka_unit_test(
			test_head_response_with_length_has_no_body_before_the_next_response),
		cmocka_unit_test(test_100_continue_then_200_pairs_once),
		cmocka_unit_test(test_204_and_304_responses_have_no_body),
		cmocka_unit_test(test_response_bodies_in_gaps_still_pair_the_next_exchange),
		cmocka_unit_test(test_unanswered_request_expires_and_is_reported),
		cmocka_unit_test(test_request_whose_response_is_being_read_does_not_expire),
		cmocka_unit_test(test_fifo_overflow_counts_and_drops_the_oldest),
		cmocka_unit_test(test_close_reports_waiting_requests_unanswered),
		cmocka_unit_test(test_http10_response_without_length_ends_at_close_and_pairs),
		cmocka_unit_test(test_101_switching_protocols_answers_and_stops_parsing),
		cmocka_unit_test(test_connect_tunnel_pairs_and_stops_even_if_tls_comes_first),
		cmocka_unit_test(test_tls_records_make_the_connection_not_http),
		cmocka_unit_test(test_direction_is_detected_from_a_request_read_by_a_server),
		cmocka_unit_test(test_direction_is_detected_from_a_request_written_by_a_client),
		cmocka_unit_test(test_direction_is_detected_from_a_first_response_as_an_orphan),
		cmocka_unit_test(test_response_older_than_the_oldest_request_is_an_orphan),
		cmocka_unit_test(test_long_path_is_cut_and_reported_cut),
		cmocka_unit_test(test_early_response_reports_request_bytes_as_a_lower_bound),
		cmocka_unit_test(test_invalid_arguments_are_refused),
		cmocka_unit_test(test_connection_struct_stays_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
