#include "table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool table_is_error(int status, int grpc_status)
{
	switch (grpc_status) {
	case -1:
		return status >= 500 && status <= 599;
	case 2:	 /* UNKNOWN */
	case 4:	 /* DEADLINE_EXCEEDED */
	case 12: /* UNIMPLEMENTED */
	case 13: /* INTERNAL */
	case 14: /* UNAVAILABLE */
	case 15: /* DATA_LOSS */
		return true;
	default:
		return false;
	}
}

static int key_cmp(const struct http_row *a, const struct http_row *b, enum table_level level)
{
	int c = strcmp(a->service, b->service);
	if (c == 0)
		c = strcmp(a->server, b->server);
	if (c == 0 && level == TABLE_ENDPOINTS)
		c = strcmp(a->method, b->method);
	if (c == 0 && level == TABLE_ENDPOINTS)
		c = strcmp(a->path, b->path);
	return c;
}

static int ptr_cmp(const void *a, const void *b, void *level)
{
	return key_cmp(*(const struct http_row *const *)a, *(const struct http_row *const *)b,
		       *(enum table_level *)level);
}

/* The row's cumulative distribution at x ms, linear between its points;
 * points out of order (each quantile is within 1 %) are lifted to the one
 * before. */
static double row_cdf(const struct http_row *r, double x)
{
	static const double level[] = {0, 0.5, 0.9, 0.99, 1};
	double at[] = {0, r->p50_ms, r->p90_ms, r->p99_ms, r->max_ms};
	for (int k = 1; k < 5; k++)
		if (at[k] < at[k - 1])
			at[k] = at[k - 1];
	if (x >= at[4])
		return 1;
	int k = 0;
	while (k < 3 && x >= at[k + 1])
		k++;
	/* at[k] <= x < at[k + 1], so the segment has a width */
	return level[k] + (level[k + 1] - level[k]) * (x - at[k]) / (at[k + 1] - at[k]);
}

