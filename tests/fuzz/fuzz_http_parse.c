/* libFuzzer target for http_parse and http_pair.
 *
 * Input: a script, then data. Byte 0 picks the limits and the role; byte 1
 * the number of script steps (1..32); each step is 3 bytes:
 *   [0] bit 0: direction; bit 1: expire before feeding; bits 2-3: how the
 *       uncaptured gap is sized (none, small, large, huge); bits 4-7: ts step
 *   [1] captured bytes taken from the data (0..255)
 *   [2] gap size factor
 * The steps repeat until the data is used up. Every segment is fed to one
 * http_conn and to a bare http_stream per direction, and the invariants the
 * headers promise are checked: callbacks alternate, every byte is
 * accounted for once, the connection's counters add up, reported values are
 * in range. A broken invariant aborts.
 *
 * Build (clang): clang -g -O1 -fsanitize=fuzzer,address,undefined
 *   -fno-sanitize-recover=all -Icollector collector/http_parse.c
 *   collector/http_pair.c tests/fuzz/fuzz_http_parse.c -o fuzz_http_parse */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_pair.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: %s (line %d)\n", #cond, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* ---- the bare streams: callbacks alternate, bytes add up ---- */

struct stream_check {
	struct http_stream s;
	uint64_t fed;
	uint64_t ended_bytes;
	uint64_t heads, ends;
	uint64_t head_bytes;
	size_t max_path_len;
};

static void check_message(const struct stream_check *k, const struct http_message *m)
{
	CHECK(m->path != NULL);
	CHECK(m->path_len <= k->max_path_len);
	CHECK(strlen(m->path) == m->path_len);
	for (size_t i = 0; i < m->path_len; i++) {
		unsigned char c = (unsigned char)m->path[i];
		CHECK(c > 0x20 && c != 0x7f && c != '?' && c != '#');
	}
	if (m->kind == HTTP_MESSAGE_RESPONSE)
		CHECK(m->status >= 100 && m->status <= 599);
	else
		CHECK(m->method > USM_HTTP_METHOD_UNKNOWN && m->method <= USM_HTTP_METHOD_TRACE);
}

static void sc_head(void *ctx, const struct http_message *m)
{
	struct stream_check *k = ctx;
	CHECK(k->heads == k->ends);
	CHECK(m->end == HTTP_END_NONE);
	check_message(k, m);
	k->heads++;
	k->head_bytes = m->bytes;
}

static enum usm_http_method sc_request_method(void *ctx, const struct http_message *m)
{
	struct stream_check *k = ctx;
	CHECK(m->kind == HTTP_MESSAGE_RESPONSE);
	/* vary the answer so that HEAD and CONNECT framing are explored */
	return (enum usm_http_method)((k->fed + m->status) % USM_HTTP_METHOD_COUNT);
}

static void sc_end(void *ctx, const struct http_message *m)
{
	struct stream_check *k = ctx;
	CHECK(k->heads == k->ends + 1);
	CHECK(m->end != HTTP_END_NONE);
	CHECK(m->bytes >= k->head_bytes);
	check_message(k, m);
	k->ends++;
	k->ended_bytes += m->bytes;
}

static const struct http_parse_sink check_sink = {
	.on_head = sc_head,
	.request_method = sc_request_method,
	.on_end = sc_end,
};

static void stream_done(struct stream_check *k)
{
	const struct http_stream_counters *c = &k->s.counters;
	http_stream_finish(&k->s, &check_sink, k);
	CHECK(k->heads == k->ends);
	CHECK(c->messages == k->heads);
	CHECK(k->fed == k->ended_bytes + c->skipped_bytes + c->ignored_bytes);
	CHECK(c->not_http <= 1);
}

/* ---- the connection: counters add up ---- */

struct conn_check {
	struct http_conn c;
	uint64_t exchanges, unanswered;
	size_t max_path_len;
};

static void cc_exchange(void *ctx, const struct http_exchange *x)
{
	struct conn_check *k = ctx;
	CHECK(x->status == 101 || (x->status >= 200 && x->status <= 599));
	CHECK(x->method > USM_HTTP_METHOD_UNKNOWN && x->method <= USM_HTTP_METHOD_TRACE);
	CHECK(x->path_len <= k->max_path_len && strlen(x->path) == x->path_len);
	CHECK(x->latency_ns < (UINT64_C(1) << 62)); /* never negative */
	CHECK(x->request_bytes > 0 && x->response_bytes > 0);
	k->exchanges++;
}

