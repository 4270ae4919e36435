/* Black-box tests of the configuration parser against its contract in
 * common/config.h: defaults, file syntax, every error path with its
 * "ORIGIN:LINE: " label, user resolution, the to_args round trip and the
 * two monitoring predicates. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* ---- fixture ------------------------------------------------------- */

struct fixture {
	char dir[64];
	char path[PATH_MAX];
	struct usm_config cfg;
	struct usm_config_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/usm-test-config-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/usm.conf", f->dir);
	/* Garbage first, so a default that is never written shows up. */
	memset(&f->cfg, 0xA5, sizeof(f->cfg));
	usm_config_defaults(&f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *content)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(content, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int load(struct fixture *f, const char *content)
{
	write_file(f->path, content);
	f->err.msg[0] = '\0';
	return usm_config_load_file(&f->cfg, f->path, &f->err);
}

/* err->msg must start with exactly "ORIGIN:LINE: " and carry a message. */
static void assert_error_at(const struct usm_config_error *err, const char *origin, unsigned line)
{
	char prefix[PATH_MAX + 32];
	char got[sizeof(prefix)];
	int len = snprintf(prefix, sizeof(prefix), "%s:%u: ", origin, line);
	assert_true(len > 0 && (size_t)len < sizeof(prefix));
	snprintf(got, sizeof(got), "%.*s", len, err->msg);
	if (strcmp(got, prefix) != 0)
		print_message("full error message: \"%s\"\n", err->msg);
	assert_string_equal(got, prefix);
	assert_true(strlen(err->msg) > (size_t)len);
}

/* The whole file is refused with -EINVAL at f->path:line. */
static void expect_file_error(struct fixture *f, const char *content, unsigned line)
{
	assert_int_equal(load(f, content), -EINVAL);
	assert_error_at(&f->err, f->path, line);
}

/* One usm_config_set() is refused with -EINVAL, labelled "ctx.conf:7: ". */
static void expect_set_error(struct fixture *f, const char *key, const char *value)
{
	f->err.msg[0] = '\0';
	int rc = usm_config_set(&f->cfg, key, value, "ctx.conf", 7, &f->err);
	if (rc != -EINVAL)
		print_message("%s = \"%s\" was not refused (rc %d)\n", key, value, rc);
	assert_int_equal(rc, -EINVAL);
	assert_error_at(&f->err, "ctx.conf", 7);
}

static void expect_set_ok(struct fixture *f, const char *key, const char *value)
{
	f->err.msg[0] = '\0';
	int rc = usm_config_set(&f->cfg, key, value, "ctx.conf", 1, &f->err);
	if (rc != 0)
		print_message("%s = \"%s\" refused: %s\n", key, value, f->err.msg);
	assert_int_equal(rc, 0);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

struct bool_key {
	const char *key;
	size_t off;
};

static const struct bool_key bool_keys[] = {
	{ "enable_http_monitoring", offsetof(struct usm_config, enable_http_monitoring) },
	{ "enable_native_tls_monitoring", offsetof(struct usm_config, enable_native_tls_monitoring) },
	{ "enable_go_tls_support", offsetof(struct usm_config, enable_go_tls_support) },
	{ "enable_istio_monitoring", offsetof(struct usm_config, enable_istio_monitoring) },
	{ "enable_nodejs_monitoring", offsetof(struct usm_config, enable_nodejs_monitoring) },
	{ "api_control", offsetof(struct usm_config, api_control) },
};
#define N_BOOL_KEYS (sizeof(bool_keys) / sizeof(bool_keys[0]))

static bool *bool_field(struct usm_config *cfg, size_t off)
{
	return (bool *)((char *)cfg + off);
}

struct num_key {
	const char *key;
	size_t off;
	unsigned min, max, def;
};

static const struct num_key num_keys[] = {
	{ "child_max_restarts", offsetof(struct usm_config, child_max_restarts), 0, 63, 5 },
	{ "child_restart_window", offsetof(struct usm_config, child_restart_window_s), 1, 86400, 60 },
	{ "check_interval", offsetof(struct usm_config, check_interval_s), 1, 3600, 30 },
	{ "ipc_timeout_ms", offsetof(struct usm_config, ipc_timeout_ms), 10, 60000, 2000 },
	{ "max_traced_files", offsetof(struct usm_config, max_traced_files), 1, 65536, 4096 },
	{ "max_blocked_files", offsetof(struct usm_config, max_blocked_files), 1, 100000, 2000 },
	{ "inspect_timeout_ms", offsetof(struct usm_config, inspect_timeout_ms), 100, 60000, 2000 },
	{ "attach_linger_ms", offsetof(struct usm_config, attach_linger_ms), 0, 600000, 2000 },
	{ "detach_threads", offsetof(struct usm_config, detach_threads), 1, 64, 32 },
	{ "collector_memory_mb", offsetof(struct usm_config, collector_memory_mb), 64, 65536, 2048 },
	{ "http_capture_bytes", offsetof(struct usm_config, http_capture_bytes), 64, 4096, 512 },
	{ "http_ring_buffer_mb", offsetof(struct usm_config, http_ring_buffer_mb), 1, 1024, 8 },
	{ "http_max_path_len", offsetof(struct usm_config, http_max_path_len), 1, 255, 128 },
	{ "max_http_stats_entries", offsetof(struct usm_config, max_http_stats_entries), 1, 4194304,
	  10000 },
	{ "max_tracked_connections", offsetof(struct usm_config, max_tracked_connections), 1,
	  1048576, 16384 },
	{ "http_request_timeout_ms", offsetof(struct usm_config, http_request_timeout_ms), 100,
	  3600000, 30000 },
	{ "http_idle_timeout_s", offsetof(struct usm_config, http_idle_timeout_s), 1, 86400, 300 },
};
#define N_NUM_KEYS (sizeof(num_keys) / sizeof(num_keys[0]))

static unsigned num_field(const struct usm_config *cfg, size_t off)
{
	unsigned v;
	memcpy(&v, (const char *)cfg + off, sizeof(v));
	return v;
}

static void set_all_enable(struct usm_config *cfg, bool v)
{
	cfg->enable_http_monitoring = v;
	cfg->enable_native_tls_monitoring = v;
	cfg->enable_go_tls_support = v;
	cfg->enable_istio_monitoring = v;
	cfg->enable_nodejs_monitoring = v;
	cfg->enable_java_tls_support = v;
}

/* ---- defaults ------------------------------------------------------ */

static void test_defaults_listen_on_localhost_port_5050(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(f->cfg.api_listen, "127.0.0.1:5050");
}

static void test_defaults_use_run_usm_as_runtime_dir(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(f->cfg.runtime_dir, "/run/usm");
}

static void test_defaults_run_children_as_usm_collector_and_usm_api_unresolved(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(f->cfg.collector_user.spec, "usm-collector");
	assert_string_equal(f->cfg.api_user.spec, "usm-api");
	assert_false(f->cfg.collector_user.resolved);
	assert_false(f->cfg.api_user.resolved);
}

static void test_defaults_enable_only_http_and_native_tls_monitoring(void **state)
{
	struct fixture *f = *state;
	assert_true(f->cfg.enable_http_monitoring);
	assert_true(f->cfg.enable_native_tls_monitoring);
	assert_false(f->cfg.enable_go_tls_support);
	assert_false(f->cfg.enable_istio_monitoring);
	assert_false(f->cfg.enable_nodejs_monitoring);
	assert_false(f->cfg.enable_java_tls_support);
}

static void test_defaults_use_bin_envoy_as_envoy_path(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(f->cfg.envoy_path, "/bin/envoy");
}

static void test_defaults_keep_api_control_off(void **state)
{
	struct fixture *f = *state;
	assert_false(f->cfg.api_control);
}

static void test_defaults_log_at_info_and_kill_on_seccomp_violation(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
	assert_int_equal(f->cfg.seccomp, USM_SECCOMP_KILL);
}

static void test_defaults_allow_5_restarts_within_60_seconds(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->cfg.child_max_restarts, 5);
	assert_int_equal(f->cfg.child_restart_window_s, 60);
}

static void test_defaults_check_every_30_seconds_with_2000ms_ipc_timeout(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->cfg.check_interval_s, 30);
	assert_int_equal(f->cfg.ipc_timeout_ms, 2000);
}

/* ---- file parsing -------------------------------------------------- */

static void test_empty_file_keeps_every_default(void **state)
{
	struct fixture *f = *state;
	struct usm_config ref;
	usm_config_defaults(&ref);
	assert_int_equal(load(f, ""), 0);
	assert_string_equal(f->cfg.api_listen, ref.api_listen);
	assert_string_equal(f->cfg.runtime_dir, ref.runtime_dir);
	assert_int_equal(f->cfg.check_interval_s, ref.check_interval_s);
	assert_int_equal(f->cfg.log_level, ref.log_level);
}

static void test_comment_lines_and_blank_lines_are_ignored(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "# a comment\n"
				 "\n"
				 "#log_level = debug\n"
				 "   \n"
				 "\t\n"
				 "# check_interval = 7\n"
				 "ipc_timeout_ms = 500\n"
				 "\n"),
			 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
	assert_int_equal(f->cfg.check_interval_s, 30);
	assert_int_equal(f->cfg.ipc_timeout_ms, 500);
}