double table_merge_quantile(const struct http_row *const *rows, size_t n, double q)
{
	if (n == 1 && (q == 0.5 || q == 0.9 || q == 0.99)) /* exact: the row's own */
		return q == 0.5 ? rows[0]->p50_ms : q == 0.9 ? rows[0]->p90_ms : rows[0]->p99_ms;
	double total = 0, hi = 0;
	for (size_t i = 0; i < n; i++) {
		total += (double)rows[i]->count;
		hi = fmax(hi, fmax(rows[i]->max_ms, rows[i]->p99_ms));
	}
	if (total <= 0)
		return 0;
	/* The smallest x whose merged distribution reaches q: bisection, to
	 * far below the sketch's own 1 % error. */
	double lo = 0;
	for (int it = 0; it < 64 && hi - lo > 1e-9 * (hi > 1 ? hi : 1); it++) {
		double mid = (lo + hi) / 2, below = 0;
		for (size_t i = 0; i < n; i++)
			below += (double)rows[i]->count * row_cdf(rows[i], mid);
		if (below >= q * total)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* Groups rows into out (sorted by key), without rates. */
static int group(const struct http_rows *rows, enum table_level level, struct table *out)
{
	*out = (struct table){.level = level};
	const struct http_row **by_key = calloc(rows->n ? rows->n : 1, sizeof(*by_key));
	out->v = calloc(rows->n ? rows->n : 1, sizeof(*out->v));
	if (!by_key || !out->v) {
		free(by_key);
		table_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0; i < rows->n; i++)
		by_key[i] = &rows->v[i];
	qsort_r(by_key, rows->n, sizeof(*by_key), ptr_cmp, &level);
	for (size_t i = 0, j; i < rows->n; i = j) {
		struct table_row *t = &out->v[out->n++];
		*t = (struct table_row){.key = by_key[i], .rate = NAN};
		for (j = i; j < rows->n && key_cmp(by_key[i], by_key[j], level) == 0; j++) {
			t->count += by_key[j]->count;
			if (table_is_error(by_key[j]->status, by_key[j]->grpc_status))
				t->errors += by_key[j]->count;
		}
		t->p50_ms = table_merge_quantile(&by_key[i], j - i, 0.5);
		t->p99_ms = table_merge_quantile(&by_key[i], j - i, 0.99);
	}
	free(by_key);
	return 0;
}

/* The group of before with r's key, or NULL: before is sorted by key. */
static const struct table_row *find_group(const struct table *before, const struct table_row *r)
{
	for (size_t lo = 0, hi = before->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(r->key, before->v[mid].key, before->level);
		if (c == 0)
			return &before->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int table_build(const struct http_rows *now, const struct http_rows *prev, double interval_s,
		enum table_level level, struct table *out)
{
	int rc = group(now, level, out);
	if (rc != 0 || !prev || !(interval_s > 0))
		return rc;
	struct table before;
	if ((rc = group(prev, level, &before)) != 0) {
		table_free(out);
		return rc;
	}
	for (size_t i = 0; i < out->n; i++) {
		struct table_row *r = &out->v[i];
		const struct table_row *b = find_group(&before, r);
		uint64_t was = b ? b->count : 0;
		r->rate = (double)(r->count >= was ? r->count - was : r->count) / interval_s;
	}
	table_free(&before);
	return 0;
}

static int compare_values(const struct table_row *a, const struct table_row *b, enum table_sort key)
{
	switch (key) {
	case TABLE_SORT_RATE: {
		/* unknown rates (NAN) after every known one */
		bool ka = !isnan(a->rate), kb = !isnan(b->rate);
		if (ka != kb)
			return ka ? -1 : 1;
		if (ka && a->rate != b->rate)
			return a->rate > b->rate ? -1 : 1;
		break;
	}
	case TABLE_SORT_P99:
		if (a->p99_ms != b->p99_ms)
			return a->p99_ms > b->p99_ms ? -1 : 1;
		break;
	case TABLE_SORT_ERRORS:
		if (a->errors != b->errors)
			return a->errors > b->errors ? -1 : 1;
		/* same count of errors: the larger share first */
		unsigned __int128 sa = (unsigned __int128)a->errors * b->count,
				  sb = (unsigned __int128)b->errors * a->count;
		if (sa != sb)
			return sa > sb ? -1 : 1;
		break;
	}
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return 0;
}

struct sort_ctx {
	enum table_sort key;
	enum table_level level;
};

static int row_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *ctx = arg;
	const struct table_row *a = pa, *b = pb;
	int c = compare_values(a, b, ctx->key);
	return c ? c : key_cmp(a->key, b->key, ctx->level);
}

void table_sort(struct table *t, enum table_sort key)
{
	struct sort_ctx ctx = {key, t->level};
	qsort_r(t->v, t->n, sizeof(*t->v), row_cmp, &ctx);
}

void table_free(struct table *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static const char *const sort_names[] = {
	[TABLE_SORT_RATE] = "rate", [TABLE_SORT_P99] = "p99", [TABLE_SORT_ERRORS] = "errors"};

const char *table_sort_name(enum table_sort key) { return sort_names[key]; }

int table_sort_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (strcmp(name, sort_names[i]) == 0)
			return (int)i;
	return -1;
}

static json_object *row_json(const struct table_row *r, enum table_level level)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "service", json_object_new_string(r->key->service));
	json_object_object_add(o, "server", json_object_new_string(r->key->server));
	if (level == TABLE_ENDPOINTS) {
		json_object_object_add(o, "method", json_object_new_string(r->key->method));
		json_object_object_add(o, "path", json_object_new_string(r->key->path));
	}
	json_object_object_add(o, "count", json_object_new_uint64(r->count));
	json_object_object_add(o, "rate", isnan(r->rate) ? NULL : json_object_new_double(r->rate));
	json_object_object_add(o, "errors", json_object_new_uint64(r->errors));
	json_object_object_add(
		o, "error_rate",
		json_object_new_double(r->count ? (double)r->errors / (double)r->count : 0));
	json_object_object_add(o, "p50_ms", json_object_new_double(r->p50_ms));
	json_object_object_add(o, "p99_ms", json_object_new_double(r->p99_ms));
	return o;
}

static json_object *rows_json(const struct table *t)
{
	json_object *list = json_object_new_array();
	for (size_t i = 0; list && i < t->n; i++) {
		json_object *row = row_json(&t->v[i], t->level);
		if (!row || json_object_array_add(list, row) != 0) {
			json_object_put(row);
			json_object_put(list);
			return NULL;
		}
	}
	return list;
}

json_object *table_to_json(const struct table *services, const struct table *endpoints,
			   double interval_s, enum table_sort sort)
{
	json_object *o = json_object_new_object();
	json_object *s = rows_json(services), *e = rows_json(endpoints);
	if (!o || !s || !e) {
		json_object_put(o);
		json_object_put(s);
		json_object_put(e);
		return NULL;
	}
	json_object_object_add(o, "interval_s", json_object_new_double(interval_s));
	json_object_object_add(o, "sort", json_object_new_string(table_sort_name(sort)));
	json_object_object_add(o, "services", s);
	json_object_object_add(o, "endpoints", e);
	return o;
}
