/* One HTTP/2 connection seen from one of its ends: its frames, in each
 * direction's order, turned into exchanges (a request's HEADERS paired
 * with its response by stream id). Header blocks are decoded with
 * libnghttp2's HPACK inflater, one per direction (each end's encoder keeps
 * its own dynamic table), never by a home-made decoder.
 *
 * Contract:
 * - The caller splits each direction's bytes into frames (the kernel side
 *   delivers them whole, or their headers and a captured prefix of the
 *   payload) and calls h2_conn_frame() per frame, h2_conn_preface() when
 *   the client's 24-byte preface passed in a direction, and h2_conn_lost()
 *   when bytes of a direction were lost (ring overflow, a cut the caller
 *   could not frame).
 * - Trust. Every header block must be decoded, in order, for a
 *   direction's dynamic table to stay right. A direction is trusted from
 *   its start only: the request direction from the preface, the response
 *   direction from a SETTINGS frame as its first frame (the server's
 *   preface). A direction whose first frame is anything else belongs to a
 *   connection that started before usm was watching (`started_unseen`,
 *   once per connection). A trusted direction stops being trusted for
 *   good (`hpack_desync`, once per direction) when a header block cannot
 *   be decoded whole: cut by the capture, interleaved with another frame
 *   (a CONTINUATION missing), refused by the inflater, or when
 *   h2_conn_lost() says bytes went missing. An exchange is reported only
 *   when both its request and its response were decoded in trusted
 *   directions: never a wrong path or status, at the price of rows.
 * - Streams. A request's HEADERS (with :method) opens a stream; the first
 *   response HEADERS gives the latency (request's first HEADERS frame to
 *   response's first HEADERS frame, 1xx included); the final :status is
 *   the status; the response ends with END_STREAM (on HEADERS or DATA) and
 *   the exchange is reported then, with grpc-status from the trailers (or
 *   a trailers-only response). RST_STREAM counts (`streams_reset`) and
 *   ends the stream: reported if a final status was seen, else dropped.
 *   PUSH_PROMISE blocks are decoded (they share the server's table) and
 *   ignored (`pushes_ignored`); GOAWAY is counted. At most
 *   max_streams streams are tracked at once (`streams_overflow`).
 * - gRPC: a request whose content-type begins with application/grpc is
 *   gRPC; its path is the method (/package.Service/Method).
 * - Paths: without ?query or #fragment, cut at max_path_len (`paths_cut`).
 *   A request whose :path holds a control character (NUL, CR, LF...: a
 *   malformed request its server refuses) opens no stream
 *   (`malformed_requests`).
 * - Bytes: HEADERS, CONTINUATION and DATA payload lengths of the stream,
 *   both directions.
 *
 * Memory: the struct, two inflaters (their tables: up to the encoder's
 * table size each, 4 KiB by default) and up to max_streams streams of
 * about 40 bytes plus their path. Not thread-safe. */
#ifndef USM_COLLECTOR_H2_CONN_H
#define USM_COLLECTOR_H2_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "h2_frame.h"
#include "http_pair.h" /* enum http_dir, enum http_role */
#include "ipc_proto.h" /* enum usm_http_method */

#define H2_MAX_STREAMS_LIMIT 1024

struct h2_limits {
	size_t max_path_len;  /* 1..HTTP_PATH_MAX */
	unsigned max_streams; /* 1..H2_MAX_STREAMS_LIMIT streams tracked at once */
};

struct h2_exchange {
	uint32_t stream;
	enum usm_http_method method; /* UNKNOWN for a method outside the nine */
	const char *path;            /* NUL-terminated; valid during the callback */
	size_t path_len;
	bool path_cut;
	uint16_t status;     /* the final :status, 200..599 (or 1xx never followed) */
	bool grpc;           /* content-type application/grpc* */
	int16_t grpc_status; /* 0..16 from grpc-status; -1 none */
	bool reset;          /* ended by RST_STREAM after its status */
	uint64_t latency_ns;
	uint64_t bytes;
};

struct h2_sink {
	void (*on_exchange)(void *ctx, const struct h2_exchange *e); /* may be NULL */
};

struct h2_conn_counters {
	uint64_t frames;
	uint64_t header_blocks;    /* decoded whole */
	uint64_t hpack_desync;     /* directions that stopped being trusted */
	uint64_t started_unseen;   /* connections first seen after their start */
	uint64_t undecoded_blocks; /* header blocks in untrusted directions */
	uint64_t exchanges;
	uint64_t orphan_responses; /* response HEADERS for no tracked stream */
	uint64_t streams_reset;
	uint64_t streams_overflow;
	uint64_t pushes_ignored;
	uint64_t goaway;
	uint64_t paths_cut;
	uint64_t grpc_status_invalid; /* grpc-status not 0..16: reported as none */
	uint64_t malformed_requests;  /* a :path with control characters: not tracked */
};

struct h2_stream;
struct h2_block;

/* Fields other than `counters` are private to h2_conn.c. */
struct h2_conn {
	struct h2_limits lim;
	enum http_role role;
	struct h2_direction {
		void *inflater; /* nghttp2_hd_inflater */
		bool seen;      /* a frame or the preface came */
		bool trusted;
		bool started;   /* trusted from its start (it may have lost it since) */
		bool in_block;  /* a header block awaits its CONTINUATION */
		uint32_t block_stream;
		uint8_t block_type;
		uint8_t block_flags;
		uint64_t block_ts_ns;
		uint64_t block_bytes;   /* its frames' payloads so far */
		struct h2_block *block; /* what the block in progress said */
	} dir[2];
	struct h2_stream *streams;
	unsigned nstreams;
	struct h2_conn_counters counters;
};

/* 0, or -EINVAL (limits out of range), -ENOMEM. role: HTTP_ROLE_UNKNOWN
 * decides on the preface's direction (the client's). */
int h2_conn_init(struct h2_conn *c, enum http_role role, const struct h2_limits *lim);
void h2_conn_free(struct h2_conn *c);

/* The client preface passed in direction dir. */
void h2_conn_preface(struct h2_conn *c, enum http_dir dir);

/* One frame: its header, and the first `captured` bytes of its payload
 * at payload (h->length in all). ts_ns: when its segment was seen. */
void h2_conn_frame(struct h2_conn *c, enum http_dir dir, const struct h2_frame_header *h,
		   const uint8_t *payload, size_t captured, uint64_t ts_ns,
		   const struct h2_sink *sink, void *ctx);

/* Bytes of direction dir were lost: it is not trusted any more. */
void h2_conn_lost(struct h2_conn *c, enum http_dir dir);

/* An HTTP/1.1 request upgraded to h2c (RFC 7540 §3.2): it is stream 1,
 * whose response comes as HTTP/2 frames. Opens stream 1 as if its request
 * HEADERS had been decoded (ts: the request's first byte). */
void h2_conn_upgraded(struct h2_conn *c, enum usm_http_method method, const char *path,
		      size_t path_len, bool path_cut, uint64_t ts_ns, uint64_t bytes);

#endif