static void test_trailing_comment_after_a_value_is_stripped(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "log_level = debug # verbose\n"
				 "check_interval = 12 # seconds\n"
				 "enable_go_tls_support = yes   # go\n"
				 "envoy_path = /usr/local/bin/envoy # custom build\n"
				 "seccomp = log\t# diagnose\n"),
			 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_DEBUG);
	assert_int_equal(f->cfg.check_interval_s, 12);
	assert_true(f->cfg.enable_go_tls_support);
	assert_string_equal(f->cfg.envoy_path, "/usr/local/bin/envoy");
	assert_int_equal(f->cfg.seccomp, USM_SECCOMP_LOG);
}

static void test_whitespace_around_the_equals_sign_is_ignored(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "log_level=debug\n"
				 "check_interval =11\n"
				 "ipc_timeout_ms= 700\n"
				 "child_max_restarts \t=\t 9 \t\n"
				 "  envoy_path   =   /opt/envoy   \n"),
			 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_DEBUG);
	assert_int_equal(f->cfg.check_interval_s, 11);
	assert_int_equal(f->cfg.ipc_timeout_ms, 700);
	assert_int_equal(f->cfg.child_max_restarts, 9);
	assert_string_equal(f->cfg.envoy_path, "/opt/envoy");
}

static void test_last_line_without_a_newline_is_applied(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "check_interval = 3\nlog_level = warn"), 0);
	assert_int_equal(f->cfg.check_interval_s, 3);
	assert_int_equal(f->cfg.log_level, USM_LOG_WARN);
}

static void test_string_value_keeps_inner_spaces_and_equals_signs(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "envoy_path = /opt/my envoy/bin/envoy\n"
				 "runtime_dir = /run/usm=test\n"),
			 0);
	assert_string_equal(f->cfg.envoy_path, "/opt/my envoy/bin/envoy");
	assert_string_equal(f->cfg.runtime_dir, "/run/usm=test");
}

static void test_bool_accepts_true_yes_1_on_as_true(void **state)
{
	struct fixture *f = *state;
	static const char *const words[] = { "true", "yes", "1", "on" };
	for (size_t k = 0; k < N_BOOL_KEYS; k++) {
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			*bool_field(&f->cfg, bool_keys[k].off) = false;
			expect_set_ok(f, bool_keys[k].key, words[w]);
			assert_true(*bool_field(&f->cfg, bool_keys[k].off));
		}
	}
}

static void test_bool_accepts_false_no_0_off_as_false(void **state)
{
	struct fixture *f = *state;
	static const char *const words[] = { "false", "no", "0", "off" };
	for (size_t k = 0; k < N_BOOL_KEYS; k++) {
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			*bool_field(&f->cfg, bool_keys[k].off) = true;
			expect_set_ok(f, bool_keys[k].key, words[w]);
			assert_false(*bool_field(&f->cfg, bool_keys[k].off));
		}
	}
}

static void test_bool_in_a_file_is_parsed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "enable_http_monitoring = off\n"
				 "enable_native_tls_monitoring = no\n"
				 "enable_go_tls_support = on\n"
				 "enable_istio_monitoring = 1\n"
				 "enable_nodejs_monitoring = true\n"
				 "api_control = yes\n"
				 "enable_java_tls_support = false\n"),
			 0);
	assert_false(f->cfg.enable_http_monitoring);
	assert_false(f->cfg.enable_native_tls_monitoring);
	assert_true(f->cfg.enable_go_tls_support);
	assert_true(f->cfg.enable_istio_monitoring);
	assert_true(f->cfg.enable_nodejs_monitoring);
	assert_true(f->cfg.api_control);
	assert_false(f->cfg.enable_java_tls_support);
}

static void test_numbers_accept_both_ends_of_their_range(void **state)
{
	struct fixture *f = *state;
	char buf[32];
	for (size_t k = 0; k < N_NUM_KEYS; k++) {
		snprintf(buf, sizeof(buf), "%u", num_keys[k].min);
		expect_set_ok(f, num_keys[k].key, buf);
		assert_int_equal(num_field(&f->cfg, num_keys[k].off), num_keys[k].min);
		snprintf(buf, sizeof(buf), "%u", num_keys[k].max);
		expect_set_ok(f, num_keys[k].key, buf);
		assert_int_equal(num_field(&f->cfg, num_keys[k].off), num_keys[k].max);
	}
}

static void test_numbers_in_a_file_are_parsed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "child_max_restarts = 0\n"
				 "child_restart_window = 3600\n"
				 "check_interval = 45\n"
				 "ipc_timeout_ms = 10\n"),
			 0);
	assert_int_equal(f->cfg.child_max_restarts, 0);
	assert_int_equal(f->cfg.child_restart_window_s, 3600);
	assert_int_equal(f->cfg.check_interval_s, 45);
	assert_int_equal(f->cfg.ipc_timeout_ms, 10);
}