static void cc_unanswered(void *ctx, enum usm_http_method method, const char *path, bool path_cut)
{
	struct conn_check *k = ctx;
	(void)path_cut;
	CHECK(method > USM_HTTP_METHOD_UNKNOWN && method <= USM_HTTP_METHOD_TRACE);
	CHECK(strlen(path) <= k->max_path_len);
	k->unanswered++;
}

static const struct http_sink conn_sink = {
	.on_exchange = cc_exchange,
	.on_unanswered = cc_unanswered,
};

static void conn_counters_add_up(const struct conn_check *k, bool closed)
{
	const struct http_conn_counters *c = &k->c.counters;
	uint64_t pending = http_conn_pending(&k->c);
	CHECK(c->exchanges == k->exchanges);
	CHECK(c->unanswered == k->unanswered);
	CHECK(c->requests ==
	      c->exchanges + c->unanswered + c->overflow + c->untracked + c->abandoned + pending);
	CHECK(c->responses == c->exchanges + c->orphan_responses + (k->c.answering ? 1 : 0));
	CHECK(pending <= k->c.lim.max_pending + 1u);
	if (closed)
		CHECK(pending == 0 && !k->c.answering && k->c.pending == NULL);
}

/* ---- the script ---- */

static uint64_t gap_size(uint8_t mode, uint8_t factor)
{
	switch (mode & 3) {
	case 0:
		return 0;
	case 1:
		return factor % 8;
	case 2:
		return (uint64_t)factor * 64;
	default:
		return (uint64_t)factor << 20;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conn_check conn;
	static struct stream_check streams[2];
	struct http_limits lim;
	const uint8_t *script, *payload;
	size_t steps, left, step = 0;
	uint64_t ts = 1;

	if (size < 2)
		return 0;
	lim.max_path_len = (data[0] & 1) ? 8 : HTTP_PATH_MAX;
	lim.max_header_bytes = (data[0] & 2) ? HTTP_HEADER_BYTES_MIN : 8192;
	lim.max_pending = (data[0] & 4) ? 2 : 64;
	steps = (size_t)data[1] % 32 + 1;
	if (size < 2 + steps * 3)
		return 0;
	script = data + 2;
	payload = script + steps * 3;
	left = size - 2 - steps * 3;

	CHECK(http_conn_init(&conn.c, &lim, (enum http_role)((data[0] >> 3) % 3)) == 0);
	conn.exchanges = conn.unanswered = 0;
	conn.max_path_len = lim.max_path_len;
	for (int d = 0; d < 2; d++) {
		memset(&streams[d], 0, sizeof(streams[d]));
		enum http_stream_kind kind = d == 0 ? HTTP_STREAM_REQUESTS : HTTP_STREAM_RESPONSES;
		if (data[0] & 0x40)
			kind = HTTP_STREAM_EITHER;
		CHECK(http_stream_init(&streams[d].s, kind, lim.max_path_len,
				       lim.max_header_bytes) == 0);
		streams[d].max_path_len = lim.max_path_len;
	}

	/* at least one pass over the script, then until the data is used up */
	while (step < steps || left > 0) {
		const uint8_t *st = script + (step % steps) * 3;
		int dir = st[0] & 1;
		size_t captured = st[1] < left ? st[1] : left;
		uint64_t total = captured + gap_size((uint8_t)(st[0] >> 2), st[2]);
		int r;
		ts += (uint64_t)(st[0] >> 4) * 1000;
		if (st[0] & 2)
			http_conn_expire(&conn.c, ts, 5000, &conn_sink, &conn);
		r = http_conn_feed(&conn.c, (enum http_dir)dir, payload, captured, total, ts,
				   &conn_sink, &conn);
		CHECK(r == HTTP_FEED_OK || r == HTTP_FEED_NOT_HTTP || r == HTTP_FEED_STOPPED);
		conn_counters_add_up(&conn, false);

		streams[dir].fed += total;
		http_stream_feed(&streams[dir].s, payload, captured, total, ts, &check_sink,
				 &streams[dir]);
		CHECK(streams[dir].ends <= streams[dir].heads);

		payload += captured;
		left -= captured;
		step++;
		if (step > 4096)
			break;
	}

	http_conn_close(&conn.c, &conn_sink, &conn);
	conn_counters_add_up(&conn, true);
	for (int d = 0; d < 2; d++)
		stream_done(&streams[d]);
	return 0;
}
