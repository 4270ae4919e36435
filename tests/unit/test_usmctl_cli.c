/* usmctl's command line: defaults, the environment's address and the
 * flag that overrides it, options before and after the command, every
 * bad value refused with a message naming it; and the request target of
 * --path, which apid's own query parser must read back as exactly the
 * path given. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "cli.h"
#include "http_query.h"

static struct usmctl_opts o;
static char err[256];

/* Parses the words of line (space-separated, at most 15) after "usmctl". */
static int parse_env(const char *line, const char *env)
{
	static char buf[512];
	char *argv[16] = {"usmctl"};
	int argc = 1;
	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 15; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse(argc, argv, env, &o, err, sizeof(err));
}

static int parse(const char *line) { return parse_env(line, NULL); }

static void assert_bad(const char *line, const char *says)
{
	int rc = parse(line);
	if (rc != -EINVAL || !strstr(err, says))
		fail_msg("'%s': rc %d, message \"%s\", expected -EINVAL and \"%s\"", line, rc, err,
			 says);
}

static void test_defaults_are_local_port_5050_sorted_by_rate(void **state)
{
	(void)state;
	assert_int_equal(parse("stats"), 0);
	assert_int_equal(o.cmd, USMCTL_STATS);
	assert_string_equal(o.host, "127.0.0.1");
	assert_string_equal(o.port, "5050");
	assert_false(o.json);
	assert_null(o.path);
	assert_int_equal(o.sort, TABLE_SORT_RATE);
	assert_int_equal(o.interval_ms, 1000);
	assert_int_equal(o.iterations, 0);
}

static void test_environment_address_and_the_flag_that_overrides_it(void **state)
{
	(void)state;
	assert_int_equal(parse_env("status", "10.0.0.1:6000"), 0);
	assert_string_equal(o.host, "10.0.0.1");
	assert_string_equal(o.port, "6000");
	assert_int_equal(parse_env("--api localhost:7000 status", "10.0.0.1:6000"), 0);
	assert_string_equal(o.host, "localhost");
	assert_string_equal(o.port, "7000");
	/* a bad environment value is named as such */
	assert_int_equal(parse_env("status", "nonsense"), -EINVAL);
	assert_non_null(strstr(err, "USMCTL_API"));
	assert_int_equal(parse_env("status", ""), 0); /* empty: the default */
	assert_string_equal(o.port, "5050");
}

static void test_options_before_and_after_the_command(void **state)
{
	(void)state;
	assert_int_equal(parse("--json top --sort p99 -n 3 --interval 0.5 --path /a"), 0);
	assert_int_equal(o.cmd, USMCTL_TOP);
	assert_true(o.json);
	assert_int_equal(o.sort, TABLE_SORT_P99);
	assert_int_equal(o.iterations, 3);
	assert_int_equal(o.interval_ms, 500);
	assert_string_equal(o.path, "/a");
	assert_int_equal(parse("stats --sort errors --json"), 0);
	assert_int_equal(o.sort, TABLE_SORT_ERRORS);
	assert_true(o.json);
	/* a second parse starts from scratch */
	assert_int_equal(parse("traced"), 0);
	assert_int_equal(o.cmd, USMCTL_TRACED);
	assert_false(o.json);
}

static void test_ipv6_address_in_brackets(void **state)
{
	(void)state;
	assert_int_equal(parse("--api [::1]:5050 blocked"), 0);
	assert_string_equal(o.host, "[::1]");
	assert_string_equal(o.port, "5050");
	assert_bad("--api ::1:5050 blocked", "HOST:PORT");
}

static void test_bad_addresses_refused(void **state)
{
	(void)state;
	assert_bad("--api 127.0.0.1 status", "HOST:PORT");
	assert_bad("--api 127.0.0.1:0 status", "HOST:PORT");
	assert_bad("--api 127.0.0.1:65536 status", "HOST:PORT");
	assert_bad("--api 127.0.0.1:50x status", "HOST:PORT");
	assert_bad("--api :5050 status", "HOST:PORT");
	assert_bad("--api a/b:5050 status", "HOST:PORT");
	assert_bad("--api [::1]: status", "HOST:PORT");
}

