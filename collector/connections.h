/* The connections the HTTP capture reports, each parsed and paired
 * (http_pair.h), and their exchanges aggregated into an http_stats table.
 *
 * Contract:
 * - A connection is (pid, tls, conn) of struct usm_data_event: a TLS
 *   session or a socket within one process. The first DATA event creates
 *   it; CONN_CLOSE, the process's exit (conn_table_drop_pid), its key
 *   coming back with another tuple (a reused socket or session address
 *   whose end was not seen: counted in `reused`), idleness
 *   beyond idle_timeout_ns (conn_table_expire) or eviction end it, and
 *   ending it closes its http_conn (requests still waiting count as
 *   unanswered, a body delimited by the close ends).
 * - Bounded: at most max_connections. A new connection beyond that evicts
 *   the least recently active one (counted in `evicted`).
 * - The role (client or server) is the first message's (http_pair.h). An
 *   exchange is aggregated under its server: for a server-side connection
 *   its local address and port, its pid and comm; for a client-side one the
 *   remote address and port, pid 0 and comm "" (unknown), family 0 when the
 *   tuple is not known yet.
 * - Counted once: when both ends of a connection run on this host and both
 *   are captured, the server's side counts. A client-side exchange (or
 *   unanswered request) whose mirrored tuple is a tracked server-side
 *   connection, or one that ended less than 10 s earlier (servers close
 *   right after responding), is dropped and counted in
 *   `client_duplicates`. The server side always reads the request before
 *   the client can read the response, so it is known by then.
 * - A connection whose bytes are not HTTP/1.x (TLS records on a socket, a
 *   protocol switch) stops being parsed; its later events are counted and
 *   ignored until it ends.
 * - conn_table_set_stats() changes the table exchanges go to (a reset).
 *
 * Not thread-safe: the collector's single loop owns it. */
#ifndef USM_COLLECTOR_CONNECTIONS_H
#define USM_COLLECTOR_CONNECTIONS_H

#include <stdint.h>

#include "http_pair.h"
#include "http_stats.h"
#include "usm_events.h"

struct conn_limits {
	uint32_t max_connections;   /* max_tracked_connections, >= 1 */
	uint64_t request_timeout_ns; /* http_request_timeout_ms */
	uint64_t idle_timeout_ns;    /* http_idle_timeout_s */
	struct http_limits http;    /* per connection (path length, head size, pipelining) */
};

struct conn_counters {
	uint64_t events;            /* events applied */
	uint64_t exchanges;         /* aggregated (http_stats_add called) */
	uint64_t unanswered;        /* requests reported unanswered */
	uint64_t orphan_responses;  /* responses with no request waiting */
	uint64_t pipeline_overflow; /* requests dropped at the pipelining depth (max_pending) */
	uint64_t parse_errors;      /* garbage + desync + oversized, both directions */
	uint64_t not_http;          /* connections that stopped on TLS records */
	uint64_t client_duplicates; /* client-side reports dropped: the server side counts */
	uint64_t without_tuple;     /* exchanges aggregated with family 0: no address known */
	uint64_t evicted;           /* connections dropped at max_connections */
	uint64_t idle_closed;       /* connections dropped after idle_timeout_ns */
	uint64_t alloc_failed;      /* events dropped: no memory for a new connection */
	uint64_t reused;            /* connections ended because their key came back with another tuple */
	uint64_t stats_failed;      /* exchanges http_stats_add refused (see its counters) */
	/* HTTP/2 (h2_link.h, h2_conn.h) */
	uint64_t h2_connections;    /* connections found to be HTTP/2 */
	uint64_t h2_hpack_desync;   /* directions whose header tables could no longer be trusted */
	uint64_t h2_started_unseen; /* HTTP/2 connections first seen after their start */
	uint64_t h2_framing_lost;   /* directions whose frames a capture gap broke */
	uint64_t h2_streams_reset;  /* RST_STREAM on tracked streams */
	uint64_t h2_pushes_ignored; /* PUSH_PROMISE header blocks (decoded, not reported) */
	uint64_t h2_goaway;         /* GOAWAY frames */
};

struct conn_table;

/* NULL with errno EINVAL (limits) or ENOMEM. stats is borrowed. */
struct conn_table *conn_table_new(const struct conn_limits *lim, struct http_stats *stats);
void conn_table_free(struct conn_table *t);

void conn_table_set_stats(struct conn_table *t, struct http_stats *stats);

/* The names processes chose, looked up for each server-side exchange's
 * row (borrowed; NULL: every row is named by its command). */
struct proc_names;
void conn_table_set_names(struct conn_table *t, const struct proc_names *names);

/* Applies one checked event (data_event_check) with its captured bytes. */
void conn_table_event(struct conn_table *t, const struct usm_data_event *e, const uint8_t *data);

/* Reports requests older than the request timeout as unanswered, and ends
 * connections idle longer than the idle timeout. now_ns: CLOCK_MONOTONIC,
 * the events' clock. */
void conn_table_expire(struct conn_table *t, uint64_t now_ns);

/* The process exited: ends its connections. Returns how many. */
unsigned conn_table_drop_pid(struct conn_table *t, uint32_t pid);

uint32_t conn_table_count(const struct conn_table *t);
const struct conn_counters *conn_table_counters(const struct conn_table *t);

#endif
