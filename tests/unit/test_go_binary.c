/* go_binary: the inspector's reading of Go programs, on the real Go HTTPS
 * peers built by meson with Debian's golang-go (tests/go/) in the four
 * ways Go programs ship: functions found in .gopclntab agree with the
 * symbol table where there is one, stripped builds find the same code,
 * every RET found is a RET byte, the DWARF offsets agree with the
 * verified table, and damaged or foreign files get their reason
 * (not-go, unsupported-go-version, bad-gopclntab, no such function). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "elf_symbols.h"
#include "go_binary.h"
#include "go_offsets.h"
#include "go_tables.h"
#include "go_code.h"

#define PEER(name) USM_GO_PEERS_DIR "/" name
static const char *const builds[] = {
	PEER("https_server_plain"), PEER("https_server_stripped"), PEER("https_server_pie"),
	PEER("https_server_trimpath"), PEER("https_client_plain"), PEER("https_client_stripped"),
	PEER("https_client_pie"), PEER("https_client_trimpath"),
};
#define NBUILDS (sizeof(builds) / sizeof(builds[0]))
static const char *const funcs[] = {"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write",
				    "crypto/tls.(*Conn).Close"};

static struct usm_inspect_req request(void)
{
	struct usm_inspect_req req = {.magic = USM_INSPECT_MAGIC, .kind = USM_INSPECT_GO_TLS,
				      .nfuncs = 3};
	for (unsigned i = 0; i < 3; i++)
		snprintf(req.names[i], sizeof(req.names[i]), "%s", funcs[i]);
	return req;
}

static void answer_fd(int fd, struct usm_inspect_req *req, struct usm_inspect_rep *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->magic = USM_INSPECT_MAGIC;
	rep->nfuncs = req->nfuncs;
	go_binary_answer(fd, req, rep);
	/* every answer, error or not, has the shape privd accepts */
	assert_true(usm_inspect_rep_valid(rep, req->nfuncs, USM_INSPECT_GO_TLS));
}

