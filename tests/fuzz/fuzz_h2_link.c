/* libFuzzer target: collector/h2_link.c, the framer that cuts each
 * direction's capture segments into frames (headers split between
 * segments, payloads over gaps, the preface in pieces), with h2_conn.c
 * behind it, fed random segments as conn_table_event feeds records:
 *
 *   byte 0       bit 0: role client (else server); bit 1: an h2c upgrade
 *                (stream 1 opened from an HTTP/1.1 request first)
 *   then segments: 1 byte (bit 0 direction, bit 1 calls lost before it),
 *                1 byte captured length, 1 byte uncaptured bytes after
 *                them (a gap), and the captured bytes (as many as the
 *                input still holds).
 *
 * Checks what h2_link.h and h2_conn.h promise whatever comes: no crash,
 * no leak (ASan), every exchange's path NUL-terminated within
 * max_path_len, statuses in range, framing_lost at most once per
 * direction. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "h2_link.h"
#include "h2_exchange_check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct h2_limits lim = {.max_path_len = 32, .max_streams = 8};
	static const struct h2_sink sink = {check_exchange};
	if (size < 1)
		return 0;
	struct h2_link *l = h2_link_new(data[0] & 1 ? HTTP_ROLE_CLIENT : HTTP_ROLE_SERVER, &lim);
	if (!l)
		return 0;
	if (data[0] & 2)
		h2_link_upgraded(l, USM_HTTP_METHOD_GET, "/upgraded", 9, false, 1, 40);
	size_t pos = 1;
	uint64_t ts = 2;
	while (size - pos >= 3) {
		uint8_t ctl = data[pos], want = data[pos + 1], gap = data[pos + 2];
		pos += 3;
		enum http_dir dir = ctl & 1 ? HTTP_DIR_WRITE : HTTP_DIR_READ;
		if (ctl & 2)
			h2_link_lose(l, dir);
		size_t captured = size - pos < want ? size - pos : want;
		h2_link_feed(l, dir, data + pos, captured, captured + gap, ts++, &sink, &lim);
		pos += captured;
	}
	struct h2_link_counters c;
	h2_link_counters(l, &c);
	assert(c.framing_lost <= 2);
	h2_link_free(l);
	return 0;
}
