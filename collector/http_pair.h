/* One HTTP/1.x connection: its two directions framed by http_parse, and
 * each response paired with the request it answers.
 *
 * Contract:
 * - Directions are the observed process's: HTTP_DIR_READ (bytes it read) and
 *   HTTP_DIR_WRITE (bytes it wrote). The request direction is the role's
 *   (a server reads requests, a client writes them); with HTTP_ROLE_UNKNOWN
 *   the first message reported decides: a request in direction d makes d
 *   the request direction, a response makes it the other one. A message of
 *   the wrong kind for its direction is ignored (`misdirected`).
 * - Requests wait in a FIFO in the order they were sent (pipelining); a
 *   final response answers the oldest, unless that request started after
 *   the response did (then the response is an orphan, as when the FIFO is
 *   empty: `orphan_responses`). 1xx interim responses answer nothing. 101
 *   Switching Protocols answers its request and ends HTTP on the connection,
 *   as a 2xx to CONNECT does: both directions stop, requests still waiting
 *   are dropped without a report (`abandoned`), later feeds are ignored
 *   (HTTP_FEED_STOPPED). TLS records where a message should start end it
 *   the same way with HTTP_FEED_NOT_HTTP: the stream is encrypted.
 * - on_exchange is called when the response ended (http_parse's on_end:
 *   framed, at close, guessed or lost); latency is the response's first
 *   byte's ts minus the request's first byte's ts (each the ts of the
 *   segment holding it). Request bytes are final if the request ended
 *   before its response did; otherwise a lower bound (bytes_exact false).
 * - http_conn_expire() reports as unanswered the oldest requests that are
 *   older than the timeout, oldest first, stopping at one whose response is
 *   being read. A response arriving after its request expired pairs with
 *   the next request: pick a timeout well above any plausible latency.
 * - At most max_pending requests wait (plus the one whose response is being
 *   read); a new one beyond that drops the oldest waiting (`overflow`,
 *   reported as http_pipeline_overflow; the responses that follow pair
 *   one request late until the pipeline drains: the depth, 1,024 by
 *   default, is far beyond what clients pipeline). The FIFO is allocated on first use and grows by doubling up
 *   to max_pending + 1 entries of about 24 + max_path_len bytes; if that
 *   allocation fails the request is not tracked (`untracked`).
 * - http_conn_close(): bodies delimited by close end there, other messages
 *   in progress end as lost (a response being read still yields its
 *   exchange), requests still waiting are reported unanswered, and the FIFO
 *   is freed. Call it for every initialized connection; afterwards the
 *   struct holds no memory and may be dropped or initialized again.
 * - Counters: requests == exchanges + unanswered + overflow + untracked +
 *   abandoned + pending; responses == exchanges + orphan_responses + (1 if
 *   a response is being read).
 * - Sink callbacks may be NULL; they must not call http_conn functions on
 *   the same connection; pointers they get are valid during the call only.
 *
 * Memory: sizeof(struct http_conn) is 1032 bytes on x86-64 (two streams
 * of http_parse.h and ~150 bytes), plus the FIFO while requests wait.
 * Not thread-safe: the collector's single loop owns it. */
#ifndef USM_COLLECTOR_HTTP_PAIR_H
#define USM_COLLECTOR_HTTP_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

/* Upper bound of max_pending. */
#define HTTP_PENDING_MAX 4096

struct http_limits {
	size_t max_path_len;     /* 1..HTTP_PATH_MAX: longer paths are cut (path_cut) */
	size_t max_header_bytes; /* start line + headers, HTTP_HEADER_BYTES_MIN..UINT32_MAX */
	unsigned max_pending;    /* 1..HTTP_PENDING_MAX requests awaiting their response */
};

#define HTTP_LIMITS_DEFAULT                                                                        \
	{                                                                                          \
		.max_path_len = 128, .max_header_bytes = 8192, .max_pending = 1024                   \
	}

enum http_dir {
	HTTP_DIR_READ = 0,  /* bytes read by the observed process */
	HTTP_DIR_WRITE = 1, /* bytes written by it */
};

