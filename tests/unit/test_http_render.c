/* GET /usm/http_stats's JSON: every field of a row in its documented
 * shape (IPv4 and IPv6 servers, nulls for what is unknown, every method,
 * exact decimal milliseconds, UTF-8 cleaning), and the record helpers the
 * metrics share (server text, decimals, UTF-8). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http_record.h"
#include "http_render.h"

static struct usm_http_stats_record v4_row(void)
{
	struct usm_http_stats_record r = {
		.addr = {127, 0, 0, 1},
		.family = USM_AF_INET,
		.method = USM_HTTP_METHOD_GET,
		.port = 8443,
		.status = 200,
		.protocol = USM_HTTP_PROTO_HTTP1,
		.grpc_status = USM_GRPC_STATUS_NONE,
		.pid = 1234,
		.comm = "nginx",
		.service = "nginx",
		.path = "/a",
		.count = 3,
		.bytes = 1234,
		.p50_ns = 1234000,
		.p90_ns = 2500000,
		.p99_ns = 3000001,
		.max_ns = 10000000,
		.latency_sum_ns = 7500000,
	};
	return r;
}

/* The rendered array as compact text, compared whole. */
static void assert_json(const struct usm_http_stats_record *r, size_t n, const char *expected)
{
	json_object *list = http_render_json(r, n);
	assert_non_null(list);
	assert_string_equal(json_object_to_json_string_ext(list, JSON_C_TO_STRING_PLAIN |
									 JSON_C_TO_STRING_NOSLASHESCAPE),
			    expected);
	json_object_put(list);
}

static void test_ipv4_row_renders_every_field(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	assert_json(&r, 1,
		    "[{\"service\":\"nginx\",\"container_id\":null,"
		    "\"server\":{\"addr\":\"127.0.0.1\",\"port\":8443,\"pid\":1234,\"comm\":\"nginx\"},"
		    "\"protocol\":\"http/1.1\",\"method\":\"GET\",\"path\":\"/a\",\"status\":200,"
		    "\"grpc_status\":null,\"count\":3,\"bytes\":1234,"
		    "\"latency_ms\":{\"p50\":1.234,\"p90\":2.5,\"p99\":3.000001,\"max\":10,\"sum\":7.5}}]");
}

/* The name the process chose and its container, as the collector sent
 * them; text that is not UTF-8 is cleaned as any other. */
static void test_service_and_container_id_render(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	strcpy(r.service, "checkout \"eu\"");
	memset(r.container_id, 'a', USM_CONTAINER_ID_LEN);
	json_object *list = http_render_json(&r, 1);
	json_object *o = json_object_array_get_idx(list, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "service")),
			    "checkout \"eu\"");
	char id[USM_CONTAINER_ID_LEN + 1];
	memset(id, 'a', USM_CONTAINER_ID_LEN);
	id[USM_CONTAINER_ID_LEN] = '\0';
	assert_string_equal(json_object_get_string(json_object_object_get(o, "container_id")), id);
	json_object *server = json_object_object_get(o, "server");
	assert_string_equal(json_object_get_string(json_object_object_get(server, "comm")), "nginx");
	json_object_put(list);
	strcpy(r.service, "caf\xc3");
	list = http_render_json(&r, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(list, 0), "service")),
			    "caf\xef\xbf\xbd");
	json_object_put(list);
}

