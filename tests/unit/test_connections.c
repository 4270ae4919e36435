/* The connection table: capture events in, aggregated exchanges out, with
 * the rules of collector/connections.h (role, server key, counting an
 * exchange once when both ends are captured, bounds, expiry). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "connections.h"
#include "data_event.h"

#define MS 1000000ull

static struct http_stats *stats;
static struct conn_table *table;

static const struct conn_limits default_limits = {
	.max_connections = 16,
	.request_timeout_ns = 1000 * MS,
	.idle_timeout_ns = 60000 * MS,
	.http = HTTP_LIMITS_DEFAULT,
};

static int setup_with(const struct conn_limits *lim)
{
	struct http_stats_limits sl = {.max_entries = 100, .max_path_len = 128};
	stats = http_stats_new(&sl);
	table = conn_table_new(lim, stats);
	return stats && table ? 0 : -1;
}

static int setup(void **state)
{
	(void)state;
	return setup_with(&default_limits);
}

static int teardown(void **state)
{
	(void)state;
	conn_table_free(table);
	http_stats_free(stats);
	return 0;
}

/* 127.0.0.1:port_a <-> 127.0.0.1:port_b as seen from a (local a). */
static struct usm_conn_tuple tuple(uint16_t local, uint16_t remote)
{
	struct usm_conn_tuple t;
	memset(&t, 0, sizeof(t));
	t.family = AF_INET;
	uint32_t lo = htonl(INADDR_LOOPBACK);
	memcpy(t.laddr, &lo, 4);
	memcpy(t.raddr, &lo, 4);
	t.lport = local;
	t.rport = remote;
	return t;
}

static const struct usm_conn_tuple unknown_tuple;

/* One DATA event of the whole text (captured entirely), through the
 * decoder as the collector does it. */
static void feed(uint32_t pid, const char *comm, uint8_t tls, uint64_t conn, uint8_t dir,
		 const struct usm_conn_tuple *t, uint64_t ts_ms, const char *text)
{
	size_t n = strlen(text);
	struct usm_data_event *e = calloc(1, sizeof(*e) + n + 8);
	assert_non_null(e);
	e->type = n ? USM_EVENT_DATA : USM_EVENT_CONN_CLOSE;
	e->pid = pid;
	e->tid = pid;
	e->dir = dir;
	e->tls = tls;
	e->captured = (uint16_t)n;
	e->len = (uint32_t)n;
	e->next = (uint32_t)n;
	e->conn = conn;
	e->ts_ns = ts_ms * MS;
	e->tuple = *t;
	strncpy(e->comm, comm, sizeof(e->comm) - 1);
	memcpy(e->data, text, n);
	const uint8_t *data;
	assert_int_equal(data_event_check(e, sizeof(*e) + n, &data), DATA_EVENT_OK);
	conn_table_event(table, e, data);
	free(e);
}

static void closed(uint32_t pid, uint8_t tls, uint64_t conn, uint64_t ts_ms)
{
	feed(pid, "", tls, conn, 0, &unknown_tuple, ts_ms, "");
}

/* A CONN_CLOSE or CONN_BIND of a TLS session, with its tuple. */
static void session_event(uint32_t type, uint32_t pid, uint64_t conn,
			  const struct usm_conn_tuple *t, uint64_t ts_ms)
{
	struct usm_data_event e;
	memset(&e, 0, sizeof(e));
	e.type = type;
	e.pid = e.tid = pid;
	e.tls = 1;
	e.conn = conn;
	e.ts_ns = ts_ms * MS;
	e.tuple = *t;
	const uint8_t *data;
	assert_int_equal(data_event_check(&e, sizeof(e), &data), DATA_EVENT_OK);
	conn_table_event(table, &e, data);
}

