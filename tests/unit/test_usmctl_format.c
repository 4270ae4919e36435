/* usmctl's text: the table's columns (unknown values as "-", lines cut
 * to the terminal's width without splitting a UTF-8 character), and the
 * status, traced and blocked listings from the API's documents, with
 * documents of another shape refused. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "format_docs.h"
#include "format_table.h"

static const struct http_row nginx_a = {.service = "nginx",
					.server = "127.0.0.1:8443",
					.method = "GET",
					.path = "/a/\xc3\xa9t\xc3\xa9"};

static void test_table_columns(void **state)
{
	(void)state;
	char line[512];
	format_table_header(TABLE_ENDPOINTS, line, sizeof(line), 0);
	assert_string_equal(line, "SERVICE          SERVER                    REQ/S      COUNT   "
				  "ERRORS   ERR%    P50_MS    P99_MS METHOD  PATH");
	struct table_row r = {.key = &nginx_a,
			      .count = 130,
			      .errors = 13,
			      .rate = 15.04,
			      .p50_ms = 1.234,
			      .p99_ms = 10};
	format_table_row(&r, TABLE_ENDPOINTS, line, sizeof(line), 0);
	assert_string_equal(line,
			    "nginx            127.0.0.1:8443             15.0        130       "
			    "13   10.0      1.23     10.00 GET     /a/\xc3\xa9t\xc3\xa9");
	r.rate = NAN;
	format_table_row(&r, TABLE_SERVICES, line, sizeof(line), 0);
	assert_string_equal(line,
			    "nginx            127.0.0.1:8443                -        130       "
			    "13   10.0      1.23     10.00");
}

static void test_lines_cut_to_width_between_characters(void **state)
{
	(void)state;
	char line[512];
	struct table_row r = {.key = &nginx_a, .count = 1, .rate = 1};
	size_t full = format_table_row(&r, TABLE_ENDPOINTS, line, sizeof(line), 0);
	/* "/a/é" ends the line with é's two bytes: a cut between them backs
	 * off to before the character */
	size_t n = format_table_row(&r, TABLE_ENDPOINTS, line, sizeof(line), full - 4);
	assert_int_equal(n, full - 5);
	assert_int_equal(strlen(line), n);
	assert_int_equal(line[n - 1], '/');
	n = format_table_row(&r, TABLE_ENDPOINTS, line, sizeof(line), 10);
	assert_string_equal(line, "nginx     ");
	/* a small buffer is filled, never overrun */
	char tiny[8];
	format_table_header(TABLE_ENDPOINTS, tiny, sizeof(tiny), 0);
	assert_string_equal(tiny, "SERVICE");
}

/* f's text so far; the caller frees it. */
static char *run(int (*fn)(FILE *, json_object *, char *, size_t), const char *json, int want_rc,
		 char *err, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_object *doc = json_tokener_parse(json);
	assert_non_null(doc);
	int rc = fn(f, doc, err, cap);
	fclose(f);
	json_object_put(doc);
	if (rc != want_rc)
		fail_msg("%s: rc %d (%s), expected %d", json, rc, err, want_rc);
	return text;
}

static void test_traced_listing(void **state)
{
	(void)state;
	char err[256];
	char *text =
		run(format_traced,
		    "[{\"ProgramType\":\"shared_libraries\",\"FilePath\":\"/usr/lib/libssl.so.3\","
		    "\"PIDs\":[1,2,3,4,5,6,7,8,9,10],\"PathID\":{\"Dev\":34,\"Inode\":111},"
		    "\"Resident\":true},"
		    "{\"ProgramType\":\"go-tls\",\"FilePath\":\"/srv/app\",\"PIDs\":[],"
		    "\"PathID\":{\"Dev\":34,\"Inode\":112}}]",
		    0, err, sizeof(err));
	assert_string_equal(
		text,
		"TYPE              DEV:INODE             RESIDENT PIDS                     PATH\n"
		"shared_libraries  34:111                yes      1,2,3,4,5,6,7,8,+2       "
		"/usr/lib/libssl.so.3\n"
		"go-tls            34:112                no       -                        "
		"/srv/app\n"
		"2 files traced\n");
	free(text);
	free(run(format_traced, "[{\"ProgramType\":\"x\",\"FilePath\":\"/y\",\"PIDs\":[]}]",
		 -EBADMSG, err, sizeof(err)));
	assert_non_null(strstr(err, "traced_programs[0]"));
	free(run(format_traced, "{}", -EBADMSG, err, sizeof(err)));
}

