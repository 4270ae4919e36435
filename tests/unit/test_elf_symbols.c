/* elf_symbols: offsets of real files (libssl, node, this test) checked
 * against readelf's view of the same files; the symbol choice rules and
 * every malformed-table check on small ELF images built here; no crash on
 * truncated or randomly damaged copies of libssl; and the hostile files
 * the inspector must answer within its bounds: huge section counts,
 * sections outside the file, sparse multi-GB files, links that loop,
 * every truncation, a million symbols and more than ELF_MAX_SYMBOLS. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#define LIBDIR "/usr/lib/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#define LIBDIR "/usr/lib/aarch64-linux-gnu"
#endif
#define LIBSSL LIBDIR "/libssl.so.3"
#define NODE "/usr/bin/node"

/* ---- helpers ---------------------------------------------------------- */

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);
	assert_true(fd >= 0);
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		assert_true(n > 0);
		p += n;
		len -= (size_t)n;
	}
	return fd;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	unsigned char *buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

static int resolve_path(const char *path, struct elf_func_query *q, size_t n, char *reason,
			size_t reason_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int rc = elf_resolve_functions(fd, q, n, reason, reason_len);
	close(fd);
	return rc;
}

/* What readelf says: the executable PT_LOAD segments and a symbol's value,
 * turned into a file offset the same way the kernel's uprobe does. */
struct load {
	uint64_t offset, vaddr, filesz;
};

static size_t readelf_exec_loads(const char *path, struct load *loads, size_t max)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[512];
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		uint64_t off, vaddr, paddr, filesz, memsz;
		int end = 0;
		if (sscanf(line, " LOAD %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64 " %n",
			   &off, &vaddr, &paddr, &filesz, &memsz, &end) != 5)
			continue;
		/* flags like "R E", then the alignment "0x1000" */
		char *align = strstr(line + end, "0x");
		if (align)
			*align = '\0';
		if (!strchr(line + end, 'E') || n == max)
			continue;
		loads[n++] = (struct load){ off, vaddr, filesz };
	}
	pclose(f);
	return n;
}

/* table: "--dyn-syms" or "--syms" (both tables). bind: "GLOBAL", "LOCAL"... */
static bool readelf_func_offset(const char *path, const char *table, const char *name,
				const char *bind, uint64_t *offset)
{
	struct load loads[16];
	size_t nloads = readelf_exec_loads(path, loads, 16);
	if (nloads == 0)
		return false;
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "readelf -W %s '%s' 2>/dev/null", table, path);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	char line[1024];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t value;
		char type[32], b[32], ndx[32], sym[512];
		if (sscanf(line, " %*u: %" SCNx64 " %*s %31s %31s %*s %31s %511s", &value, type, b, ndx,
			   sym) != 5)
			continue;
		sym[strcspn(sym, "@")] = '\0';
		if (strcmp(type, "FUNC") != 0 || strcmp(b, bind) != 0 || strcmp(ndx, "UND") == 0 ||
		    strcmp(sym, name) != 0)
			continue;
		for (size_t i = 0; i < nloads; i++) {
			if (value >= loads[i].vaddr && value - loads[i].vaddr < loads[i].filesz) {
				*offset = value - loads[i].vaddr + loads[i].offset;
				found = true;
			}
		}
	}
	pclose(f);
	return found;
}

static bool have_readelf(void) { return system("readelf --version >/dev/null 2>&1") == 0; }