static const char req_a[] = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
static const char resp_200[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char resp_404[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

/* The row of (port, pid, comm, GET, path, status), or fails. */
static struct http_stats_row row_of(const struct usm_conn_tuple *server, bool local, uint32_t pid,
				    const char *comm, const char *path, uint16_t status)
{
	struct http_stats_key k;
	memset(&k, 0, sizeof(k));
	k.family = server->family;
	memcpy(k.addr, local ? server->laddr : server->raddr, 16);
	k.port = local ? server->lport : server->rport;
	k.pid = pid;
	strncpy(k.comm, comm, sizeof(k.comm) - 1);
	k.method = USM_HTTP_METHOD_GET;
	k.status = status;
	k.path = path;
	k.path_len = strlen(path);
	struct http_stats_row row;
	int rc = http_stats_lookup(stats, &k, &row);
	if (rc != 0)
		fail_msg("no row for %s %u (rc %d)", path, status, rc);
	return row;
}

static void test_server_side_exchange_keyed_by_local_end(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40000);
	feed(10, "server", 0, 0xa, USM_DIR_READ, &s, 100, req_a);
	feed(10, "server", 0, 0xa, USM_DIR_WRITE, &s, 103, resp_200);
	struct http_stats_row r = row_of(&s, true, 10, "server", "/a", 200);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.bytes, strlen(req_a) + strlen(resp_200));
	assert_true(sketch_quantile(r.latency, 0.5) > 2.97e6 && sketch_quantile(r.latency, 0.5) < 3.03e6);
	assert_int_equal(conn_table_counters(table)->exchanges, 1);
	assert_int_equal(conn_table_count(table), 1);
}

static void test_client_side_alone_is_keyed_by_remote_end(void **state)
{
	(void)state;
	struct usm_conn_tuple c = tuple(40000, 8443);
	feed(20, "curl", 1, 0x5e55, USM_DIR_WRITE, &c, 100, req_a);
	feed(20, "curl", 1, 0x5e55, USM_DIR_READ, &c, 105, resp_404);
	/* server unknown to us: pid 0, comm "" */
	struct http_stats_row r = row_of(&c, false, 0, "", "/a", 404);
	assert_int_equal(r.count, 1);
	assert_int_equal(conn_table_counters(table)->client_duplicates, 0);
}

static void test_both_ends_captured_count_once(void **state)
{
	(void)state;
	struct usm_conn_tuple srv = tuple(8080, 40000), cli = tuple(40000, 8080);
	feed(20, "curl", 0, 0xc, USM_DIR_WRITE, &cli, 100, req_a);
	feed(10, "server", 0, 0x5, USM_DIR_READ, &srv, 101, req_a);
	feed(10, "server", 0, 0x5, USM_DIR_WRITE, &srv, 102, resp_200);
	feed(20, "curl", 0, 0xc, USM_DIR_READ, &cli, 103, resp_200);
	assert_int_equal(http_stats_count(stats), 1);
	assert_int_equal(row_of(&srv, true, 10, "server", "/a", 200).count, 1);
	assert_int_equal(conn_table_counters(table)->client_duplicates, 1);
	assert_int_equal(conn_table_counters(table)->exchanges, 1);
}

/* A server that closes right after responding: its close is often seen
 * before the client reads the response. */
static void test_server_closing_first_still_counts_once(void **state)
{
	(void)state;
	struct usm_conn_tuple srv = tuple(8080, 40001), cli = tuple(40001, 8080);
	feed(20, "curl", 0, 0xc, USM_DIR_WRITE, &cli, 100, req_a);
	feed(10, "server", 0, 0x5, USM_DIR_READ, &srv, 101, req_a);
	feed(10, "server", 0, 0x5, USM_DIR_WRITE, &srv, 102, resp_200);
	closed(10, 0, 0x5, 102);
	feed(20, "curl", 0, 0xc, USM_DIR_READ, &cli, 103, resp_200);
	assert_int_equal(http_stats_count(stats), 1);
	assert_int_equal(conn_table_counters(table)->client_duplicates, 1);
	/* ... but not forever: the mark goes 10 s after the end */
	conn_table_expire(table, 20000 * MS);
	struct usm_conn_tuple cli2 = cli;
	feed(21, "curl", 0, 0xd, USM_DIR_WRITE, &cli2, 20001, req_a);
	feed(21, "curl", 0, 0xd, USM_DIR_READ, &cli2, 20002, resp_200);
	assert_int_equal(http_stats_count(stats), 2);
}

/* A TLS client's first write comes before its socket is known: the tuple
 * learned later keys the exchange. */
static void test_tls_tuple_learned_after_first_write(void **state)
{
	(void)state;
	struct usm_conn_tuple c = tuple(40002, 443);
	feed(30, "curl", 1, 0x55, USM_DIR_WRITE, &unknown_tuple, 100, req_a);
	feed(30, "curl", 1, 0x55, USM_DIR_READ, &c, 110, resp_200);
	assert_int_equal(row_of(&c, false, 0, "", "/a", 200).count, 1);
	assert_int_equal(conn_table_counters(table)->without_tuple, 0);
}

