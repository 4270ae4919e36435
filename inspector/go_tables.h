/* The two tables of a Go program the inspector reads, as bytes already
 * copied out of the file (go_binary.c finds and bounds the sections):
 * pure functions over a buffer, so the fuzz target drives them directly.
 *
 * .go.buildinfo (Go 1.18+): the 14-byte magic "\xff Go buildinf:", the
 *   pointer size, a flags byte whose bit 1 says the version and module
 *   strings follow inline at offset 32, each a uvarint length and bytes.
 * .gopclntab (Go 1.18 to 1.20+ layouts): a header (magic 0xfffffff0 or
 *   0xfffffff1, two zero bytes, instruction quantum 1, pointer size 8,
 *   then nfunc, nfiles, textStart, funcnameOffset, cuOffset,
 *   filetabOffset, pctabOffset, pclnOffset as 64-bit words), the
 *   function table at pclnOffset (nfunc + 1 pairs of 32-bit entry offset
 *   from textStart and _func offset from pclnOffset), each _func starting
 *   with its entry offset and a 32-bit name offset into funcnameOffset. */
#ifndef USM_INSPECTOR_GO_TABLES_H
#define USM_INSPECTOR_GO_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inspect_proto.h"

#define GO_MAX_FUNCS 4000000u

/* The Go version of a .go.buildinfo section into version (cap bytes, NUL
 * included): 0; -EINVAL (not a build info section); -ENOTSUP (a layout
 * before Go 1.18, or a version string that is not short printable text).
 * Go 1.minor with minor < 18 is for the caller to refuse. */
int go_buildinfo_version(const uint8_t *b, size_t size, char *version, size_t cap);

struct go_func_range {
	bool found;          /* exactly once in the table */
	uint64_t entry, end; /* virtual addresses [entry, end) */
};

/* Looks up names[0..n) in a .gopclntab section of size bytes: 0 with
 * out[] filled (a name absent or present twice is not found: never a
 * guess), or -EINVAL (an unknown layout, or any offset, count or name
 * outside the section). Every entry is read, so a damaged table is
 * refused whatever is asked. */
int go_pclntab_find(const uint8_t *t, size_t size, const char (*names)[USM_INSPECT_NAME_MAX],
		    unsigned n, struct go_func_range *out);

/* "go1.19.8" -> 19 (the minor version of Go 1), or -1 if s is not a Go 1
 * release or pre-release version ("go1.21rc2" is 21). */
int go_minor_version(const char *s);

#endif
