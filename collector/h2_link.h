/* An HTTP/2 connection as the capture delivers it: each read or write is a
 * segment of `total` bytes of which the first `captured` are known
 * (http_capture_bytes), and frames run across segments. A framer per
 * direction cuts the known bytes into frames for h2_conn.h: a frame
 * header split between segments is put back together; a frame's payload
 * bytes that were not captured are skipped by its length (a DATA frame's
 * rarely matter); a header block's payload is kept whole up to
 * H2_LINK_PAYLOAD_MAX bytes (beyond, the frame is passed cut, which
 * h2_conn treats as a block it cannot decode). A frame header that falls
 * where bytes were not captured loses the direction's framing for good:
 * h2_conn_lost(), counted in `framing_lost`.
 *
 * Which connections are HTTP/2 (h2_link_detect): a segment that starts
 * with the client preface, or with a SETTINGS frame on stream 0 (the
 * server's preface; no HTTP/1 message starts with a zero byte), or with
 * another plausible frame header (a connection that started before usm:
 * no side known, nothing trusted). */
#ifndef USM_COLLECTOR_H2_LINK_H
#define USM_COLLECTOR_H2_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h2_conn.h"

#define H2_LINK_PAYLOAD_MAX 16384 /* SETTINGS_MAX_FRAME_SIZE's default */

enum h2_detect {
	H2_NOT = 0,
	H2_CLIENT_PREFACE, /* the segment starts with the 24-byte preface */
	H2_SERVER_PREFACE, /* ... with a SETTINGS frame on stream 0 */
	H2_MIDSTREAM,      /* ... with another frame: a connection that started before usm */
};

/* What the first bytes of a connection's segment say. */
enum h2_detect h2_link_detect(const uint8_t *data, size_t captured);

struct h2_link;

/* NULL when out of memory or the limits are out of range (h2_conn_init). */
struct h2_link *h2_link_new(enum http_role role, const struct h2_limits *lim);
void h2_link_free(struct h2_link *l);

/* One segment of direction dir. The client preface at the start of a
 * direction, whole or in pieces, is consumed (h2_conn_preface) before the
 * frames; a preface whose end was not captured loses the direction. */
void h2_link_feed(struct h2_link *l, enum http_dir dir, const uint8_t *data, size_t captured,
		  size_t total, uint64_t ts_ns, const struct h2_sink *sink, void *ctx);

/* Calls of direction dir were lost whole (the capture says so): its
 * framing and header table are lost, as for a frame header in a gap. */
void h2_link_lose(struct h2_link *l, enum http_dir dir);

/* An HTTP/1.1 request upgraded to h2c: h2_conn_upgraded. */
void h2_link_upgraded(struct h2_link *l, enum usm_http_method method, const char *path,
		      size_t path_len, bool path_cut, uint64_t ts_ns, uint64_t bytes);

/* The side the connection's requests arrive on, once known (the preface's
 * direction, or the role given). */
enum http_role h2_link_role(const struct h2_link *l);

struct h2_link_counters {
	struct h2_conn_counters conn;
	uint64_t framing_lost; /* directions whose framing a gap broke */
};
void h2_link_counters(const struct h2_link *l, struct h2_link_counters *out);

#endif