/* Resolves names in path and compares each with readelf's offset. */
static void assert_matches_readelf(const char *path, const char *table, const char **names,
				   size_t n)
{
	struct elf_func_query q[16];
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		q[i] = (struct elf_func_query){ .name = names[i] };
	char reason[32] = "x";
	assert_int_equal(resolve_path(path, q, n, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "");
	for (size_t i = 0; i < n; i++) {
		uint64_t want = 0;
		if (!readelf_func_offset(path, table, names[i], "GLOBAL", &want))
			fail_msg("readelf finds no %s in %s", names[i], path);
		if (!q[i].found || q[i].offset != want)
			fail_msg("%s in %s: found %d offset 0x%" PRIx64 ", readelf says 0x%" PRIx64,
				 names[i], path, q[i].found, q[i].offset, want);
	}
}

/* ---- real files --------------------------------------------------------- */

static void test_libssl_offsets_match_readelf(void **state)
{
	(void)state;
	if (access(LIBSSL, R_OK) != 0 || !have_readelf())
		skip();
	const char *names[] = { "SSL_read",   "SSL_write",    "SSL_read_ex", "SSL_write_ex",
				"SSL_set_fd", "SSL_shutdown", "SSL_free" };
	assert_matches_readelf(LIBSSL, "--dyn-syms", names, sizeof(names) / sizeof(names[0]));

	/* a libssl has no gnutls; a missing name is not an error */
	struct elf_func_query q[] = { { .name = "SSL_read" }, { .name = "gnutls_record_recv" },
				      { .name = "SSL_rea" },  { .name = "SSL_read@@OPENSSL_3.0.0" } };
	assert_int_equal(resolve_path(LIBSSL, q, 4, NULL, 0), 0);
	assert_true(q[0].found);
	assert_false(q[1].found);
	assert_false(q[2].found);
	/* queries are base names; the version is the symbol's, not the query's */
	assert_false(q[3].found);
}

static void test_node_non_pie_offsets_match_readelf(void **state)
{
	(void)state;
	if (access(NODE, R_OK) != 0 || !have_readelf())
		skip();
	const char *names[] = { "SSL_read", "SSL_write" };
	assert_matches_readelf(NODE, "--dyn-syms", names, 2);
	/* non-PIE: the offset is not the address */
	struct elf_func_query q = { .name = "SSL_read" };
	assert_int_equal(resolve_path(NODE, &q, 1, NULL, 0), 0);
	struct load loads[16];
	assert_true(readelf_exec_loads(NODE, loads, 16) > 0);
	assert_true(loads[0].vaddr != loads[0].offset);
}

/* Kept out of line and in the binary: the test resolves it by name. */
__attribute__((noinline, used)) static int local_probe_target(int x) { return x * 3 + 1; }

/* This test's own executable: main and a static function are only in
 * .symtab, so this exercises the fallback and local symbols. */
static void test_symtab_fallback_on_this_executable(void **state)
{
	(void)state;
	if (!have_readelf())
		skip();
	assert_int_equal(local_probe_target(1), 4);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';

	uint64_t want_main = 0, want_local = 0;
	if (!readelf_func_offset(self, "--syms", "main", "GLOBAL", &want_main) ||
	    !readelf_func_offset(self, "--syms", "local_probe_target", "LOCAL", &want_local))
		skip(); /* a stripped build */
	struct elf_func_query q[] = { { .name = "main" }, { .name = "local_probe_target" } };
	assert_int_equal(resolve_path(self, q, 2, NULL, 0), 0);
	assert_true(q[0].found);
	assert_int_equal(q[0].offset, want_main);
	assert_true(q[1].found);
	assert_int_equal(q[1].offset, want_local);
}

static void test_not_elf_and_no_symbol(void **state)
{
	(void)state;
	char reason[32];
	struct elf_func_query q = { .name = "SSL_read", .found = true, .offset = 7 };

	const char text[] = "#!/bin/sh\necho this is not an ELF file\n";
	int fd = memfd_with(text, sizeof(text) - 1);
	assert_int_equal(elf_resolve_functions(fd, &q, 1, reason, sizeof(reason)), -ENOEXEC);
	assert_string_equal(reason, "not-elf");
	assert_false(q.found);
	close(fd);

	fd = memfd_with("", 0);
	assert_int_equal(elf_resolve_functions(fd, &q, 1, reason, sizeof(reason)), -ENOEXEC);
	assert_string_equal(reason, "not-elf");
	close(fd);

	fd = memfd_with("\177ELF", 4); /* the magic, and nothing more: cut short */
	assert_int_equal(elf_resolve_functions(fd, &q, 1, reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "bad-elf");
	close(fd);

	/* a directory is not an ELF file either */
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(elf_resolve_functions(fd, &q, 1, reason, sizeof(reason)), -ENOEXEC);
	assert_string_equal(reason, "not-elf");
	close(fd);

	if (access("/bin/true", R_OK) == 0) {
		q.found = true;
		assert_int_equal(resolve_path("/bin/true", &q, 1, reason, sizeof(reason)), 0);
		assert_false(q.found);
		assert_string_equal(reason, "");
	}

	/* bad arguments */
	assert_int_equal(elf_resolve_functions(-1, &q, 1, reason, sizeof(reason)), -EINVAL);
	fd = memfd_with(text, sizeof(text) - 1);
	assert_int_equal(elf_resolve_functions(fd, NULL, 1, reason, sizeof(reason)), -EINVAL);
	struct elf_func_query unnamed = { .name = NULL };
	assert_int_equal(elf_resolve_functions(fd, &unnamed, 1, reason, sizeof(reason)), -EINVAL);
	close(fd);
}

static void test_truncated_libssl_is_an_error(void **state)
{
	(void)state;
	size_t len;
	unsigned char *lib = slurp(LIBSSL, &len);
	if (!lib)
		skip();
	assert_true(len > 4096);
	int fd = memfd_with(lib, 4096);
	free(lib);
	struct elf_func_query q = { .name = "SSL_read" };
	char reason[32];
	assert_int_equal(elf_resolve_functions(fd, &q, 1, reason, sizeof(reason)), -EINVAL);
	assert_string_equal(reason, "bad-elf");
	assert_false(q.found);
	close(fd);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Damaged copies of libssl: random bytes in the headers, symbol and string
 * tables (its first 64 KiB) and in the section header table (at the end).
 * Any answer is fine except a crash, a sanitizer report, or an offset
 * outside the file. */
static void test_damaged_libssl_never_crashes(void **state)
{
	(void)state;
	size_t len;
	unsigned char *lib = slurp(LIBSSL, &len);
	if (!lib)
		skip();
	assert_true(len > 65536);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)lib;
	uint64_t shoff = eh->e_shoff;
	assert_true(shoff < len);
	unsigned char *copy = malloc(len);
	assert_non_null(copy);
	uint64_t seed = 0x5eed1234abcdULL;
	unsigned outcomes[3] = { 0 }; /* ok, ENOEXEC, EINVAL */
	for (int iter = 0; iter < 200; iter++) {
		memcpy(copy, lib, len);
		unsigned flips = 1 + (unsigned)(xorshift(&seed) % 8);
		for (unsigned i = 0; i < flips; i++) {
			size_t at = (size_t)(xorshift(&seed) % 65536);
			copy[at] ^= (unsigned char)(1 + xorshift(&seed) % 255);
		}
		if (iter % 2) {
			size_t at = (size_t)(shoff + xorshift(&seed) % (len - shoff));
			copy[at] ^= (unsigned char)(1 + xorshift(&seed) % 255);
		}
		int fd = memfd_with(copy, len);
		struct elf_func_query q[] = { { .name = "SSL_read" }, { .name = "SSL_write" },
					      { .name = "SSL_free" } };
		char reason[32];
		int rc = elf_resolve_functions(fd, q, 3, reason, sizeof(reason));
		close(fd);
		if (rc == 0) {
			outcomes[0]++;
			for (int k = 0; k < 3; k++)
				assert_true(!q[k].found || q[k].offset < len);
		} else {
			assert_true(rc == -ENOEXEC || rc == -EINVAL);
			outcomes[rc == -ENOEXEC ? 1 : 2]++;
			for (int k = 0; k < 3; k++)
				assert_false(q[k].found);
		}
	}
	print_message("damaged libssl: %u resolved, %u ENOEXEC, %u EINVAL\n", outcomes[0],
		      outcomes[1], outcomes[2]);
	free(copy);
	free(lib);
}

/* ---- built images --------------------------------------------------------
 * A small ELF64 of this machine: an executable segment at file 0x1000 ->
 * address 0x401000, a read-only one at 0x2000 -> 0x602000, and sections
 * .text .dynsym .dynstr .gnu.version .symtab .strtab .shstrtab (an absent
 * table is an empty PROGBITS). Tests then break one field at a time. */

enum { S_NULL, S_TEXT, S_DYNSYM, S_DYNSTR, S_VERSYM, S_SYMTAB, S_STRTAB, S_SHSTRTAB, S_COUNT };

#define TEXT_ADDR 0x401000u
#define RO_ADDR 0x602000u
#define IMG_MAX 0x10000

struct tsym {
	const char *name;
	uint64_t value;
	unsigned char type, bind;
	uint16_t shndx;  /* 0: S_TEXT */
	uint16_t versym; /* .dynsym only; 0: 1 (global, default) */
};

struct img {
	unsigned char b[IMG_MAX];
	size_t len;
};

static struct img img; /* large: not on the stack */

#define FUNC(n, v) { n, v, STT_FUNC, STB_GLOBAL, 0, 0 }

static Elf64_Ehdr *ehdr(void) { return (Elf64_Ehdr *)img.b; }
static Elf64_Phdr *phdr(unsigned i) { return (Elf64_Phdr *)(img.b + 64) + i; }
static Elf64_Shdr *shdr(unsigned i) { return (Elf64_Shdr *)(img.b + ehdr()->e_shoff) + i; }
static Elf64_Sym *sym_at(unsigned table, unsigned i)
{
	return (Elf64_Sym *)(img.b + shdr(table)->sh_offset) + i;
}

static size_t put(const void *p, size_t n)
{
	size_t at = (img.len + 7) & ~(size_t)7;
	assert_true(at + n <= IMG_MAX);
	memcpy(img.b + at, p, n);
	img.len = at + n;
	return at;
}

/* Writes a symbol table and its string table; fills both headers. */
static void put_table(unsigned sec, unsigned strsec, uint32_t type, const struct tsym *s, size_t n)
{
	char strs[4096] = "";
	size_t slen = 1;
	Elf64_Sym syms[64];
	assert_true(n < 64);
	memset(syms, 0, sizeof(syms));
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(s[i].name) + 1;
		assert_true(slen + l <= sizeof(strs));
		memcpy(strs + slen, s[i].name, l);
		syms[i + 1] = (Elf64_Sym){ .st_name = (uint32_t)slen,
					   .st_info = ELF64_ST_INFO(s[i].bind, s[i].type),
					   .st_shndx = s[i].shndx ? s[i].shndx : S_TEXT,
					   .st_value = s[i].value,
					   .st_size = 16 };
		slen += l;
	}
	Elf64_Shdr *sh = (Elf64_Shdr *)(img.b + IMG_MAX - S_COUNT * sizeof(Elf64_Shdr)) + sec;
	Elf64_Shdr *st = (Elf64_Shdr *)(img.b + IMG_MAX - S_COUNT * sizeof(Elf64_Shdr)) + strsec;
	*sh = (Elf64_Shdr){ .sh_type = type, .sh_link = strsec, .sh_info = 1, .sh_addralign = 8,
			    .sh_entsize = sizeof(Elf64_Sym), .sh_size = (n + 1) * sizeof(Elf64_Sym) };
	sh->sh_offset = put(syms, sh->sh_size);
	*st = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1, .sh_size = slen };
	st->sh_offset = put(strs, slen);
}

