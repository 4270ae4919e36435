/* proc_read: the BPF owner's bounded reader of /proc/PID/maps, fed crafted
 * files: a value that does not fit is an error, never data. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc_read.h"

struct seen {
	unsigned n;
	uint64_t dev[8], ino[8];
	char path[8][64];
};

static int record(const struct proc_mapping *m, void *ctx)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		s->dev[s->n] = m->dev;
		s->ino[s->n] = m->ino;
		snprintf(s->path[s->n], sizeof(s->path[0]), "%s", m->path);
	}
	s->n++;
	return 0;
}

static int feed(const char *text, size_t len, struct seen *s)
{
	int fd = memfd_create("maps", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	memset(s, 0, sizeof(*s));
	int rc = proc_maps_read_fd(fd, record, s);
	close(fd);
	return rc;
}

#define LINE(path) "7f0000000000-7f0000001000 r-xp 00000000 fe:01 1234   " path "\n"

static void test_file_backed_mappings_are_reported_with_stat_device_numbers(void **state)
{
	(void)state;
	static const char text[] = "55d000000000-55d000001000 r--p 00000000 00:00 0 \n"
				   LINE("/usr/lib/libssl.so.3")
				   "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0   [stack]\n"
				   LINE("/tmp/gone.so (deleted)")
				   LINE("/opt/a b/with space.so");
	struct seen s;
	assert_int_equal(feed(text, sizeof(text) - 1, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.dev[0], makedev(0xfe, 1));
	assert_int_equal(s.ino[0], 1234);
	assert_string_equal(s.path[0], "/usr/lib/libssl.so.3");
	assert_string_equal(s.path[1], "/opt/a b/with space.so");
}

static void test_a_line_longer_than_a_path_allows_is_an_error_not_two_lines(void **state)
{
	(void)state;
	/* A file name long enough to split a fixed buffer, whose tail reads
	 * like a mapping of libssl: must never be seen as one. */
	size_t pad = PROC_MAPS_LINE_MAX;
	char *text = malloc(pad + 256);
	assert_non_null(text);
	int n = snprintf(text, 256, "7f0000000000-7f0000001000 r-xp 00000000 fe:01 99   /");
	memset(text + n, 'a', pad);
	snprintf(text + n + pad, 200, " 00000000 fe:01 4242 /usr/lib/libssl.so.3\n");
	struct seen s;
	assert_int_equal(feed(text, strlen(text), &s), -E2BIG);
	for (unsigned i = 0; i < s.n && i < 8; i++)
		assert_int_not_equal(s.ino[i], 4242);
	free(text);
}

static void test_a_last_line_without_its_newline_is_cut_and_an_error(void **state)
{
	(void)state;
	static const char text[] = LINE("/usr/lib/a.so") "7f0000000000-7f0000001000 r-xp 00000000 fe:01 7 /usr/lib/b.so";
	struct seen s;
	assert_int_equal(feed(text, sizeof(text) - 1, &s), -EIO);
	assert_int_equal(s.n, 1);
}

static void test_more_lines_than_the_bound_is_an_error(void **state)
{
	(void)state;
	static const char line[] = "0-1 r--p 0 00:00 0\n";
	size_t count = PROC_MAPS_MAX_LINES + 1;
	char *text = malloc(count * (sizeof(line) - 1));
	assert_non_null(text);
	for (size_t i = 0; i < count; i++)
		memcpy(text + i * (sizeof(line) - 1), line, sizeof(line) - 1);
	struct seen s;
	assert_int_equal(feed(text, count * (sizeof(line) - 1), &s), -EFBIG);
	free(text);
}

static int stop_at_second(const struct proc_mapping *m, void *ctx)
{
	unsigned *n = ctx;
	(void)m;
	return ++*n == 2 ? 7 : 0;
}

static void test_the_callback_can_stop_the_walk_with_its_value(void **state)
{
	(void)state;
	static const char text[] = LINE("/a") LINE("/b") LINE("/c");
	int fd = memfd_create("maps", MFD_CLOEXEC);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	lseek(fd, 0, SEEK_SET);
	unsigned n = 0;
	assert_int_equal(proc_maps_read_fd(fd, stop_at_second, &n), 7);
	assert_int_equal(n, 2);
	close(fd);
}

static void test_own_maps_are_read_and_links_that_do_not_fit_are_refused(void **state)
{
	(void)state;
	struct seen s;
	memset(&s, 0, sizeof(s));
	assert_int_equal(proc_maps_foreach((uint32_t)getpid(), record, &s), 0);
	assert_true(s.n > 0);
	char exe[4096], tiny[4];
	assert_int_equal(proc_read_link((uint32_t)getpid(), "exe", exe, sizeof(exe)), 0);
	assert_true(exe[0] == '/');
	assert_int_equal(proc_read_link((uint32_t)getpid(), "exe", tiny, sizeof(tiny)), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_backed_mappings_are_reported_with_stat_device_numbers),
		cmocka_unit_test(test_a_line_longer_than_a_path_allows_is_an_error_not_two_lines),
		cmocka_unit_test(test_a_last_line_without_its_newline_is_cut_and_an_error),
		cmocka_unit_test(test_more_lines_than_the_bound_is_an_error),
		cmocka_unit_test(test_the_callback_can_stop_the_walk_with_its_value),
		cmocka_unit_test(test_own_maps_are_read_and_links_that_do_not_fit_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
