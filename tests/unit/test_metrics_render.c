/* GET /metrics's text: one HELP and one TYPE per family and families kept
 * together, rows merged by labels (pid is not one), histogram buckets
 * cumulative with +Inf equal to the count, exact seconds, label escaping
 * and UTF-8 cleaning, the pipeline counters as counters or gauges, and the
 * whole document accepted by `promtool check metrics` when promtool is
 * installed (Debian's prometheus package; skipped otherwise). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc_codec.h"
#include "metrics_render.h"

static uint64_t counters[USM_CTR_COUNT];
static char *text;

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < USM_CTR_COUNT; i++)
		counters[i] = 100 + i;
	text = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(text);
	return 0;
}

static const char *render(const struct usm_http_stats_record *r, size_t n)
{
	size_t len;
	free(text);
	text = NULL;
	assert_int_equal(metrics_render(r, n, counters, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static struct usm_http_stats_record row(uint32_t pid, uint64_t count)
{
	struct usm_http_stats_record r = {
		.addr = {127, 0, 0, 1},
		.family = USM_AF_INET,
		.method = USM_HTTP_METHOD_GET,
		.port = 8443,
		.status = 200,
		.protocol = USM_HTTP_PROTO_HTTP1,
		.grpc_status = USM_GRPC_STATUS_NONE,
		.pid = pid,
		.comm = "nginx",
		.service = "nginx",
		.path = "/a",
		.count = count,
		.bytes = 100 * count,
		.latency_sum_ns = 1000000 * count,
	};
	for (int b = 0; b < USM_HTTP_BUCKETS; b++)
		r.buckets[b] = count;
	return r;
}

/* The whole line, exactly, somewhere in the document. */
static void assert_line(const char *doc, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = doc; (p = strstr(p, line)) != NULL; p++)
		if ((p == doc || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("line not found: %s\n--- in ---\n%s", line, doc);
}

static size_t count_lines_starting(const char *doc, const char *prefix)
{
	size_t count = 0, n = strlen(prefix);
	for (const char *p = doc; *p;) {
		if (strncmp(p, prefix, n) == 0)
			count++;
		const char *nl = strchr(p, '\n');
		p = nl ? nl + 1 : p + strlen(p);
	}
	return count;
}

#define LABELS                                                                                     \
	"service=\"nginx\",method=\"GET\",path=\"/a\",status=\"200\",server=\"127.0.0.1:8443\""

static void test_every_family_has_one_help_and_one_type_and_stays_together(void **state)
{
	(void)state;
	struct usm_http_stats_record r[3] = {row(1, 2), row(2, 3), row(3, 4)};
	r[2].status = 500;
	const char *doc = render(r, 3);
	char family[128] = "", seen[64][128];
	size_t nseen = 0;
	for (const char *p = doc; *p;) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl); /* every line ends with a newline */
		char line[1024];
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		p = nl + 1;
		char name[128], type[32];
		if (sscanf(line, "# HELP %127s", name) == 1) {
			for (size_t i = 0; i < nseen; i++)
				if (strcmp(seen[i], name) == 0)
					fail_msg("second HELP for %s", name);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], name);
			strcpy(family, name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			assert_string_equal(name, family); /* right after its HELP */
			continue;
		}
		/* A sample belongs to the family just documented. */
		size_t n = strlen(family);
		assert_true(n > 0);
		if (strncmp(line, family, n) != 0 || !strchr("{ _", line[n]))
			fail_msg("sample outside its family %s: %s", family, line);
	}
	assert_int_equal(nseen, 7 + USM_CTR_COUNT); /* 3 usm_http_*, 2 http_*, 2 rpc_* */
	assert_null(strstr(doc, "(null)"));
}

