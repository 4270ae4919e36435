/* Function symbols -> uprobe file offsets, with libelf. The contract and
 * the bounds are in elf_symbols.h.
 *
 * The file belongs to someone else (a process's library or executable), so
 * every size, count, offset and index read from it is checked before it is
 * used, and before libelf allocates or reads anything sized by it: the
 * ELF header is looked at first (preflight) so that libelf never sizes an
 * allocation from a section count above ELF_MAX_SECTIONS, and every
 * section header is checked against the file size before any section data
 * is read. libelf reads with ELF_C_READ (pread into its own buffers)
 * rather than mmap: the owner can truncate a mapped file under us, which
 * would be a SIGBUS. Only the headers, the symbol tables (their first
 * ELF_MAX_SYMBOLS entries, through elf_getdata_rawchunk) and their string
 * tables are read, never code.
 *
 * Which symbol wins, when a name appears more than once in one table:
 *   3  global or weak, default version (no version, "name@@V", or a
 *      .dynsym entry whose .gnu.version is not hidden)
 *   2  global or weak, non-default version ("name@V", hidden versym)
 *   1  local (.symtab only: static functions may share a name)
 * The highest rank wins; two different offsets at the best rank are
 * ambiguous and the name does not resolve, rather than probing a guess. */
#include "elf_symbols.h"

#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#error "elf_symbols.c: say which e_machine this architecture's uprobes take"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

#define MAX_EXEC_SEGMENTS 64   /* executable PT_LOADs; real files have 1 to 3 */
#define MAX_PHDRS 65535        /* program headers looked at */
#define MAX_QUERIES 4096       /* per call; a probe set has at most 16 */
#define VERSYM_HIDDEN 0x8000   /* glibc's VERSYM_HIDDEN */

enum rank { RANK_NONE = 0, RANK_LOCAL = 1, RANK_OTHER_VERSION = 2, RANK_DEFAULT = 3 };

struct candidate {
	enum rank rank;
	bool ambiguous; /* two offsets at `rank` */
	uint64_t offset;
};

struct segment {
	uint64_t vaddr, filesz, offset;
};

struct ctx {
	Elf *elf;
	uint64_t file_size;
	size_t nseg;
	struct segment seg[MAX_EXEC_SEGMENTS];
	struct elf_func_query *q;
	size_t n;
	size_t *qlen; /* strlen of each query name */
	struct candidate *cand;
};

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static bool libelf_ready;

static void libelf_init(void) { libelf_ready = elf_version(EV_CURRENT) != EV_NONE; }

static int result(int rc, char *reason, size_t reason_len, const char *word)
{
	if (reason && reason_len > 0)
		snprintf(reason, reason_len, "%s", word);
	return rc;
}

/* The reason for an error of the checks below, which return -EINVAL
 * (malformed), -E2BIG (over a bound) or -ENOMEM. */
static int failure(int rc, char *reason, size_t reason_len)
{
	const char *word = rc == -E2BIG ? "too-large" : rc == -ENOMEM ? "no-memory" : "bad-elf";
	return result(rc == -E2BIG || rc == -ENOMEM ? rc : -EINVAL, reason, reason_len, word);
}

/* Reads up to len bytes at off; returns the count (short at end of file),
 * or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Before libelf sees the file: the identification, a whole header, and a
 * section count libelf may allocate for (libelf sizes its section array
 * from e_shnum, or with extended numbering from section 0's sh_size,
 * bounded only by the file size). */
static int preflight(int fd, uint64_t file_size, char *reason, size_t reason_len)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf32_Ehdr e32;
		Elf64_Ehdr e64;
	} h;
	ssize_t n = pread_full(fd, &h, sizeof(h), 0);
	if (n < 0)
		return result((int)n, reason, reason_len, "read");
	if ((size_t)n < SELFMAG || memcmp(h.ident, ELFMAG, SELFMAG) != 0)
		return result(-ENOEXEC, reason, reason_len, "not-elf");
	if ((size_t)n < EI_NIDENT)
		return result(-EINVAL, reason, reason_len, "bad-elf");
	bool is64 = h.ident[EI_CLASS] == ELFCLASS64;
	if ((!is64 && h.ident[EI_CLASS] != ELFCLASS32) || h.ident[EI_DATA] != HOST_DATA)
		return result(-ENOEXEC, reason, reason_len, "not-elf");
	if ((size_t)n < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return result(-EINVAL, reason, reason_len, "bad-elf");

	uint64_t shoff = is64 ? h.e64.e_shoff : h.e32.e_shoff;
	uint64_t shnum = is64 ? h.e64.e_shnum : h.e32.e_shnum;
	union {
		Elf32_Shdr s32;
		Elf64_Shdr s64;
	} s0;
	size_t shsize = is64 ? sizeof(s0.s64) : sizeof(s0.s32);
	if (shnum == 0 && shoff != 0) { /* extended numbering */
		if (shoff > file_size || file_size - shoff < shsize ||
		    pread_full(fd, &s0, shsize, shoff) != (ssize_t)shsize)
			return result(-EINVAL, reason, reason_len, "bad-elf");
		shnum = is64 ? s0.s64.sh_size : s0.s32.sh_size;
	}
	/* A table that does not fit is damage; one that fits but is longer
	 * than the bound is a (sparse, or odd) file too large to look at. */
	if (shnum > 0 && (shoff > file_size || shnum > (file_size - shoff) / shsize))
		return result(-EINVAL, reason, reason_len, "bad-elf");
	if (shnum > ELF_MAX_SECTIONS)
		return result(-E2BIG, reason, reason_len, "too-large");
	return 0;
}