/* An ELF64 executable header of this machine, program headers right after it. */
static void fill_ehdr(Elf64_Ehdr *eh, uint16_t phnum, uint16_t shnum)
{
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = HOST_MACHINE;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = phnum;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = shnum;
}

/* dyn/sym: NULL for an absent table. */
static void build(const struct tsym *dyn, size_t ndyn, const struct tsym *sym, size_t nsym)
{
	memset(&img, 0, sizeof(img));
	/* section headers are staged at the end of the buffer, moved at the end */
	Elf64_Shdr *sh = (Elf64_Shdr *)(img.b + IMG_MAX - S_COUNT * sizeof(Elf64_Shdr));
	Elf64_Ehdr *eh = ehdr();
	fill_ehdr(eh, 2, S_COUNT);
	eh->e_shstrndx = S_SHSTRTAB;
	*phdr(0) = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, 0x1000, TEXT_ADDR, TEXT_ADDR, 0x1000, 0x1000,
				 0x1000 };
	*phdr(1) = (Elf64_Phdr){ PT_LOAD, PF_R, 0x2000, RO_ADDR, RO_ADDR, 0x1000, 0x1000, 0x1000 };
	img.len = 0x3000;
	sh[S_TEXT] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
				   .sh_addr = TEXT_ADDR, .sh_offset = 0x1000, .sh_size = 0x1000 };

	for (unsigned s = S_DYNSYM; s <= S_STRTAB; s++)
		sh[s] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_offset = 0x3000 };
	if (dyn) {
		put_table(S_DYNSYM, S_DYNSTR, SHT_DYNSYM, dyn, ndyn);
		uint16_t vs[64] = { 0 };
		for (size_t i = 0; i < ndyn; i++)
			vs[i + 1] = dyn[i].versym ? dyn[i].versym : 1;
		sh[S_VERSYM] = (Elf64_Shdr){ .sh_type = SHT_GNU_versym, .sh_link = S_DYNSYM,
					     .sh_entsize = 2, .sh_addralign = 2,
					     .sh_size = (ndyn + 1) * 2 };
		sh[S_VERSYM].sh_offset = put(vs, sh[S_VERSYM].sh_size);
	}
	if (sym)
		put_table(S_SYMTAB, S_STRTAB, SHT_SYMTAB, sym, nsym);

	static const char names[] =
		"\0.text\0.dynsym\0.dynstr\0.gnu.version\0.symtab\0.strtab\0.shstrtab";
	static const uint32_t name_at[S_COUNT] = { 0, 1, 7, 15, 23, 36, 44, 52 };
	for (unsigned s = 1; s < S_COUNT; s++)
		sh[s].sh_name = name_at[s];
	sh[S_SHSTRTAB] = (Elf64_Shdr){ .sh_name = name_at[S_SHSTRTAB], .sh_type = SHT_STRTAB,
				       .sh_addralign = 1, .sh_size = sizeof(names) };
	sh[S_SHSTRTAB].sh_offset = put(names, sizeof(names));

	Elf64_Shdr staged[S_COUNT];
	memcpy(staged, sh, sizeof(staged));
	memset(sh, 0, sizeof(staged));
	eh->e_shoff = put(staged, sizeof(staged));
}

