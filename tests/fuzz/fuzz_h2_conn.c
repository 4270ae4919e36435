/* libFuzzer target: collector/h2_conn.c (and h2_frame.c) fed random
 * frames in both directions, as the kernel side would deliver them:
 *
 *   byte 0       bit 0: the preface passes first (request direction);
 *                bit 1: role unknown (else server)
 *   then frames: 1 byte (bit 0 direction, bit 1 lost before it, bits 2-7
 *                the captured share of its payload in 64ths, 63 = all),
 *                a 9-byte frame header, and the payload bytes that follow
 *                (as many as the header's length asks and the input has).
 *
 * Checks what h2_conn.h promises whatever comes: no crash, no leak (ASan),
 * every exchange's path NUL-terminated within max_path_len, statuses in
 * range, grpc_status -1..16, streams within max_streams. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "h2_conn.h"
#include "h2_exchange_check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct h2_limits lim = {.max_path_len = 32, .max_streams = 8};
	static const struct h2_sink sink = {check_exchange};
	if (size < 1)
		return 0;
	struct h2_conn c;
	if (h2_conn_init(&c, data[0] & 2 ? HTTP_ROLE_UNKNOWN : HTTP_ROLE_SERVER, &lim) != 0)
		return 0;
	if (data[0] & 1)
		h2_conn_preface(&c, HTTP_DIR_READ);
	size_t pos = 1;
	uint64_t ts = 1;
	while (size - pos >= 1 + H2_FRAME_HEADER_LEN) {
		uint8_t ctl = data[pos++];
		enum http_dir dir = ctl & 1 ? HTTP_DIR_WRITE : HTTP_DIR_READ;
		if (ctl & 2)
			h2_conn_lost(&c, dir);
		struct h2_frame_header h;
		h2_frame_header_read(data + pos, &h);
		pos += H2_FRAME_HEADER_LEN;
		size_t avail = size - pos < h.length ? size - pos : h.length;
		unsigned share = ctl >> 2;
		size_t captured = share == 63 ? avail : avail * share / 64;
		h.length = (uint32_t)avail; /* the payload is what the input holds */
		h2_conn_frame(&c, dir, &h, data + pos, captured, ts++, &sink, &lim);
		assert(c.nstreams <= lim.max_streams);
		pos += avail;
	}
	h2_conn_free(&c);
	return 0;
}