/* Executable PT_LOAD segments, each checked to lie inside the file. */
static int read_segments(struct ctx *c)
{
	size_t phnum;
	if (elf_getphdrnum(c->elf, &phnum) != 0 || phnum == 0 || phnum > MAX_PHDRS)
		return -EINVAL;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(c->elf, (int)i, &ph))
			return -EINVAL;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > c->file_size || ph.p_filesz > c->file_size - ph.p_offset ||
		    ph.p_filesz > UINT64_MAX - ph.p_vaddr)
			return -EINVAL;
		if (!(ph.p_flags & PF_X) || ph.p_filesz == 0)
			continue;
		if (c->nseg == MAX_EXEC_SEGMENTS)
			return -EINVAL;
		c->seg[c->nseg++] = (struct segment){ ph.p_vaddr, ph.p_filesz, ph.p_offset };
	}
	return 0;
}

/* The file offset of a virtual address in an executable segment. */
static bool vaddr_to_offset(const struct ctx *c, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < c->nseg; i++) {
		const struct segment *s = &c->seg[i];
		if (vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz) {
			*offset = vaddr - s->vaddr + s->offset; /* < file_size: read_segments */
			return true;
		}
	}
	return false;
}

/* Every section header against the file, before any section's data is
 * read; and the symbol tables (the ELF spec allows one of each kind). */
static int check_sections(const struct ctx *c, Elf_Scn **dynsym, Elf_Scn **symtab)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return -EINVAL;
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		    (sh.sh_offset > c->file_size || sh.sh_size > c->file_size - sh.sh_offset))
			return -EINVAL;
		Elf_Scn **slot = sh.sh_type == SHT_DYNSYM ? dynsym :
				 sh.sh_type == SHT_SYMTAB ? symtab : NULL;
		if (!slot)
			continue;
		if (*slot)
			return -EINVAL;
		*slot = scn;
	}
	return 0;
}

/* The first `count` entries of a section of fixed-size entries, without
 * reading the rest of it. */
static Elf_Data *read_entries(const struct ctx *c, const GElf_Shdr *sh, uint64_t count,
			      size_t entsize, Elf_Type type)
{
	Elf_Data *d = elf_getdata_rawchunk(c->elf, (int64_t)sh->sh_offset, count * entsize, type);
	if (!d || d->d_type != type || d->d_size != count * entsize || !d->d_buf)
		return NULL;
	return d;
}

/* A symbol table's header and its link, one step, to a string table that
 * links nowhere (no self-link, no cycle). Headers only: both tables are
 * checked before either is read. Returns 0, -EINVAL or -E2BIG. */
static int check_table(const struct ctx *c, Elf_Scn *scn)
{
	GElf_Shdr sh, strsh;
	if (!gelf_getshdr(scn, &sh))
		return -EINVAL;
	size_t entsize = gelf_fsize(c->elf, ELF_T_SYM, 1, EV_CURRENT);
	/* sh_offset and sh_size are inside the file: check_sections */
	if (entsize == 0 || sh.sh_entsize != entsize || sh.sh_size % entsize != 0 ||
	    (sh.sh_flags & SHF_COMPRESSED))
		return -EINVAL;
	Elf_Scn *strscn = elf_getscn(c->elf, sh.sh_link);
	if (sh.sh_link == 0 || sh.sh_link == elf_ndxscn(scn) || !strscn ||
	    !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB || strsh.sh_link != 0 ||
	    (strsh.sh_flags & SHF_COMPRESSED))
		return -EINVAL;
	return strsh.sh_size > ELF_MAX_STRTAB ? -E2BIG : 0;
}