/* Runs the queries on the image; returns rc, reason in `reason`. */
static char reason[32];
static const char *damage = "none"; /* what the current case broke, for messages */
static int run(struct elf_func_query *q, size_t n)
{
	int fd = memfd_with(img.b, img.len);
	strcpy(reason, "unset");
	int rc = elf_resolve_functions(fd, q, n, reason, sizeof(reason));
	close(fd);
	return rc;
}

/* The image must resolve `name` (to file offset `off`) or not (off 0). */
static void expect(const char *name, uint64_t off)
{
	struct elf_func_query q = { .name = name };
	assert_int_equal(run(&q, 1), 0);
	if (off == 0 && q.found)
		fail_msg("%s resolved to 0x%" PRIx64 ", want not found", name, q.offset);
	if (off != 0 && (!q.found || q.offset != off))
		fail_msg("%s: found %d offset 0x%" PRIx64 ", want 0x%" PRIx64, name, q.found,
			 q.offset, off);
}

static void expect_error(int rc_want, const char *reason_want)
{
	struct elf_func_query q = { .name = "f" };
	int rc = run(&q, 1);
	if (rc != rc_want || strcmp(reason, reason_want) != 0)
		fail_msg("%s: rc %d reason %s, want %d %s", damage, rc, reason, rc_want,
			 reason_want);
	assert_false(q.found);
}

static const struct tsym symtab_syms[] = {
	FUNC("f", TEXT_ADDR + 0x10),
	/* versioned names: the default version wins, wherever it is */
	FUNC("ver@V1", TEXT_ADDR + 0x30),
	FUNC("ver@@V2", TEXT_ADDR + 0x20),
	FUNC("old@V1", TEXT_ADDR + 0x40), /* only a non-default version: still found */
	FUNC("old2@V1", TEXT_ADDR + 0x48),
	FUNC("old2@V2", TEXT_ADDR + 0x4c), /* two non-default ones: ambiguous */
	{ "ifunc", TEXT_ADDR + 0x50, STT_GNU_IFUNC, STB_GLOBAL, 0, 0 },
	{ "object", TEXT_ADDR + 0x60, STT_OBJECT, STB_GLOBAL, 0, 0 },
	{ "undef", 0, STT_FUNC, STB_GLOBAL, SHN_UNDEF, 0 },
	{ "abs", TEXT_ADDR + 0x70, STT_FUNC, STB_GLOBAL, SHN_ABS, 0 },
	FUNC("in_rodata", RO_ADDR + 0x10),  /* not executable */
	FUNC("outside", 0x900000),          /* in no segment */
	FUNC("past_end", TEXT_ADDR + 0x1000), /* one byte past the segment */
	FUNC("last", TEXT_ADDR + 0xfff),
	{ "weak", TEXT_ADDR + 0x80, STT_FUNC, STB_WEAK, 0, 0 },
	/* a local loses to a global of the same name */
	{ "loc", TEXT_ADDR + 0x90, STT_FUNC, STB_LOCAL, 0, 0 },
	FUNC("loc", TEXT_ADDR + 0xa0),
	{ "one_local", TEXT_ADDR + 0xb0, STT_FUNC, STB_LOCAL, 0, 0 },
	/* two static functions of one name: which one is meant is unknown */
	{ "two_locals", TEXT_ADDR + 0xc0, STT_FUNC, STB_LOCAL, 0, 0 },
	{ "two_locals", TEXT_ADDR + 0xd0, STT_FUNC, STB_LOCAL, 0, 0 },
	FUNC("dup", TEXT_ADDR + 0xe0),
	FUNC("dup", TEXT_ADDR + 0xf0),
	FUNC("alias", TEXT_ADDR + 0x100),
	FUNC("alias", TEXT_ADDR + 0x100),
};
#define NSYMTAB (sizeof(symtab_syms) / sizeof(symtab_syms[0]))

