/* usmctl's table from /usm/http_stats documents: every row checked as
 * the README documents it, rows grouped by service and by endpoint,
 * errors as OpenTelemetry counts them, rates from two reads (new rows and
 * resets included), quantiles merged, and the orders of --sort. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_rows.h"
#include "table.h"

/* A row as apid renders it, of a process named `service` whose command
 * is `comm` (pid 7). */
static void named_row(char *out, size_t cap, const char *service, const char *comm, int port,
		      const char *method, const char *path, int status, const char *grpc,
		      unsigned long long count, double p50, double p99)
{
	char s[96] = "null", c[64] = "null", m[64] = "null";
	if (service)
		snprintf(s, sizeof(s), "\"%s\"", service);
	if (comm)
		snprintf(c, sizeof(c), "\"%s\"", comm);
	if (method)
		snprintf(m, sizeof(m), "\"%s\"", method);
	size_t n = strlen(out);
	snprintf(out + n, cap - n,
		 "%s{\"service\":%s,\"container_id\":null,"
		 "\"server\":{\"addr\":\"127.0.0.1\",\"port\":%d,\"pid\":%s,\"comm\":%s},"
		 "\"protocol\":\"http/1.1\",\"method\":%s,\"path\":\"%s\",\"status\":%d,"
		 "\"grpc_status\":%s,\"count\":%llu,\"bytes\":10,"
		 "\"latency_ms\":{\"p50\":%g,\"p90\":%g,\"p99\":%g,\"max\":%g}}",
		 n > 1 ? "," : "", s, port, comm ? "7" : "null", c, m, path, status, grpc, count,
		 p50, (p50 + p99) / 2, p99, p99 * 1.5);
}

/* A row of a process that chose no name: its service is its command. */
static void row(char *out, size_t cap, const char *comm, int port, const char *method,
		const char *path, int status, const char *grpc, unsigned long long count,
		double p50, double p99)
{
	named_row(out, cap, comm, comm, port, method, path, status, grpc, count, p50, p99);
}

static int parse_text(const char *text, struct http_rows *rows, char *err, size_t cap)
{
	json_object *doc = json_tokener_parse(text);
	assert_non_null(doc);
	int rc = http_rows_parse(doc, rows, err, cap);
	json_object_put(doc);
	return rc;
}

static void parse_ok(const char *text, struct http_rows *rows)
{
	char err[256] = "";
	int rc = parse_text(text, rows, err, sizeof(err));
	if (rc != 0)
		fail_msg("%s: %s", text, err);
}

static void test_readme_example_row_is_read(void **state)
{
	(void)state;
	struct http_rows rows;
	parse_ok("[{\"service\":\"nginx\",\"container_id\":null,"
		 "\"server\":{\"addr\":\"127.0.0.1\",\"port\":8443,\"pid\":1234,\"comm\":"
		 "\"nginx\"},\"protocol\":\"http/1.1\",\"method\":\"GET\",\"path\":\"/a\","
		 "\"status\":200,\"grpc_status\":null,\"count\":3,\"bytes\":1234,"
		 "\"latency_ms\":{\"p50\":1.234,\"p90\":2.5,\"p99\":3.1,\"max\":3.2}}]",
		 &rows);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.v[0].service, "nginx");
	assert_string_equal(rows.v[0].server, "127.0.0.1:8443");
	assert_string_equal(rows.v[0].method, "GET");
	assert_string_equal(rows.v[0].path, "/a");
	assert_int_equal(rows.v[0].status, 200);
	assert_int_equal(rows.v[0].grpc_status, -1);
	assert_int_equal(rows.v[0].count, 3);
	assert_true(rows.v[0].p50_ms == 1.234 && rows.v[0].p99_ms == 3.1);
	http_rows_free(&rows);
}

static void test_nulls_read_as_the_metrics_labels_spell_them(void **state)
{
	(void)state;
	struct http_rows rows;
	parse_ok(
		"[{\"service\":null,\"server\":{\"addr\":null,\"port\":null,\"pid\":null,"
		"\"comm\":null},\"method\":null,\"path\":\"/p\",\"status\":200,\"grpc_status\":0,"
		"\"count\":1,"
		"\"latency_ms\":{\"p50\":1,\"p90\":1,\"p99\":1,\"max\":1}},"
		"{\"service\":null,\"server\":{\"addr\":\"::1\",\"port\":80,\"pid\":null,"
		"\"comm\":null},\"method\":\"GET\",\"path\":\"/\",\"status\":200,"
		"\"grpc_status\":null,\"count\":1,"
		"\"latency_ms\":{\"p50\":1,\"p90\":1,\"p99\":1,\"max\":1},\"new_field\":[1]}]",
		&rows);
	assert_string_equal(rows.v[0].service, "unknown");
	assert_string_equal(rows.v[0].server, "unknown");
	assert_string_equal(rows.v[0].method, "unknown");
	assert_int_equal(rows.v[0].grpc_status, 0);
	assert_string_equal(rows.v[1].server, "[::1]:80");
	http_rows_free(&rows);
}