static void test_log_level_accepts_error_warn_info_debug(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "log_level", "error");
	assert_int_equal(f->cfg.log_level, USM_LOG_ERROR);
	expect_set_ok(f, "log_level", "warn");
	assert_int_equal(f->cfg.log_level, USM_LOG_WARN);
	expect_set_ok(f, "log_level", "debug");
	assert_int_equal(f->cfg.log_level, USM_LOG_DEBUG);
	expect_set_ok(f, "log_level", "info");
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
}

static void test_seccomp_accepts_kill_and_log(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "seccomp", "log");
	assert_int_equal(f->cfg.seccomp, USM_SECCOMP_LOG);
	expect_set_ok(f, "seccomp", "kill");
	assert_int_equal(f->cfg.seccomp, USM_SECCOMP_KILL);
}

static void test_api_listen_accepts_host_and_port_1_to_65535(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "api_listen", "0.0.0.0:1");
	assert_string_equal(f->cfg.api_listen, "0.0.0.0:1");
	expect_set_ok(f, "api_listen", "localhost:65535");
	assert_string_equal(f->cfg.api_listen, "localhost:65535");
	expect_set_ok(f, "api_listen", "10.1.2.3:8080");
	assert_string_equal(f->cfg.api_listen, "10.1.2.3:8080");
}

static void test_resident_libraries_default_to_the_system_tls_libraries(void **state)
{
	struct fixture *f = *state;
#ifdef USM_MULTIARCH_LIBDIR
	assert_string_equal(f->cfg.resident_libraries,
			    USM_MULTIARCH_LIBDIR "/libssl.so.3:" USM_MULTIARCH_LIBDIR
						 "/libgnutls.so.30");
#endif
	expect_set_ok(f, "resident_libraries", "");
	assert_string_equal(f->cfg.resident_libraries, "");
	expect_set_ok(f, "resident_libraries", "/opt/my ssl/libssl.so.3");
	assert_string_equal(f->cfg.resident_libraries, "/opt/my ssl/libssl.so.3");
}

static void test_resident_libraries_refuse_relative_empty_long_or_too_many_items(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "resident_libraries", "libssl.so.3");
	expect_set_error(f, "resident_libraries", "/lib/libssl.so.3:libgnutls.so.30");
	expect_set_error(f, "resident_libraries", "/lib/libssl.so.3::/lib/libgnutls.so.30");
	expect_set_error(f, "resident_libraries", "/lib/libssl.so.3:");
	expect_set_error(f, "resident_libraries", ":/lib/libssl.so.3");
	char *v = repeat('a', USM_CONFIG_LIST_PATH_MAX);
	v[0] = '/';
	expect_set_error(f, "resident_libraries", v); /* one item too long for IPC */
	v[USM_CONFIG_LIST_PATH_MAX - 1] = '\0';
	expect_set_ok(f, "resident_libraries", v);
	free(v);
	char many[USM_CONFIG_PATH_LIST_MAX * 4 + 8] = "";
	for (int i = 0; i <= USM_CONFIG_PATH_LIST_MAX; i++)
		strcat(many, i ? ":/l" : "/l");
	expect_set_error(f, "resident_libraries", many);
	many[strlen(many) - 3] = '\0'; /* exactly the maximum */
	expect_set_ok(f, "resident_libraries", many);
	/* A refused value leaves the previous one. */
	assert_string_equal(f->cfg.resident_libraries, many);
}

static void test_runtime_dir_accepts_an_absolute_path(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "runtime_dir", "/var/run/usm-test");
	assert_string_equal(f->cfg.runtime_dir, "/var/run/usm-test");
}

static void test_string_of_255_characters_fits(void **state)
{
	struct fixture *f = *state;
	char *v = repeat('a', USM_CONFIG_STR_MAX - 1);
	v[0] = '/';
	expect_set_ok(f, "runtime_dir", v);
	assert_string_equal(f->cfg.runtime_dir, v);
	expect_set_ok(f, "envoy_path", v);
	assert_string_equal(f->cfg.envoy_path, v);
	free(v);
}

static void test_users_accept_name_uid_and_uid_gid_specs(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "nobody");
	assert_string_equal(f->cfg.collector_user.spec, "nobody");
	expect_set_ok(f, "api_user", "998");
	assert_string_equal(f->cfg.api_user.spec, "998");
	expect_set_ok(f, "api_user", "998:997");
	assert_string_equal(f->cfg.api_user.spec, "998:997");
}

static void test_line_just_under_line_max_is_accepted(void **state)
{
	struct fixture *f = *state;
	/* "log_level =" + spaces + "debug": well under USM_CONFIG_LINE_MAX. */
	size_t pad = USM_CONFIG_LINE_MAX - 64;
	char *spaces = repeat(' ', pad);
	char *content = NULL;
	assert_true(asprintf(&content, "log_level =%sdebug\n", spaces) > 0);
	assert_int_equal(load(f, content), 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_DEBUG);
	free(content);
	free(spaces);
}

static void test_line_of_line_max_minus_one_characters_is_accepted(void **state)
{
	struct fixture *f = *state;
	/* 1023 characters plus the newline: within the limit however one
	 * counts (with or without the newline / terminating NUL). */
	const size_t len = USM_CONFIG_LINE_MAX - 1;
	const char *head = "log_level =", *tail = "debug";
	char *spaces = repeat(' ', len - strlen(head) - strlen(tail));
	char *content = NULL;
	assert_true(asprintf(&content, "%s%s%s\ncheck_interval = 9\n", head, spaces, tail) > 0);
	assert_int_equal(strchr(content, '\n') - content, (long)len);
	assert_int_equal(load(f, content), 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_DEBUG);
	assert_int_equal(f->cfg.check_interval_s, 9);
	free(content);
	free(spaces);
}

static void test_last_line_of_line_max_minus_one_characters_without_newline_is_accepted(void **state)
{
	struct fixture *f = *state;
	const size_t len = USM_CONFIG_LINE_MAX - 1;
	const char *head = "log_level =", *tail = "warn";
	char *spaces = repeat(' ', len - strlen(head) - strlen(tail));
	char *content = NULL;
	assert_true(asprintf(&content, "# x\n%s%s%s", head, spaces, tail) > 0);
	assert_int_equal(load(f, content), 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_WARN);
	free(content);
	free(spaces);
}

static void test_later_line_overrides_earlier_line(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "check_interval = 10\n"
				 "log_level = debug\n"
				 "check_interval = 20\n"
				 "log_level = error\n"),
			 0);
	assert_int_equal(f->cfg.check_interval_s, 20);
	assert_int_equal(f->cfg.log_level, USM_LOG_ERROR);
}