static void test_ipv6_server_address(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	static const uint8_t doc[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
	r.family = USM_AF_INET6;
	memcpy(r.addr, doc, sizeof(doc));
	json_object *list = http_render_json(&r, 1);
	json_object *server = json_object_object_get(json_object_array_get_idx(list, 0), "server");
	assert_string_equal(json_object_get_string(json_object_object_get(server, "addr")),
			    "2001:db8::5");
	assert_int_equal(json_object_get_int(json_object_object_get(server, "port")), 8443);
	json_object_put(list);
}

static void test_unknown_server_fields_are_null(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	r.family = USM_AF_UNSPEC;
	r.pid = 0;
	r.comm[0] = '\0';
	r.service[0] = '\0';
	assert_json(&r, 1,
		    "[{\"service\":null,\"container_id\":null,\"server\":{\"addr\":null,\"port\":null,\"pid\":null,\"comm\":null},"
		    "\"protocol\":\"http/1.1\",\"method\":\"GET\",\"path\":\"/a\",\"status\":200,"
		    "\"grpc_status\":null,\"count\":3,\"bytes\":1234,"
		    "\"latency_ms\":{\"p50\":1.234,\"p90\":2.5,\"p99\":3.000001,\"max\":10,\"sum\":7.5}}]");
	/* A known address with port 0: the port alone is unknown. */
	r = v4_row();
	r.port = 0;
	json_object *list = http_render_json(&r, 1);
	json_object *server = json_object_object_get(json_object_array_get_idx(list, 0), "server");
	assert_string_equal(json_object_get_string(json_object_object_get(server, "addr")),
			    "127.0.0.1");
	assert_true(json_object_object_get_ex(server, "port", NULL));
	assert_null(json_object_object_get(server, "port"));
	json_object_put(list);
}

static void test_every_method_has_its_name(void **state)
{
	(void)state;
	static const char *const names[] = {"GET",   "HEAD",    "POST",    "PUT",  "DELETE",
					    "PATCH", "OPTIONS", "CONNECT", "TRACE"};
	struct usm_http_stats_record rows[9];
	for (int i = 0; i < 9; i++) {
		rows[i] = v4_row();
		rows[i].method = (uint8_t)(i + 1);
	}
	json_object *list = http_render_json(rows, 9);
	assert_int_equal(json_object_array_length(list), 9);
	for (int i = 0; i < 9; i++)
		assert_string_equal(json_object_get_string(json_object_object_get(
					    json_object_array_get_idx(list, (size_t)i), "method")),
				    names[i]);
	json_object_put(list);
	/* Unknown: null. */
	rows[0].method = USM_HTTP_METHOD_UNKNOWN;
	list = http_render_json(rows, 1);
	json_object *row = json_object_array_get_idx(list, 0);
	assert_true(json_object_object_get_ex(row, "method", NULL));
	assert_null(json_object_object_get(row, "method"));
	json_object_put(list);
}

static void test_latency_is_exact_decimal_ms(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	r.p50_ns = 0;
	r.p90_ns = 1;
	r.p99_ns = 1000000;
	r.max_ns = UINT64_MAX;
	r.latency_sum_ns = 123456789012;
	json_object *list = http_render_json(&r, 1);
	json_object *lat = json_object_object_get(json_object_array_get_idx(list, 0), "latency_ms");
	assert_string_equal(json_object_to_json_string_ext(lat, JSON_C_TO_STRING_PLAIN),
			    "{\"p50\":0,\"p90\":0.000001,\"p99\":1,\"max\":18446744073709.551615,"
			    "\"sum\":123456.789012}");
	/* Numbers, not strings. */
	assert_true(json_object_is_type(json_object_object_get(lat, "p90"), json_type_double));
	assert_true(json_object_get_double(json_object_object_get(lat, "p99")) == 1.0);
	json_object_put(list);
}

static void test_counts_beyond_int64_stay_exact(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	r.count = UINT64_MAX;
	json_object *list = http_render_json(&r, 1);
	assert_true(json_object_get_uint64(json_object_object_get(json_object_array_get_idx(list, 0),
								  "count")) == UINT64_MAX);
	json_object_put(list);
}

static void test_invalid_utf8_becomes_replacement_characters(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	strcpy(r.path, "/caf\xc3\xa9/\xff\xc3");
	strcpy(r.comm, "x\x80");
	json_object *list = http_render_json(&r, 1);
	json_object *row = json_object_array_get_idx(list, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(row, "path")),
			    "/caf\xc3\xa9/\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_object_get(row, "server"), "comm")),
			    "x\xef\xbf\xbd");
	json_object_put(list);
}

static void test_longest_invalid_path_fits(void **state)
{
	(void)state;
	struct usm_http_stats_record r = v4_row();
	memset(r.path, 0xff, sizeof(r.path) - 1);
	r.path[sizeof(r.path) - 1] = '\0';
	json_object *list = http_render_json(&r, 1);
	const char *path =
		json_object_get_string(json_object_object_get(json_object_array_get_idx(list, 0), "path"));
	assert_int_equal(strlen(path), 3 * (sizeof(r.path) - 1));
	json_object_put(list);
}

