/* The aggregation table of HTTP exchanges: one row per (server address,
 * server port, server pid, comm, method, path, status) with the number of
 * exchanges, their bytes and a latency sketch.
 *
 * Contract:
 * - http_stats_add() finds or creates the key's row and adds one exchange:
 *   count + 1, bytes (request + response) added, the latency (ns) added to
 *   the row's sketch (sketch.h: quantiles within 1 %).
 * - Keys are made canonical first, so that one server reads as one row:
 *   an AF_INET address is addr[0..3] (the other 12 bytes are ignored); an
 *   IPv4-mapped AF_INET6 address (::ffff:a.b.c.d, a dual-stack socket) is
 *   the AF_INET address a.b.c.d; AF_UNSPEC (0) is an unknown server
 *   address (its 16 bytes are ignored); comm is read up to its first NUL, at most
 *   15 characters (TASK_COMM_LEN); service and container_id (NULL: none)
 *   up to their first NUL, at most USM_SERVICE_MAX - 1 and
 *   USM_CONTAINER_ID_LEN bytes; the path is cut at max_path_len bytes
 *   (counted in paths_truncated: paths sharing that prefix share a row).
 *   A path is bytes, not a C string: path_len counts, NULs included.
 * - Refused with -EINVAL and counted in `rejected`: a family other than
 *   AF_UNSPEC/AF_INET/AF_INET6, a method outside enum usm_http_method, a
 *   status outside 100..599, a NULL path with path_len > 0.
 * - Bounded: at most max_entries rows. An exchange whose key is new while
 *   the table is full is added to the overflow row (http_stats_overflow():
 *   count, bytes and latency of everything that found no row) and counted
 *   in overflow_exchanges; it is not lost, only unlabelled.
 * - Rows are listed in insertion order, which adding never changes: pages
 *   are read with a cursor (0 to start; next_cursor 0 when done) and a
 *   reader that pages while exchanges are added reads every row that
 *   existed when it started exactly once (and possibly rows added since).
 *   A stale cursor (from before a reset) restarts from 0.
 * - The generation changes when a row is created and on reset, not when a
 *   row's values change: a reader whose generation changed between pages
 *   restarts. Values on different pages are from different moments.
 * - http_stats_reset() removes every row and empties the overflow row (for
 *   reset-on-read); the counters are cumulative and survive it.
 * - Row pointers (key.path, latency) stay valid until the next reset or
 *   free; rows never move.
 *
 * Hashing: open addressing with linear probing, at most half full, on a
 * SipHash-1-3 of the canonical key keyed per table from getrandom() (paths
 * come from the network: a keyed hash keeps a client from choosing paths
 * that collide and turn every add into a walk of the table).
 *
 * Memory: sizeof(struct http_stats) (216 bytes on x86-64) plus, per row:
 * the row (272 bytes with its empty sketch, + the path + 1, one malloc),
 * 8 bytes in the insertion order and 8 to 16 bytes of hash slots (4 per
 * slot, 25-50 % full), plus its sketch's buckets (sketch.h: 16 bytes for
 * one distinct latency, ~270-540 for latencies spread over two decades,
 * at most 16 KiB). Roughly 170 bytes + path + buckets, ~200 with malloc's
 * overhead; http_stats_bytes() adds it up (without malloc's overhead).
 * The arrays grow with the rows (never beyond max_entries); reset gives
 * everything back.
 *
 * Not thread-safe: the collector's single loop owns it. */
#ifndef USM_COLLECTOR_HTTP_STATS_H
#define USM_COLLECTOR_HTTP_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h" /* HTTP_PATH_MAX */
#include "ipc_proto.h"  /* enum usm_http_method */
#include "sketch.h"

#define HTTP_STATS_COMM_LEN 16                /* TASK_COMM_LEN, NUL included */
#define HTTP_STATS_MAX_ENTRIES (1u << 22)     /* upper bound of max_entries */
#define HTTP_STATS_PATH_MAX HTTP_PATH_MAX     /* upper bound of max_path_len */