static void test_symbol_choice_rules(void **state)
{
	(void)state;
	build(NULL, 0, symtab_syms, NSYMTAB);
	expect("f", 0x1010); /* ET_EXEC: address 0x401010 is file offset 0x1010 */
	expect("ver", 0x1020);
	expect("ver@@V2", 0);
	expect("ver@V1", 0);
	expect("old", 0x1040);
	expect("old2", 0);
	expect("ifunc", 0);
	expect("object", 0);
	expect("undef", 0);
	expect("abs", 0);
	expect("in_rodata", 0);
	expect("outside", 0);
	expect("past_end", 0);
	expect("last", 0x1fff);
	expect("weak", 0x1080);
	expect("loc", 0x10a0);
	expect("one_local", 0x10b0);
	expect("two_locals", 0);
	expect("dup", 0);
	expect("alias", 0x1100);
	expect("nothing", 0);

	/* many queries at once, some repeated */
	struct elf_func_query q[] = { { .name = "f" }, { .name = "weak" }, { .name = "f" },
				      { .name = "nope" } };
	assert_int_equal(run(q, 4), 0);
	assert_string_equal(reason, "");
	assert_true(q[0].found && q[1].found && q[2].found && !q[3].found);
	assert_int_equal(q[2].offset, 0x1010);
	/* no queries: the file is still checked */
	assert_int_equal(run(NULL, 0), 0);

	/* ET_DYN computes the same way */
	ehdr()->e_type = ET_DYN;
	expect("f", 0x1010);
}

static void test_dynsym_before_symtab_and_versym(void **state)
{
	(void)state;
	static const struct tsym dyn[] = {
		FUNC("both", TEXT_ADDR + 0x100),
		{ "v", TEXT_ADDR + 0x200, STT_FUNC, STB_GLOBAL, 0, 0x8002 }, /* hidden: v@V1 */
		{ "v", TEXT_ADDR + 0x210, STT_FUNC, STB_GLOBAL, 0, 3 },      /* v@@V2 */
		{ "h", TEXT_ADDR + 0x220, STT_FUNC, STB_GLOBAL, 0, 0x8002 }, /* hidden only */
		{ "dynlocal", TEXT_ADDR + 0x230, STT_FUNC, STB_LOCAL, 0, 0 },
	};
	static const struct tsym sym[] = {
		FUNC("both", TEXT_ADDR + 0x300),
		FUNC("only_symtab", TEXT_ADDR + 0x310),
		FUNC("dynlocal", TEXT_ADDR + 0x320),
	};
	build(dyn, 5, sym, 3);
	expect("both", 0x1100);
	expect("only_symtab", 0x1310);
	expect("v", 0x1210);
	expect("h", 0x1220);
	expect("dynlocal", 0x1320); /* a local in .dynsym is not an export */

	/* without .symtab */
	build(dyn, 5, NULL, 0);
	expect("both", 0x1100);
	expect("only_symtab", 0);
	/* a .gnu.version that does not match .dynsym */
	shdr(S_VERSYM)->sh_size -= 2;
	expect_error(-EINVAL, "bad-elf");
	build(dyn, 5, NULL, 0);
	shdr(S_VERSYM)->sh_link = S_SYMTAB;
	expect_error(-EINVAL, "bad-elf");
}

static void test_wrong_kind_of_elf(void **state)
{
	(void)state;
	static const struct tsym one[] = { FUNC("f", TEXT_ADDR) };

	build(NULL, 0, NULL, 0);
	expect_error(-ENOEXEC, "no-symbols");

	build(NULL, 0, one, 1);
	expect("f", 0x1000);
	ehdr()->e_machine = HOST_MACHINE == EM_X86_64 ? EM_AARCH64 : EM_X86_64;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one, 1);
	ehdr()->e_machine = EM_386;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one, 1);
	ehdr()->e_type = ET_REL;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one, 1);
	ehdr()->e_type = ET_CORE;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one, 1);
	ehdr()->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one, 1);
	ehdr()->e_ident[EI_CLASS] = 7;
	expect_error(-ENOEXEC, "not-elf");
}

static void test_malformed_tables_are_bad_elf(void **state)
{
	(void)state;
	static const struct tsym one[] = { FUNC("f", TEXT_ADDR + 4), FUNC("g", TEXT_ADDR + 8) };
#define BROKEN(stmt)                                     \
	do {                                             \
		build(NULL, 0, one, 2);                  \
		expect("f", 0x1004);                     \
		stmt;                                    \
		damage = #stmt;                          \
		expect_error(-EINVAL, "bad-elf");        \
		damage = "none";                         \
	} while (0)

	/* symbol table shape */
	BROKEN(shdr(S_SYMTAB)->sh_entsize = 16);
	BROKEN(shdr(S_SYMTAB)->sh_entsize = 0);
	BROKEN(shdr(S_SYMTAB)->sh_size += 1);
	BROKEN(shdr(S_SYMTAB)->sh_size = (uint64_t)1 << 40);
	BROKEN(shdr(S_SYMTAB)->sh_offset = img.len + 24);
	BROKEN(shdr(S_SYMTAB)->sh_offset = UINT64_MAX - 8);
	/* its string table */
	BROKEN(shdr(S_SYMTAB)->sh_link = 0);
	BROKEN(shdr(S_SYMTAB)->sh_link = S_TEXT);
	BROKEN(shdr(S_SYMTAB)->sh_link = 99);
	BROKEN(sym_at(S_SYMTAB, 2)->st_name = 1000);
	BROKEN(shdr(S_STRTAB)->sh_size -= 1); /* "g" no longer NUL-terminated */
	BROKEN(shdr(S_STRTAB)->sh_offset = img.len);
	/* two tables of one kind */
	BROKEN(shdr(S_DYNSTR)->sh_type = SHT_SYMTAB; shdr(S_DYNSTR)->sh_link = S_STRTAB;
	       shdr(S_DYNSTR)->sh_offset = shdr(S_SYMTAB)->sh_offset;
	       shdr(S_DYNSTR)->sh_size = shdr(S_SYMTAB)->sh_size;
	       shdr(S_DYNSTR)->sh_entsize = sizeof(Elf64_Sym));
	/* program headers */
	BROKEN(ehdr()->e_phnum = 0);
	BROKEN(phdr(0)->p_filesz = 0x100000);
	BROKEN(phdr(1)->p_offset = UINT64_MAX - 0x10);
	BROKEN(phdr(0)->p_vaddr = UINT64_MAX - 0x10);
	BROKEN(ehdr()->e_phoff = img.len);
	/* section headers */
	BROKEN(ehdr()->e_shoff = img.len - 8);
	BROKEN(ehdr()->e_shoff = UINT64_MAX - 8);
	BROKEN(ehdr()->e_shnum = 0xfeff);
	BROKEN(ehdr()->e_shentsize = 32);
#undef BROKEN

	/* damage in a symbol that is not a candidate is not looked at */
	build(NULL, 0, one, 2);
	sym_at(S_SYMTAB, 2)->st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT);
	sym_at(S_SYMTAB, 2)->st_name = 1000;
	expect("f", 0x1004);
}