static void test_pipeline_counters_and_gauges(void **state)
{
	(void)state;
	const char *doc = render(NULL, 0);
	static const struct {
		unsigned counter;
		const char *name, *type;
	} expected[] = {
		{USM_CTR_PROC_EVENTS, "usm_proc_events_total", "counter"},
		{USM_CTR_PROC_EVENTS_LOST, "usm_proc_events_lost_total", "counter"},
		{USM_CTR_PROC_EVENTS_MALFORMED, "usm_proc_events_malformed_total", "counter"},
		{USM_CTR_HTTP_EVENTS, "usm_http_events_total", "counter"},
		{USM_CTR_HTTP_EVENTS_LOST, "usm_http_events_lost_total", "counter"},
		{USM_CTR_HTTP_EVENTS_MALFORMED, "usm_http_events_malformed_total", "counter"},
		{USM_CTR_HTTP_PARSE_ERRORS, "usm_http_parse_errors_total", "counter"},
		{USM_CTR_HTTP_UNANSWERED, "usm_http_unanswered_total", "counter"},
		{USM_CTR_TRACED_FILES, "usm_traced_files", "gauge"},
		{USM_CTR_BLOCKED_FILES, "usm_blocked_files", "gauge"},
		{USM_CTR_HTTP_CONNECTIONS, "usm_http_connections", "gauge"},
		{USM_CTR_HTTP_STATS_ROWS, "usm_http_stats_rows", "gauge"},
		{USM_CTR_ATTACHMENTS, "usm_attachments", "gauge"},
		{USM_CTR_DETACH_PENDING, "usm_detach_pending", "gauge"},
	};
	char line[160];
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		snprintf(line, sizeof(line), "# TYPE %s %s", expected[i].name, expected[i].type);
		assert_line(doc, line);
		snprintf(line, sizeof(line), "%s %u", expected[i].name, 100 + expected[i].counter);
		assert_line(doc, line);
	}
	/* Every counter is there, with a help text. */
	for (unsigned i = 0; i < USM_CTR_COUNT; i++) {
		size_t found = 0;
		snprintf(line, sizeof(line), "# HELP usm_%s ", usm_counter_name(i));
		found += count_lines_starting(doc, line);
		snprintf(line, sizeof(line), "# HELP usm_%s_total ", usm_counter_name(i));
		found += count_lines_starting(doc, line);
		assert_int_equal(found, 1);
	}
	assert_null(strstr(doc, "(null)"));
}

static void test_rows_differing_only_in_pid_merge(void **state)
{
	(void)state;
	struct usm_http_stats_record r[2] = {row(10, 3), row(11, 4)};
	r[1].latency_sum_ns = 1;
	const char *doc = render(r, 2);
	assert_line(doc, "usm_http_requests_total{" LABELS "} 7");
	assert_line(doc, "usm_http_request_bytes_total{" LABELS "} 700");
	assert_line(doc, "usm_http_request_duration_seconds_sum{" LABELS "} 0.003000001");
	assert_line(doc, "usm_http_request_duration_seconds_count{" LABELS "} 7");
	assert_int_equal(count_lines_starting(doc, "usm_http_requests_total{"), 1);
	assert_int_equal(count_lines_starting(doc, "usm_http_request_duration_seconds_count{"), 1);
}

static void test_rows_with_other_labels_stay_apart(void **state)
{
	(void)state;
	struct usm_http_stats_record r[6] = {row(1, 1), row(1, 2), row(1, 3),
					     row(1, 4), row(1, 5), row(1, 6)};
	r[1].status = 404;
	r[2].method = USM_HTTP_METHOD_POST;
	strcpy(r[3].path, "/b");
	strcpy(r[4].comm, "httpd");
	strcpy(r[4].service, "httpd");
	r[5].port = 8080;
	const char *doc = render(r, 6);
	assert_int_equal(count_lines_starting(doc, "usm_http_requests_total{"), 6);
	assert_line(doc, "usm_http_requests_total{service=\"nginx\",method=\"GET\",path=\"/a\","
			 "status=\"404\",server=\"127.0.0.1:8443\"} 2");
	assert_line(doc, "usm_http_requests_total{service=\"nginx\",method=\"POST\",path=\"/a\","
			 "status=\"200\",server=\"127.0.0.1:8443\"} 3");
	assert_line(doc, "usm_http_requests_total{service=\"httpd\",method=\"GET\",path=\"/a\","
			 "status=\"200\",server=\"127.0.0.1:8443\"} 5");
	assert_line(doc, "usm_http_requests_total{service=\"nginx\",method=\"GET\",path=\"/a\","
			 "status=\"200\",server=\"127.0.0.1:8080\"} 6");
	/* In the order of their first row. */
	assert_true(strstr(doc, "path=\"/b\"") > strstr(doc, "method=\"POST\""));
}

