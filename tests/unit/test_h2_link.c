/* collector/h2_link.c: segments as the capture delivers them cut into
 * HTTP/2 frames for h2_conn. A whole exchange (both prefaces, a request, a
 * response with a body), its header blocks written by libnghttp2's HPACK
 * encoder, is fed split at every byte: always exactly one exchange. A gap
 * (bytes not captured) over a DATA payload is skipped by the frame's
 * length; a gap over a frame header loses that direction, counted, and
 * yields no row. Detection: the client preface, a server SETTINGS frame,
 * and HTTP/1 bytes are told apart. */
#include <nghttp2/nghttp2.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "h2_link.h"

#define REQ HTTP_DIR_READ
#define RESP HTTP_DIR_WRITE

static unsigned exchanges;
static uint16_t last_status;

static void on_exchange(void *ctx, const struct h2_exchange *e)
{
	(void)ctx;
	exchanges++;
	last_status = e->status;
}

static const struct h2_sink sink = {on_exchange};
static const struct h2_limits lim = {.max_path_len = 64, .max_streams = 16};

/* Appends one frame to buf at *n. */
static void put_frame(uint8_t *buf, size_t *n, uint8_t type, uint8_t flags, uint32_t stream,
		      const uint8_t *payload, size_t len)
{
	uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
			(uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
			(uint8_t)stream};
	memcpy(buf + *n, h, 9);
	memcpy(buf + *n + 9, payload, len);
	*n += 9 + len;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0}

/* The client's bytes (preface, SETTINGS, a GET) and the server's
 * (SETTINGS, a 200 with a 300-byte body in one DATA frame). */
static void conversation(uint8_t *client, size_t *nc, uint8_t *server, size_t *ns)
{
	nghttp2_hd_deflater *dc, *ds;
	assert_int_equal(nghttp2_hd_deflate_new(&dc, 4096), 0);
	assert_int_equal(nghttp2_hd_deflate_new(&ds, 4096), 0);
	nghttp2_nv req[] = {NV(":method", "GET"), NV(":scheme", "https"), NV(":path", "/split"),
			    NV(":authority", "localhost")};
	nghttp2_nv resp[] = {NV(":status", "203"), NV("content-type", "text/plain")};
	uint8_t block[256], body[300];
	memset(body, 'x', sizeof(body));
	*nc = *ns = 0;
	memcpy(client, H2_PREFACE, H2_PREFACE_LEN);
	*nc = H2_PREFACE_LEN;
	put_frame(client, nc, H2_SETTINGS, 0, 0, NULL, 0);
	ssize_t b = nghttp2_hd_deflate_hd(dc, block, sizeof(block), req, 4);
	assert_true(b > 0);
	put_frame(client, nc, H2_HEADERS, H2_FLAG_END_HEADERS | H2_FLAG_END_STREAM, 1, block,
		  (size_t)b);
	put_frame(server, ns, H2_SETTINGS, 0, 0, (const uint8_t *)"\0\3\0\0\0\x64", 6);
	b = nghttp2_hd_deflate_hd(ds, block, sizeof(block), resp, 2);
	assert_true(b > 0);
	put_frame(server, ns, H2_HEADERS, H2_FLAG_END_HEADERS, 1, block, (size_t)b);
	put_frame(server, ns, H2_DATA, H2_FLAG_END_STREAM, 1, body, sizeof(body));
	nghttp2_hd_deflate_del(dc);
	nghttp2_hd_deflate_del(ds);
}

static void test_every_split_point_gives_one_exchange(void **state)
{
	(void)state;
	uint8_t client[512], server[512];
	size_t nc, ns;
	conversation(client, &nc, server, &ns);
	for (size_t k = 1; k < ns; k++) {
		struct h2_link *l = h2_link_new(HTTP_ROLE_SERVER, &lim);
		assert_non_null(l);
		exchanges = 0;
		size_t kc = k < nc ? k : nc / 2;
		h2_link_feed(l, REQ, client, kc, kc, 1, &sink, NULL);
		h2_link_feed(l, REQ, client + kc, nc - kc, nc - kc, 2, &sink, NULL);
		h2_link_feed(l, RESP, server, k, k, 3, &sink, NULL);
		h2_link_feed(l, RESP, server + k, ns - k, ns - k, 4, &sink, NULL);
		assert_int_equal(exchanges, 1);
		assert_int_equal(last_status, 203);
		struct h2_link_counters c;
		h2_link_counters(l, &c);
		assert_int_equal(c.framing_lost, 0);
		assert_int_equal(c.conn.hpack_desync, 0);
		h2_link_free(l);
	}
}

