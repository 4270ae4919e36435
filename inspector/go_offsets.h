/* Where, in a Go program's memory, the capture programs find a call's
 * goroutine id and a crypto/tls.Conn's socket (struct usm_inspect_go):
 * from the binary's own DWARF when it has it (any Go 1.18+), else from a
 * table of the Go versions verified here, each built with Debian's
 * golang-go and its DWARF read by this very code (tests/unit/
 * test_go_binary.c checks the table against it). A stripped binary of a
 * version outside the table is refused rather than guessed at. */
#ifndef USM_INSPECTOR_GO_OFFSETS_H
#define USM_INSPECTOR_GO_OFFSETS_H

#include "elf_file.h"

#include "inspect_proto.h"

/* From DWARF: 0, or -ENOENT (no DWARF, DWARF that would take more than
 * GO_MAX_DWARF bytes once decompressed, a type or member missing, or
 * offsets outside usm_inspect_go_valid's bounds). Reads at most
 * GO_DWARF_MAX_CUS units and GO_DWARF_MAX_DIES entries; libdw opens no
 * other file. version is left alone. */
#define GO_MAX_DWARF (192ull << 20)
#define GO_DWARF_MAX_DIES 20000000u
#define GO_DWARF_MAX_CUS 65536u /* a Go compile unit is a package: thousands at most */
int go_offsets_from_dwarf(const struct elf_file *f, struct usm_inspect_go *out);

/* From the table, for Go 1.minor: 0, or -ENOENT (not verified here). */
int go_offsets_from_table(int minor, struct usm_inspect_go *out);

#endif