/* A TLS server whose session learns its socket only after its response
 * was written (a library fed through its own buffers, mod_ssl): the
 * exchange waits for the CONN_BIND, is keyed with the tuple, and the
 * client's report of it is then a duplicate: counted once. */
static void test_a_tls_exchange_waits_for_its_tuple_and_counts_once(void **state)
{
	(void)state;
	struct usm_conn_tuple srv = tuple(8443, 40100), cli = tuple(40100, 8443);
	feed(20, "curl", 1, 0xc1, USM_DIR_WRITE, &cli, 100, req_a);
	feed(40, "httpd", 1, 0x66, USM_DIR_READ, &unknown_tuple, 101, req_a);
	feed(40, "httpd", 1, 0x66, USM_DIR_WRITE, &unknown_tuple, 102, resp_200);
	assert_int_equal(http_stats_count(stats), 0); /* kept: no tuple yet */
	session_event(USM_EVENT_CONN_BIND, 40, 0x66, &srv, 102);
	assert_int_equal(row_of(&srv, true, 40, "httpd", "/a", 200).count, 1);
	feed(20, "curl", 1, 0xc1, USM_DIR_READ, &cli, 103, resp_200);
	assert_int_equal(http_stats_count(stats), 1);
	assert_int_equal(conn_table_counters(table)->client_duplicates, 1);
	assert_int_equal(conn_table_counters(table)->without_tuple, 0);
	/* a session that learns it only at its close: keyed with it too */
	struct usm_conn_tuple srv2 = tuple(8443, 40101);
	feed(40, "httpd", 1, 0x67, USM_DIR_READ, &unknown_tuple, 110, req_a);
	feed(40, "httpd", 1, 0x67, USM_DIR_WRITE, &unknown_tuple, 111, resp_404);
	session_event(USM_EVENT_CONN_CLOSE, 40, 0x67, &srv2, 112);
	assert_int_equal(row_of(&srv2, true, 40, "httpd", "/a", 404).count, 1);
	assert_int_equal(conn_table_counters(table)->without_tuple, 0);
}

/* A TLS session whose socket is never seen: its exchange still counts,
 * keyed with no address, once DEFER_NS (1 s) passed or at its close, and
 * is counted as such; a bind for a connection not tracked changes
 * nothing. */
static void test_exchange_without_a_tuple_is_counted_as_such(void **state)
{
	(void)state;
	feed(40, "httpd", 1, 0x66, USM_DIR_READ, &unknown_tuple, 100, req_a);
	feed(40, "httpd", 1, 0x66, USM_DIR_WRITE, &unknown_tuple, 102, resp_200);
	conn_table_expire(table, 600 * MS);
	assert_int_equal(http_stats_count(stats), 0);
	conn_table_expire(table, 1200 * MS);
	assert_int_equal(row_of(&unknown_tuple, true, 40, "httpd", "/a", 200).count, 1);
	assert_int_equal(conn_table_counters(table)->exchanges, 1);
	assert_int_equal(conn_table_counters(table)->without_tuple, 1);
	feed(40, "httpd", 1, 0x68, USM_DIR_READ, &unknown_tuple, 1300, req_a);
	feed(40, "httpd", 1, 0x68, USM_DIR_WRITE, &unknown_tuple, 1301, resp_200);
	closed(40, 1, 0x68, 1302);
	assert_int_equal(row_of(&unknown_tuple, true, 40, "httpd", "/a", 200).count, 2);
	assert_int_equal(conn_table_counters(table)->without_tuple, 2);
	struct usm_conn_tuple s = tuple(8080, 40000);
	session_event(USM_EVENT_CONN_BIND, 41, 0x99, &s, 1400);
	assert_int_equal(conn_table_count(table), 1); /* 0x66, still open: the bind made none */
	/* clear text is never kept */
	feed(40, "httpd", 0, 0x67, USM_DIR_READ, &s, 1500, req_a);
	feed(40, "httpd", 0, 0x67, USM_DIR_WRITE, &s, 1501, resp_200);
	assert_int_equal(conn_table_counters(table)->without_tuple, 2);
	assert_int_equal(conn_table_counters(table)->exchanges, 3);
}

