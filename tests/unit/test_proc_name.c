/* The names processes chose: a service name checked from an exec event
 * (empty is none, too long and control characters refused), a container
 * id found in the cgroup names the kernel sent, and the per-pid table
 * that keeps them while the process lives. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proc_names.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct usm_proc_event exec_event(uint8_t from, const char *service)
{
	struct usm_proc_event e;
	memset(&e, 0, sizeof(e));
	e.type = USM_EVENT_EXEC;
	e.pid = 42;
	strcpy(e.comm, "python3");
	e.service_from = from;
	strcpy(e.service, service);
	return e;
}

static void test_otel_service_name_is_taken(void **state)
{
	(void)state;
	struct usm_proc_event e = exec_event(USM_SERVICE_OTEL, "checkout");
	struct proc_name n;
	assert_int_equal(proc_name_from_event(&e, &n, NULL, 0), 0);
	assert_string_equal(n.service, "checkout");
	assert_string_equal(n.container_id, "");
}

static void test_empty_value_is_no_name_not_an_error(void **state)
{
	(void)state;
	struct usm_proc_event e = exec_event(USM_SERVICE_DD, "");
	struct proc_name n;
	assert_int_equal(proc_name_from_event(&e, &n, NULL, 0), 0);
	assert_string_equal(n.service, "");
}

static void test_longest_name_passes_and_one_more_byte_is_refused(void **state)
{
	(void)state;
	char name[USM_SERVICE_READ];
	memset(name, 'x', USM_SERVICE_MAX - 1);
	name[USM_SERVICE_MAX - 1] = '\0';
	char out[USM_SERVICE_MAX];
	assert_int_equal(proc_name_service(name, sizeof(name), out), 0);
	assert_string_equal(out, name);
	name[USM_SERVICE_MAX - 1] = 'x';
	name[USM_SERVICE_MAX] = '\0';
	assert_int_equal(proc_name_service(name, sizeof(name), out), -E2BIG);
	assert_string_equal(out, "");
	/* the kernel's field filled without a NUL */
	memset(name, 'x', sizeof(name));
	assert_int_equal(proc_name_service(name, sizeof(name), out), -E2BIG);
}

static void test_control_characters_are_refused_with_a_reason(void **state)
{
	(void)state;
	struct usm_proc_event e = exec_event(USM_SERVICE_DD, "bad\nname");
	strcpy(e.cgroup[0], "docker-" ID ".scope");
	struct proc_name n;
	char why[96];
	assert_int_equal(proc_name_from_event(&e, &n, why, sizeof(why)), -EILSEQ);
	assert_string_equal(why, "DD_SERVICE holds a control character");
	assert_string_equal(n.service, "");
	assert_string_equal(n.container_id, ID); /* the valid part is kept */
	strcpy(e.service, "x\x7f");
	assert_int_equal(proc_name_from_event(&e, &n, why, sizeof(why)), -EILSEQ);
	/* UTF-8 is a name people choose */
	strcpy(e.service, "caf\xc3\xa9");
	assert_int_equal(proc_name_from_event(&e, &n, why, sizeof(why)), 0);
	assert_string_equal(n.service, "caf\xc3\xa9");
}

static void test_too_long_is_refused_with_a_reason(void **state)
{
	(void)state;
	struct usm_proc_event e = exec_event(USM_SERVICE_OTEL, "");
	memset(e.service, 'y', USM_SERVICE_READ - 1);
	struct proc_name n;
	char why[96];
	assert_int_equal(proc_name_from_event(&e, &n, why, sizeof(why)), -E2BIG);
	assert_string_equal(why, "OTEL_SERVICE_NAME longer than 63 bytes");
}

static void test_container_ids_of_each_runtime(void **state)
{
	(void)state;
	static const char *const names[] = {
		"docker-" ID ".scope", ID, "cri-containerd-" ID ".scope", "crio-" ID ".scope",
		"libpod-" ID ".scope", "libpod-" ID,
	};
	char out[USM_CONTAINER_ID_MAX];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(proc_name_container_id(names[i], out), 0);
		assert_string_equal(out, ID);
	}
}

static void test_names_without_an_id_are_not_containers(void **state)
{
	(void)state;
	static const char *const names[] = {
		"", "system.slice", "user@1000.service", "init.scope",
		"docker-" ID "0.scope",                /* 65 digits */
		"docker_" ID ".scope",                 /* not after a '-' */
		"docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope",
		"docker-" ID ".service",
	};
	char out[USM_CONTAINER_ID_MAX];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(proc_name_container_id(names[i], out), -ENOENT);
}

static void test_nearest_cgroup_with_an_id_wins(void **state)
{
	(void)state;
	struct usm_proc_event e = exec_event(USM_SERVICE_NONE, "");
	/* systemd inside a container: the process sits below the scope */
	strcpy(e.cgroup[0], "init.scope");
	strcpy(e.cgroup[1], "docker-" ID ".scope");
	strcpy(e.cgroup[2], "system.slice");
	struct proc_name n;
	assert_int_equal(proc_name_from_event(&e, &n, NULL, 0), 0);
	assert_string_equal(n.container_id, ID);
	assert_string_equal(n.service, "");
}

