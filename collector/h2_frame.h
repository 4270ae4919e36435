/* HTTP/2 frames as the collector sees them (RFC 9113 §4.1, §6): the
 * 9-byte frame header, and the header block fragment inside a HEADERS or
 * CONTINUATION payload. Pure functions over bytes; nothing here keeps
 * state (h2_conn.h does). */
#ifndef USM_COLLECTOR_H2_FRAME_H
#define USM_COLLECTOR_H2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_FRAME_HEADER_LEN 9
#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" /* the client's first 24 bytes */
#define H2_PREFACE_LEN 24
#define H2_MAX_FRAME_LEN ((1u << 24) - 1) /* the length field's 24 bits */

enum h2_frame_type {
	H2_DATA = 0x0,
	H2_HEADERS = 0x1,
	H2_PRIORITY = 0x2,
	H2_RST_STREAM = 0x3,
	H2_SETTINGS = 0x4,
	H2_PUSH_PROMISE = 0x5,
	H2_PING = 0x6,
	H2_GOAWAY = 0x7,
	H2_WINDOW_UPDATE = 0x8,
	H2_CONTINUATION = 0x9,
};

enum h2_frame_flag {
	H2_FLAG_END_STREAM = 0x1,  /* DATA, HEADERS */
	H2_FLAG_ACK = 0x1,         /* SETTINGS, PING */
	H2_FLAG_END_HEADERS = 0x4, /* HEADERS, PUSH_PROMISE, CONTINUATION */
	H2_FLAG_PADDED = 0x8,      /* DATA, HEADERS, PUSH_PROMISE */
	H2_FLAG_PRIORITY = 0x20,   /* HEADERS */
};

struct h2_frame_header {
	uint32_t length; /* payload bytes, < 2^24 */
	uint8_t type;    /* enum h2_frame_type, or an extension's */
	uint8_t flags;
	uint32_t stream; /* the reserved bit cleared */
};

/* The header of b[0..9). Always succeeds: every 9 bytes are a header. */
void h2_frame_header_read(const uint8_t b[H2_FRAME_HEADER_LEN], struct h2_frame_header *h);

/* Do the n bytes at b begin the client preface (all of them, if n >= 24)? */
bool h2_is_preface(const uint8_t *b, size_t n);

/* The header block fragment of a HEADERS, PUSH_PROMISE or CONTINUATION
 * frame whose payload's first `captured` bytes are at p (h->length in
 * all): its offset in the payload and its length, without the pad length,
 * priority fields, promised stream id and padding (RFC 9113 §6.2, §6.6,
 * §6.10). 0, or -EINVAL: another frame type, or those fields longer than
 * the payload (a PROTOCOL_ERROR for the peer too), or the pad length byte
 * was not captured. The fragment may extend past `captured`: the caller
 * compares. */
int h2_header_fragment(const struct h2_frame_header *h, const uint8_t *p, size_t captured,
		       size_t *offset, size_t *length);

#endif
