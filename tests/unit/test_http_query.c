/* The query string of GET /usm/http_stats: every filter read into the
 * collector request, percent-decoding done once and after splitting, and
 * every bad input (unknown or repeated name, status or pid out of range or
 * not digits, empty, control-character or over-long path, bad reset,
 * malformed escapes) refused with -EINVAL (the route's 400) and a message
 * that says what is wrong. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http_query.h"

static struct usm_http_stats_req req;
static char err[HTTP_QUERY_ERROR_MAX];

static int parse(const char *uri)
{
	err[0] = '\0';
	return http_query_parse(uri, &req, err, sizeof(err));
}

/* uri is refused as a 400 whose message contains `says`. */
static void assert_bad(const char *uri, const char *says)
{
	int rc = parse(uri);
	if (rc != -EINVAL || !strstr(err, says))
		fail_msg("%s: rc %d, message \"%s\", expected -EINVAL and \"%s\"", uri, rc, err,
			 says);
}

static void test_no_query_is_an_unfiltered_read(void **state)
{
	(void)state;
	memset(&req, 0xff, sizeof(req));
	assert_int_equal(parse("/usm/http_stats"), 0);
	struct usm_http_stats_req zero = {0};
	assert_memory_equal(&req, &zero, sizeof(req));
}

static void test_empty_pieces_are_skipped(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?"), 0);
	assert_int_equal(req.status, 0);
	assert_int_equal(parse("/usm/http_stats?&&status=200&&"), 0);
	assert_int_equal(req.status, 200);
}

static void test_every_filter_is_read(void **state)
{
	(void)state;
	assert_int_equal(
		parse("/usm/http_stats?path=/api/v1&status=404&pid=1234&reset=true&protocol=h2"), 0);
	assert_string_equal(req.path, "/api/v1");
	assert_int_equal(req.status, 404);
	assert_int_equal(req.pid, 1234);
	assert_int_equal(req.flags, USM_HTTP_STATS_RESET);
	assert_int_equal(req.protocol, USM_HTTP_PROTO_H2);
	assert_int_equal(req.cursor, 0);
	/* percent-encoded, as a client may send the slash */
	assert_int_equal(parse("/usm/http_stats?protocol=http%2F1.1"), 0);
	assert_int_equal(req.protocol, USM_HTTP_PROTO_HTTP1);
}

static void test_reset_false_is_a_plain_read(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?reset=false"), 0);
	assert_int_equal(req.flags, 0);
}

static void test_range_ends_are_accepted(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?status=100&pid=1"), 0);
	assert_int_equal(req.status, 100);
	assert_int_equal(req.pid, 1);
	assert_int_equal(parse("/usm/http_stats?status=599&pid=4294967295"), 0);
	assert_int_equal(req.status, 599);
	assert_int_equal(req.pid, UINT32_MAX);
	/* Leading zeros are still decimal digits. */
	assert_int_equal(parse("/usm/http_stats?status=0000000000200"), 0);
	assert_int_equal(req.status, 200);
}

static void test_path_is_percent_decoded_once(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?path=%2Fa%2fb"), 0);
	assert_string_equal(req.path, "/a/b");
	/* %25 is '%': the collector keeps paths undecoded, so /a%2F is
	 * asked for as %2Fa%252F. */
	assert_int_equal(parse("/usm/http_stats?path=%2Fa%252F"), 0);
	assert_string_equal(req.path, "/a%2F");
	assert_int_equal(parse("/usm/http_stats?path=/caf%C3%A9"), 0);
	assert_string_equal(req.path, "/caf\xc3\xa9");
}

static void test_plus_is_not_a_space(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?path=/a+b%20c"), 0);
	assert_string_equal(req.path, "/a+b c");
}

static void test_escaped_separators_are_data(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?path=/q%3Fx%3D1%26status%3D500&status=200"), 0);
	assert_string_equal(req.path, "/q?x=1&status=500");
	assert_int_equal(req.status, 200);
	/* Only the first '=' separates. */
	assert_int_equal(parse("/usm/http_stats?path=/a=b"), 0);
	assert_string_equal(req.path, "/a=b");
}

static void test_fragment_is_not_part_of_the_query(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?status=200#pid=7"), 0);
	assert_int_equal(req.status, 200);
	assert_int_equal(req.pid, 0);
}

static void test_path_of_255_bytes_is_accepted_256_refused(void **state)
{
	(void)state;
	char uri[1024];
	int n = snprintf(uri, sizeof(uri), "/usm/http_stats?path=/");
	for (int i = 1; i < 255; i++)
		uri[n++] = 'a';
	uri[n] = '\0';
	assert_int_equal(parse(uri), 0);
	assert_int_equal(strlen(req.path), 255);
	strcat(uri, "a");
	assert_bad(uri, "1 to 255 bytes");
	/* The limit is on the decoded path: 255 escapes are 255 bytes. */
	n = snprintf(uri, sizeof(uri), "/usm/http_stats?path=");
	for (int i = 0; i < 255; i++)
		n += snprintf(uri + n, sizeof(uri) - (size_t)n, "%%2F");
	assert_int_equal(parse(uri), 0);
	assert_int_equal(strlen(req.path), 255);
}

static void test_bad_path_is_400(void **state)
{
	(void)state;
	const char *msg = "path must be an exact request path of 1 to 255 bytes";
	assert_bad("/usm/http_stats?path=", msg);
	assert_bad("/usm/http_stats?path", msg);
	assert_bad("/usm/http_stats?path=/a%0Ab", msg);
	assert_bad("/usm/http_stats?path=/a%7F", msg);
	assert_bad("/usm/http_stats?path=/a%09", msg);
	assert_bad("/usm/http_stats?path=/a%00b", "bad percent escape");
	/* nng refuses these before any parameter is looked at. */
	assert_bad("/usm/http_stats?path=/a%2", "malformed request URI");
	assert_bad("/usm/http_stats?path=/a%zz", "malformed request URI");
	assert_bad("/usm/http_stats?path=/a%FF", "malformed request URI");
}

