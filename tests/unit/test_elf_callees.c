/* inspector/elf_callees.c on a library built for it (data/callees.c):
 * the common first callee of two functions is found where the symbol
 * table says it is, and refused when the first calls differ, go to a PLT
 * stub, or there is no call; and on this machine's libssl, SSL_read_ex
 * and SSL_read lead to one function that SSL_write_ex and SSL_write do
 * not. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf_callees.h"
#include "elf_symbols.h"

#if defined(__x86_64__)
#define LIBSSL "/usr/lib/x86_64-linux-gnu/libssl.so.3"
#else
#define LIBSSL "/usr/lib/aarch64-linux-gnu/libssl.so.3"
#endif

static int fd = -1;

static uint64_t offset_of(int file, const char *name)
{
	struct elf_func_query q = {.name = name};
	char reason[64];
	assert_int_equal(elf_resolve_functions(file, &q, 1, reason, sizeof(reason)), 0);
	if (!q.found)
		fail_msg("%s is not in the symbol tables", name);
	return q.offset;
}

static int callee(int file, const char *a, const char *b, uint64_t *out)
{
	char reason[64];
	return elf_common_callee(file, offset_of(file, a), offset_of(file, b), out, reason,
				 sizeof(reason));
}

static int setup(void **state)
{
	(void)state;
	fd = open(USM_CALLEES_LIB, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(fd);
	return 0;
}

static void test_the_shared_first_callee_is_the_symbols(void **state)
{
	(void)state;
	uint64_t got = 0;
	assert_int_equal(callee(fd, "outer_a", "outer_b", &got), 0);
	assert_int_equal(got, offset_of(fd, "inner"));
}

static void test_the_first_caller_must_pass_its_arguments_on(void **state)
{
	(void)state;
	uint64_t got = 7;
	/* outer_b calls inner(x + 3): the same callee, but not with outer_b's
	 * own arguments, as an inlined copy's first call would not be */
	assert_int_equal(callee(fd, "outer_b", "outer_a", &got), -ENOENT);
	assert_int_equal(got, 7);
}

static void test_no_shared_callee_is_refused(void **state)
{
	(void)state;
	uint64_t got = 7;
	assert_int_equal(callee(fd, "outer_a", "outer_c", &got), -ENOENT); /* inner vs other */
	assert_int_equal(callee(fd, "outer_d", "outer_e", &got), -ENOENT); /* getpid@plt */
	assert_int_equal(callee(fd, "outer_a", "outer_leaf", &got), -ENOENT); /* no call */
	assert_int_equal(got, 7);
}

static void test_offsets_outside_code_are_refused(void **state)
{
	(void)state;
	uint64_t got;
	char reason[64];
	assert_int_equal(elf_common_callee(fd, 0, offset_of(fd, "outer_a"), &got, reason,
					   sizeof(reason)), -ENOENT); /* the ELF header */
	assert_int_equal(elf_common_callee(fd, UINT64_MAX - 8, UINT64_MAX - 8, &got, reason,
					   sizeof(reason)), -ENOENT);
	assert_int_equal(elf_common_callee(-1, 0, 0, &got, reason, sizeof(reason)) < 0, 1);
}

static void test_libssl_reads_and_writes_each_have_theirs(void **state)
{
	(void)state;
	int lib = open(LIBSSL, O_RDONLY | O_CLOEXEC);
	if (lib < 0)
		skip();
	uint64_t reads, writes;
	assert_int_equal(callee(lib, "SSL_read_ex", "SSL_read", &reads), 0);
	assert_int_equal(callee(lib, "SSL_write_ex", "SSL_write", &writes), 0);
	assert_true(reads != writes);
	const char *exported[] = {"SSL_read", "SSL_read_ex", "SSL_write", "SSL_write_ex",
				  "SSL_peek"};
	for (size_t i = 0; i < sizeof(exported) / sizeof(exported[0]); i++) {
		assert_true(offset_of(lib, exported[i]) != reads);
		assert_true(offset_of(lib, exported[i]) != writes);
	}
	/* SSL_read and SSL_write do not share one */
	uint64_t none;
	assert_int_equal(callee(lib, "SSL_read", "SSL_write", &none), -ENOENT);
	close(lib);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_shared_first_callee_is_the_symbols),
		cmocka_unit_test(test_the_first_caller_must_pass_its_arguments_on),
		cmocka_unit_test(test_no_shared_callee_is_refused),
		cmocka_unit_test(test_offsets_outside_code_are_refused),
		cmocka_unit_test(test_libssl_reads_and_writes_each_have_theirs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
