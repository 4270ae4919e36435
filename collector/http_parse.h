/* HTTP/1.x message framing for one direction of one connection, from
 * captured segments of which only a prefix may be known.
 *
 * Each read or write the probes see is one segment: `total` bytes of which
 * the first `captured` are known (the capture cap) and the rest is a gap of
 * unknown bytes. A stream is fed its segments in order and calls back once
 * per message: on_head when the start line and headers were read (or as much
 * of them as could be), on_end when the message ended. Every on_head is
 * followed by exactly one on_end, at the latest from http_stream_finish().
 *
 * What it reads:
 * - Request lines `METHOD SP request-target SP HTTP/1.x CRLF` with the nine
 *   methods of enum usm_http_method (common/ipc_proto.h), spelled as
 *   usm_http_method_name() says; status lines `HTTP/1.x SP 3DIGIT [SP
 *   reason] CRLF` with a status of 100..599. Bare LF is accepted for CRLF,
 *   and empty lines before a start line are skipped (RFC 9112 §2.2).
 * - The headers that frame the body: Content-Length, Transfer-Encoding
 *   (chunked when it is the last coding), Connection (close, keep-alive).
 *   Only the first HTTP_LINE_KEEP bytes of a header line are kept; a
 *   framing header longer than that makes the framing unknown (see GUESSED).
 * - Body length, in order (RFC 9112 §6.3): responses to HEAD, 1xx, 204 and
 *   304 have none; 101, and a 2xx to CONNECT, end HTTP on the stream
 *   (HTTP_FEED_STOPPED); chunked; Content-Length; else a request has none
 *   and a response runs until the connection closes. The request method a
 *   response answers comes from the sink's request_method().
 * - Bodies are skipped by counting, uncaptured bytes included, so that the
 *   next message on a keep-alive or pipelined connection is found.
 *
 * When bytes that frame a message were not captured (heuristics, counted):
 * - The head runs into a gap, or is longer than max_header_bytes
 *   (`oversized`): if the method (request) or status (response) was read,
 *   the message is reported with head_complete = false and taken to end
 *   with its segment (HTTP_END_GUESSED, counted in `truncated` for a gap);
 *   otherwise it is dropped and counted in `desync` (gap).
 * - A message starts inside a gap (none of it is known), a chunk-size line
 *   falls into a gap, or a chunk-size line is invalid: `desync` is counted,
 *   and a message in progress ends with HTTP_END_LOST.
 * - Garbage where a start line should be (not HTTP): counted once in
 *   `garbage`, the rest of the segment is dropped.
 * After any of these the stream is resynchronizing: it skips whole segments
 * until one *begins* with a valid start line (a start line in the middle of
 * a segment is not looked for), silently: neither `garbage` nor `desync` is
 * counted again until it has resynchronized. A body that begins with the
 * text of a start line can fool this; it is the price of the heuristic.
 * - A message that starts with 0x16 or 0x17 followed by 0x03 is a TLS record
 *   (encrypted traffic, captured by the socket filter): the stream stops
 *   with HTTP_FEED_NOT_HTTP and `not_http` set, not counted as garbage. TLS
 *   after a CONNECT request is the client's side of the tunnel: the stream
 *   stops quietly (HTTP_FEED_STOPPED).
 *
 * Byte accounting: every byte fed is counted exactly once, in a reported
 * message's `bytes` (on_end), in `skipped_bytes`, in `ignored_bytes` (after
 * the stream stopped), or in the message still in progress.
 *
 * Memory: sizeof(struct http_stream) bytes per stream (440 on x86-64),
 * nothing allocated; the callbacks' path pointer is valid during the call.
 * Not thread-safe. */
#ifndef USM_COLLECTOR_HTTP_PARSE_H
#define USM_COLLECTOR_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc_proto.h" /* enum usm_http_method */

/* Longest path kept (bytes, the NUL excluded): the upper bound of
 * max_path_len, so that a stream's size is fixed. */
#define HTTP_PATH_MAX 255
/* Bytes kept of each header line: enough for the name and value of the
 * framing headers. */
#define HTTP_LINE_KEEP 64
/* Smallest max_header_bytes accepted. */
#define HTTP_HEADER_BYTES_MIN 64

/* Which start lines a stream accepts. */
enum http_stream_kind {
	HTTP_STREAM_REQUESTS,
	HTTP_STREAM_RESPONSES,
	HTTP_STREAM_EITHER, /* until the caller knows the direction */
};

enum http_message_kind {
	HTTP_MESSAGE_REQUEST,
	HTTP_MESSAGE_RESPONSE,
};

/* How a message ended: whether `bytes` is exact. */
enum http_end {
	HTTP_END_NONE = 0, /* on_head: not ended yet */
	HTTP_END_FRAMED,   /* by its headers (length, chunks, no body): exact */
	HTTP_END_CLOSE,    /* a body delimited by the connection's close: exact */
	HTTP_END_GUESSED,  /* head not fully read: assumed to end with its segment */
	HTTP_END_LOST,     /* framing lost in the body, or the stream ended
			    * before the framed end: bytes is a lower bound */
};

