/* The table usmctl stats and usmctl top show: rows of /usm/http_stats
 * grouped by service (the server's service name, as /metrics labels it,
 * and address) or by endpoint
 * (service, method and path), with a request rate from two reads.
 *
 * What each column means, and why:
 * - count: exchanges since the statistics started (or the last reset),
 *   summed over the group's rows (statuses, pids, protocols).
 * - rate: (count now - count at the previous read) / interval. A group
 *   whose count went down was reset in between: its whole count is the
 *   delta, as Prometheus treats a counter reset. NAN without a previous
 *   read.
 * - errors: exchanges that failed on the server's side, as OpenTelemetry's
 *   semantic conventions define it for servers: HTTP status 5xx; for gRPC,
 *   the codes UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
 *   UNAVAILABLE and DATA_LOSS (4xx and other gRPC codes are the client's).
 * - p50, p99: the API keeps a quantile sketch per row, which usmctl does
 *   not see; it merges rows by their published quantiles (table_merge_
 *   quantile). Exact for a group of one row, an estimate otherwise. Like
 *   count, they cover the time since the statistics started.
 *
 * Everything here is pure: no I/O. */
#ifndef USMCTL_TABLE_H
#define USMCTL_TABLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_rows.h"

enum table_sort { TABLE_SORT_RATE, TABLE_SORT_P99, TABLE_SORT_ERRORS };
enum table_level { TABLE_SERVICES, TABLE_ENDPOINTS };

struct table_row {
	const struct http_row *key; /* the group's first row: service, server, method, path */
	uint64_t count, errors;
	double rate; /* requests per second, NAN when unknown */
	double p50_ms, p99_ms;
};

struct table {
	struct table_row *v;
	size_t n;
	enum table_level level;
};

/* Groups now's rows at level; with prev (the previous read, or NULL) and
 * interval_s > 0, sets each row's rate. The table points into now: free
 * it before now. Rows come out sorted by key; call table_sort for an
 * order by value. Returns 0 or -ENOMEM. */
int table_build(const struct http_rows *now, const struct http_rows *prev, double interval_s,
		enum table_level level, struct table *out);

/* Highest first: rate (unknown rates last), p99, or error count (then
 * error rate); ties by count, then by key, so the order is stable from
 * one refresh to the next. */
void table_sort(struct table *t, enum table_sort key);

void table_free(struct table *t);

bool table_is_error(int status, int grpc_status);

/* The q-quantile (0 < q < 1) of n rows merged, weighting each row by its
 * count. Each row's distribution is taken as linear between its known
 * points (0 at 0 ms, 0.5 at p50, 0.9 at p90, 0.99 at p99, 1 at max). */
double table_merge_quantile(const struct http_row *const *rows, size_t n, double q);

/* "rate", "p99", "errors"; table_sort_parse returns -1 for anything else. */
const char *table_sort_name(enum table_sort key);
int table_sort_parse(const char *name);

/* {"interval_s", "sort", "services": [...], "endpoints": [...]}: each row
 * {"service", "server", ["method", "path",] "count", "rate", "errors",
 * "error_rate", "p50_ms", "p99_ms"}, rate null when unknown. NULL when
 * out of memory. */
json_object *table_to_json(const struct table *services, const struct table *endpoints,
			   double interval_s, enum table_sort sort);

#endif