static void test_blocked_listing(void **state)
{
	(void)state;
	char err[256];
	char *text = run(format_blocked,
			 "[{\"ProgramType\":\"shared_libraries\",\"PathIdentifiers\":["
			 "{\"Dev\":34,\"Inode\":112,\"Reason\":\"no-symbols\",\"SamplePath\":\"/"
			 "opt/x/libssl.so.3\"}]}]",
			 0, err, sizeof(err));
	assert_string_equal(
		text,
		"TYPE              REASON                   DEV:INODE             SAMPLE PATH\n"
		"shared_libraries  no-symbols               34:112                "
		"/opt/x/libssl.so.3\n"
		"1 file blocked\n");
	free(text);
	free(run(format_blocked, "[]", 0, err, sizeof(err)));
	free(run(format_blocked, "[{\"ProgramType\":\"x\",\"PathIdentifiers\":[{\"Dev\":1}]}]",
		 -EBADMSG, err, sizeof(err)));
	assert_non_null(strstr(err, "blocked_processes[0][0]"));
	free(run(format_blocked, "[{\"ProgramType\":\"x\"}]", -EBADMSG, err, sizeof(err)));
}

static void test_status_summary(void **state)
{
	(void)state;
	json_object *stats = json_tokener_parse(
		"{\"state\":\"Running\",\"blocked_processes\":[{\"ProgramType\":\"shared_"
		"libraries\","
		"\"PathIdentifiers\":[{},{}]}],\"traced_programs\":[{},{},{}],\"last_check\":1000,"
		"\"counters\":{\"ipc_requests\":7,\"probe_hits\":52,\"proc_events\":3}}");
	json_object *health = json_tokener_parse(
		"{\"status\":\"ok\",\"processes\":[{\"name\":\"usm-privd\",\"state\":\"running\","
		"\"pid\":6085,\"up_since\":880,\"restarts\":0,\"last_exit\":null},"
		"{\"name\":\"usm-collector\",\"state\":\"unreachable\"}]}");
	char *text = NULL, err[256];
	size_t len;
	FILE *f = open_memstream(&text, &len);
	assert_int_equal(format_status(f, "127.0.0.1:5050", stats, health, 1012, err, sizeof(err)),
			 0);
	fclose(f);
	assert_string_equal(text,
			    "usm at 127.0.0.1:5050: Running\n"
			    "processes (ok):\n"
			    "  usm-privd       running     pid 6085     up 2m12s   restarts 0\n"
			    "  usm-collector   unreachable\n"
			    "traced files: 3, blocked files: 2\n"
			    "last check: 12s ago\n"
			    "counters:\n"
			    "  ipc_requests                            7  probe_hits               "
			    "              52\n"
			    "  proc_events                             3\n");
	free(text);
	/* a document without a state is not /usm/stats */
	json_object_object_del(stats, "state");
	f = open_memstream(&text, &len);
	assert_int_equal(format_status(f, "x", stats, health, 0, err, sizeof(err)), -EBADMSG);
	fclose(f);
	free(text);
	json_object_put(stats);
	json_object_put(health);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_columns),
		cmocka_unit_test(test_lines_cut_to_width_between_characters),
		cmocka_unit_test(test_traced_listing),
		cmocka_unit_test(test_blocked_listing),
		cmocka_unit_test(test_status_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