static void test_option_overrides_the_file(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "log_level = debug\ncheck_interval = 10\n"), 0);
	assert_int_equal(usm_config_set_option(&f->cfg, "log_level=error", 1, &f->err), 0);
	assert_int_equal(usm_config_set_option(&f->cfg, "check_interval=99", 2, &f->err), 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_ERROR);
	assert_int_equal(f->cfg.check_interval_s, 99);
}

static void test_option_allows_spaces_around_equals(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(usm_config_set_option(&f->cfg, "log_level = warn", 1, &f->err), 0);
	assert_int_equal(f->cfg.log_level, USM_LOG_WARN);
	assert_int_equal(usm_config_set_option(&f->cfg, "ipc_timeout_ms =42", 2, &f->err), 0);
	assert_int_equal(f->cfg.ipc_timeout_ms, 42);
	assert_int_equal(usm_config_set_option(&f->cfg, "envoy_path= /x/envoy", 3, &f->err), 0);
	assert_string_equal(f->cfg.envoy_path, "/x/envoy");
}

static void test_java_tls_support_false_is_accepted(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "enable_java_tls_support", "false");
	assert_false(f->cfg.enable_java_tls_support);
	expect_set_ok(f, "enable_java_tls_support", "no");
	assert_false(f->cfg.enable_java_tls_support);
}

/* ---- error paths --------------------------------------------------- */

static void test_unknown_key_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "log_level = info\nno_such_key = 1\n", 2);
	assert_non_null(strstr(f->err.msg, "no_such_key"));
}

static void test_error_line_numbers_count_comments_and_blank_lines(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "# header\n"
			     "\n"
			     "log_level = debug\n"
			     "   \n"
			     "# another comment\n"
			     "bogus_key = 3\n",
			  6);
}

static void test_line_without_equals_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "# ok\nlog_level debug\n", 2);
}

static void test_empty_key_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "log_level = info\ncheck_interval = 5\n = debug\n", 3);
}

static void test_bad_bool_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "enable_go_tls_support = maybe\n", 1);
}

static void test_every_bool_key_refuses_values_that_are_not_booleans(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "maybe", "", "2", "truee", "-1", "y e s" };
	for (size_t k = 0; k < N_BOOL_KEYS; k++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			expect_set_error(f, bool_keys[k].key, bad[i]);
}

static void test_number_out_of_range_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "check_interval = 10\nchild_max_restarts = 64\n", 2);
}

static void test_every_number_key_refuses_values_outside_its_range(void **state)
{
	struct fixture *f = *state;
	char buf[32];
	for (size_t k = 0; k < N_NUM_KEYS; k++) {
		snprintf(buf, sizeof(buf), "%u", num_keys[k].max + 1);
		expect_set_error(f, num_keys[k].key, buf);
		if (num_keys[k].min > 0) {
			snprintf(buf, sizeof(buf), "%u", num_keys[k].min - 1);
			expect_set_error(f, num_keys[k].key, buf);
		}
	}
}

static void test_number_that_is_not_a_number_is_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "abc", "12abc", "", "1.5", "ten", "5 5", "0x" };
	for (size_t k = 0; k < N_NUM_KEYS; k++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			expect_set_error(f, num_keys[k].key, bad[i]);
	expect_file_error(f, "# c\n\ncheck_interval = soon\n", 3);
}

static void test_negative_number_is_refused(void **state)
{
	struct fixture *f = *state;
	for (size_t k = 0; k < N_NUM_KEYS; k++) {
		expect_set_error(f, num_keys[k].key, "-1");
		expect_set_error(f, num_keys[k].key, "-20");
	}
	/* strtoul("-4294967295") wraps to 1: must not sneak in as a valid value. */
	expect_set_error(f, "check_interval", "-4294967295");
	expect_file_error(f, "child_max_restarts = -1\n", 1);
}

static void test_number_overflowing_unsigned_is_refused(void **state)
{
	struct fixture *f = *state;
	for (size_t k = 0; k < N_NUM_KEYS; k++) {
		expect_set_error(f, num_keys[k].key, "4294967296");
		expect_set_error(f, num_keys[k].key, "4294967301"); /* wraps to 5 in 32 bits */
		expect_set_error(f, num_keys[k].key, "99999999999999999999999");
	}
}

static void test_bad_log_level_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "log_level", "verbose");
	expect_set_error(f, "log_level", "trace");
	expect_set_error(f, "log_level", "");
	expect_set_error(f, "log_level", "4");
	expect_file_error(f, "log_level = info\nlog_level = loud\n", 2);
}

static void test_bad_seccomp_mode_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "seccomp", "off");
	expect_set_error(f, "seccomp", "allow");
	expect_set_error(f, "seccomp", "");
	expect_set_error(f, "seccomp", "2");
	expect_file_error(f, "seccomp = log\nseccomp = disabled\n", 2);
}

static void test_api_listen_without_port_is_refused(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "api_listen", "127.0.0.1");
	expect_set_error(f, "api_listen", "127.0.0.1:");
	expect_set_error(f, "api_listen", "");
	expect_file_error(f, "\napi_listen = localhost\n", 2);
}

static void test_api_listen_with_port_0_is_refused(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "api_listen", "127.0.0.1:0");
	expect_file_error(f, "api_listen = 127.0.0.1:0\n", 1);
}

static void test_api_listen_with_port_70000_is_refused(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "api_listen", "127.0.0.1:70000");
	expect_set_error(f, "api_listen", "127.0.0.1:65536");
	expect_set_error(f, "api_listen", "127.0.0.1:4294967297"); /* wraps to 1 */
	expect_file_error(f, "log_level = warn\napi_listen = 0.0.0.0:70000\n", 2);
}

static void test_api_listen_with_non_numeric_port_is_refused(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "api_listen", "127.0.0.1:http");
	expect_set_error(f, "api_listen", "127.0.0.1:50x");
	expect_set_error(f, "api_listen", "127.0.0.1:-1");
	expect_file_error(f, "api_listen = 127.0.0.1:abc\n", 1);
}

static void test_relative_runtime_dir_is_refused(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "runtime_dir", "run/usm");
	expect_set_error(f, "runtime_dir", "./run/usm");
	expect_set_error(f, "runtime_dir", "");
	expect_file_error(f, "# rel\nruntime_dir = usm\n", 2);
}

static void test_string_value_too_long_is_refused(void **state)
{
	struct fixture *f = *state;
	char *v = repeat('a', USM_CONFIG_STR_MAX);
	v[0] = '/';
	expect_set_error(f, "runtime_dir", v);
	expect_set_error(f, "envoy_path", v);
	free(v);

	char host[sizeof(f->cfg.api_listen) + 8];
	memset(host, 'h', sizeof(host));
	memcpy(host + sizeof(host) - 6, ":5050", 6); /* 5 chars + NUL */
	expect_set_error(f, "api_listen", host);

	char user[sizeof(f->cfg.collector_user.spec) + 1];
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	expect_set_error(f, "collector_user", user);
	expect_set_error(f, "api_user", user);

	char *long_path = repeat('p', USM_CONFIG_STR_MAX + 10);
	long_path[0] = '/';
	char *content = NULL;
	assert_true(asprintf(&content, "log_level = info\nenvoy_path = %s\n", long_path) > 0);
	expect_file_error(f, content, 2);
	free(content);
	free(long_path);
}