static void test_tls_records_stop_parsing(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(443, 40003);
	static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	feed(40, "nginx", 0, 0x9, USM_DIR_READ, &s, 100, hello);
	assert_int_equal(conn_table_counters(table)->not_http, 1);
	/* later bytes, even HTTP-looking ones, are ignored */
	feed(40, "nginx", 0, 0x9, USM_DIR_READ, &s, 101, req_a);
	feed(40, "nginx", 0, 0x9, USM_DIR_WRITE, &s, 102, resp_200);
	assert_int_equal(http_stats_count(stats), 0);
	assert_int_equal(conn_table_counters(table)->events, 3);
	assert_int_equal(conn_table_counters(table)->parse_errors, 0);
}

static void test_garbage_is_counted_and_the_connection_recovers(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40004);
	feed(10, "server", 0, 0x1, USM_DIR_READ, &s, 100, "\x01\x02 not http at all\r\n");
	assert_int_equal(conn_table_counters(table)->parse_errors, 1);
	feed(10, "server", 0, 0x1, USM_DIR_READ, &s, 101, req_a);
	feed(10, "server", 0, 0x1, USM_DIR_WRITE, &s, 102, resp_200);
	assert_int_equal(row_of(&s, true, 10, "server", "/a", 200).count, 1);
}

/* One record of a call of len bytes: text is its bytes from offset, the
 * call's next record at next (usm_events.h). */
static void record(uint64_t conn, uint8_t dir, const struct usm_conn_tuple *t, uint64_t ts_ms,
		   const char *text, uint32_t offset, uint32_t next, uint32_t len,
		   uint32_t walk_seq)
{
	size_t n = strlen(text);
	struct usm_data_event *e = calloc(1, sizeof(*e) + n + 8);
	assert_non_null(e);
	e->type = USM_EVENT_DATA;
	e->pid = e->tid = 10;
	e->dir = dir;
	e->captured = (uint16_t)n;
	e->len = len;
	e->offset = offset;
	e->next = next;
	e->walk_seq = walk_seq;
	e->conn = conn;
	e->ts_ns = ts_ms * MS;
	e->tuple = *t;
	memcpy(e->comm, "server", 7);
	memcpy(e->data, text, n);
	const uint8_t *data;
	assert_int_equal(data_event_check(e, sizeof(*e) + n, &data), DATA_EVENT_OK);
	conn_table_event(table, e, data);
	free(e);
}

static const char req_b[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";

/* Pipelined requests in one read, as the kernel delivers a call past its
 * first record: each request counted and answered in order; a
 * continuation whose call's first record was lost is placed after a gap
 * (no wrong row), and one behind what was fed is dropped. */
static void test_a_call_in_several_records(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40010);
	size_t a = strlen(req_a), b = strlen(req_b);
	uint32_t len = (uint32_t)(a + b + a);
	char head[64];
	/* [0, 20) | [20, a + b) | the last request's first bytes lost | ... */
	memcpy(head, req_a, 20);
	head[20] = 0;
	record(0x7, USM_DIR_READ, &s, 100, head, 0, 20, len, 0);
	char mid[128];
	snprintf(mid, sizeof(mid), "%s%s", req_a + 20, req_b);
	record(0x7, USM_DIR_READ, &s, 100, mid, 20, (uint32_t)(a + b), len, 0);
	record(0x7, USM_DIR_READ, &s, 100, req_a, (uint32_t)(a + b), len, len, 0);
	record(0x7, USM_DIR_READ, &s, 100, req_b, 20, (uint32_t)(a + b), len, 0); /* behind: dropped */
	record(0x7, USM_DIR_WRITE, &s, 103, resp_200, 0, (uint32_t)strlen(resp_200),
	       (uint32_t)strlen(resp_200), 0);
	record(0x7, USM_DIR_WRITE, &s, 104, resp_404, 0, (uint32_t)strlen(resp_404),
	       (uint32_t)strlen(resp_404), 0);
	record(0x7, USM_DIR_WRITE, &s, 105, resp_200, 0, (uint32_t)strlen(resp_200),
	       (uint32_t)strlen(resp_200), 0);
	assert_int_equal(row_of(&s, true, 10, "server", "/a", 200).count, 2);
	assert_int_equal(row_of(&s, true, 10, "server", "/b", 404).count, 1);
	assert_int_equal(conn_table_counters(table)->exchanges, 3);
	assert_int_equal(conn_table_counters(table)->orphan_responses, 0);

	/* a call of 2 requests whose first record was lost: its second
	 * record (another ts) is fed after a gap, where the parser cannot
	 * know a message starts: desync counted, the stream resynchronises
	 * on the record's start line (not glued to the last call's bytes) */
	uint64_t errors = conn_table_counters(table)->parse_errors;
	record(0x7, USM_DIR_READ, &s, 200, req_b, (uint32_t)a, (uint32_t)(a + b),
	       (uint32_t)(a + b), 0);
	assert_int_equal(conn_table_counters(table)->parse_errors, errors + 1);
	record(0x7, USM_DIR_WRITE, &s, 201, resp_404, 0, (uint32_t)strlen(resp_404),
	       (uint32_t)strlen(resp_404), 0);
	assert_int_equal(row_of(&s, true, 10, "server", "/b", 404).count, 2);
}