struct http_message {
	enum http_message_kind kind;
	enum usm_http_method method; /* requests */
	uint16_t status;         /* responses: 100..599 */
	uint8_t version_minor;   /* HTTP/1.x: x; 0 when the start line was cut */
	bool head_complete;      /* start line and all headers were read */
	bool closes;             /* Connection: close, or HTTP/1.0 without keep-alive */
	bool path_cut;           /* the path was longer than max_path_len, or cut by a gap */
	enum http_end end;       /* on_end only */
	const char *path;        /* requests: target without ?query/#fragment, NUL-terminated */
	size_t path_len;
	uint64_t start_ts_ns; /* ts of the segment holding the first byte */
	uint64_t bytes;       /* on_head: the head so far; on_end: the whole message */
};

struct http_parse_sink {
	/* Any of them may be NULL. */
	void (*on_head)(void *ctx, const struct http_message *m);
	/* Asked once per final (non-1xx) response, before on_head: the method
	 * of the request it answers, USM_HTTP_METHOD_UNKNOWN if not known. HEAD
	 * means no body; CONNECT with a 2xx ends HTTP on the stream. */
	enum usm_http_method (*request_method)(void *ctx, const struct http_message *response);
	void (*on_end)(void *ctx, const struct http_message *m);
};

enum http_feed_result {
	HTTP_FEED_OK = 0,       /* keep feeding */
	HTTP_FEED_NOT_HTTP = 1, /* TLS records: nothing more will be parsed */
	HTTP_FEED_STOPPED = 2,  /* left HTTP (101, tunnel) or finished */
};

struct http_stream_counters {
	uint64_t messages;  /* heads reported (on_head calls) */
	uint64_t garbage;   /* non-HTTP bytes where a message should start, once per run */
	uint64_t oversized; /* heads longer than max_header_bytes */
	uint64_t desync;    /* framing lost because bytes were not captured (or invalid chunks) */
	uint64_t truncated; /* heads cut by a gap whose message was still reported */
	uint64_t not_http;  /* 1 once TLS records were seen */
	uint64_t skipped_bytes; /* bytes in no reported message */
	uint64_t ignored_bytes; /* bytes fed after the stream stopped */
};

/* Fields other than `counters` are private to http_parse.c. */
struct http_stream {
	uint8_t state;
	uint8_t kind;        /* enum http_stream_kind */
	uint8_t msg_kind;    /* enum http_message_kind of the message in progress */
	uint8_t method;      /* enum usm_http_method */
	uint8_t last_method; /* of the last request reported */
	uint8_t version_minor;
	uint16_t flags;
	uint16_t status;
	uint16_t path_len;
	uint16_t path_max;
	uint16_t line_len;
	uint32_t max_header_bytes;
	uint32_t head_bytes;
	uint64_t remaining; /* body or chunk bytes still to skip */
	uint64_t content_length;
	uint64_t start_ts_ns;
	uint64_t msg_bytes;
	struct http_stream_counters counters;
	size_t stopped_at; /* http_stream_stopped_at() */
	char line[HTTP_LINE_KEEP];
	char path[HTTP_PATH_MAX + 1];
};

/* 0, or -EINVAL when max_path_len is not 1..HTTP_PATH_MAX or
 * max_header_bytes is below HTTP_HEADER_BYTES_MIN or above UINT32_MAX. */
int http_stream_init(struct http_stream *s, enum http_stream_kind kind, size_t max_path_len,
		     size_t max_header_bytes);

/* Applies from the next start line; a message in progress keeps its kind. */
void http_stream_set_kind(struct http_stream *s, enum http_stream_kind kind);

/* One segment: `captured` known bytes at `data`, `total` bytes in all
 * (total < captured is taken as total = captured; data NULL as captured 0).
 * Calls the sink for each message that starts or ends in it. */
enum http_feed_result http_stream_feed(struct http_stream *s, const uint8_t *data, size_t captured,
				       size_t total, uint64_t ts_ns,
				       const struct http_parse_sink *sink, void *ctx);

/* After the feed in which HTTP ended on the stream (a 101's head, a
 * tunnel opened): how many of that segment's captured bytes were HTTP's;
 * the rest are the next protocol's (h2c after its 101). */
size_t http_stream_stopped_at(const struct http_stream *s);

/* The stream ended (connection closed, or the caller stops parsing): a body
 * delimited by close ends with HTTP_END_CLOSE, any other message in
 * progress with HTTP_END_LOST (a head of which the method or status was read
 * is reported first). Later feeds are ignored (HTTP_FEED_STOPPED).
 * Idempotent. */
void http_stream_finish(struct http_stream *s, const struct http_parse_sink *sink, void *ctx);

#endif
