/* Function symbols -> uprobe file offsets, with libelf. The contract and
 * the bounds are in elf_symbols.h.
 *
 * The file belongs to someone else (a process's library or executable), so
 * every size, count, offset and index read from it is checked before it is
 * used; elf_file.c checks the headers, segments and sections first. Only
 * the symbol tables (their first ELF_MAX_SYMBOLS entries, through
 * elf_getdata_rawchunk) and their string tables are read, never code.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"

#define MAX_QUERIES 4096       /* per call; a probe set has at most 16 */
#define VERSYM_HIDDEN 0x8000   /* glibc's VERSYM_HIDDEN */

enum rank { RANK_NONE = 0, RANK_LOCAL = 1, RANK_OTHER_VERSION = 2, RANK_DEFAULT = 3 };

struct candidate {
	enum rank rank;
	bool ambiguous; /* two offsets at `rank` */
	uint64_t offset;
};

struct ctx {
	Elf *elf;
	const struct elf_file *file;
	struct elf_func_query *q;
	size_t n;
	size_t *qlen; /* strlen of each query name */
	struct candidate *cand;
};

static int result(int rc, char *reason, size_t reason_len, const char *word)
{
	return elf_file_reason(rc, reason, reason_len, word);
}

/* The reason for an error of the checks below, which return -EINVAL
 * (malformed), -E2BIG (over a bound) or -ENOMEM. */
static int failure(int rc, char *reason, size_t reason_len)
{
	const char *word = rc == -E2BIG ? "too-large" : rc == -ENOMEM ? "no-memory" : "bad-elf";
	return result(rc == -E2BIG || rc == -ENOMEM ? rc : -EINVAL, reason, reason_len, word);
}

/* The symbol tables (the ELF spec allows one of each kind); every section
 * lies inside the file (elf_file_open). */
static int check_sections(const struct ctx *c, Elf_Scn **dynsym, Elf_Scn **symtab)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(c->elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
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
			if (elf_file_offset(c->file, sym.st_value, 1, true, &offset))
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
	struct elf_file file;
	int rc = elf_file_open(&file, fd, reason, reason_len);
	if (rc != 0)
		return rc;
	struct ctx c = { .elf = file.elf, .file = &file, .q = queries, .n = n };
	c.qlen = calloc(n ? n : 1, sizeof(*c.qlen));
	c.cand = calloc(n ? n : 1, sizeof(*c.cand));
	if (!c.qlen || !c.cand) {
		free(c.qlen);
		free(c.cand);
		elf_file_close(&file);
		return result(-ENOMEM, reason, reason_len, "no-memory");
	}
	for (size_t k = 0; k < n; k++)
		c.qlen[k] = strlen(queries[k].name);

	rc = resolve(&c, reason, reason_len);
	elf_file_close(&file);
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