/* The response's segment captured only up to the DATA frame's payload:
 * the rest is skipped by its length. */
static void test_a_gap_over_a_payload_is_skipped(void **state)
{
	(void)state;
	uint8_t client[512], server[512];
	size_t nc, ns;
	conversation(client, &nc, server, &ns);
	struct h2_link *l = h2_link_new(HTTP_ROLE_SERVER, &lim);
	exchanges = 0;
	h2_link_feed(l, REQ, client, nc, nc, 1, &sink, NULL);
	h2_link_feed(l, RESP, server, ns - 250, ns, 2, &sink, NULL);
	assert_int_equal(exchanges, 1);
	h2_link_free(l);
}

/* Two responses' worth of frames in one segment, the second's header
 * block where nothing was captured: that direction is lost, counted, and
 * no row is made from it. */
static void test_a_gap_over_a_frame_header_loses_the_direction(void **state)
{
	(void)state;
	uint8_t client[512], server[1024];
	size_t nc, ns;
	conversation(client, &nc, server, &ns);
	struct h2_link *l = h2_link_new(HTTP_ROLE_SERVER, &lim);
	exchanges = 0;
	h2_link_feed(l, REQ, client, nc, nc, 1, &sink, NULL);
	/* the server's SETTINGS captured, its HEADERS not */
	h2_link_feed(l, RESP, server, 15, ns, 2, &sink, NULL);
	assert_int_equal(exchanges, 0);
	struct h2_link_counters c;
	h2_link_counters(l, &c);
	assert_int_equal(c.framing_lost, 1);
	/* later segments of that direction change nothing */
	h2_link_feed(l, RESP, server + 15, ns - 15, ns - 15, 3, &sink, NULL);
	assert_int_equal(exchanges, 0);
	h2_link_free(l);
}

static void test_detection(void **state)
{
	(void)state;
	uint8_t client[512], server[512];
	size_t nc, ns;
	conversation(client, &nc, server, &ns);
	assert_int_equal(h2_link_detect(client, nc), H2_CLIENT_PREFACE);
	assert_int_equal(h2_link_detect(client, 20), H2_NOT); /* not all of it yet */
	assert_int_equal(h2_link_detect(server, ns), H2_SERVER_PREFACE);
	static const char http1[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(h2_link_detect((const uint8_t *)http1, sizeof(http1) - 1), H2_NOT);
	/* frames a connection that started before usm begins with */
	static const uint8_t ack[9] = {0, 0, 0, H2_SETTINGS, H2_FLAG_ACK, 0, 0, 0, 0};
	assert_int_equal(h2_link_detect(ack, sizeof(ack)), H2_MIDSTREAM);
	static const uint8_t headers[9] = {0, 0, 20, H2_HEADERS, H2_FLAG_END_HEADERS, 0, 0, 0, 7};
	assert_int_equal(h2_link_detect(headers, sizeof(headers)), H2_MIDSTREAM);
	/* and what is not a frame */
	static const uint8_t odd[9] = {0, 0, 5, H2_SETTINGS, 0, 0, 0, 0, 0};
	assert_int_equal(h2_link_detect(odd, sizeof(odd)), H2_NOT); /* not whole settings */
	static const uint8_t no_stream[9] = {0, 0, 20, H2_HEADERS, 4, 0, 0, 0, 0};
	assert_int_equal(h2_link_detect(no_stream, sizeof(no_stream)), H2_NOT);
	static const uint8_t reserved[9] = {0, 0, 20, H2_HEADERS, 4, 0x80, 0, 0, 7};
	assert_int_equal(h2_link_detect(reserved, sizeof(reserved)), H2_NOT);
	static const uint8_t unknown[9] = {0, 0, 20, 0x0a, 0, 0, 0, 0, 7};
	assert_int_equal(h2_link_detect(unknown, sizeof(unknown)), H2_NOT);
	static const uint8_t big[9] = {0, 0x40, 1, H2_DATA, 0, 0, 0, 0, 7};
	assert_int_equal(h2_link_detect(big, sizeof(big)), H2_NOT); /* > 16 KiB */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_split_point_gives_one_exchange),
		cmocka_unit_test(test_a_gap_over_a_payload_is_skipped),
		cmocka_unit_test(test_a_gap_over_a_frame_header_loses_the_direction),
		cmocka_unit_test(test_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