enum http_role {
	HTTP_ROLE_UNKNOWN = 0, /* decided by the first message seen */
	HTTP_ROLE_CLIENT,      /* the observed process sends requests: they are writes */
	HTTP_ROLE_SERVER,      /* it receives requests: they are reads */
};

struct http_exchange {
	enum usm_http_method method;
	uint16_t status; /* final status, 101 included */
	bool path_cut;
	bool bytes_exact; /* both messages were framed to their end */
	const char *path; /* NUL-terminated, valid during the callback */
	size_t path_len;
	uint64_t request_ts_ns;
	uint64_t latency_ns;
	uint64_t request_bytes;
	uint64_t response_bytes;
};

struct http_sink {
	void (*on_exchange)(void *ctx, const struct http_exchange *x);
	void (*on_unanswered)(void *ctx, enum usm_http_method method, const char *path,
			      bool path_cut);
};

struct http_conn_counters {
	uint64_t requests;         /* request heads reported in the request direction */
	uint64_t responses;        /* final response heads (101 included) */
	uint64_t interim;          /* 1xx responses other than 101 */
	uint64_t exchanges;        /* on_exchange calls */
	uint64_t unanswered;       /* on_unanswered calls: expired, or waiting at close */
	uint64_t overflow;         /* waiting requests dropped at max_pending */
	uint64_t untracked;        /* requests not queued: the FIFO could not grow */
	uint64_t abandoned;        /* waiting requests dropped when HTTP ended */
	uint64_t orphan_responses; /* final responses with no request to answer */
	uint64_t misdirected;      /* messages of the wrong kind for their direction */
};

/* Fields other than `counters` and `stream[d].counters` are private. */
struct http_conn {
	struct http_stream stream[2]; /* indexed by enum http_dir */
	struct http_limits lim;
	unsigned char *pending; /* FIFO ring: pending_cap entries of `stride` bytes */
	uint32_t pending_cap;
	uint32_t pending_head;
	uint32_t pending_count;
	uint32_t stride;
	uint32_t next_seq;
	uint32_t reading_seq; /* the request being read, 0 if none queued */
	int8_t request_dir;   /* enum http_dir, -1 while unknown */
	uint8_t state;
	bool answering;   /* the oldest request's response is being read */
	bool ignoring[2]; /* the message being read in that direction is not paired */
	uint16_t response_status;
	uint64_t response_ts_ns;
	struct http_conn_counters counters;
};

/* 0, or -EINVAL for limits out of range or an unknown role (the
 * connection then ignores what it is fed; closing it is still fine). */
int http_conn_init(struct http_conn *c, const struct http_limits *lim, enum http_role role);

/* Feeds one segment of direction `dir` (see http_stream_feed()). Returns an
 * enum http_feed_result (>= 0): HTTP_FEED_OK, or HTTP_FEED_NOT_HTTP /
 * HTTP_FEED_STOPPED once the connection is no longer parsed (the caller may
 * then close it); -EINVAL for a dir other than 0 or 1. */
int http_conn_feed(struct http_conn *c, enum http_dir dir, const uint8_t *data, size_t captured,
		   size_t total, uint64_t ts_ns, const struct http_sink *sink, void *ctx);

/* Reports and drops the requests waiting longer than timeout_ns
 * (now_ns - request ts > timeout_ns); returns how many. */
unsigned http_conn_expire(struct http_conn *c, uint64_t now_ns, uint64_t timeout_ns,
			  const struct http_sink *sink, void *ctx);

/* The connection closed: see the contract above. Idempotent. */
void http_conn_close(struct http_conn *c, const struct http_sink *sink, void *ctx);

/* The request direction (enum http_dir), or -1 while unknown. */
int http_conn_request_dir(const struct http_conn *c);

/* After a feed of dir that returned HTTP_FEED_STOPPED: the bytes of its
 * segment HTTP used (http_stream_stopped_at). */
size_t http_conn_stopped_at(const struct http_conn *c, enum http_dir dir);

/* Requests waiting for their response, the one being answered included. */
unsigned http_conn_pending(const struct http_conn *c);

#endif