static void test_unterminated_cgroup_name_is_refused(void **state)
{
	(void)state;
	struct usm_proc_event e = exec_event(USM_SERVICE_OTEL, "checkout");
	memset(e.cgroup[0], 'a', sizeof(e.cgroup[0]));
	struct proc_name n;
	char why[96];
	assert_int_equal(proc_name_from_event(&e, &n, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "cgroup name 0 is not terminated");
	assert_string_equal(n.service, "checkout");
}

static bool only_even_alive(void *ctx, uint32_t pid)
{
	(void)ctx;
	return pid % 2 == 0;
}

static void test_table_keeps_named_pids_until_they_go(void **state)
{
	(void)state;
	struct proc_names *t = proc_names_new(2);
	assert_non_null(t);
	struct proc_name named = {.service = "checkout"}, none = {{0}};
	assert_null(proc_names_get(NULL, 1));
	assert_int_equal(proc_names_set(t, 1, &named), 0);
	assert_int_equal(proc_names_set(t, 1 + PROC_NAMES_BUCKETS, &named), 0); /* same bucket */
	assert_string_equal(proc_names_get(t, 1)->service, "checkout");
	/* full: a third is refused, a known one still replaced */
	assert_int_equal(proc_names_set(t, 2, &named), -ENOSPC);
	strcpy(named.service, "billing");
	assert_int_equal(proc_names_set(t, 1, &named), 0);
	assert_string_equal(proc_names_get(t, 1)->service, "billing");
	/* an exec without names forgets the old ones */
	assert_int_equal(proc_names_set(t, 1, &none), 0);
	assert_null(proc_names_get(t, 1));
	assert_int_equal(proc_names_count(t), 1);
	assert_int_equal(proc_names_set(t, 2, &named), 0);
	assert_int_equal(proc_names_prune(t, only_even_alive, NULL), 1);
	assert_null(proc_names_get(t, 1 + PROC_NAMES_BUCKETS));
	assert_non_null(proc_names_get(t, 2));
	proc_names_remove(t, 2);
	proc_names_remove(t, 2);
	assert_int_equal(proc_names_count(t), 0);
	proc_names_free(t);
}

static void test_forked_child_inherits_its_parents_names(void **state)
{
	(void)state;
	struct proc_names *t = proc_names_new(3);
	assert_non_null(t);
	struct proc_name named = {.service = "frontend",
				  .container_id = "0123456789abcdef0123456789abcdef"
						  "0123456789abcdef0123456789abcdef"};
	assert_int_equal(proc_names_set(t, 100, &named), 0);
	assert_int_equal(proc_names_inherit(t, 100, 101), 0);
	assert_string_equal(proc_names_get(t, 101)->service, "frontend");
	assert_string_equal(proc_names_get(t, 101)->container_id, named.container_id);
	/* a grandchild, through the child */
	assert_int_equal(proc_names_inherit(t, 101, 102 + PROC_NAMES_BUCKETS), 0);
	assert_string_equal(proc_names_get(t, 102 + PROC_NAMES_BUCKETS)->service, "frontend");
	/* the child's names are its own from now: the parent's exec does
	 * not rename it */
	struct proc_name other = {.service = "admin"};
	assert_int_equal(proc_names_set(t, 100, &other), 0);
	assert_string_equal(proc_names_get(t, 101)->service, "frontend");
	proc_names_free(t);
}

static void test_fork_of_an_unknown_parent_changes_nothing(void **state)
{
	(void)state;
	struct proc_names *t = proc_names_new(1);
	assert_non_null(t);
	struct proc_name named = {.service = "worker"};
	assert_int_equal(proc_names_inherit(t, 7, 8), -ENOENT);
	assert_null(proc_names_get(t, 8));
	assert_int_equal(proc_names_count(t), 0);
	/* full: the child is refused as a new pid would be */
	assert_int_equal(proc_names_set(t, 7, &named), 0);
	assert_int_equal(proc_names_inherit(t, 7, 8), -ENOSPC);
	assert_null(proc_names_get(t, 8));
	assert_string_equal(proc_names_get(t, 7)->service, "worker");
	proc_names_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_otel_service_name_is_taken),
		cmocka_unit_test(test_empty_value_is_no_name_not_an_error),
		cmocka_unit_test(test_longest_name_passes_and_one_more_byte_is_refused),
		cmocka_unit_test(test_control_characters_are_refused_with_a_reason),
		cmocka_unit_test(test_too_long_is_refused_with_a_reason),
		cmocka_unit_test(test_container_ids_of_each_runtime),
		cmocka_unit_test(test_names_without_an_id_are_not_containers),
		cmocka_unit_test(test_nearest_cgroup_with_an_id_wins),
		cmocka_unit_test(test_unterminated_cgroup_name_is_refused),
		cmocka_unit_test(test_table_keeps_named_pids_until_they_go),
		cmocka_unit_test(test_forked_child_inherits_its_parents_names),
		cmocka_unit_test(test_fork_of_an_unknown_parent_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