static void test_label_values_are_escaped(void **state)
{
	(void)state;
	struct usm_http_stats_record r = row(1, 1);
	strcpy(r.path, "/q\"x\\y\nz");
	strcpy(r.comm, "a\"b\\");
	strcpy(r.service, "a\"b\\");
	const char *doc = render(&r, 1);
	assert_line(doc, "usm_http_requests_total{service=\"a\\\"b\\\\\",method=\"GET\","
			 "path=\"/q\\\"x\\\\y\\nz\",status=\"200\",server=\"127.0.0.1:8443\"} 1");
}

static void test_invalid_utf8_in_labels_becomes_replacement(void **state)
{
	(void)state;
	struct usm_http_stats_record r = row(1, 1);
	strcpy(r.path, "/\xff\xc3\xa9");
	const char *doc = render(&r, 1);
	assert_non_null(strstr(doc, "path=\"/\xef\xbf\xbd\xc3\xa9\""));
}

static void test_longest_escaped_path_is_not_cut(void **state)
{
	(void)state;
	struct usm_http_stats_record r = row(1, 1);
	memset(r.path, '"', sizeof(r.path) - 1);
	r.path[sizeof(r.path) - 1] = '\0';
	const char *doc = render(&r, 1);
	char expected[1024];
	size_t n = (size_t)snprintf(expected, sizeof(expected), "path=\"");
	for (size_t i = 0; i < sizeof(r.path) - 1; i++)
		n += (size_t)snprintf(expected + n, sizeof(expected) - n, "\\\"");
	snprintf(expected + n, sizeof(expected) - n, "\",status=");
	assert_non_null(strstr(doc, expected));
}

static void test_unknown_service_method_and_server(void **state)
{
	(void)state;
	struct usm_http_stats_record r[2] = {row(1, 1), row(2, 2)};
	r[0].comm[0] = '\0';
	r[0].service[0] = '\0';
	r[0].family = USM_AF_UNSPEC;
	r[0].method = USM_HTTP_METHOD_UNKNOWN;
	r[1].family = USM_AF_INET6;
	memset(r[1].addr, 0, sizeof(r[1].addr));
	r[1].addr[15] = 1;
	const char *doc = render(r, 2);
	assert_line(doc, "usm_http_requests_total{service=\"unknown\",method=\"unknown\",path=\"/a\","
			 "status=\"200\",server=\"unknown\"} 1");
	assert_line(doc, "usm_http_requests_total{service=\"nginx\",method=\"GET\",path=\"/a\","
			 "status=\"200\",server=\"[::1]:8443\"} 2");
}

static void test_buckets_are_cumulative_and_inf_equals_count(void **state)
{
	(void)state;
	static const char *const le[USM_HTTP_BUCKETS] = {"0.001", "0.005", "0.01", "0.025",
							 "0.05",  "0.1",   "0.25", "0.5",
							 "1",     "2.5",   "5",    "10"};
	static const uint64_t a[USM_HTTP_BUCKETS] = {1, 3, 3, 5, 5, 6, 7, 8, 9, 9, 9, 9};
	static const uint64_t b[USM_HTTP_BUCKETS] = {0, 1, 1, 1, 2, 2, 2, 3, 4, 5, 5, 5};
	struct usm_http_stats_record r[2] = {row(1, 10), row(2, 5)};
	memcpy(r[0].buckets, a, sizeof(a));
	memcpy(r[1].buckets, b, sizeof(b));
	const char *doc = render(r, 2);

	/* Read the series' buckets back in the order written. */
	const char *p = strstr(doc, "usm_http_request_duration_seconds_bucket{");
	uint64_t last = 0;
	char prefix[512];
	for (int i = 0; i <= USM_HTTP_BUCKETS; i++) {
		snprintf(prefix, sizeof(prefix),
			 "usm_http_request_duration_seconds_bucket{" LABELS ",le=\"%s\"} ",
			 i < USM_HTTP_BUCKETS ? le[i] : "+Inf");
		assert_non_null(p);
		assert_memory_equal(p, prefix, strlen(prefix));
		uint64_t v = strtoull(p + strlen(prefix), NULL, 10);
		if (i < USM_HTTP_BUCKETS)
			assert_int_equal(v, a[i] + b[i]);
		else
			assert_int_equal(v, 15); /* +Inf is the count */
		assert_true(v >= last);
		last = v;
		p = strchr(p, '\n') + 1;
	}
	assert_line(doc, "usm_http_request_duration_seconds_count{" LABELS "} 15");
	assert_int_equal(count_lines_starting(doc, "usm_http_request_duration_seconds_bucket{"),
			 USM_HTTP_BUCKETS + 1);
}

