/* Resolves function symbols of an ELF file to the file offsets uprobes
 * take, with libelf, reading through an already opened fd (privd resolves
 * only in files it opened and checked; see DESIGN.md).
 *
 * For each query name: a defined STT_FUNC (or STT_GNU_IFUNC is refused:
 * its address is a resolver) symbol in .dynsym, else in .symtab; offset =
 * st_value - p_vaddr + p_offset of the PT_LOAD segment containing it,
 * which must be executable. Versioned names ("SSL_read@@OPENSSL_3.0.0")
 * match their base name. Bounded: at most ELF_MAX_SYMBOLS symbols read per
 * table; malformed tables are an error, never a crash. */
#ifndef USM_ELF_SYMBOLS_H
#define USM_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_MAX_SYMBOLS 2000000

struct elf_func_query {
	const char *name; /* in */
	uint64_t offset;  /* out: file offset, when found */
	bool found;       /* out */
};

/* Returns 0 (each query's `found` says whether it resolved), or -ENOEXEC
 * (not an ELF file / not a 64- or 32-bit ELF of this machine / no symbol
 * table: reason set to "not-elf" or "no-symbols"), -EINVAL (malformed:
 * reason "bad-elf"), -ENOMEM. */
int elf_resolve_functions(int fd, struct elf_func_query *queries, size_t n, char *reason,
			  size_t reason_len);

#endif