/* An HTTP/2 connection the kernel walks numbers its calls: a number
 * skipped is a call lost whole, and that direction's framing with it. */
static void test_a_walked_call_lost_loses_the_framing(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40011);
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	uint32_t n = (uint32_t)strlen(preface);
	record(0x8, USM_DIR_READ, &s, 100, preface, 0, n, n, 1);
	assert_int_equal(conn_table_counters(table)->h2_connections, 1);
	/* a PING frame (8 bytes of payload), as call 2: in step */
	static const char ping[17] = {0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
	struct usm_data_event *e = calloc(1, sizeof(*e) + sizeof(ping));
	assert_non_null(e);
	for (uint32_t seq = 2; seq <= 4; seq += 2) { /* 2, then 4: call 3 was lost */
		memset(e, 0, sizeof(*e));
		e->type = USM_EVENT_DATA;
		e->pid = e->tid = 10;
		e->dir = USM_DIR_READ;
		e->captured = e->len = e->next = sizeof(ping);
		e->walk_seq = seq;
		e->conn = 0x8;
		e->ts_ns = (100 + seq) * MS;
		e->tuple = s;
		memcpy(e->comm, "server", 7);
		memcpy(e->data, ping, sizeof(ping));
		const uint8_t *data;
		assert_int_equal(data_event_check(e, sizeof(*e) + sizeof(ping), &data),
				 DATA_EVENT_OK);
		conn_table_event(table, e, data);
		assert_int_equal(conn_table_counters(table)->h2_framing_lost, seq == 4);
	}
	free(e);
}

/* One whole call of n bytes (binary allowed). */
static void call(uint64_t conn, uint8_t dir, const struct usm_conn_tuple *t, uint64_t ts_ms,
		 const void *bytes, size_t n)
{
	struct usm_data_event *e = calloc(1, sizeof(*e) + n);
	assert_non_null(e);
	e->type = USM_EVENT_DATA;
	e->pid = e->tid = 10;
	e->dir = dir;
	e->captured = (uint16_t)n;
	e->len = e->next = (uint32_t)n;
	e->conn = conn;
	e->ts_ns = ts_ms * MS;
	e->tuple = *t;
	memcpy(e->comm, "server", 7);
	memcpy(e->data, bytes, n);
	const uint8_t *data;
	assert_int_equal(data_event_check(e, sizeof(*e) + n, &data), DATA_EVENT_OK);
	conn_table_event(table, e, data);
	free(e);
}

static uint64_t rows_with(const struct usm_conn_tuple *s, const char *path, uint16_t status,
			  uint8_t protocol)
{
	struct http_stats_key k;
	memset(&k, 0, sizeof(k));
	k.family = s->family;
	memcpy(k.addr, s->laddr, 16);
	k.port = s->lport;
	k.pid = 10;
	strcpy(k.comm, "server");
	k.method = USM_HTTP_METHOD_GET;
	k.status = status;
	k.protocol = protocol;
	k.grpc_status = USM_GRPC_STATUS_NONE;
	k.path = path;
	k.path_len = strlen(path);
	struct http_stats_row r;
	return http_stats_lookup(stats, &k, &r) == 0 ? r.count : 0;
}

static const char upgrade_req[] = "GET /up HTTP/1.1\r\nHost: h\r\n"
				  "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
				  "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