/* ---- hostile files ------------------------------------------------------
 * What the inspector must answer within its bounds, each with its exact
 * error and reason. */

static const struct tsym one_f[] = { FUNC("f", TEXT_ADDR + 4) };

/* Resolves "f" in fd (closed here); the reason is left in `reason`. */
static int resolve_f(int fd, struct elf_func_query *q)
{
	*q = (struct elf_func_query){ .name = "f" };
	strcpy(reason, "unset");
	int rc = elf_resolve_functions(fd, q, 1, reason, sizeof(reason));
	close(fd);
	return rc;
}

/* The image as a sparse file of `size` bytes, its section header table
 * moved to `shoff` (nothing else is written past the image). */
static int sparse_fd(uint64_t size, uint64_t shoff)
{
	Elf64_Ehdr eh = *ehdr();
	int fd = memfd_with(img.b, img.len);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (shoff != eh.e_shoff) {
		size_t len = S_COUNT * sizeof(Elf64_Shdr);
		assert_int_equal(pwrite(fd, img.b + eh.e_shoff, len, (off_t)shoff), (ssize_t)len);
		eh.e_shoff = shoff;
		assert_int_equal(pwrite(fd, &eh, sizeof(eh), 0), (ssize_t)sizeof(eh));
	}
	return fd;
}

static void assert_outcome(int rc, const struct elf_func_query *q, int rc_want,
			   const char *reason_want, const char *what)
{
	if (rc != rc_want || strcmp(reason, reason_want) != 0)
		fail_msg("%s: rc %d reason %s, want %d %s", what, rc, reason, rc_want, reason_want);
	if (rc == 0 && (!q->found || q->offset != 0x1004))
		fail_msg("%s: f found %d at 0x%" PRIx64 ", want 0x1004", what, q->found, q->offset);
	if (rc != 0)
		assert_false(q->found);
}

static void test_section_counts_are_bounded_before_libelf_allocates(void **state)
{
	(void)state;
	struct elf_func_query q;
	const uint64_t at = 1 << 20; /* headers far into a sparse file, where they fit */

	/* one over the bound: refused from the header alone */
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = ELF_MAX_SECTIONS + 1;
	int rc = resolve_f(sparse_fd(at + (ELF_MAX_SECTIONS + 1) * sizeof(Elf64_Shdr), at), &q);
	assert_outcome(rc, &q, -E2BIG, "too-large", "e_shnum over the bound");
	/* at the bound it is read (the headers past the real ones are SHT_NULL) */
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = ELF_MAX_SECTIONS;
	rc = resolve_f(sparse_fd(at + ELF_MAX_SECTIONS * sizeof(Elf64_Shdr), at), &q);
	assert_outcome(rc, &q, 0, "", "e_shnum at the bound");
	/* a huge count whose table does not fit is damage */
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = 0xfeff;
	expect_error(-EINVAL, "bad-elf");

	/* extended numbering: e_shnum 0, the count in section 0's sh_size */
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = 0;
	shdr(0)->sh_size = S_COUNT;
	expect("f", 0x1004);
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = 0;
	shdr(0)->sh_size = 100000;
	rc = resolve_f(sparse_fd(at + 100000 * sizeof(Elf64_Shdr), at), &q);
	assert_outcome(rc, &q, -E2BIG, "too-large", "extended count over the bound");
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = 0;
	shdr(0)->sh_size = UINT32_MAX;
	damage = "extended count that does not fit";
	expect_error(-EINVAL, "bad-elf");
	build(NULL, 0, one_f, 1);
	ehdr()->e_shnum = 0;
	ehdr()->e_shoff = img.len - 8; /* section 0 itself cut */
	damage = "extended numbering, section 0 cut";
	expect_error(-EINVAL, "bad-elf");
	damage = "none";
}

static void test_every_section_must_lie_inside_the_file(void **state)
{
	(void)state;
	/* .text and .shstrtab are never read, and still checked */
	build(NULL, 0, one_f, 1);
	shdr(S_TEXT)->sh_offset = img.len;
	damage = ".text starts at the end";
	expect_error(-EINVAL, "bad-elf");
	build(NULL, 0, one_f, 1);
	shdr(S_TEXT)->sh_size = UINT64_MAX;
	damage = ".text of 2^64 bytes";
	expect_error(-EINVAL, "bad-elf");
	build(NULL, 0, one_f, 1);
	shdr(S_SHSTRTAB)->sh_size = img.len;
	damage = ".shstrtab past the end";
	expect_error(-EINVAL, "bad-elf");
	build(NULL, 0, one_f, 1);
	shdr(S_SHSTRTAB)->sh_offset = UINT64_MAX - 4;
	damage = ".shstrtab offset wraps";
	expect_error(-EINVAL, "bad-elf");
	damage = "none";
	/* SHT_NOBITS takes no room in the file, whatever its size */
	build(NULL, 0, one_f, 1);
	shdr(S_TEXT)->sh_type = SHT_NOBITS;
	shdr(S_TEXT)->sh_size = (uint64_t)1 << 40;
	expect("f", 0x1004);
}