static void test_refused_string_leaves_the_field_unchanged(void **state)
{
	struct fixture *f = *state;
	char *v = repeat('a', USM_CONFIG_STR_MAX + 40);
	v[0] = '/';
	expect_set_error(f, "runtime_dir", v);
	assert_string_equal(f->cfg.runtime_dir, "/run/usm");
	free(v);
	expect_set_error(f, "api_listen", "127.0.0.1:0");
	assert_string_equal(f->cfg.api_listen, "127.0.0.1:5050");
}

static void test_refused_number_leaves_the_field_unchanged(void **state)
{
	struct fixture *f = *state;
	expect_set_error(f, "check_interval", "3601");
	assert_int_equal(f->cfg.check_interval_s, 30);
	expect_set_error(f, "ipc_timeout_ms", "12x");
	assert_int_equal(f->cfg.ipc_timeout_ms, 2000);
}

static void test_line_longer_than_line_max_is_refused_with_file_and_line(void **state)
{
	struct fixture *f = *state;
	/* A line that would be valid were it not too long (padding). */
	char *spaces = repeat(' ', USM_CONFIG_LINE_MAX + 100);
	char *content = NULL;
	assert_true(asprintf(&content, "check_interval = 10\nlog_level =%sdebug\ncheck_interval = 20\n",
			     spaces) > 0);
	expect_file_error(f, content, 2);
	assert_int_not_equal(f->cfg.log_level, USM_LOG_DEBUG);
	assert_int_not_equal(f->cfg.check_interval_s, 20);
	free(content);
	free(spaces);
}

static void test_overlong_comment_line_is_refused_and_its_tail_not_applied(void **state)
{
	struct fixture *f = *state;
	/* If the reader split this line, its tail would read as a key line. */
	char *pad = repeat('x', 2 * USM_CONFIG_LINE_MAX);
	char *content = NULL;
	assert_true(asprintf(&content, "# ok\n#%s\nlog_level = debug\n", pad) > 0);
	expect_file_error(f, content, 2);
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
	free(content);
	free(pad);
}

static void test_line_of_line_max_plus_one_characters_is_refused(void **state)
{
	struct fixture *f = *state;
	const size_t len = USM_CONFIG_LINE_MAX + 1;
	const char *head = "log_level =", *tail = "debug";
	char *spaces = repeat(' ', len - strlen(head) - strlen(tail));
	char *content = NULL;
	assert_true(asprintf(&content, "\n\n%s%s%s\n", head, spaces, tail) > 0);
	expect_file_error(f, content, 3);
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
	free(content);
	free(spaces);
}

static void test_java_tls_support_true_is_refused_with_a_message_about_java(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "log_level = info\n\nenable_java_tls_support = true\n", 3);
	assert_non_null(strcasestr(f->err.msg + strlen(f->path), "java"));
	assert_false(f->cfg.enable_java_tls_support);
	expect_set_error(f, "enable_java_tls_support", "yes");
	expect_set_error(f, "enable_java_tls_support", "on");
	expect_set_error(f, "enable_java_tls_support", "1");
	assert_false(f->cfg.enable_java_tls_support);
	assert_int_equal(usm_config_set_option(&f->cfg, "enable_java_tls_support=true", 4, &f->err),
			 -EINVAL);
	assert_error_at(&f->err, "-o", 4);
	assert_false(f->cfg.enable_java_tls_support);
}

static void test_option_error_is_labelled_dash_o_with_its_index(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(usm_config_set_option(&f->cfg, "no_such_key=1", 3, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 3);
	assert_int_equal(usm_config_set_option(&f->cfg, "check_interval=0", 1, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 1);
	assert_int_equal(usm_config_set_option(&f->cfg, "log_level = shout", 12, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 12);
	assert_int_equal(usm_config_set(&f->cfg, "seccomp", "off", "-o", 5, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 5);
}

static void test_option_without_equals_is_refused_with_dash_o_label(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(usm_config_set_option(&f->cfg, "log_level", 2, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 2);
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
	assert_int_equal(usm_config_set_option(&f->cfg, "", 3, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 3);
}

static void test_option_with_empty_key_is_refused_with_dash_o_label(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(usm_config_set_option(&f->cfg, "=debug", 6, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 6);
	assert_int_equal(usm_config_set_option(&f->cfg, "  = debug", 7, &f->err), -EINVAL);
	assert_error_at(&f->err, "-o", 7);
}

static void test_nothing_after_the_first_error_is_applied(void **state)
{
	struct fixture *f = *state;
	expect_file_error(f, "check_interval = 10\n"
			     "check_interval = 1000000\n"
			     "check_interval = 20\n"
			     "log_level = debug\n"
			     "enable_go_tls_support = true\n"
			     "runtime_dir = /elsewhere\n",
			  2);
	assert_int_not_equal(f->cfg.check_interval_s, 20);
	assert_int_not_equal(f->cfg.check_interval_s, 1000000);
	assert_int_equal(f->cfg.log_level, USM_LOG_INFO);
	assert_false(f->cfg.enable_go_tls_support);
	assert_string_equal(f->cfg.runtime_dir, "/run/usm");
}

static void test_missing_config_file_is_an_error_naming_the_path(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", f->dir);
	f->err.msg[0] = '\0';
	int rc = usm_config_load_file(&f->cfg, path, &f->err);
	assert_true(rc < 0);
	if (!strstr(f->err.msg, path))
		print_message("error message: \"%s\"\n", f->err.msg);
	assert_non_null(strstr(f->err.msg, path));
}

/* ---- users ----------------------------------------------------------- */

static void test_resolve_users_maps_root_to_0_0(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "root");
	expect_set_ok(f, "api_user", "root");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);
	assert_true(f->cfg.collector_user.resolved);
	assert_int_equal(f->cfg.collector_user.uid, 0);
	assert_int_equal(f->cfg.collector_user.gid, 0);
	assert_true(f->cfg.api_user.resolved);
	assert_int_equal(f->cfg.api_user.uid, 0);
	assert_int_equal(f->cfg.api_user.gid, 0);
}

static void test_resolve_users_maps_uid_0_to_uid_0_and_its_passwd_gid(void **state)
{
	struct fixture *f = *state;
	struct passwd *pw = getpwuid(0);
	gid_t want = pw ? pw->pw_gid : 0;
	expect_set_ok(f, "collector_user", "0");
	expect_set_ok(f, "api_user", "0");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);
	assert_true(f->cfg.collector_user.resolved);
	assert_int_equal(f->cfg.collector_user.uid, 0);
	assert_int_equal(f->cfg.collector_user.gid, want);
	assert_int_equal(f->cfg.api_user.uid, 0);
	assert_int_equal(f->cfg.api_user.gid, want);
}

static void test_resolve_users_takes_uid_gid_pair_numerically_without_passwd(void **state)
{
	struct fixture *f = *state;
	/* 1234 and 4321 have no passwd entry here, so only a purely numeric
	 * parse can succeed. */
	if (getpwuid(1234) || getpwuid(4321)) {
		skip();
		return;
	}
	expect_set_ok(f, "collector_user", "1234:5678");
	expect_set_ok(f, "api_user", "4321:8765");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);
	assert_true(f->cfg.collector_user.resolved);
	assert_int_equal(f->cfg.collector_user.uid, 1234);
	assert_int_equal(f->cfg.collector_user.gid, 5678);
	assert_true(f->cfg.api_user.resolved);
	assert_int_equal(f->cfg.api_user.uid, 4321);
	assert_int_equal(f->cfg.api_user.gid, 8765);
}

static void test_resolve_users_looks_a_name_up_in_passwd(void **state)
{
	struct fixture *f = *state;
	struct passwd *pw = getpwnam("nobody");
	if (!pw) {
		skip();
		return;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	expect_set_ok(f, "collector_user", "nobody");
	expect_set_ok(f, "api_user", "0:0");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);
	assert_int_equal(f->cfg.collector_user.uid, uid);
	assert_int_equal(f->cfg.collector_user.gid, gid);
}

static void test_resolve_users_refuses_a_nonexistent_collector_user_naming_it(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "no-such-user-xyz");
	expect_set_ok(f, "api_user", "root");
	f->err.msg[0] = '\0';
	assert_true(usm_config_resolve_users(&f->cfg, &f->err) < 0);
	if (!strstr(f->err.msg, "no-such-user-xyz"))
		print_message("error message: \"%s\"\n", f->err.msg);
	assert_non_null(strstr(f->err.msg, "no-such-user-xyz"));
}

static void test_resolve_users_refuses_a_nonexistent_api_user_naming_it(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "root");
	expect_set_ok(f, "api_user", "no-such-user-xyz");
	f->err.msg[0] = '\0';
	assert_true(usm_config_resolve_users(&f->cfg, &f->err) < 0);
	if (!strstr(f->err.msg, "no-such-user-xyz"))
		print_message("error message: \"%s\"\n", f->err.msg);
	assert_non_null(strstr(f->err.msg, "no-such-user-xyz"));
}

static void test_malformed_uid_gid_spec_is_refused_by_set_or_resolve(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "1234:abc", "1234:", "12:34:56", "1234:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		usm_config_defaults(&f->cfg);
		expect_set_ok(f, "api_user", "root");
		int rc = usm_config_set(&f->cfg, "collector_user", bad[i], "ctx.conf", 1, &f->err);
		if (rc == 0)
			rc = usm_config_resolve_users(&f->cfg, &f->err);
		if (rc == 0)
			print_message("collector_user = \"%s\" accepted as %u:%u\n", bad[i],
				      (unsigned)f->cfg.collector_user.uid,
				      (unsigned)f->cfg.collector_user.gid);
		assert_true(rc < 0);
	}
}

