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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_well_formed_events_pass),
		cmocka_unit_test(test_record_of_another_size_is_rejected),
		cmocka_unit_test(test_unknown_type_and_pid_zero_are_rejected),
		cmocka_unit_test(test_bad_paths_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