static void test_no_rows_is_an_empty_array(void **state)
{
	(void)state;
	assert_json(NULL, 0, "[]");
}

static void test_server_text(void **state)
{
	(void)state;
	char out[HTTP_RECORD_SERVER_MAX];
	struct usm_http_stats_record r = v4_row();
	http_record_server(&r, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:8443");
	r.port = 0;
	http_record_server(&r, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
	r.family = USM_AF_INET6;
	memset(r.addr, 0, sizeof(r.addr));
	r.addr[15] = 1;
	r.port = 443;
	http_record_server(&r, out, sizeof(out));
	assert_string_equal(out, "[::1]:443");
	/* The longest IPv6 text fits. */
	memset(r.addr, 0, 10);
	r.addr[10] = r.addr[11] = 0xff;
	memset(r.addr + 12, 255, 4);
	r.port = 65535;
	http_record_server(&r, out, sizeof(out));
	assert_string_equal(out, "[::ffff:255.255.255.255]:65535");
	memset(r.addr, 0xab, sizeof(r.addr));
	http_record_server(&r, out, sizeof(out));
	assert_string_equal(out, "[abab:abab:abab:abab:abab:abab:abab:abab]:65535");
	r.family = USM_AF_UNSPEC;
	http_record_server(&r, out, sizeof(out));
	assert_string_equal(out, "unknown");
	r.family = 7; /* the codec refuses it; the helper says unknown */
	assert_int_equal(http_record_addr(&r, out, sizeof(out)), -ENOENT);
	assert_string_equal(out, "");
}

static void test_decimal_text(void **state)
{
	(void)state;
	char out[HTTP_RECORD_DECIMAL_MAX];
	static const struct {
		uint64_t value, unit;
		const char *text;
	} cases[] = {
		{0, 1000000000, "0"},
		{1, 1000000000, "0.000000001"},
		{1000000, 1000000000, "0.001"},
		{2500000000u, 1000000000, "2.5"},
		{10000000000u, 1000000000, "10"},
		{1234500, 1000000, "1.2345"},
		{42, 1, "42"},
		{UINT64_MAX, 1000000000, "18446744073.709551615"},
		{UINT64_MAX, UINT64_C(10000000000000000000), "1.8446744073709551615"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_record_decimal(cases[i].value, cases[i].unit, out, sizeof(out));
		assert_string_equal(out, cases[i].text);
	}
}

static void test_utf8_cleaning(void **state)
{
	(void)state;
	char out[64];
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain /a?b", "plain /a?b"},
		{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
		{"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},         /* overlong NUL */
		{"\xe0\x80\xaf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong '/' */
		{"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
		{"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
		{"a\xe2\x82", "a\xef\xbf\xbd\xef\xbf\xbd"},      /* cut at the end */
		{"\xe2\x82" "b", "\xef\xbf\xbd\xef\xbf\xbd" "b"}, /* cut before a letter */
		{"\xf8\x88\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http_record_utf8(cases[i].in, out, sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	/* A full buffer stops at a character boundary. */
	char small[5];
	http_record_utf8("ab\xc3\xa9", small, sizeof(small));
	assert_string_equal(small, "ab\xc3\xa9");
	http_record_utf8("abc\xc3\xa9", small, sizeof(small));
	assert_string_equal(small, "abc");
	http_record_utf8("a\xff", small, 4);
	assert_string_equal(small, "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_row_renders_every_field),
		cmocka_unit_test(test_service_and_container_id_render),
		cmocka_unit_test(test_ipv6_server_address),
		cmocka_unit_test(test_unknown_server_fields_are_null),
		cmocka_unit_test(test_every_method_has_its_name),
		cmocka_unit_test(test_latency_is_exact_decimal_ms),
		cmocka_unit_test(test_counts_beyond_int64_stay_exact),
		cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
		cmocka_unit_test(test_longest_invalid_path_fits),
		cmocka_unit_test(test_no_rows_is_an_empty_array),
		cmocka_unit_test(test_server_text),
		cmocka_unit_test(test_decimal_text),
		cmocka_unit_test(test_utf8_cleaning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
