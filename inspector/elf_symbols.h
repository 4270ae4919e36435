/* Resolves function symbols of an ELF file to the file offsets uprobes
 * take, with libelf, reading through an already opened fd. Only the
 * unprivileged usm-inspector runs it (DESIGN.md: no privileged process
 * parses a file nobody vouches for), so the file is treated as hostile.
 *
 * For each query name: a defined STT_FUNC (or STT_GNU_IFUNC is refused:
 * its address is a resolver) symbol in .dynsym, else in .symtab; offset =
 * st_value - p_vaddr + p_offset of the PT_LOAD segment containing it,
 * which must be executable. Versioned names ("SSL_read@@OPENSSL_3.0.0")
 * match their base name.
 *
 * Bounds, each checked before libelf allocates or reads for it:
 *   - the file: a regular file of at most ELF_MAX_FILE_SIZE bytes (a sparse
 *     multi-GB file is refused from its size alone);
 *   - sections: at most ELF_MAX_SECTIONS (extended numbering included);
 *     every section but SHT_NOBITS/SHT_NULL must lie inside the file;
 *   - program headers: at most 65535;
 *   - symbols: at most ELF_MAX_SYMBOLS read per table (the rest of a longer
 *     table is not read at all: a name past the bound is not found);
 *   - a symbol table's string table: at most ELF_MAX_STRTAB bytes.
 * Links are followed one step (symbol table -> its string table, versym ->
 * .dynsym); a table linked to itself, a string table that links anywhere
 * (a cycle) or to a non-string-table is malformed. A malformed file is an
 * error with a reason, never a crash. */
#ifndef USM_ELF_SYMBOLS_H
#define USM_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf_file.h" /* ELF_MAX_FILE_SIZE, ELF_MAX_SECTIONS */

#define ELF_MAX_SYMBOLS 2000000
#define ELF_MAX_STRTAB (256ULL << 20) /* 256 MiB */

struct elf_func_query {
	const char *name; /* in */
	uint64_t offset;  /* out: file offset, when found */
	bool found;       /* out */
};

/* Returns 0 (each query's `found` says whether it resolved), or, with the
 * reason written to `reason` (reason_len bytes, "" on success):
 *   -ENOEXEC "not-elf"     not an ELF file, or not a 32/64-bit executable
 *                           or shared object of this machine and byte order
 *   -ENOEXEC "no-symbols"  neither .dynsym nor .symtab
 *   -EINVAL  "bad-elf"     malformed or truncated
 *   -E2BIG   "too-large"   above one of the bounds above
 *   -ENOMEM  "no-memory"
 *   -EINVAL  "bad-argument", "libelf"; -errno "stat", "read" (the fd failed)
 * On any error no query is found. */
int elf_resolve_functions(int fd, struct elf_func_query *queries, size_t n, char *reason,
			  size_t reason_len);

#endif