static void answer(const char *path, struct usm_inspect_rep *rep)
{
	struct usm_inspect_req req = request();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("%s: %s (built by meson: tests/go/meson.build)", path, strerror(errno));
	answer_fd(fd, &req, rep);
	close(fd);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("go", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* ---- the real builds -------------------------------------------------- */

static void test_every_build_answers_with_returns_that_are_ret_bytes(void **state)
{
	(void)state;
	for (size_t b = 0; b < NBUILDS; b++) {
		struct usm_inspect_rep rep;
		answer(builds[b], &rep);
		if (rep.error)
			fail_msg("%s: %s", builds[b], rep.reason);
		assert_int_equal(go_minor_version(rep.go.version), 19);
		size_t len;
		unsigned char *file = slurp(builds[b], &len);
		for (unsigned i = 0; i < 3; i++) {
			const struct usm_inspect_func *f = &rep.funcs[i];
			assert_int_equal(f->found, 1);
			assert_true(f->nreturns > 0 && f->nreturns <= USM_INSPECT_MAX_RETURNS);
			assert_true(f->offset < len);
			for (unsigned r = 0; r < f->nreturns; r++) {
				assert_true(f->returns[r] > f->offset && f->returns[r] < len);
				assert_int_equal(file[f->returns[r]], 0xc3); /* RET */
				assert_true(r == 0 || f->returns[r] > f->returns[r - 1]);
			}
		}
		free(file);
	}
}

static void test_pclntab_agrees_with_the_symbol_table(void **state)
{
	(void)state;
	for (size_t b = 0; b < NBUILDS; b++) {
		if (strstr(builds[b], "stripped"))
			continue;
		struct usm_inspect_rep rep;
		answer(builds[b], &rep);
		struct elf_func_query q[3];
		for (unsigned i = 0; i < 3; i++)
			q[i] = (struct elf_func_query){.name = funcs[i]};
		char reason[64];
		int fd = open(builds[b], O_RDONLY | O_CLOEXEC);
		assert_int_equal(elf_resolve_functions(fd, q, 3, reason, sizeof(reason)), 0);
		close(fd);
		/* the entry probe sits on the stack check's JBE: 4 bytes in
		 * (cmp rsp, [r14+16]), or 9 (lea r12 first, Write's frame is big) */
		size_t len;
		unsigned char *file = slurp(builds[b], &len);
		for (unsigned i = 0; i < 3; i++) {
			assert_true(q[i].found);
			uint64_t in = rep.funcs[i].offset - q[i].offset;
			if (in != 4 && in != 9)
				fail_msg("%s: %s's probe %" PRIu64 " bytes in", builds[b], funcs[i], in);
			assert_int_equal(file[rep.funcs[i].offset], 0x0f); /* jbe rel32 */
			assert_int_equal(file[rep.funcs[i].offset + 1], 0x86);
			assert_true((file[q[i].offset + in - 4] | 4) == 0x4d); /* cmp rsp|r12, [r14...] */
		}
		free(file);
	}
}

/* -s -w drops .symtab and DWARF, not code: the same bytes are found. */
static void test_stripped_builds_find_the_same_code(void **state)
{
	(void)state;
	for (size_t b = 0; b < NBUILDS; b++) {
		if (!strstr(builds[b], "plain"))
			continue;
		char stripped[256];
		snprintf(stripped, sizeof(stripped), "%.*sstripped", (int)(strstr(builds[b], "plain") - builds[b]),
			 builds[b]);
		struct usm_inspect_rep a, s;
		answer(builds[b], &a);
		answer(stripped, &s);
		size_t la, ls;
		unsigned char *fa = slurp(builds[b], &la), *fs = slurp(stripped, &ls);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(a.funcs[i].nreturns, s.funcs[i].nreturns);
			uint64_t end = a.funcs[i].returns[a.funcs[i].nreturns - 1];
			uint64_t n = end + 1 - a.funcs[i].offset;
			assert_true(s.funcs[i].offset + n <= ls);
			assert_memory_equal(fa + a.funcs[i].offset, fs + s.funcs[i].offset, n);
		}
		assert_memory_equal(&a.go, &s.go, sizeof(a.go)); /* DWARF's = the table's */
		free(fa);
		free(fs);
	}
}

static void test_dwarf_offsets_equal_the_verified_table(void **state)
{
	(void)state;
	struct elf_file f;
	char reason[64];
	struct usm_inspect_go dwarf = {.version = "go1.19"}, table = {.version = "go1.19"};
	int fd = open(builds[0], O_RDONLY | O_CLOEXEC);
	assert_int_equal(elf_file_open(&f, fd, reason, sizeof(reason)), 0);
	assert_int_equal(go_offsets_from_dwarf(&f, &dwarf), 0);
	elf_file_close(&f);
	close(fd);
	assert_int_equal(go_offsets_from_table(19, &table), 0);
	assert_memory_equal(&dwarf, &table, sizeof(dwarf));
	assert_int_equal(dwarf.goid, 152);
	/* a stripped build has no DWARF: the table answers */
	fd = open(builds[1], O_RDONLY | O_CLOEXEC);
	assert_int_equal(elf_file_open(&f, fd, reason, sizeof(reason)), 0);
	assert_int_equal(go_offsets_from_dwarf(&f, &dwarf), -ENOENT);
	elf_file_close(&f);
	close(fd);
	/* versions nobody verified here are not guessed */
	assert_int_equal(go_offsets_from_table(18, &table), -ENOENT);
	assert_int_equal(go_offsets_from_table(23, &table), -ENOENT);
}

/* ---- what is refused --------------------------------------------------- */

static void assert_refused(int fd, const char *reason)
{
	struct usm_inspect_req req = request();
	struct usm_inspect_rep rep;
	answer_fd(fd, &req, &rep);
	assert_true(rep.error < 0);
	assert_string_equal(rep.reason, reason);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rep.funcs[i].found, 0);
}

static void test_a_program_that_is_not_go(void **state)
{
	(void)state;
	int fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
	assert_refused(fd, "not-go");
	close(fd);
	fd = memfd_with("#!/bin/sh\n", 10);
	assert_refused(fd, "not-elf");
	close(fd);
}

