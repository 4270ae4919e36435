/* libFuzzer target for apid's request reader (apid/request_reader.c:
 * libhttp-parser under apid's limits), the first code that reads what an
 * API client sends.
 *
 * Input: byte 0 seeds the sizes of the pieces the rest is fed in (a client
 * decides how its bytes arrive); the rest is the bytes. They are read
 * twice, as apid's front reads a connection (after a complete request the
 * reader is reset and the rest is the next request's), once in those
 * pieces and once whole, and the invariants request_reader.h promises are
 * checked: a verdict is final, REQUEST_MORE takes every byte, a complete
 * request has an origin-form target and a body within the limits, buffers
 * stay within them; and both readings complete the same requests with
 * the same targets, bodies and keep-alive, and both end refusing or both
 * not. A broken invariant aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request_reader.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "invariant broken: %s (line %d)\n", #cond, __LINE__);      \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Small limits, so inputs of a few KiB reach every one of them. */
static const struct request_limits lim = {
	.request_line_max = 64,
	.fields_max = 256,
	.field_lines_max = 8,
	.body_max = 32,
};

#define MAX_REQUESTS 64

struct reading {
	unsigned complete;
	char target[MAX_REQUESTS][65];
	char body[MAX_REQUESTS][33];
	size_t body_len[MAX_REQUESTS];
	bool keep_alive[MAX_REQUESTS];
	enum request_verdict last;
};

static void record(struct reading *out, struct request_reader *r)
{
	CHECK(r->target && r->target[0] == '/');
	CHECK(r->target_len <= lim.request_line_max && strlen(r->target) == r->target_len);
	CHECK(r->body_len <= lim.body_max);
	CHECK(request_reader_minor(r) <= 1);
	CHECK(request_reader_method(r) != NULL);
	if (out->complete < MAX_REQUESTS) {
		memcpy(out->target[out->complete], r->target, r->target_len + 1);
		if (r->body_len)
			memcpy(out->body[out->complete], r->body, r->body_len);
		out->body_len[out->complete] = r->body_len;
		out->keep_alive[out->complete] = r->keep_alive;
	}
	out->complete++;
}

/* Feeds data in pieces sized from seed (0: whole). */
static void read_all(const uint8_t *data, size_t len, uint8_t seed, struct reading *out)
{
	struct request_reader r;
	request_reader_init(&r, &lim);
	memset(out, 0, sizeof(*out));
	size_t at = 0;
	uint32_t x = seed | 1u;
	enum request_verdict v = REQUEST_MORE;
	while (at < len) {
		size_t piece = len - at;
		if (seed) {
			x = x * 1103515245u + 12345u;
			size_t want = 1 + (x >> 16) % 97;
			piece = piece < want ? piece : want;
		}
		size_t used;
		v = request_reader_feed(&r, (const char *)data + at, piece, &used);
		CHECK(used <= piece);
		CHECK(request_reader_memory(&r) <= lim.request_line_max + 1 + lim.body_max + 1);
		if (v == REQUEST_MORE) {
			CHECK(used == piece);
		} else if (v == REQUEST_COMPLETE) {
			record(out, &r);
			request_reader_next(&r);
			CHECK(!r.begun && r.verdict == REQUEST_MORE);
		} else {
			/* Final: nothing more is taken. */
			size_t again;
			CHECK(request_reader_feed(&r, (const char *)data, len, &again) == v && again == 0);
			break;
		}
		at += used;
	}
	out->last = v == REQUEST_COMPLETE ? REQUEST_MORE : v;
	request_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool setup;
	if (!setup) {
		request_reader_setup(&lim);
		setup = true;
	}
	if (size < 1)
		return 0;
	static struct reading pieces, whole;
	read_all(data + 1, size - 1, data[0] ? data[0] : 1, &pieces);
	read_all(data + 1, size - 1, 0, &whole);
	CHECK(pieces.complete == whole.complete);
	for (unsigned i = 0; i < whole.complete && i < MAX_REQUESTS; i++) {
		CHECK(strcmp(pieces.target[i], whole.target[i]) == 0);
		CHECK(pieces.body_len[i] == whole.body_len[i]);
		CHECK(memcmp(pieces.body[i], whole.body[i], whole.body_len[i]) == 0);
		CHECK(pieces.keep_alive[i] == whole.keep_alive[i]);
	}
	CHECK((pieces.last == REQUEST_MORE) == (whole.last == REQUEST_MORE));
	return 0;
}