static void test_sum_is_exact_seconds(void **state)
{
	(void)state;
	struct usm_http_stats_record r = row(1, 1);
	r.latency_sum_ns = 1500000000;
	assert_line(render(&r, 1), "usm_http_request_duration_seconds_sum{" LABELS "} 1.5");
	r.latency_sum_ns = 1;
	assert_line(render(&r, 1), "usm_http_request_duration_seconds_sum{" LABELS "} 0.000000001");
	r.latency_sum_ns = 0;
	assert_line(render(&r, 1), "usm_http_request_duration_seconds_sum{" LABELS "} 0");
}

/* gRPC rows, in OpenTelemetry's RPC names, server and client side apart;
 * HTTP/1 rows give no rpc_* sample. */
static void test_grpc_rows_as_opentelemetry_rpc_series(void **state)
{
	(void)state;
	struct usm_http_stats_record r[4] = {row(7, 3), row(7, 2), row(0, 1), row(7, 5)};
	for (int i = 0; i < 3; i++) {
		r[i].protocol = USM_HTTP_PROTO_H2;
		r[i].method = USM_HTTP_METHOD_POST;
		strcpy(r[i].comm, "python3");
		strcpy(r[i].service, "python3");
		strcpy(r[i].path, "/helloworld.Greeter/SayHello");
	}
	r[0].grpc_status = 0;
	r[1].grpc_status = 5;
	r[2].grpc_status = 0;
	const char *doc = render(r, 4);
	assert_line(doc, "# TYPE rpc_server_duration_seconds histogram");
	assert_line(doc, "rpc_server_duration_seconds_count{rpc_system=\"grpc\","
			 "rpc_service=\"helloworld.Greeter\",rpc_method=\"SayHello\","
			 "rpc_grpc_status_code=\"0\",service=\"python3\",server=\"127.0.0.1:8443\"} 3");
	assert_line(doc, "rpc_server_duration_seconds_count{rpc_system=\"grpc\","
			 "rpc_service=\"helloworld.Greeter\",rpc_method=\"SayHello\","
			 "rpc_grpc_status_code=\"5\",service=\"python3\",server=\"127.0.0.1:8443\"} 2");
	assert_line(doc, "rpc_client_duration_seconds_count{rpc_system=\"grpc\","
			 "rpc_service=\"helloworld.Greeter\",rpc_method=\"SayHello\","
			 "rpc_grpc_status_code=\"0\",service=\"python3\",server=\"127.0.0.1:8443\"} 1");
	assert_int_equal(count_lines_starting(doc, "rpc_server_duration_seconds_count{"), 2);
	assert_int_equal(count_lines_starting(doc, "rpc_client_duration_seconds_count{"), 1);
	/* they are HTTP/2 exchanges too: one series for the method's path
	 * (the gRPC status is no HTTP label), one for /a */
	assert_int_equal(count_lines_starting(doc, "usm_http_requests_total{"), 2);
}

#define OTEL_LABELS                                                                                \
	"http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/a\","       \
	"server_address=\"127.0.0.1\",server_port=\"8443\",service_name=\"nginx\""

/* Plain HTTP rows in OpenTelemetry's HTTP names: the server's rows (pid
 * known) in http_server_*, rows seen only from a client in http_client_*,
 * merged by labels like the usm_http_* series. */
static void test_http_rows_as_opentelemetry_server_and_client_series(void **state)
{
	(void)state;
	struct usm_http_stats_record r[3] = {row(7, 3), row(8, 2), row(0, 4)};
	r[2].comm[0] = '\0';
	r[2].service[0] = '\0'; /* a client-only row knows no server command */
	r[2].status = 404;
	const char *doc = render(r, 3);
	assert_line(doc, "# TYPE http_server_request_duration_seconds histogram");
	assert_line(doc, "# TYPE http_client_request_duration_seconds histogram");
	assert_line(doc, "http_server_request_duration_seconds_count{" OTEL_LABELS "} 5");
	assert_line(doc, "http_server_request_duration_seconds_sum{" OTEL_LABELS "} 0.005");
	assert_line(doc, "http_server_request_duration_seconds_bucket{" OTEL_LABELS ",le=\"0.001\"} 5");
	assert_line(doc, "http_server_request_duration_seconds_bucket{" OTEL_LABELS ",le=\"+Inf\"} 5");
	assert_line(doc, "http_client_request_duration_seconds_count{http_request_method=\"GET\","
			 "http_response_status_code=\"404\",http_route=\"/a\","
			 "server_address=\"127.0.0.1\",server_port=\"8443\","
			 "service_name=\"unknown_service\"} 4");
	assert_int_equal(count_lines_starting(doc, "http_server_request_duration_seconds_count{"), 1);
	assert_int_equal(count_lines_starting(doc, "http_client_request_duration_seconds_count{"), 1);
	assert_int_equal(count_lines_starting(doc, "http_server_request_duration_seconds_bucket{"),
			 USM_HTTP_BUCKETS + 1);
}