static void test_sparse_files_are_refused_by_size_alone(void **state)
{
	(void)state;
	struct elf_func_query q;
	build(NULL, 0, one_f, 1);
	uint64_t shoff = ehdr()->e_shoff;
	int rc = resolve_f(sparse_fd(4ULL << 30, shoff), &q);
	assert_outcome(rc, &q, -E2BIG, "too-large", "4 GiB sparse file");
	rc = resolve_f(sparse_fd(ELF_MAX_FILE_SIZE + 1, shoff), &q);
	assert_outcome(rc, &q, -E2BIG, "too-large", "one byte over the bound");
	/* at the bound, section headers at its very end: answered, and only
	 * headers and tables are read */
	uint64_t end = ELF_MAX_FILE_SIZE - S_COUNT * sizeof(Elf64_Shdr);
	rc = resolve_f(sparse_fd(ELF_MAX_FILE_SIZE, end), &q);
	assert_outcome(rc, &q, 0, "", "1 GiB sparse file");
}

static void test_big_string_table_is_too_large(void **state)
{
	(void)state;
	struct elf_func_query q;
	build(NULL, 0, one_f, 1);
	shdr(S_STRTAB)->sh_size = ELF_MAX_STRTAB + 1;
	uint64_t end = shdr(S_STRTAB)->sh_offset + ELF_MAX_STRTAB + 1;
	int rc = resolve_f(sparse_fd(end + S_COUNT * sizeof(Elf64_Shdr), end), &q);
	assert_outcome(rc, &q, -E2BIG, "too-large", "string table over the bound");
	/* a big one under the bound is read (zeros past the real names) */
	build(NULL, 0, one_f, 1);
	shdr(S_STRTAB)->sh_size = 1 << 20;
	end = shdr(S_STRTAB)->sh_offset + (1 << 20);
	rc = resolve_f(sparse_fd(end + S_COUNT * sizeof(Elf64_Shdr), end), &q);
	assert_outcome(rc, &q, 0, "", "1 MiB string table");
}

static void test_links_to_self_or_in_a_cycle_are_bad_elf(void **state)
{
	(void)state;
	static const struct tsym dyn[] = { FUNC("f", TEXT_ADDR + 4) };
	struct {
		const char *what;
		unsigned section, link;
	} cases[] = {
		{ ".symtab -> itself", S_SYMTAB, S_SYMTAB },
		{ ".symtab -> .strtab -> .symtab", S_STRTAB, S_SYMTAB },
		{ ".strtab -> itself", S_STRTAB, S_STRTAB },
		{ ".dynsym -> itself", S_DYNSYM, S_DYNSYM },
		{ ".dynsym -> .dynstr -> .dynsym", S_DYNSTR, S_DYNSYM },
		{ ".dynsym -> .gnu.version (not strings)", S_DYNSYM, S_VERSYM },
		{ ".gnu.version -> itself", S_VERSYM, S_VERSYM },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(dyn, 1, one_f, 1);
		expect("f", 0x1004);
		shdr(cases[i].section)->sh_link = cases[i].link;
		damage = cases[i].what;
		expect_error(-EINVAL, "bad-elf");
	}
	damage = "none";
}

static const struct tsym both_dyn[] = { FUNC("f", TEXT_ADDR + 4), FUNC("g", TEXT_ADDR + 8) };

/* A file cut anywhere: its section header table (last) no longer fits. */
static void test_truncation_at_every_length_is_an_error(void **state)
{
	(void)state;
	build(both_dyn, 2, symtab_syms, NSYMTAB);
	expect("f", 0x1004); /* .dynsym first */
	for (size_t len = 0; len < img.len; len++) {
		struct elf_func_query q;
		int rc = resolve_f(memfd_with(img.b, len), &q);
		/* under 4 bytes there is no magic; from 4 on, an ELF cut short */
		bool magic = len >= SELFMAG;
		if (rc != (magic ? -EINVAL : -ENOEXEC) ||
		    strcmp(reason, magic ? "bad-elf" : "not-elf") != 0 || q.found)
			fail_msg("cut at %zu of %zu: rc %d reason %s", len, img.len, rc, reason);
	}
}

/* The section header table moved up front, right after the program
 * headers, so that a cut leaves it whole and falls inside a table. */
static void test_truncation_inside_each_table_is_bad_elf(void **state)
{
	(void)state;
	build(both_dyn, 2, symtab_syms, NSYMTAB);
	memcpy(img.b + 0x200, img.b + ehdr()->e_shoff, S_COUNT * sizeof(Elf64_Shdr));
	ehdr()->e_shoff = 0x200;
	expect("f", 0x1004);
	expect("weak", 0x1080); /* from .symtab */
	const unsigned tables[] = { S_DYNSYM, S_DYNSTR, S_VERSYM, S_SYMTAB, S_STRTAB, S_SHSTRTAB };
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		uint64_t off = shdr(tables[t])->sh_offset, size = shdr(tables[t])->sh_size;
		assert_true(size >= 2 && off + size <= img.len);
		const uint64_t cuts[] = { off, off + 1, off + size / 2, off + size - 1 };
		for (size_t c = 0; c < 4; c++) {
			struct elf_func_query q;
			int rc = resolve_f(memfd_with(img.b, cuts[c]), &q);
			if (rc != -EINVAL || strcmp(reason, "bad-elf") != 0 || q.found)
				fail_msg("section %u (offset %" PRIu64 ", size %" PRIu64
					 ") cut at %" PRIu64 ": rc %d reason %s",
					 tables[t], off, size, cuts[c], rc, reason);
		}
	}
}

