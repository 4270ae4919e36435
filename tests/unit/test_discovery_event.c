/* Discovery events from the ring buffer: only well-formed records pass. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "discovery_event.h"

static struct usm_proc_event lib_open(const char *path)
{
	struct usm_proc_event e;
	memset(&e, 0, sizeof(e));
	e.type = USM_EVENT_LIB_OPEN;
	e.pid = 42;
	e.path_len = (uint16_t)(strlen(path) + 1);
	memcpy(e.path, path, e.path_len);
	return e;
}

static void test_well_formed_events_pass(void **state)
{
	(void)state;
	struct usm_proc_event e = lib_open("/usr/lib/x86_64-linux-gnu/libssl.so.3");
	assert_true(discovery_event_valid(&e, sizeof(e)));
	e.type = USM_EVENT_EXEC;
	assert_true(discovery_event_valid(&e, sizeof(e)));
	memset(&e, 0, sizeof(e));
	e.type = USM_EVENT_EXIT;
	e.pid = 7;
	assert_true(discovery_event_valid(&e, sizeof(e)));
}

static void test_record_of_another_size_is_rejected(void **state)
{
	(void)state;
	struct usm_proc_event e = lib_open("/lib/libssl.so.3");
	assert_false(discovery_event_valid(&e, sizeof(e) - 1));
	assert_false(discovery_event_valid(&e, sizeof(e) + 8));
	assert_false(discovery_event_valid(&e, 0));
}

static void test_unknown_type_and_pid_zero_are_rejected(void **state)
{
	(void)state;
	struct usm_proc_event e = lib_open("/lib/libssl.so.3");
	e.type = 99;
	assert_false(discovery_event_valid(&e, sizeof(e)));
	e = lib_open("/lib/libssl.so.3");
	e.pid = 0;
	assert_false(discovery_event_valid(&e, sizeof(e)));
}

static void test_bad_paths_are_rejected(void **state)
{
	(void)state;
	struct usm_proc_event e = lib_open("libssl.so.3"); /* relative */
	assert_false(discovery_event_valid(&e, sizeof(e)));
	e = lib_open("/lib/libssl.so.3");
	e.path[e.path_len - 1] = 'x'; /* not terminated where it says */
	assert_false(discovery_event_valid(&e, sizeof(e)));
	e = lib_open("/lib/libssl.so.3");
	e.path_len = sizeof(e.path) + 1; /* beyond the array */
	assert_false(discovery_event_valid(&e, sizeof(e)));
	e.path_len = 0; /* the kernel could not read the path */
	assert_false(discovery_event_valid(&e, sizeof(e)));
}

static struct usm_fork_event fork_of(uint32_t parent, uint32_t child)
{
	struct usm_fork_event f;
	memset(&f, 0, sizeof(f));
	f.type = USM_EVENT_FORK;
	f.pid = child;
	f.ppid = parent;
	return f;
}

static void test_fork_event_passes_at_its_own_size(void **state)
{
	(void)state;
	struct usm_fork_event f = fork_of(100, 101);
	assert_true(discovery_event_valid(&f, sizeof(f)));
	/* not at the size of the other events, nor cut */
	struct usm_proc_event big;
	memset(&big, 0, sizeof(big));
	memcpy(&big, &f, sizeof(f));
	assert_false(discovery_event_valid(&big, sizeof(big)));
	assert_false(discovery_event_valid(&f, sizeof(f) - 1));
	assert_false(discovery_event_valid(&f, 3)); /* not even a type */
}

static void test_fork_event_needs_two_distinct_pids(void **state)
{
	(void)state;
	struct usm_fork_event f = fork_of(0, 101);
	assert_false(discovery_event_valid(&f, sizeof(f)));
	f = fork_of(100, 0);
	assert_false(discovery_event_valid(&f, sizeof(f)));
	f = fork_of(100, 100);
	assert_false(discovery_event_valid(&f, sizeof(f)));
}

static void test_other_events_at_the_fork_events_size_are_rejected(void **state)
{
	(void)state;
	struct usm_fork_event f = fork_of(100, 101);
	f.type = USM_EVENT_EXIT;
	assert_false(discovery_event_valid(&f, sizeof(f)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_events_pass),
		cmocka_unit_test(test_record_of_another_size_is_rejected),
		cmocka_unit_test(test_unknown_type_and_pid_zero_are_rejected),
		cmocka_unit_test(test_bad_paths_are_rejected),
		cmocka_unit_test(test_fork_event_passes_at_its_own_size),
		cmocka_unit_test(test_fork_event_needs_two_distinct_pids),
		cmocka_unit_test(test_other_events_at_the_fork_events_size_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