/* A copy of a build with its .go.buildinfo version replaced. */
static int with_version(const char *path, const char *version)
{
	size_t len;
	unsigned char *b = slurp(path, &len);
	unsigned char *m = memmem(b, len, "\xff Go buildinf:", 14);
	assert_non_null(m);
	assert_true(m[15] & 2);                       /* inline strings */
	assert_int_equal(m[32], strlen(version));     /* one-byte length */
	memcpy(m + 33, version, strlen(version));
	int fd = memfd_with(b, len);
	free(b);
	return fd;
}

static void test_versions_outside_what_is_known_are_refused(void **state)
{
	(void)state;
	/* older than the register ABI with this function table layout */
	int fd = with_version(builds[0], "go1.17.8");
	assert_refused(fd, "unsupported-go-version");
	close(fd);
	/* stripped (no DWARF), and a version the table does not hold */
	fd = with_version(builds[1], "go1.99.8");
	assert_refused(fd, "unsupported-go-version");
	close(fd);
	fd = with_version(builds[1], "xo1.19.8");
	assert_refused(fd, "unsupported-go-version");
	close(fd);
	/* with DWARF, the offsets come from the binary itself */
	fd = with_version(builds[0], "go1.99.8");
	struct usm_inspect_req req = request();
	struct usm_inspect_rep rep;
	answer_fd(fd, &req, &rep);
	assert_int_equal(rep.error, 0);
	assert_string_equal(rep.go.version, "go1.99.8");
	close(fd);
}

static void test_a_damaged_function_table_is_refused(void **state)
{
	(void)state;
	size_t len;
	unsigned char *b = slurp(builds[1], &len);
	static const unsigned char head[] = {0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8};
	unsigned char *m = memmem(b, len, head, sizeof(head));
	assert_non_null(m);
	m[0] = 0xf5; /* an unknown layout */
	int fd = memfd_with(b, len);
	assert_refused(fd, "bad-gopclntab");
	close(fd);
	m[0] = 0xf0;
	memset(m + 64, 0xff, 8); /* the function table's offset, past the section */
	fd = memfd_with(b, len);
	assert_refused(fd, "bad-gopclntab");
	close(fd);
	free(b);
}

static void test_a_missing_function_is_not_found(void **state)
{
	(void)state;
	struct usm_inspect_req req = request();
	snprintf(req.names[2], sizeof(req.names[2]), "crypto/tls.(*Conn).NoSuchMethod");
	struct usm_inspect_rep rep;
	int fd = open(builds[1], O_RDONLY | O_CLOEXEC);
	answer_fd(fd, &req, &rep);
	close(fd);
	assert_int_equal(rep.error, 0);
	assert_int_equal(rep.funcs[0].found, 1);
	assert_int_equal(rep.funcs[2].found, 0);
	assert_int_equal(rep.funcs[2].nreturns, 0);
}

/* ---- pieces ------------------------------------------------------------ */

static void test_ret_instructions(void **state)
{
	(void)state;
	uint64_t out[16];
	/* push rbp; ret; int3 padding; ret imm16 */
	static const uint8_t code[] = {0x55, 0xc3, 0xcc, 0xcc, 0xc2, 0x08, 0x00};
	assert_int_equal(go_code_rets(code, sizeof(code), 1000, out, 16), 2);
	assert_int_equal(out[0], 1001);
	assert_int_equal(out[1], 1004);
	/* 0xc3 inside another instruction is not a RET: mov eax, 0xc3c3c3c3 */
	static const uint8_t inside[] = {0xb8, 0xc3, 0xc3, 0xc3, 0xc3};
	assert_int_equal(go_code_rets(inside, sizeof(inside), 0, out, 16), 0);
	uint8_t many[20];
	memset(many, 0xc3, sizeof(many));
	assert_int_equal(go_code_rets(many, sizeof(many), 0, out, 16), -E2BIG);
	static const uint8_t bad[] = {0x06}; /* push es: no such instruction in 64-bit mode */
	assert_int_equal(go_code_rets(bad, sizeof(bad), 0, out, 16), -EILSEQ);
	static const uint8_t cut[] = {0xb8, 0x01}; /* mov eax, imm32, cut short */
	assert_int_equal(go_code_rets(cut, sizeof(cut), 0, out, 16), -EILSEQ);
}