static void assert_refused(const char *text, const char *says)
{
	struct http_rows rows;
	char err[256] = "";
	int rc = parse_text(text, &rows, err, sizeof(err));
	if (rc != -EBADMSG || !strstr(err, says))
		fail_msg("%s: rc %d \"%s\", expected -EBADMSG and \"%s\"", text, rc, err, says);
	assert_null(rows.v);
}

#define GOOD_SERVER                                                                                \
	"\"service\":\"x\",\"server\":{\"addr\":\"127.0.0.1\",\"port\":1,\"pid\":2,\"comm\":\"x\"}"
#define GOOD_LATENCY "\"latency_ms\":{\"p50\":1,\"p90\":1,\"p99\":1,\"max\":1}"

static void test_rows_of_another_shape_refused(void **state)
{
	(void)state;
	assert_refused("{\"error\":\"x\"}", "array");
	assert_refused("[1]", "row 0: not an object");
	assert_refused("[{" GOOD_LATENCY "}]", "no \"server\"");
	assert_refused("[{\"server\":{\"addr\":1,\"port\":1,\"pid\":2,\"comm\":\"x\"}}]", "server");
	assert_refused("[{\"server\":{\"addr\":\"127.0.0.1\",\"port\":1,\"pid\":2,\"comm\":\"x\"},"
		       "\"method\":\"GET\",\"path\":\"/\",\"status\":200,\"grpc_status\":null,"
		       "\"count\":1," GOOD_LATENCY "}]",
		       "\"service\"");
	assert_refused("[{\"service\":7,\"server\":{\"addr\":\"127.0.0.1\",\"port\":1,\"pid\":2,"
		       "\"comm\":\"x\"},\"method\":\"GET\",\"path\":\"/\",\"status\":200,"
		       "\"grpc_status\":null,\"count\":1," GOOD_LATENCY "}]",
		       "\"service\"");
	assert_refused("[{" GOOD_SERVER ",\"method\":\"GET\",\"path\":null,\"status\":200,"
		       "\"grpc_status\":null,\"count\":1," GOOD_LATENCY "}]",
		       "\"path\"");
	assert_refused("[{" GOOD_SERVER ",\"method\":\"GET\",\"path\":\"/\",\"status\":\"200\","
		       "\"grpc_status\":null,\"count\":1," GOOD_LATENCY "}]",
		       "\"status\"");
	assert_refused("[{" GOOD_SERVER ",\"method\":\"GET\",\"path\":\"/\",\"status\":200,"
		       "\"grpc_status\":17,\"count\":1," GOOD_LATENCY "}]",
		       "\"grpc_status\"");
	assert_refused("[{" GOOD_SERVER ",\"method\":\"GET\",\"path\":\"/\",\"status\":200,"
		       "\"grpc_status\":null,\"count\":-1," GOOD_LATENCY "}]",
		       "\"count\"");
	assert_refused("[{" GOOD_SERVER ",\"method\":\"GET\",\"path\":\"/\",\"status\":200,"
		       "\"grpc_status\":null,\"count\":1,\"latency_ms\":{\"p50\":1}}]",
		       "\"latency_ms\"");
}

static void test_errors_are_server_errors_as_opentelemetry_counts_them(void **state)
{
	(void)state;
	assert_false(table_is_error(200, -1));
	assert_false(table_is_error(404, -1));
	assert_true(table_is_error(500, -1));
	assert_true(table_is_error(503, -1));
	assert_false(table_is_error(200, 0)); /* OK */
	assert_false(table_is_error(200, 5)); /* NOT_FOUND: the client's */
	assert_true(table_is_error(200, 13)); /* INTERNAL */
	assert_true(table_is_error(200, 14)); /* UNAVAILABLE */
}

static char doc_a[8192], doc_b[8192];

/* Two reads a second apart: nginx /a grew by 30 (statuses 200 and 500
 * summed), /b appeared, python3 /c was reset (count went down). */