static void test_bad_values_refused_with_their_name(void **state)
{
	(void)state;
	assert_bad("stats --sort latency", "--sort");
	assert_bad("stats --interval 0", "--interval");
	assert_bad("stats --interval 0.05", "--interval");
	assert_bad("stats --interval 1x", "--interval");
	assert_bad("stats --interval nan", "--interval");
	assert_bad("top -n 0", "--iterations");
	assert_bad("top -n -1", "--iterations");
	assert_bad("stats --path", "needs a value");
	assert_bad("stats --bogus", "unknown option '--bogus'");
	assert_bad("stats -x", "unknown option '-x'");
}

static void test_path_bounds_are_the_apis(void **state)
{
	(void)state;
	char line[400];
	char longest[USMCTL_PATH_MAX + 2];
	memset(longest, 'a', sizeof(longest));
	longest[0] = '/';
	longest[USMCTL_PATH_MAX] = '\0';
	snprintf(line, sizeof(line), "stats --path %s", longest);
	assert_int_equal(parse(line), 0);
	longest[USMCTL_PATH_MAX] = 'a';
	longest[USMCTL_PATH_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "stats --path %s", longest);
	assert_bad(line, "--path");
	assert_bad("stats --path /a\tb", "--path");
}

static void test_options_that_belong_to_other_commands_refused(void **state)
{
	(void)state;
	assert_bad("status --path /a", "stats and top only");
	assert_bad("traced --sort p99", "stats and top only");
	assert_bad("blocked --interval 2", "stats and top only");
	assert_bad("stats -n 2", "top only");
}

static void test_commands_help_and_version(void **state)
{
	(void)state;
	assert_bad("", "no command");
	assert_bad("start", "unknown command 'start'");
	assert_bad("stats top", "unexpected argument 'top'");
	assert_int_equal(parse("help"), 0);
	assert_int_equal(o.cmd, USMCTL_HELP);
	assert_int_equal(parse("stats --help"), 0);
	assert_int_equal(o.cmd, USMCTL_HELP);
	assert_int_equal(parse("--version"), 0);
	assert_int_equal(o.cmd, USMCTL_VERSION);
}

/* What apid's parser reads from the target usmctl sends. */
static void assert_round_trip(const char *path)
{
	char target[1024];
	assert_int_equal(api_http_stats_target(path, target, sizeof(target)), 0);
	struct usm_http_stats_req req;
	char qerr[HTTP_QUERY_ERROR_MAX];
	int rc = http_query_parse(target, &req, qerr, sizeof(qerr));
	if (rc != 0)
		fail_msg("%s -> %s: %s", path, target, qerr);
	assert_string_equal(req.path, path);
}

static void test_path_target_is_read_back_exactly_by_apid(void **state)
{
	(void)state;
	char target[64];
	assert_int_equal(api_http_stats_target(NULL, target, sizeof(target)), 0);
	assert_string_equal(target, "/usm/http_stats");
	assert_int_equal(api_http_stats_target("/a b", target, sizeof(target)), 0);
	assert_string_equal(target, "/usm/http_stats?path=/a%20b");
	assert_round_trip("/a");
	assert_round_trip("/a%20b"); /* as the server received it: the % is data */
	assert_round_trip("/x?y=1&z=2#f");
	assert_round_trip("/a+b=c;d");
	assert_round_trip("/\xc3\xa9t\xc3\xa9");
	assert_int_equal(api_http_stats_target("/aaaa", target, 20), -ENAMETOOLONG);
	assert_int_equal(api_http_stats_target("/a", target, 10), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_local_port_5050_sorted_by_rate),
		cmocka_unit_test(test_environment_address_and_the_flag_that_overrides_it),
		cmocka_unit_test(test_options_before_and_after_the_command),
		cmocka_unit_test(test_ipv6_address_in_brackets),
		cmocka_unit_test(test_bad_addresses_refused),
		cmocka_unit_test(test_bad_values_refused_with_their_name),
		cmocka_unit_test(test_path_bounds_are_the_apis),
		cmocka_unit_test(test_options_that_belong_to_other_commands_refused),
		cmocka_unit_test(test_commands_help_and_version),
		cmocka_unit_test(test_path_target_is_read_back_exactly_by_apid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