static void test_stack_check(void **state)
{
	(void)state;
	uint64_t at = 0;
	/* cmp rsp, [r14 + 0x10]; jbe rel32; sub rsp, 0x68 */
	static const uint8_t small[] = {0x49, 0x3b, 0x66, 0x10, 0x0f, 0x86, 0xc2, 0x03, 0x00, 0x00,
					0x48, 0x83, 0xec, 0x68};
	assert_int_equal(go_code_stack_check(small, sizeof(small), 100, &at), 0);
	assert_int_equal(at, 104);
	/* lea r12, [rsp - 0x68]; cmp r12, [r14 + 0x10]; jbe rel8 */
	static const uint8_t big[] = {0x4c, 0x8d, 0x64, 0x24, 0x98, 0x4d, 0x3b, 0x66, 0x10, 0x76, 0x05};
	assert_int_equal(go_code_stack_check(big, sizeof(big), 0, &at), 0);
	assert_int_equal(at, 9);
	/* not a stack check: another displacement, another base, no jbe, nothing */
	static const uint8_t disp[] = {0x49, 0x3b, 0x66, 0x18, 0x0f, 0x86, 0, 0, 0, 0};
	static const uint8_t other[] = {0x49, 0x3b, 0x67, 0x10, 0x0f, 0x86, 0, 0, 0, 0};
	static const uint8_t jb[] = {0x49, 0x3b, 0x66, 0x10, 0x0f, 0x82, 0, 0, 0, 0};
	static const uint8_t nops[] = {0x90, 0x90, 0x90, 0xc3};
	static const uint8_t prefixed[] = {0x49, 0x3b, 0x66, 0x10, 0x2e, 0x0f, 0x86, 0, 0, 0, 0};
	assert_int_equal(go_code_stack_check(prefixed, sizeof(prefixed), 0, &at), -ENOENT);
	assert_int_equal(go_code_stack_check(disp, sizeof(disp), 0, &at), -ENOENT);
	assert_int_equal(go_code_stack_check(other, sizeof(other), 0, &at), -ENOENT);
	assert_int_equal(go_code_stack_check(jb, sizeof(jb), 0, &at), -ENOENT);
	assert_int_equal(go_code_stack_check(nops, sizeof(nops), 0, &at), -ENOENT);
	assert_int_equal(go_code_stack_check(small, 7, 0, &at), -ENOENT); /* cut in the jbe */
}

static void test_go_minor_version(void **state)
{
	(void)state;
	assert_int_equal(go_minor_version("go1.19.8"), 19);
	assert_int_equal(go_minor_version("go1.19"), 19);
	assert_int_equal(go_minor_version("go1.21rc2"), 21);
	assert_int_equal(go_minor_version("go1.9"), 9);
	assert_int_equal(go_minor_version("go2.1"), -1);
	assert_int_equal(go_minor_version("devel go1.22"), -1);
	assert_int_equal(go_minor_version("go1."), -1);
	assert_int_equal(go_minor_version("go1.19x"), -1);
	assert_int_equal(go_minor_version(""), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_build_answers_with_returns_that_are_ret_bytes),
		cmocka_unit_test(test_pclntab_agrees_with_the_symbol_table),
		cmocka_unit_test(test_stripped_builds_find_the_same_code),
		cmocka_unit_test(test_dwarf_offsets_equal_the_verified_table),
		cmocka_unit_test(test_a_program_that_is_not_go),
		cmocka_unit_test(test_versions_outside_what_is_known_are_refused),
		cmocka_unit_test(test_a_damaged_function_table_is_refused),
		cmocka_unit_test(test_a_missing_function_is_not_found),
		cmocka_unit_test(test_ret_instructions),
		cmocka_unit_test(test_stack_check),
		cmocka_unit_test(test_go_minor_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