static void two_reads(struct http_rows *before, struct http_rows *now)
{
	doc_a[0] = doc_b[0] = '\0';
	strcat(doc_a, "[");
	row(doc_a, sizeof(doc_a), "nginx", 80, "GET", "/a", 200, "null", 90, 1, 2);
	row(doc_a, sizeof(doc_a), "nginx", 80, "GET", "/a", 500, "null", 10, 1, 2);
	row(doc_a, sizeof(doc_a), "python3", 81, "GET", "/c", 200, "null", 50, 3, 4);
	strcat(doc_a, "]");
	strcat(doc_b, "[");
	row(doc_b, sizeof(doc_b), "nginx", 80, "GET", "/a", 200, "null", 115, 1, 2);
	row(doc_b, sizeof(doc_b), "nginx", 80, "GET", "/a", 500, "null", 15, 1, 2);
	row(doc_b, sizeof(doc_b), "nginx", 80, "POST", "/b", 200, "null", 4, 5, 9);
	row(doc_b, sizeof(doc_b), "python3", 81, "GET", "/c", 200, "null", 6, 3, 4);
	strcat(doc_b, "]");
	parse_ok(doc_a, before);
	parse_ok(doc_b, now);
}

static const struct table_row *find(const struct table *t, const char *service, const char *path)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key->service, service) == 0 &&
		    (!path || strcmp(t->v[i].key->path, path) == 0))
			return &t->v[i];
	fail_msg("no row %s %s", service, path ? path : "");
	return NULL;
}

static void test_endpoint_rates_from_two_reads(void **state)
{
	(void)state;
	struct http_rows before, now;
	two_reads(&before, &now);
	struct table t;
	assert_int_equal(table_build(&now, &before, 2.0, TABLE_ENDPOINTS, &t), 0);
	assert_int_equal(t.n, 3);
	const struct table_row *a = find(&t, "nginx", "/a");
	assert_int_equal(a->count, 130);
	assert_int_equal(a->errors, 15);
	assert_true(fabs(a->rate - 15.0) < 1e-9); /* (130 - 100) / 2 s */
	const struct table_row *b = find(&t, "nginx", "/b");
	assert_true(fabs(b->rate - 2.0) < 1e-9); /* new: all 4 in the interval */
	const struct table_row *c = find(&t, "python3", "/c");
	assert_true(fabs(c->rate - 3.0) < 1e-9); /* reset: the 6 since */
	table_free(&t);
	http_rows_free(&before);
	http_rows_free(&now);
}

static void test_services_sum_their_endpoints(void **state)
{
	(void)state;
	struct http_rows before, now;
	two_reads(&before, &now);
	struct table t;
	assert_int_equal(table_build(&now, &before, 1.0, TABLE_SERVICES, &t), 0);
	assert_int_equal(t.n, 2);
	const struct table_row *n = find(&t, "nginx", NULL);
	assert_int_equal(n->count, 134);
	assert_int_equal(n->errors, 15);
	assert_true(fabs(n->rate - 34.0) < 1e-9);
	assert_string_equal(n->key->server, "127.0.0.1:80");
	table_free(&t);
	http_rows_free(&before);
	http_rows_free(&now);
}

/* A pre-forked server's master and worker, or two programs under one
 * chosen name, are one service; one command under two names is two. */