static void test_bad_status_is_400(void **state)
{
	(void)state;
	static const char *const bad[] = {"99", "600", "0", "", "abc", "+200", "-200", "%20200",
					  "200%20", "0x1F4", "2e2", "200.0", "99999999999999999999999"};
	char uri[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/usm/http_stats?status=%s", bad[i]);
		assert_bad(uri, "status must be a number from 100 to 599");
	}
	assert_bad("/usm/http_stats?status", "status must be a number from 100 to 599");
}

static void test_bad_pid_is_400(void **state)
{
	(void)state;
	static const char *const bad[] = {"0",   "4294967296", "-1", "",
					  "1.0", "12a",        "18446744073709551617"};
	char uri[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/usm/http_stats?pid=%s", bad[i]);
		assert_bad(uri, "pid must be a number from 1 to 4294967295");
	}
}

static void test_bad_reset_is_400(void **state)
{
	(void)state;
	static const char *const bad[] = {"reset", "reset=", "reset=1", "reset=TRUE", "reset=yes"};
	char uri[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/usm/http_stats?%s", bad[i]);
		assert_bad(uri, "reset must be true or false");
	}
}

static void test_bad_protocol_is_400(void **state)
{
	(void)state;
	static const char *const bad[] = {"protocol", "protocol=", "protocol=http/1.0",
					  "protocol=H2", "protocol=h2c", "protocol=http/2"};
	char uri[128];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(uri, sizeof(uri), "/usm/http_stats?%s", bad[i]);
		assert_bad(uri, "protocol must be http/1.1 or h2");
	}
}

static void test_unknown_parameter_is_400(void **state)
{
	(void)state;
	assert_bad("/usm/http_stats?since=5", "unknown query parameter \"since\"");
	assert_bad("/usm/http_stats?status=200&Path=/a", "unknown query parameter \"Path\"");
	assert_bad("/usm/http_stats?=5", "unknown query parameter \"\"");
	/* A long name is not echoed (cutting it could split a UTF-8 character). */
	assert_bad("/usm/http_stats?a_rather_long_parameter_name=1",
		   "unknown query parameter: expected path, status, pid or reset");
}

static void test_encoded_name_is_decoded(void **state)
{
	(void)state;
	assert_int_equal(parse("/usm/http_stats?%73tatus=201"), 0);
	assert_int_equal(req.status, 201);
}

static void test_repeated_parameter_is_400(void **state)
{
	(void)state;
	assert_bad("/usm/http_stats?status=200&status=200", "status is given more than once");
	assert_bad("/usm/http_stats?reset=false&reset=true", "reset is given more than once");
}

static void test_uri_without_leading_slash_is_400(void **state)
{
	(void)state;
	assert_bad("http://h/usm/http_stats", "malformed request URI");
	assert_bad("", "malformed request URI");
}

static void test_decode_escapes_in_either_case(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(http_query_decode("%41%6a%2F%2f%25", 15, out, sizeof(out)), 5);
	assert_string_equal(out, "Aj//%");
	assert_int_equal(http_query_decode("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
}

static void test_decode_refuses_short_and_bad_escapes(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(http_query_decode("%", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_query_decode("a%4", 3, out, sizeof(out)), -EINVAL);
	/* The length bounds the look-ahead: "%41" cut after "%4". */
	assert_int_equal(http_query_decode("%41", 2, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_query_decode("%g1", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_query_decode("%1g", 3, out, sizeof(out)), -EINVAL);
	assert_int_equal(http_query_decode("%00", 3, out, sizeof(out)), -EINVAL);
}

static void test_decode_respects_capacity(void **state)
{
	(void)state;
	char out[4];
	assert_int_equal(http_query_decode("abc", 3, out, sizeof(out)), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(http_query_decode("abcd", 4, out, sizeof(out)), -ENAMETOOLONG);
	assert_int_equal(http_query_decode("%41%42%43", 9, out, sizeof(out)), 3);
	assert_string_equal(out, "ABC");
	assert_int_equal(http_query_decode("", 0, out, 0), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_query_is_an_unfiltered_read),
		cmocka_unit_test(test_empty_pieces_are_skipped),
		cmocka_unit_test(test_every_filter_is_read),
		cmocka_unit_test(test_reset_false_is_a_plain_read),
		cmocka_unit_test(test_range_ends_are_accepted),
		cmocka_unit_test(test_path_is_percent_decoded_once),
		cmocka_unit_test(test_plus_is_not_a_space),
		cmocka_unit_test(test_escaped_separators_are_data),
		cmocka_unit_test(test_fragment_is_not_part_of_the_query),
		cmocka_unit_test(test_path_of_255_bytes_is_accepted_256_refused),
		cmocka_unit_test(test_bad_path_is_400),
		cmocka_unit_test(test_bad_status_is_400),
		cmocka_unit_test(test_bad_pid_is_400),
		cmocka_unit_test(test_bad_reset_is_400),
		cmocka_unit_test(test_bad_protocol_is_400),
		cmocka_unit_test(test_unknown_parameter_is_400),
		cmocka_unit_test(test_encoded_name_is_decoded),
		cmocka_unit_test(test_repeated_parameter_is_400),
		cmocka_unit_test(test_uri_without_leading_slash_is_400),
		cmocka_unit_test(test_decode_escapes_in_either_case),
		cmocka_unit_test(test_decode_refuses_short_and_bad_escapes),
		cmocka_unit_test(test_decode_respects_capacity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