/* ---- to_args ------------------------------------------------------- */

static void assert_config_equal(const struct usm_config *a, const struct usm_config *b)
{
	assert_string_equal(a->api_listen, b->api_listen);
	assert_string_equal(a->runtime_dir, b->runtime_dir);
	assert_int_equal(a->collector_user.uid, b->collector_user.uid);
	assert_int_equal(a->collector_user.gid, b->collector_user.gid);
	assert_int_equal(a->collector_user.resolved, b->collector_user.resolved);
	assert_int_equal(a->api_user.uid, b->api_user.uid);
	assert_int_equal(a->api_user.gid, b->api_user.gid);
	assert_int_equal(a->api_user.resolved, b->api_user.resolved);
	assert_int_equal(a->enable_http_monitoring, b->enable_http_monitoring);
	assert_int_equal(a->enable_native_tls_monitoring, b->enable_native_tls_monitoring);
	assert_int_equal(a->enable_go_tls_support, b->enable_go_tls_support);
	assert_int_equal(a->enable_istio_monitoring, b->enable_istio_monitoring);
	assert_int_equal(a->enable_nodejs_monitoring, b->enable_nodejs_monitoring);
	assert_int_equal(a->enable_java_tls_support, b->enable_java_tls_support);
	assert_string_equal(a->envoy_path, b->envoy_path);
	assert_int_equal(a->api_control, b->api_control);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->seccomp, b->seccomp);
	assert_int_equal(a->child_max_restarts, b->child_max_restarts);
	assert_int_equal(a->child_restart_window_s, b->child_restart_window_s);
	assert_int_equal(a->check_interval_s, b->check_interval_s);
	assert_int_equal(a->ipc_timeout_ms, b->ipc_timeout_ms);
}

static void free_args(char **args, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(args[i]);
}

/* to_args(src), then every arg as -o on fresh defaults, then resolve. */
static void round_trip(const struct usm_config *src, struct usm_config *dst)
{
	char *args[USM_CONFIG_MAX_KEYS] = { 0 };
	size_t n = 0;
	struct usm_config_error err = { { 0 } };
	assert_int_equal(usm_config_to_args(src, args, USM_CONFIG_MAX_KEYS, &n), 0);
	assert_true(n > 0 && n <= USM_CONFIG_MAX_KEYS);
	memset(dst, 0x5A, sizeof(*dst));
	usm_config_defaults(dst);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(args[i]);
		int rc = usm_config_set_option(dst, args[i], (unsigned)i + 1, &err);
		if (rc != 0)
			print_message("arg \"%s\" refused: %s\n", args[i], err.msg);
		assert_int_equal(rc, 0);
	}
	free_args(args, n);
	assert_int_equal(usm_config_resolve_users(dst, &err), 0);
}

static void test_to_args_round_trips_a_non_default_configuration(void **state)
{
	struct fixture *f = *state;
	struct usm_config *c = &f->cfg;
	assert_int_equal(load(f, "api_listen = 0.0.0.0:8443\n"
				 "runtime_dir = /var/lib/usm run\n"
				 "collector_user = 1234:5678\n"
				 "api_user = 4321:8765\n"
				 "enable_http_monitoring = false\n"
				 "enable_native_tls_monitoring = off\n"
				 "enable_go_tls_support = on\n"
				 "enable_istio_monitoring = yes\n"
				 "enable_nodejs_monitoring = 1\n"
				 "envoy_path = /opt/envoy=v2/bin/envoy\n"
				 "api_control = true\n"
				 "log_level = debug\n"
				 "seccomp = log\n"
				 "child_max_restarts = 0\n"
				 "child_restart_window = 86400\n"
				 "check_interval = 1\n"
				 "ipc_timeout_ms = 60000\n"
				 "resident_libraries = /opt/ssl/libssl.so.3:/lib/libgnutls.so.30\n"),
			 0);
	assert_int_equal(usm_config_resolve_users(c, &f->err), 0);

	struct usm_config back;
	round_trip(c, &back);
	assert_config_equal(c, &back);
	assert_string_equal(back.collector_user.spec, "1234:5678");
	assert_string_equal(back.api_user.spec, "4321:8765");
}