static const char switching[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
				"Upgrade: h2c\r\n\r\n";

/* h2c by upgrade (RFC 7540 3.2): the request is HTTP/1.1, its answer
 * stream 1's HEADERS after the 101; the server's SETTINGS in the same
 * write as the 101. One exchange, h2, with the request's path and the
 * final status; no row of status 101. */
static void test_an_h2c_upgrade_counts_stream_one(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40012);
	call(0x9, USM_DIR_READ, &s, 100, upgrade_req, strlen(upgrade_req));
	uint8_t w[128];
	size_t n = strlen(switching);
	memcpy(w, switching, n);
	static const uint8_t settings[9] = {0, 0, 0, 4, 0, 0, 0, 0, 0};
	memcpy(w + n, settings, sizeof(settings));
	call(0x9, USM_DIR_WRITE, &s, 101, w, n + sizeof(settings));
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	uint8_t r[64];
	memcpy(r, preface, 24);
	memcpy(r + 24, settings, sizeof(settings));
	call(0x9, USM_DIR_READ, &s, 102, r, 24 + sizeof(settings));
	/* HEADERS, stream 1, END_HEADERS | END_STREAM: ":status: 200" (static 8) */
	static const uint8_t headers[10] = {0, 0, 1, 1, 5, 0, 0, 0, 1, 0x88};
	call(0x9, USM_DIR_WRITE, &s, 105, headers, sizeof(headers));
	assert_int_equal(conn_table_counters(table)->h2_connections, 1);
	assert_int_equal(rows_with(&s, "/up", 200, USM_HTTP_PROTO_H2), 1);
	assert_int_equal(rows_with(&s, "/up", 101, USM_HTTP_PROTO_HTTP1), 0);
	assert_int_equal(conn_table_counters(table)->exchanges, 1);
}

/* A 101 to something else (a WebSocket): the 101 is the answer. */
static void test_a_websocket_upgrade_is_counted_as_101(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40013);
	static const char ws_req[] = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
				     "Connection: Upgrade\r\n\r\n";
	static const char ws_101[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				     "Connection: Upgrade\r\n\r\n";
	call(0xa, USM_DIR_READ, &s, 100, ws_req, strlen(ws_req));
	call(0xa, USM_DIR_WRITE, &s, 101, ws_101, strlen(ws_101));
	static const uint8_t frame[4] = {0x81, 0x02, 'h', 'i'};
	call(0xa, USM_DIR_WRITE, &s, 102, frame, sizeof(frame));
	assert_int_equal(rows_with(&s, "/ws", 101, USM_HTTP_PROTO_HTTP1), 1);
	assert_int_equal(conn_table_counters(table)->h2_connections, 0);
}

static void test_unanswered_requests_expire(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40005);
	feed(10, "server", 0, 0x2, USM_DIR_READ, &s, 100, req_a);
	conn_table_expire(table, 900 * MS); /* 800 ms old: not yet */
	assert_int_equal(conn_table_counters(table)->unanswered, 0);
	conn_table_expire(table, 1200 * MS);
	assert_int_equal(conn_table_counters(table)->unanswered, 1);
	assert_int_equal(http_stats_count(stats), 0);
	/* the connection itself is still there (not idle long enough) */
	assert_int_equal(conn_table_count(table), 1);
}

static void test_idle_connections_end(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40006);
	feed(10, "server", 0, 0x3, USM_DIR_READ, &s, 100, req_a);
	feed(10, "server", 0, 0x3, USM_DIR_WRITE, &s, 101, resp_200);
	conn_table_expire(table, 30000 * MS);
	assert_int_equal(conn_table_count(table), 1);
	conn_table_expire(table, 70000 * MS);
	assert_int_equal(conn_table_count(table), 0);
	assert_int_equal(conn_table_counters(table)->idle_closed, 1);
}

static void test_close_ends_a_body_delimited_by_close(void **state)
{
	(void)state;
	struct usm_conn_tuple s = tuple(8080, 40007);
	feed(10, "server", 0, 0x4, USM_DIR_READ, &s, 100, "GET /old HTTP/1.0\r\n\r\n");
	feed(10, "server", 0, 0x4, USM_DIR_WRITE, &s, 101, "HTTP/1.0 200 OK\r\n\r\nbody");
	assert_int_equal(http_stats_count(stats), 0); /* the body may go on */
	closed(10, 0, 0x4, 102);
	assert_int_equal(row_of(&s, true, 10, "server", "/old", 200).count, 1);
	assert_int_equal(conn_table_count(table), 0);
}