struct http_stats_key {
	uint8_t addr[16];    /* server address, network byte order */
	uint8_t family;      /* AF_INET, AF_INET6, or AF_UNSPEC: not known */
	uint8_t method;      /* enum usm_http_method */
	uint16_t port;       /* server port, host byte order */
	uint16_t status;     /* 100..599 */
	uint32_t pid;        /* server pid, 0 if unknown */
	char comm[HTTP_STATS_COMM_LEN]; /* server command, "" if unknown */
	/* The name the server's process chose and its container id
	 * (proc_names.h); NULL or "" when none. Part of the key, as comm:
	 * a pid's rows keep the names it had. */
	const char *service;
	const char *container_id;
	const char *path;    /* without the query string; path_len bytes */
	size_t path_len;
	uint8_t protocol;    /* enum usm_http_protocol; 0 is taken as HTTP/1 */
	int8_t grpc_status;  /* h2: 0..16 or USM_GRPC_STATUS_NONE; HTTP/1: taken as none */
};

struct http_stats_limits {
	uint32_t max_entries;  /* max_http_stats_entries: 1..HTTP_STATS_MAX_ENTRIES */
	uint32_t max_path_len; /* http_max_path_len: 1..HTTP_STATS_PATH_MAX */
};

/* Cumulative since http_stats_new(); reset does not clear them. */
struct http_stats_counters {
	uint64_t exchanges;          /* added to a row or to the overflow row */
	uint64_t rows_created;
	uint64_t overflow_exchanges; /* new key while full: added to the overflow row */
	uint64_t rejected;           /* invalid keys (-EINVAL), not added */
	uint64_t paths_truncated;    /* exchanges whose path was cut at max_path_len */
	uint64_t alloc_failed;       /* no memory for a new row (-ENOMEM), not added */
	uint64_t latency_dropped;    /* exchange counted but its latency not sketched (no memory) */
	uint64_t resets;
};

/* A row as the table holds it (pointers into the table). */
struct http_stats_row {
	struct http_stats_key key; /* canonical; key.path is NUL-terminated too */
	uint64_t count;            /* exchanges */
	uint64_t bytes;            /* request + response bytes, saturating */
	const struct sketch *latency; /* nanoseconds */
};

struct http_stats;

/* NULL with errno EINVAL (limits out of range) or ENOMEM. */
struct http_stats *http_stats_new(const struct http_stats_limits *limits);
void http_stats_free(struct http_stats *t);

/* 0 (added to its row or to the overflow row), -EINVAL (bad key, counted
 * in rejected), -ENOMEM (counted in alloc_failed). */
int http_stats_add(struct http_stats *t, const struct http_stats_key *k, uint64_t bytes,
		   uint64_t latency_ns);

/* The limits the table was made with. */
const struct http_stats_limits *http_stats_limits(const struct http_stats *t);

/* Rows in the table (the overflow row not included). */
uint32_t http_stats_count(const struct http_stats *t);
uint64_t http_stats_generation(const struct http_stats *t);
const struct http_stats_counters *http_stats_counters(const struct http_stats *t);

/* The row of key k (made canonical as add does): 0, -ENOENT, -EINVAL. */
int http_stats_lookup(const struct http_stats *t, const struct http_stats_key *k,
		      struct http_stats_row *out);

/* Everything added while the table was full since the last reset; its key
 * is all zero (family 0, path ""). */
void http_stats_overflow(const struct http_stats *t, struct http_stats_row *out);

/* Fills up to max rows from cursor; *count rows written and *next_cursor
 * (0: done). Returns 0. */
int http_stats_page(const struct http_stats *t, uint64_t cursor, struct http_stats_row *out,
		    uint32_t max, uint32_t *count, uint64_t *next_cursor);

/* Removes every row, empties the overflow row, changes the generation. */
void http_stats_reset(struct http_stats *t);

/* Heap bytes held (rows, paths, sketches, arrays, the table itself). */
size_t http_stats_bytes(const struct http_stats *t);

#endif