/* An image whose .symtab holds n symbols after the null one: all named
 * "x" at TEXT_ADDR + 0x10 but the last, "last" at TEXT_ADDR + 0x20. */
static unsigned char *many_symbols(size_t n, size_t *len)
{
	static const char strs[] = "\0x\0last"; /* "x" at 1, "last" at 3 */
	size_t symoff = 0x3000, symsize = (n + 1) * sizeof(Elf64_Sym);
	size_t stroff = symoff + symsize, shoff = (stroff + sizeof(strs) + 7) & ~(size_t)7;
	*len = shoff + 4 * sizeof(Elf64_Shdr);
	unsigned char *b = calloc(1, *len);
	assert_non_null(b);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	fill_ehdr(eh, 1, 4);
	eh->e_shoff = shoff;
	*(Elf64_Phdr *)(b + eh->e_phoff) = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, 0x1000, TEXT_ADDR,
							 TEXT_ADDR, 0x1000, 0x1000, 0x1000 };
	Elf64_Sym *sym = (Elf64_Sym *)(b + symoff);
	for (size_t i = 1; i <= n; i++)
		sym[i] = (Elf64_Sym){ .st_name = 1, .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
				      .st_shndx = 1, .st_value = TEXT_ADDR + 0x10 };
	sym[n].st_name = 3;
	sym[n].st_value = TEXT_ADDR + 0x20;
	memcpy(b + stroff, strs, sizeof(strs));
	Elf64_Shdr *sh = (Elf64_Shdr *)(b + shoff);
	sh[1] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
			      .sh_addr = TEXT_ADDR, .sh_offset = 0x1000, .sh_size = 0x1000 };
	sh[2] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_link = 3, .sh_info = 1,
			      .sh_offset = symoff, .sh_size = symsize,
			      .sh_entsize = sizeof(Elf64_Sym), .sh_addralign = 8 };
	sh[3] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = stroff, .sh_size = sizeof(strs),
			      .sh_addralign = 1 };
	return b;
}

/* Resolves "x" and "last" among n symbols; returns whether "last" was found. */
static bool last_of_many_found(size_t n)
{
	size_t len;
	unsigned char *b = many_symbols(n, &len);
	int fd = memfd_with(b, len);
	free(b);
	struct elf_func_query q[] = { { .name = "x" }, { .name = "last" } };
	assert_int_equal(elf_resolve_functions(fd, q, 2, reason, sizeof(reason)), 0);
	close(fd);
	assert_string_equal(reason, "");
	assert_true(q[0].found);
	assert_int_equal(q[0].offset, 0x1010);
	if (q[1].found)
		assert_int_equal(q[1].offset, 0x1020);
	return q[1].found;
}

static void test_a_million_symbols_resolve(void **state)
{
	(void)state;
	assert_true(last_of_many_found(1000000));
}

/* Entries 0 .. ELF_MAX_SYMBOLS - 1 are read, and no more. */
static void test_symbols_past_the_bound_are_not_read(void **state)
{
	(void)state;
	assert_true(last_of_many_found(ELF_MAX_SYMBOLS - 1));  /* "last" is entry MAX - 1 */
	assert_false(last_of_many_found(ELF_MAX_SYMBOLS));     /* "last" is entry MAX */
}

static void test_wrong_class_is_not_elf(void **state)
{
	(void)state;
	build(NULL, 0, one_f, 1);
	ehdr()->e_ident[EI_CLASS] = ELFCLASSNONE;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one_f, 1);
	ehdr()->e_ident[EI_DATA] = ELFDATANONE;
	expect_error(-ENOEXEC, "not-elf");
	build(NULL, 0, one_f, 1);
	ehdr()->e_ident[EI_MAG1] = 'e';
	expect_error(-ENOEXEC, "not-elf");
	/* a 64-bit file claiming to be 32-bit (x32 would be this machine):
	 * read as ELF32, its headers make no sense */
	build(NULL, 0, one_f, 1);
	ehdr()->e_ident[EI_CLASS] = ELFCLASS32;
	expect_error(-EINVAL, "bad-elf");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_libssl_offsets_match_readelf),
		cmocka_unit_test(test_node_non_pie_offsets_match_readelf),
		cmocka_unit_test(test_symtab_fallback_on_this_executable),
		cmocka_unit_test(test_not_elf_and_no_symbol),
		cmocka_unit_test(test_truncated_libssl_is_an_error),
		cmocka_unit_test(test_damaged_libssl_never_crashes),
		cmocka_unit_test(test_symbol_choice_rules),
		cmocka_unit_test(test_dynsym_before_symtab_and_versym),
		cmocka_unit_test(test_wrong_kind_of_elf),
		cmocka_unit_test(test_malformed_tables_are_bad_elf),
		cmocka_unit_test(test_section_counts_are_bounded_before_libelf_allocates),
		cmocka_unit_test(test_every_section_must_lie_inside_the_file),
		cmocka_unit_test(test_sparse_files_are_refused_by_size_alone),
		cmocka_unit_test(test_big_string_table_is_too_large),
		cmocka_unit_test(test_links_to_self_or_in_a_cycle_are_bad_elf),
		cmocka_unit_test(test_truncation_at_every_length_is_an_error),
		cmocka_unit_test(test_truncation_inside_each_table_is_bad_elf),
		cmocka_unit_test(test_a_million_symbols_resolve),
		cmocka_unit_test(test_symbols_past_the_bound_are_not_read),
		cmocka_unit_test(test_wrong_class_is_not_elf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