static void test_services_are_the_names_processes_chose(void **state)
{
	(void)state;
	struct http_rows now;
	doc_a[0] = '\0';
	strcat(doc_a, "[");
	named_row(doc_a, sizeof(doc_a), "frontend", "nginx", 80, "GET", "/a", 200, "null", 5, 1, 2);
	named_row(doc_a, sizeof(doc_a), "frontend", "gunicorn", 80, "GET", "/b", 200, "null", 3, 1,
		  2);
	named_row(doc_a, sizeof(doc_a), "checkout", "python3", 81, "GET", "/c", 200, "null", 2, 1,
		  2);
	named_row(doc_a, sizeof(doc_a), "billing", "python3", 81, "GET", "/c", 200, "null", 1, 1,
		  2);
	strcat(doc_a, "]");
	parse_ok(doc_a, &now);
	struct table t;
	assert_int_equal(table_build(&now, NULL, 0, TABLE_SERVICES, &t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(find(&t, "frontend", NULL)->count, 8);
	assert_int_equal(find(&t, "checkout", NULL)->count, 2);
	assert_int_equal(find(&t, "billing", NULL)->count, 1);
	for (size_t i = 0; i < t.n; i++)
		assert_string_not_equal(t.v[i].key->service, "python3");
	table_free(&t);
	http_rows_free(&now);
}

static void test_no_rate_without_a_previous_read(void **state)
{
	(void)state;
	struct http_rows before, now;
	two_reads(&before, &now);
	struct table t;
	assert_int_equal(table_build(&now, NULL, 1.0, TABLE_ENDPOINTS, &t), 0);
	for (size_t i = 0; i < t.n; i++)
		assert_true(isnan(t.v[i].rate));
	table_free(&t);
	http_rows_free(&before);
	http_rows_free(&now);
}

static void test_quantiles_of_one_row_are_exact_and_merged_ones_weighted(void **state)
{
	(void)state;
	struct http_row fast = {.count = 90, .p50_ms = 1, .p90_ms = 1.5, .p99_ms = 2, .max_ms = 3};
	struct http_row slow = {
		.count = 10, .p50_ms = 100, .p90_ms = 150, .p99_ms = 200, .max_ms = 300};
	const struct http_row *one[] = {&fast};
	assert_true(table_merge_quantile(one, 1, 0.5) == 1);
	assert_true(table_merge_quantile(one, 1, 0.99) == 2);
	const struct http_row *same[] = {&fast, &fast};
	assert_true(fabs(table_merge_quantile(same, 2, 0.5) - 1) < 1e-6);
	assert_true(fabs(table_merge_quantile(same, 2, 0.99) - 2) < 1e-6);
	/* 90 % of the exchanges are fast: the median is theirs, p99 the slow
	 * ones' (the slow row's own 90th percentile, 150 ms) */
	const struct http_row *both[] = {&fast, &slow};
	double p50 = table_merge_quantile(both, 2, 0.5), p99 = table_merge_quantile(both, 2, 0.99);
	assert_true(p50 > 0.5 && p50 < 1.5);
	assert_true(fabs(p99 - 150) < 1e-3);
}

static void test_sort_orders(void **state)
{
	(void)state;
	struct http_rows before, now;
	two_reads(&before, &now);
	struct table t;
	assert_int_equal(table_build(&now, &before, 1.0, TABLE_ENDPOINTS, &t), 0);
	table_sort(&t, TABLE_SORT_RATE); /* 30, 6 (reset), 4 */
	assert_string_equal(t.v[0].key->path, "/a");
	assert_string_equal(t.v[1].key->path, "/c");
	assert_string_equal(t.v[2].key->path, "/b");
	table_sort(&t, TABLE_SORT_P99); /* 9, 4, 2 */
	assert_string_equal(t.v[0].key->path, "/b");
	assert_string_equal(t.v[1].key->path, "/c");
	table_sort(&t, TABLE_SORT_ERRORS); /* 15, then no errors: by count */
	assert_string_equal(t.v[0].key->path, "/a");
	assert_string_equal(t.v[1].key->path, "/c");
	assert_string_equal(t.v[2].key->path, "/b");
	table_free(&t);
	/* unknown rates after known ones, whatever their counts */
	assert_int_equal(table_build(&now, &before, 1.0, TABLE_ENDPOINTS, &t), 0);
	t.v[0].rate = NAN;
	const struct http_row *unknown = t.v[0].key;
	table_sort(&t, TABLE_SORT_RATE);
	assert_ptr_equal(t.v[t.n - 1].key, unknown);
	table_free(&t);
	assert_int_equal(table_sort_parse("p99"), TABLE_SORT_P99);
	assert_int_equal(table_sort_parse("P99"), -1);
	assert_string_equal(table_sort_name(TABLE_SORT_ERRORS), "errors");
	http_rows_free(&before);
	http_rows_free(&now);
}

static void test_json_document_of_both_tables(void **state)
{
	(void)state;
	struct http_rows before, now;
	two_reads(&before, &now);
	struct table s, e;
	assert_int_equal(table_build(&now, NULL, 0, TABLE_SERVICES, &s), 0);
	assert_int_equal(table_build(&now, NULL, 0, TABLE_ENDPOINTS, &e), 0);
	json_object *doc = table_to_json(&s, &e, 0.5, TABLE_SORT_RATE);
	const char *text = json_object_to_json_string_ext(
		doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_non_null(strstr(text, "\"interval_s\":0.5,\"sort\":\"rate\",\"services\":["));
	assert_non_null(strstr(text, "{\"service\":\"nginx\",\"server\":\"127.0.0.1:80\","
				     "\"method\":\"GET\",\"path\":\"/a\",\"count\":130,"
				     "\"rate\":null,\"errors\":15,"));
	json_object_put(doc);
	table_free(&s);
	table_free(&e);
	http_rows_free(&before);
	http_rows_free(&now);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readme_example_row_is_read),
		cmocka_unit_test(test_nulls_read_as_the_metrics_labels_spell_them),
		cmocka_unit_test(test_rows_of_another_shape_refused),
		cmocka_unit_test(test_errors_are_server_errors_as_opentelemetry_counts_them),
		cmocka_unit_test(test_endpoint_rates_from_two_reads),
		cmocka_unit_test(test_services_sum_their_endpoints),
		cmocka_unit_test(test_services_are_the_names_processes_chose),
		cmocka_unit_test(test_no_rate_without_a_previous_read),
		cmocka_unit_test(test_quantiles_of_one_row_are_exact_and_merged_ones_weighted),
		cmocka_unit_test(test_sort_orders),
		cmocka_unit_test(test_json_document_of_both_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
