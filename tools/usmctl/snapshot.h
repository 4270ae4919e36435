/* One read of GET /usm/http_stats, timed, and the two tables (services,
 * endpoints) made from two reads: what stats and top share.
 *
 * snapshot_read returns a usmctl exit status (exit_status.h) with a
 * message in err; a document not in the statistics' shape is
 * USMCTL_EMALFORMED. */
#ifndef USMCTL_SNAPSHOT_H
#define USMCTL_SNAPSHOT_H

#include <json-c/json.h>

#include "api.h"
#include "http_rows.h"
#include "table.h"

struct snapshot {
	struct http_rows rows;
	double at_s; /* CLOCK_MONOTONIC when the answer was read */
};

int snapshot_read(struct api *a, const char *target, struct snapshot *s, char *err, size_t cap);
void snapshot_free(struct snapshot *s);

/* Both tables of now, rates against prev (NULL: none), sorted by key.
 * They point into now. Returns 0 or -ENOMEM (then nothing to free). */
int snapshot_tables(const struct snapshot *now, const struct snapshot *prev, enum table_sort key,
		    struct table *services, struct table *endpoints);

/* The seconds between two reads; 0 without prev. */
double snapshot_interval(const struct snapshot *now, const struct snapshot *prev);

#endif