static void test_to_args_round_trips_the_defaults_with_numeric_users(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "0:0");
	expect_set_ok(f, "api_user", "65534:65534");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);
	struct usm_config back;
	round_trip(&f->cfg, &back);
	assert_config_equal(&f->cfg, &back);
}

/* config.h: children receive numeric ids through to_args and never call
 * usm_config_resolve_users() ("Only privd calls it"), yet the round trip
 * must reproduce the configuration exactly: a "uid:gid" received as -o must
 * already carry those ids. */
static void test_to_args_gives_children_numeric_users_without_resolving(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "1234:5678");
	expect_set_ok(f, "api_user", "4321:8765");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);

	char *args[USM_CONFIG_MAX_KEYS] = { 0 };
	size_t n = 0;
	assert_int_equal(usm_config_to_args(&f->cfg, args, USM_CONFIG_MAX_KEYS, &n), 0);
	struct usm_config child;
	usm_config_defaults(&child);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(usm_config_set_option(&child, args[i], (unsigned)i + 1, &f->err), 0);
	free_args(args, n);
	/* No usm_config_resolve_users(&child, ...) here: children don't. */
	assert_config_equal(&f->cfg, &child);
}

static void test_to_args_renders_named_users_as_uid_gid(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "root");
	expect_set_ok(f, "api_user", "0");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);

	char *args[USM_CONFIG_MAX_KEYS] = { 0 };
	size_t n = 0;
	assert_int_equal(usm_config_to_args(&f->cfg, args, USM_CONFIG_MAX_KEYS, &n), 0);
	bool saw_collector = false, saw_api = false;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(args[i], "collector_user=", 15) == 0) {
			assert_string_equal(args[i], "collector_user=0:0");
			saw_collector = true;
		}
		if (strncmp(args[i], "api_user=", 9) == 0) {
			assert_string_equal(args[i], "api_user=0:0");
			saw_api = true;
		}
	}
	free_args(args, n);
	assert_true(saw_collector);
	assert_true(saw_api);

	struct usm_config back;
	round_trip(&f->cfg, &back);
	assert_config_equal(&f->cfg, &back);
}

static void test_to_args_emits_every_documented_key_exactly_once(void **state)
{
	struct fixture *f = *state;
	static const char *const keys[] = {
		"api_listen", "runtime_dir", "collector_user", "api_user", "bpf_user", "inspector_user",
		"enable_http_monitoring", "enable_native_tls_monitoring", "enable_go_tls_support",
		"enable_istio_monitoring", "enable_nodejs_monitoring", "envoy_path", "api_control",
		"log_level", "seccomp", "child_max_restarts", "child_restart_window",
		"check_interval", "ipc_timeout_ms", "max_traced_files", "max_blocked_files", "inspect_timeout_ms",
		"attach_linger_ms", "detach_threads", "uprobe_multi", "collector_memory_mb",
		"http_capture_bytes", "http_ring_buffer_mb", "http_max_path_len",
		"max_http_stats_entries", "max_tracked_connections", "http_request_timeout_ms",
		"http_idle_timeout_s", "resident_libraries",
		"enable_java_tls_support", /* last: always false, so it may be left out */
	};
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	expect_set_ok(f, "collector_user", "0:0");
	expect_set_ok(f, "api_user", "0:0");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);

	char *args[USM_CONFIG_MAX_KEYS] = { 0 };
	size_t n = 0;
	assert_int_equal(usm_config_to_args(&f->cfg, args, USM_CONFIG_MAX_KEYS, &n), 0);
	unsigned seen[sizeof(keys) / sizeof(keys[0])] = { 0 };
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(args[i], '=');
		if (!eq)
			print_message("arg without '=': \"%s\"\n", args[i]);
		assert_non_null(eq);
		size_t klen = (size_t)(eq - args[i]);
		bool known = false;
		for (size_t k = 0; k < nkeys; k++) {
			if (strlen(keys[k]) == klen && strncmp(args[i], keys[k], klen) == 0) {
				seen[k]++;
				known = true;
			}
		}
		if (!known)
			print_message("undocumented key in \"%s\"\n", args[i]);
		assert_true(known);
	}
	free_args(args, n);
	for (size_t k = 0; k < nkeys; k++) {
		if (seen[k] != 1 && !(k == nkeys - 1 && seen[k] == 0))
			print_message("key %s emitted %u times\n", keys[k], seen[k]);
		assert_true(seen[k] == 1 || (k == nkeys - 1 && seen[k] == 0));
	}
}

static void test_to_args_fails_with_enospc_when_max_is_too_small(void **state)
{
	struct fixture *f = *state;
	expect_set_ok(f, "collector_user", "0:0");
	expect_set_ok(f, "api_user", "0:0");
	assert_int_equal(usm_config_resolve_users(&f->cfg, &f->err), 0);

	char *args[USM_CONFIG_MAX_KEYS] = { 0 };
	size_t n = 0;
	assert_int_equal(usm_config_to_args(&f->cfg, args, USM_CONFIG_MAX_KEYS, &n), 0);
	size_t need = n;
	free_args(args, n);
	assert_true(need > 1);

	/* Exactly enough fits. */
	memset(args, 0, sizeof(args));
	assert_int_equal(usm_config_to_args(&f->cfg, args, need, &n), 0);
	assert_int_equal(n, need);
	free_args(args, n);

	/* One short, one, none: -ENOSPC, and nothing left to free (ASan
	 * reports a leak otherwise). */
	size_t smaller[] = { need - 1, 1, 0 };
	for (size_t i = 0; i < sizeof(smaller) / sizeof(smaller[0]); i++) {
		memset(args, 0, sizeof(args));
		n = 0;
		assert_int_equal(usm_config_to_args(&f->cfg, args, smaller[i], &n), -ENOSPC);
		for (size_t j = smaller[i]; j < USM_CONFIG_MAX_KEYS; j++)
			assert_null(args[j]); /* never writes past max */
	}
}

/* ---- monitoring predicates ---------------------------------------- */

static void test_need_process_monitor_is_true_with_the_defaults(void **state)
{
	struct fixture *f = *state;
	assert_true(usm_config_need_process_monitor(&f->cfg));
}

static void test_need_process_monitor_is_false_with_only_http_enabled(void **state)
{
	struct fixture *f = *state;
	set_all_enable(&f->cfg, false);
	f->cfg.enable_http_monitoring = true;
	f->cfg.api_control = true;
	assert_false(usm_config_need_process_monitor(&f->cfg));
	set_all_enable(&f->cfg, false);
	assert_false(usm_config_need_process_monitor(&f->cfg));
}

static void test_need_process_monitor_is_true_for_each_tls_or_uprobe_feature(void **state)
{
	struct fixture *f = *state;
	bool *fields[] = {
		&f->cfg.enable_native_tls_monitoring, &f->cfg.enable_go_tls_support,
		&f->cfg.enable_istio_monitoring, &f->cfg.enable_nodejs_monitoring,
		&f->cfg.enable_java_tls_support,
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		set_all_enable(&f->cfg, false);
		*fields[i] = true;
		if (!usm_config_need_process_monitor(&f->cfg))
			print_message("feature #%zu alone did not need the process monitor\n", i);
		assert_true(usm_config_need_process_monitor(&f->cfg));
	}
}

