/* HTTP/2 frame headers and header block fragments. The contract is in
 * h2_frame.h. */
#include "h2_frame.h"

#include <errno.h>
#include <string.h>

void h2_frame_header_read(const uint8_t b[H2_FRAME_HEADER_LEN], struct h2_frame_header *h)
{
	h->length = (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
	h->type = b[3];
	h->flags = b[4];
	h->stream = ((uint32_t)b[5] << 24 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 8 | b[8]) &
		    0x7fffffffu;
}

bool h2_is_preface(const uint8_t *b, size_t n)
{
	return n > 0 && memcmp(b, H2_PREFACE, n < H2_PREFACE_LEN ? n : H2_PREFACE_LEN) == 0;
}

int h2_header_fragment(const struct h2_frame_header *h, const uint8_t *p, size_t captured,
		       size_t *offset, size_t *length)
{
	if (h->type == H2_CONTINUATION) {
		*offset = 0;
		*length = h->length;
		return 0;
	}
	if (h->type != H2_HEADERS && h->type != H2_PUSH_PROMISE)
		return -EINVAL;
	size_t pad = 0, skip = 0;
	if (h->flags & H2_FLAG_PADDED) {
		if (captured < 1 || h->length < 1)
			return -EINVAL;
		pad = p[0];
		skip = 1;
	}
	if (h->type == H2_PUSH_PROMISE)
		skip += 4; /* the promised stream id */
	else if (h->flags & H2_FLAG_PRIORITY)
		skip += 5; /* stream dependency (4) and weight (1) */
	if (skip + pad > h->length)
		return -EINVAL;
	*offset = skip;
	*length = h->length - skip - pad;
	return 0;
}
