/* The installed configuration file (tools/usm-conf, built as usm.conf)
 * against the parser's table: every key listed once, commented out, at
 * the default the parser applies, in the table's order; the file as
 * installed changes nothing, and uncommented whole it is still accepted
 * and still changes nothing. */
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

struct rendered {
	char *args[USM_CONFIG_MAX_KEYS];
	size_t n;
};

static void render(const struct usm_config *cfg, struct rendered *r)
{
	assert_int_equal(usm_config_to_args(cfg, r->args, USM_CONFIG_MAX_KEYS, &r->n), 0);
}

static void release(struct rendered *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->args[i]);
}

static void assert_same_config(const struct usm_config *a, const struct usm_config *b)
{
	struct rendered ra, rb;
	render(a, &ra);
	render(b, &rb);
	assert_int_equal(ra.n, rb.n);
	for (size_t i = 0; i < ra.n; i++)
		assert_string_equal(ra.args[i], rb.args[i]);
	release(&ra);
	release(&rb);
}

/* The commented-out settings of the file, as "key=value" in file order:
 * lines "#key = value" (a comment with a space after '#' is prose). */
static size_t commented_settings(char out[][USM_CONFIG_LINE_MAX], size_t max)
{
	FILE *f = fopen(USM_CONF_PATH, "r");
	assert_non_null(f);
	char line[USM_CONFIG_LINE_MAX + 2];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *eq = strstr(line, " = ");
		if (line[0] != '#' || line[1] < 'a' || line[1] > 'z' || !eq)
			continue;
		assert_true(n < max);
		*eq = '\0';
		int len = snprintf(out[n++], USM_CONFIG_LINE_MAX, "%s=%s", line + 1, eq + 3);
		assert_true(len > 0 && len < USM_CONFIG_LINE_MAX);
	}
	fclose(f);
	return n;
}

static void test_every_key_is_listed_commented_at_its_default(void **state)
{
	(void)state;
	static struct usm_config defaults;
	static char listed[USM_CONFIG_MAX_KEYS + 1][USM_CONFIG_LINE_MAX];
	usm_config_defaults(&defaults);
	struct rendered want;
	render(&defaults, &want);
	size_t n = commented_settings(listed, USM_CONFIG_MAX_KEYS + 1);
	assert_int_equal(n, want.n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(listed[i], want.args[i]);
	release(&want);
}

static void test_installed_file_sets_nothing(void **state)
{
	(void)state;
	static struct usm_config defaults, loaded;
	struct usm_config_error err;
	usm_config_defaults(&defaults);
	usm_config_defaults(&loaded);
	assert_int_equal(usm_config_load_file(&loaded, USM_CONF_PATH, &err), 0);
	assert_same_config(&loaded, &defaults);
}

static void test_uncommented_file_is_accepted_and_changes_nothing(void **state)
{
	(void)state;
	static struct usm_config defaults, loaded;
	static char listed[USM_CONFIG_MAX_KEYS + 1][USM_CONFIG_LINE_MAX];
	char path[] = "/tmp/usm-test-usm-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	size_t n = commented_settings(listed, USM_CONFIG_MAX_KEYS + 1);
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(listed[i], '=');
		fprintf(f, "%.*s = %s\n", (int)(eq - listed[i]), listed[i], eq + 1);
	}
	assert_int_equal(fclose(f), 0);
	struct usm_config_error err = {{0}};
	usm_config_defaults(&defaults);
	usm_config_defaults(&loaded);
	int rc = usm_config_load_file(&loaded, path, &err);
	unlink(path);
	if (rc != 0)
		fail_msg("%s", err.msg);
	assert_same_config(&loaded, &defaults);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_is_listed_commented_at_its_default),
		cmocka_unit_test(test_installed_file_sets_nothing),
		cmocka_unit_test(test_uncommented_file_is_accepted_and_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