/* What OpenTelemetry does not know is left out (address, port) or spelled
 * as it says (_OTHER); IPv6 addresses without brackets. */
static void test_opentelemetry_labels_of_unknown_and_ipv6_servers(void **state)
{
	(void)state;
	struct usm_http_stats_record r[3] = {row(1, 1), row(2, 2), row(3, 3)};
	r[0].family = USM_AF_UNSPEC;
	r[0].method = USM_HTTP_METHOD_UNKNOWN;
	r[0].comm[0] = '\0';
	r[0].service[0] = '\0';
	r[1].family = USM_AF_INET6;
	memset(r[1].addr, 0, sizeof(r[1].addr));
	r[1].addr[15] = 1;
	r[2].port = 0;
	strcpy(r[2].path, "/q\"x");
	const char *doc = render(r, 3);
	assert_line(doc, "http_server_request_duration_seconds_count{http_request_method=\"_OTHER\","
			 "http_response_status_code=\"200\",http_route=\"/a\","
			 "service_name=\"unknown_service\"} 1");
	assert_line(doc, "http_server_request_duration_seconds_count{http_request_method=\"GET\","
			 "http_response_status_code=\"200\",http_route=\"/a\","
			 "server_address=\"::1\",server_port=\"8443\",service_name=\"nginx\"} 2");
	assert_line(doc, "http_server_request_duration_seconds_count{http_request_method=\"GET\","
			 "http_response_status_code=\"200\",http_route=\"/q\\\"x\","
			 "server_address=\"127.0.0.1\",service_name=\"nginx\"} 3");
}

/* gRPC calls are counted once in the OpenTelemetry families: in rpc_*,
 * never in http_*_request_duration_seconds. */
static void test_grpc_rows_are_not_in_the_opentelemetry_http_families(void **state)
{
	(void)state;
	struct usm_http_stats_record r[2] = {row(7, 3), row(0, 2)};
	for (int i = 0; i < 2; i++) {
		r[i].protocol = USM_HTTP_PROTO_H2;
		r[i].grpc_status = 0;
		strcpy(r[i].path, "/pkg.Svc/Do");
	}
	const char *doc = render(r, 2);
	assert_int_equal(count_lines_starting(doc, "http_server_request_duration_seconds_"), 0);
	assert_int_equal(count_lines_starting(doc, "http_client_request_duration_seconds_"), 0);
	assert_int_equal(count_lines_starting(doc, "rpc_server_duration_seconds_count{"), 1);
	assert_int_equal(count_lines_starting(doc, "rpc_client_duration_seconds_count{"), 1);
	assert_int_equal(count_lines_starting(doc, "usm_http_requests_total{"), 1);
}

static void test_no_rows_still_documents_the_http_families(void **state)
{
	(void)state;
	const char *doc = render(NULL, 0);
	assert_line(doc, "# TYPE usm_http_requests_total counter");
	assert_line(doc, "# TYPE usm_http_request_duration_seconds histogram");
	assert_line(doc, "# TYPE usm_http_request_bytes_total counter");
	assert_int_equal(count_lines_starting(doc, "usm_http_requests_total{"), 0);
	assert_int_equal(count_lines_starting(doc, "usm_http_request_duration_seconds_"), 0);
	assert_int_equal(count_lines_starting(doc, "usm_http_request_bytes_total{"), 0);
	assert_line(doc, "# TYPE http_server_request_duration_seconds histogram");
	assert_line(doc, "# TYPE http_client_request_duration_seconds histogram");
}

/* The name a process chose is the service in every family (service,
 * service_name), with container_id when the process runs in one; escaped
 * like any label value. */