/* The first entries of a checked symbol table (ELF_MAX_SYMBOLS at most).
 * Returns how many were read, or -EINVAL. */
static long load_table(const struct ctx *c, const GElf_Shdr *sh, Elf_Data **data)
{
	*data = NULL;
	uint64_t count = sh->sh_size / sh->sh_entsize;
	if (count > ELF_MAX_SYMBOLS)
		count = ELF_MAX_SYMBOLS;
	if (count == 0)
		return 0;
	*data = read_entries(c, sh, count, sh->sh_entsize, ELF_T_SYM);
	return *data ? (long)count : -EINVAL;
}

/* The .gnu.version entries for the first `count` .dynsym entries, or
 * NULL if it has none. */
static int find_versym(const struct ctx *c, size_t dynsym_index, uint64_t dynsym_count,
		       uint64_t count, Elf_Data **out)
{
	*out = NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return -EINVAL;
		if (sh.sh_type != SHT_GNU_versym)
			continue;
		size_t entsize = gelf_fsize(c->elf, ELF_T_HALF, 1, EV_CURRENT);
		if (*out || sh.sh_link != dynsym_index || sh.sh_entsize != entsize ||
		    sh.sh_size != dynsym_count * entsize || (sh.sh_flags & SHF_COMPRESSED))
			return -EINVAL;
		if (count > 0 && !(*out = read_entries(c, &sh, count, entsize, ELF_T_HALF)))
			return -EINVAL;
	}
	return 0;
}

static void consider(struct candidate *cand, enum rank rank, uint64_t offset)
{
	if (rank > cand->rank) {
		*cand = (struct candidate){ .rank = rank, .offset = offset };
	} else if (rank == cand->rank && offset != cand->offset) {
		cand->ambiguous = true;
	}
}

/* One pass over a checked symbol table, for the queries not resolved yet. */
static int scan_table(struct ctx *c, Elf_Scn *scn, bool dynamic)
{
	GElf_Shdr sh;
	Elf_Data *data;
	if (!gelf_getshdr(scn, &sh))
		return -EINVAL;
	long count = load_table(c, &sh, &data);
	if (count < 0)
		return (int)count;
	Elf_Data *versym = NULL;
	if (dynamic) {
		int rc = find_versym(c, elf_ndxscn(scn), sh.sh_size / sh.sh_entsize,
				     (uint64_t)count, &versym);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < c->n; i++)
		c->cand[i] = (struct candidate){ RANK_NONE, false, 0 };

	/* entry 0 is the reserved null symbol */
	for (long i = 1; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			return -EINVAL;
		/* STT_GNU_IFUNC is not STT_FUNC: its address is a resolver. */
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx == SHN_ABS || sym.st_shndx == SHN_COMMON || sym.st_name == 0)
			continue;
		unsigned bind = GELF_ST_BIND(sym.st_info);
		if (bind != STB_GLOBAL && bind != STB_WEAK && (dynamic || bind != STB_LOCAL))
			continue;
		const char *name = elf_strptr(c->elf, sh.sh_link, sym.st_name);
		if (!name)
			return -EINVAL; /* index past the table, or no NUL before its end */
		size_t base = strcspn(name, "@");

		enum rank rank = RANK_DEFAULT;
		if (bind == STB_LOCAL) {
			rank = RANK_LOCAL;
		} else if (name[base] == '@' && name[base + 1] != '@') {
			rank = RANK_OTHER_VERSION;
		} else if (versym) {
			GElf_Versym vs;
			if (!gelf_getversym(versym, (int)i, &vs))
				return -EINVAL;
			if (vs & VERSYM_HIDDEN)
				rank = RANK_OTHER_VERSION;
		}
		for (size_t k = 0; k < c->n; k++) {
			if (c->q[k].found || c->qlen[k] != base || memcmp(c->q[k].name, name, base) != 0)
				continue;
			uint64_t offset;
			if (vaddr_to_offset(c, sym.st_value, &offset))
				consider(&c->cand[k], rank, offset);
		}
	}
	for (size_t k = 0; k < c->n; k++) {
		if (!c->q[k].found && c->cand[k].rank != RANK_NONE && !c->cand[k].ambiguous) {
			c->q[k].found = true;
			c->q[k].offset = c->cand[k].offset;
		}
	}
	return 0;
}