static void test_process_exit_ends_its_connections(void **state)
{
	(void)state;
	struct usm_conn_tuple a = tuple(8080, 40008), b = tuple(8080, 40009);
	feed(10, "server", 0, 0x10, USM_DIR_READ, &a, 100, req_a);
	feed(10, "server", 0, 0x11, USM_DIR_READ, &b, 100, req_a);
	feed(11, "other", 0, 0x10, USM_DIR_READ, &a, 100, req_a);
	assert_int_equal(conn_table_count(table), 3);
	assert_int_equal(conn_table_drop_pid(table, 10), 2);
	assert_int_equal(conn_table_drop_pid(table, 10), 0);
	assert_int_equal(conn_table_count(table), 1);
	assert_int_equal(conn_table_counters(table)->unanswered, 2);
}

static void test_connections_are_bounded(void **state)
{
	(void)state;
	teardown(NULL);
	struct conn_limits lim = default_limits;
	lim.max_connections = 2;
	assert_int_equal(setup_with(&lim), 0);
	struct usm_conn_tuple s = tuple(8080, 40010);
	feed(10, "server", 0, 1, USM_DIR_READ, &s, 100, req_a); /* oldest: evicted below */
	feed(10, "server", 0, 2, USM_DIR_READ, &s, 101, req_a);
	feed(10, "server", 0, 3, USM_DIR_READ, &s, 102, req_a);
	assert_int_equal(conn_table_count(table), 2);
	assert_int_equal(conn_table_counters(table)->evicted, 1);
	assert_int_equal(conn_table_counters(table)->unanswered, 1);
	/* the evicted connection's response starts a new one: an orphan */
	feed(10, "server", 0, 1, USM_DIR_WRITE, &s, 103, resp_200);
	assert_int_equal(http_stats_count(stats), 0);
}

/* A socket or session address reused by a new connection whose old one
 * ended unseen: the new tuple starts a new connection. */
static void test_a_key_with_another_tuple_is_a_new_connection(void **state)
{
	(void)state;
	struct usm_conn_tuple first = tuple(8080, 40011), second = tuple(8080, 40012);
	feed(10, "server", 0, 0x77, USM_DIR_READ, &first, 100, req_a);
	feed(10, "server", 0, 0x77, USM_DIR_READ, &second, 200, "GET /b HTTP/1.1\r\n\r\n");
	assert_int_equal(conn_table_counters(table)->reused, 1);
	assert_int_equal(conn_table_counters(table)->unanswered, 1); /* the first one's request */
	assert_int_equal(conn_table_count(table), 1);
	feed(10, "server", 0, 0x77, USM_DIR_WRITE, &second, 201, resp_200);
	assert_int_equal(row_of(&second, true, 10, "server", "/b", 200).count, 1);
	/* an event without a tuple (a TLS write before binding) is no change */
	feed(10, "server", 0, 0x77, USM_DIR_READ, &unknown_tuple, 300, req_a);
	assert_int_equal(conn_table_counters(table)->reused, 1);
}

static void test_bad_limits_are_refused(void **state)
{
	(void)state;
	struct conn_limits lim = default_limits;
	lim.max_connections = 0;
	errno = 0;
	assert_null(conn_table_new(&lim, stats));
	assert_int_equal(errno, EINVAL);
	lim = default_limits;
	lim.http.max_path_len = 0;
	assert_null(conn_table_new(&lim, stats));
	assert_null(conn_table_new(&default_limits, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_server_side_exchange_keyed_by_local_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_side_alone_is_keyed_by_remote_end,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_ends_captured_count_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_closing_first_still_counts_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls_tuple_learned_after_first_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_tls_exchange_waits_for_its_tuple_and_counts_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_exchange_without_a_tuple_is_counted_as_such, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls_records_stop_parsing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_counted_and_the_connection_recovers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_call_in_several_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_walked_call_lost_loses_the_framing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_h2c_upgrade_counts_stream_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_websocket_upgrade_is_counted_as_101, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_requests_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_connections_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_ends_a_body_delimited_by_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_process_exit_ends_its_connections, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connections_are_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_key_with_another_tuple_is_a_new_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_limits_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