static void test_chosen_service_and_container_id_label_every_family(void **state)
{
	(void)state;
	struct usm_http_stats_record r[3] = {row(1, 2), row(2, 3), row(0, 4)};
	strcpy(r[0].service, "check\"out");
	memset(r[0].container_id, 'f', USM_CONTAINER_ID_LEN);
	r[1].protocol = USM_HTTP_PROTO_H2;
	r[1].grpc_status = 0;
	strcpy(r[1].path, "/pkg.Svc/Do");
	strcpy(r[1].service, "billing");
	r[2].comm[0] = r[2].service[0] = '\0'; /* client side: no server process */
	const char *doc = render(r, 3);
	char id[USM_CONTAINER_ID_LEN + 1];
	memset(id, 'f', USM_CONTAINER_ID_LEN);
	id[USM_CONTAINER_ID_LEN] = '\0';
	char line[1024];
	snprintf(line, sizeof(line),
		 "usm_http_requests_total{service=\"check\\\"out\",method=\"GET\",path=\"/a\","
		 "status=\"200\",server=\"127.0.0.1:8443\",container_id=\"%s\"} 2",
		 id);
	assert_line(doc, line);
	snprintf(line, sizeof(line),
		 "http_server_request_duration_seconds_count{http_request_method=\"GET\","
		 "http_response_status_code=\"200\",http_route=\"/a\",server_address=\"127.0.0.1\","
		 "server_port=\"8443\",service_name=\"check\\\"out\",container_id=\"%s\"} 2",
		 id);
	assert_line(doc, line);
	assert_line(doc, "rpc_server_duration_seconds_count{rpc_system=\"grpc\",rpc_service=\"pkg.Svc\","
			 "rpc_method=\"Do\",rpc_grpc_status_code=\"0\",service=\"billing\","
			 "server=\"127.0.0.1:8443\"} 3");
	assert_line(doc, "http_client_request_duration_seconds_count{http_request_method=\"GET\","
			 "http_response_status_code=\"200\",http_route=\"/a\","
			 "server_address=\"127.0.0.1\",server_port=\"8443\","
			 "service_name=\"unknown_service\"} 4");
	/* no container: no label at all, not an empty one */
	assert_null(strstr(doc, "container_id=\"\""));
}

/* promtool on a document with every kind of row. */
static void test_output_passes_promtool(void **state)
{
	(void)state;
	if (system("command -v promtool >/dev/null 2>&1") != 0)
		skip();
	struct usm_http_stats_record r[5] = {row(1, 3), row(2, 4), row(3, 1), row(0, 2), row(4, 9)};
	r[2].family = USM_AF_INET6;
	memset(r[2].addr, 0, sizeof(r[2].addr));
	r[2].addr[15] = 1;
	r[3].family = USM_AF_UNSPEC;
	r[3].comm[0] = '\0';
	r[3].service[0] = '\0';
	strcpy(r[3].path, "/q\"x\\y\nz/\xff");
	r[4].method = USM_HTTP_METHOD_TRACE;
	r[1].method = USM_HTTP_METHOD_UNKNOWN;
	r[4].status = 599;
	r[0].protocol = USM_HTTP_PROTO_H2; /* a gRPC row: rpc_server_duration_seconds */
	r[0].grpc_status = 14;
	strcpy(r[0].path, "/pkg.Svc/Do");
	const char *doc = render(r, 5);

	char path[] = "/tmp/usm-metrics-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s.out 2>&1", path, path);
	int status = system(cmd);
	char out[4096] = "";
	snprintf(cmd, sizeof(cmd), "%s.out", path);
	FILE *f = fopen(cmd, "r");
	if (f) {
		out[fread(out, 1, sizeof(out) - 1, f)] = '\0';
		fclose(f);
	}
	unlink(cmd);
	unlink(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("promtool check metrics failed (status %d):\n%s", status, out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_every_family_has_one_help_and_one_type_and_stays_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_counters_and_gauges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_differing_only_in_pid_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_with_other_labels_stay_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_values_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_in_labels_becomes_replacement, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_longest_escaped_path_is_not_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_service_method_and_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buckets_are_cumulative_and_inf_equals_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sum_is_exact_seconds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grpc_rows_as_opentelemetry_rpc_series, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_http_rows_as_opentelemetry_server_and_client_series, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opentelemetry_labels_of_unknown_and_ipv6_servers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_grpc_rows_are_not_in_the_opentelemetry_http_families, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rows_still_documents_the_http_families, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_chosen_service_and_container_id_label_every_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_passes_promtool, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