static int resolve(struct ctx *c, char *reason, size_t reason_len)
{
	if (elf_kind(c->elf) != ELF_K_ELF)
		return result(-ENOEXEC, reason, reason_len, "not-elf");
	GElf_Ehdr eh;
	if (!gelf_getehdr(c->elf, &eh))
		return result(-EINVAL, reason, reason_len, "bad-elf");
	int cls = gelf_getclass(c->elf);
	if ((cls != ELFCLASS64 && cls != ELFCLASS32) || eh.e_ident[EI_DATA] != HOST_DATA ||
	    eh.e_machine != HOST_MACHINE || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return result(-ENOEXEC, reason, reason_len, "not-elf");
	if (read_segments(c) < 0)
		return result(-EINVAL, reason, reason_len, "bad-elf");
	/* libelf shows a section header table that does not fit in the file
	 * as no sections at all; that is damage, not "no symbols". */
	size_t shnum;
	if (elf_getshdrnum(c->elf, &shnum) != 0 || (eh.e_shoff != 0 && shnum == 0))
		return result(-EINVAL, reason, reason_len, "bad-elf");
	if (shnum > 0 && (eh.e_shentsize != gelf_fsize(c->elf, ELF_T_SHDR, 1, EV_CURRENT) ||
			  eh.e_shoff > c->file_size ||
			  shnum > (c->file_size - eh.e_shoff) / eh.e_shentsize))
		return result(-EINVAL, reason, reason_len, "bad-elf");

	Elf_Scn *dynsym = NULL, *symtab = NULL;
	int rc = check_sections(c, &dynsym, &symtab);
	if (rc < 0)
		return failure(rc, reason, reason_len);
	if (!dynsym && !symtab)
		return result(-ENOEXEC, reason, reason_len, "no-symbols");
	if ((dynsym && (rc = check_table(c, dynsym)) < 0) ||
	    (symtab && (rc = check_table(c, symtab)) < 0))
		return failure(rc, reason, reason_len);

	if (dynsym && (rc = scan_table(c, dynsym, true)) < 0)
		return failure(rc, reason, reason_len);
	bool all = true;
	for (size_t k = 0; k < c->n; k++)
		all &= c->q[k].found;
	if (symtab && !all && (rc = scan_table(c, symtab, false)) < 0)
		return failure(rc, reason, reason_len);
	return result(0, reason, reason_len, "");
}

int elf_resolve_functions(int fd, struct elf_func_query *queries, size_t n, char *reason,
			  size_t reason_len)
{
	if ((n > 0 && !queries) || n > MAX_QUERIES || fd < 0)
		return result(-EINVAL, reason, reason_len, "bad-argument");
	for (size_t k = 0; k < n; k++) {
		queries[k].found = false;
		queries[k].offset = 0;
		if (!queries[k].name || queries[k].name[0] == '\0')
			return result(-EINVAL, reason, reason_len, "bad-argument");
	}
	pthread_once(&libelf_once, libelf_init);
	if (!libelf_ready)
		return result(-EINVAL, reason, reason_len, "libelf");

	struct stat st;
	if (fstat(fd, &st) != 0)
		return result(-errno, reason, reason_len, "stat");
	if (!S_ISREG(st.st_mode) || st.st_size < 0)
		return result(-ENOEXEC, reason, reason_len, "not-elf");
	/* From the size alone: a sparse multi-GB file costs nothing to make. */
	if ((uint64_t)st.st_size > ELF_MAX_FILE_SIZE)
		return result(-E2BIG, reason, reason_len, "too-large");
	int rc = preflight(fd, (uint64_t)st.st_size, reason, reason_len);
	if (rc != 0)
		return rc;

	struct ctx c = { .file_size = (uint64_t)st.st_size, .q = queries, .n = n };
	c.qlen = calloc(n ? n : 1, sizeof(*c.qlen));
	c.cand = calloc(n ? n : 1, sizeof(*c.cand));
	if (!c.qlen || !c.cand) {
		free(c.qlen);
		free(c.cand);
		return result(-ENOMEM, reason, reason_len, "no-memory");
	}
	for (size_t k = 0; k < n; k++)
		c.qlen[k] = strlen(queries[k].name);

	c.elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!c.elf) {
		rc = result(-EINVAL, reason, reason_len, "bad-elf");
	} else {
		rc = resolve(&c, reason, reason_len);
		elf_end(c.elf);
	}
	if (rc != 0) {
		/* an error answers nothing, even for names resolved before it */
		for (size_t k = 0; k < n; k++) {
			queries[k].found = false;
			queries[k].offset = 0;
		}
	}
	free(c.qlen);
	free(c.cand);
	return rc;
}
