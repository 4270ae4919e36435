#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "exit_status.h"

int snapshot_read(struct api *a, const char *target, struct snapshot *s, char *err, size_t cap)
{
	*s = (struct snapshot){0};
	json_object *doc;
	int rc = api_get(a, target, 0, &doc, err, cap);
	if (rc != USMCTL_OK)
		return rc;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->at_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	char why[256];
	int prc = http_rows_parse(doc, &s->rows, why, sizeof(why));
	json_object_put(doc);
	if (prc == -ENOMEM) {
		snprintf(err, cap, "%s", why);
		return USMCTL_EFAIL;
	}
	if (prc != 0) {
		snprintf(err, cap, "unexpected JSON from %s%s: %s", a->where, target, why);
		return USMCTL_EMALFORMED;
	}
	return USMCTL_OK;
}

void snapshot_free(struct snapshot *s) { http_rows_free(&s->rows); }

double snapshot_interval(const struct snapshot *now, const struct snapshot *prev)
{
	return prev ? now->at_s - prev->at_s : 0;
}

int snapshot_tables(const struct snapshot *now, const struct snapshot *prev, enum table_sort key,
		    struct table *services, struct table *endpoints)
{
	double dt = snapshot_interval(now, prev);
	const struct http_rows *before = prev ? &prev->rows : NULL;
	int rc = table_build(&now->rows, before, dt, TABLE_SERVICES, services);
	if (rc != 0)
		return rc;
	if ((rc = table_build(&now->rows, before, dt, TABLE_ENDPOINTS, endpoints)) != 0) {
		table_free(services);
		return rc;
	}
	table_sort(services, key);
	table_sort(endpoints, key);
	return 0;
}