static void test_monitoring_is_not_disabled_with_the_defaults(void **state)
{
	struct fixture *f = *state;
	assert_false(usm_config_monitoring_disabled(&f->cfg));
}

static void test_monitoring_is_disabled_when_every_enable_key_is_false(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load(f, "enable_http_monitoring = false\n"
				 "enable_native_tls_monitoring = false\n"
				 "api_control = true\n"),
			 0);
	assert_true(usm_config_monitoring_disabled(&f->cfg));
}

static void test_monitoring_is_not_disabled_if_any_enable_key_is_true(void **state)
{
	struct fixture *f = *state;
	bool *fields[] = {
		&f->cfg.enable_http_monitoring,  &f->cfg.enable_native_tls_monitoring,
		&f->cfg.enable_go_tls_support,   &f->cfg.enable_istio_monitoring,
		&f->cfg.enable_nodejs_monitoring, &f->cfg.enable_java_tls_support,
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		set_all_enable(&f->cfg, false);
		*fields[i] = true;
		if (usm_config_monitoring_disabled(&f->cfg))
			print_message("feature #%zu alone still reads as disabled\n", i);
		assert_false(usm_config_monitoring_disabled(&f->cfg));
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_defaults_listen_on_localhost_port_5050),
		T(test_defaults_use_run_usm_as_runtime_dir),
		T(test_defaults_run_children_as_usm_collector_and_usm_api_unresolved),
		T(test_defaults_enable_only_http_and_native_tls_monitoring),
		T(test_defaults_use_bin_envoy_as_envoy_path),
		T(test_defaults_keep_api_control_off),
		T(test_defaults_log_at_info_and_kill_on_seccomp_violation),
		T(test_defaults_allow_5_restarts_within_60_seconds),
		T(test_defaults_check_every_30_seconds_with_2000ms_ipc_timeout),

		T(test_empty_file_keeps_every_default),
		T(test_comment_lines_and_blank_lines_are_ignored),
		T(test_trailing_comment_after_a_value_is_stripped),
		T(test_whitespace_around_the_equals_sign_is_ignored),
		T(test_last_line_without_a_newline_is_applied),
		T(test_string_value_keeps_inner_spaces_and_equals_signs),
		T(test_bool_accepts_true_yes_1_on_as_true),
		T(test_bool_accepts_false_no_0_off_as_false),
		T(test_bool_in_a_file_is_parsed),
		T(test_numbers_accept_both_ends_of_their_range),
		T(test_numbers_in_a_file_are_parsed),
		T(test_log_level_accepts_error_warn_info_debug),
		T(test_seccomp_accepts_kill_and_log),
		T(test_api_listen_accepts_host_and_port_1_to_65535),
		T(test_runtime_dir_accepts_an_absolute_path),
		T(test_resident_libraries_default_to_the_system_tls_libraries),
		T(test_resident_libraries_refuse_relative_empty_long_or_too_many_items),
		T(test_string_of_255_characters_fits),
		T(test_users_accept_name_uid_and_uid_gid_specs),
		T(test_line_just_under_line_max_is_accepted),
		T(test_line_of_line_max_minus_one_characters_is_accepted),
		T(test_last_line_of_line_max_minus_one_characters_without_newline_is_accepted),
		T(test_later_line_overrides_earlier_line),
		T(test_option_overrides_the_file),
		T(test_option_allows_spaces_around_equals),
		T(test_java_tls_support_false_is_accepted),

		T(test_unknown_key_is_refused_with_file_and_line),
		T(test_error_line_numbers_count_comments_and_blank_lines),
		T(test_line_without_equals_is_refused_with_file_and_line),
		T(test_empty_key_is_refused_with_file_and_line),
		T(test_bad_bool_is_refused_with_file_and_line),
		T(test_every_bool_key_refuses_values_that_are_not_booleans),
		T(test_number_out_of_range_is_refused_with_file_and_line),
		T(test_every_number_key_refuses_values_outside_its_range),
		T(test_number_that_is_not_a_number_is_refused),
		T(test_negative_number_is_refused),
		T(test_number_overflowing_unsigned_is_refused),
		T(test_bad_log_level_is_refused_with_file_and_line),
		T(test_bad_seccomp_mode_is_refused_with_file_and_line),
		T(test_api_listen_without_port_is_refused),
		T(test_api_listen_with_port_0_is_refused),
		T(test_api_listen_with_port_70000_is_refused),
		T(test_api_listen_with_non_numeric_port_is_refused),
		T(test_relative_runtime_dir_is_refused),
		T(test_string_value_too_long_is_refused),
		T(test_refused_string_leaves_the_field_unchanged),
		T(test_refused_number_leaves_the_field_unchanged),
		T(test_line_longer_than_line_max_is_refused_with_file_and_line),
		T(test_overlong_comment_line_is_refused_and_its_tail_not_applied),
		T(test_line_of_line_max_plus_one_characters_is_refused),
		T(test_java_tls_support_true_is_refused_with_a_message_about_java),
		T(test_option_error_is_labelled_dash_o_with_its_index),
		T(test_option_without_equals_is_refused_with_dash_o_label),
		T(test_option_with_empty_key_is_refused_with_dash_o_label),
		T(test_nothing_after_the_first_error_is_applied),
		T(test_missing_config_file_is_an_error_naming_the_path),

		T(test_resolve_users_maps_root_to_0_0),
		T(test_resolve_users_maps_uid_0_to_uid_0_and_its_passwd_gid),
		T(test_resolve_users_takes_uid_gid_pair_numerically_without_passwd),
		T(test_resolve_users_looks_a_name_up_in_passwd),
		T(test_resolve_users_refuses_a_nonexistent_collector_user_naming_it),
		T(test_resolve_users_refuses_a_nonexistent_api_user_naming_it),
		T(test_malformed_uid_gid_spec_is_refused_by_set_or_resolve),

		T(test_to_args_round_trips_a_non_default_configuration),
		T(test_to_args_round_trips_the_defaults_with_numeric_users),
		T(test_to_args_gives_children_numeric_users_without_resolving),
		T(test_to_args_renders_named_users_as_uid_gid),
		T(test_to_args_emits_every_documented_key_exactly_once),
		T(test_to_args_fails_with_enospc_when_max_is_too_small),

		T(test_need_process_monitor_is_true_with_the_defaults),
		T(test_need_process_monitor_is_false_with_only_http_enabled),
		T(test_need_process_monitor_is_true_for_each_tls_or_uprobe_feature),
		T(test_monitoring_is_not_disabled_with_the_defaults),
		T(test_monitoring_is_disabled_when_every_enable_key_is_false),
		T(test_monitoring_is_not_disabled_if_any_enable_key_is_true),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
