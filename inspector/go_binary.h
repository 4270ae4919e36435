/* A Go program's crypto/tls, found for the capture programs without
 * running or trusting it: what usm-inspector answers to a GO_TLS request
 * (common/inspect_proto.h). Only the unprivileged inspector runs it.
 *
 *   1. The Go version, from .go.buildinfo (Go 1.18+ writes it inline):
 *      no such section is "not-go"; a version older than go1.18 (no
 *      register ABI with this function table layout), or one whose struct
 *      offsets are neither in the binary's DWARF nor in the table of
 *      verified versions (go_offsets.c), is "unsupported-go-version".
 *   2. Each asked function's entry and end from .gopclntab (go_tables.c), the function
 *      table every Go binary keeps, stripped (-s -w) ones included (Go
 *      1.18+ layout, magic 0xfffffff0 or 0xfffffff1); none: "no-symbols".
 *   3. Each function's RET instructions and the jump of its stack check
 *      (where its entry probe goes: funcs[k].offset), decoded with
 *      Capstone (go_code.c); more than USM_INSPECT_MAX_RETURNS RETs is
 *      "too-many-returns", code that does not decode "bad-code", no
 *      stack check where Go puts it "unexpected-prologue".
 *   4. The struct offsets of struct usm_inspect_go (go_offsets.c).
 * Only amd64 (the register ABI the capture programs read) is accepted:
 * other machines are "unsupported-arch".
 *
 * Bounds: the function table section at most GO_MAX_PCLNTAB bytes and
 * GO_MAX_FUNCS functions; every offset, count and name read from it is
 * checked against the section before use; a function's code at most
 * GO_MAX_FUNC_BYTES. */
#ifndef USM_INSPECTOR_GO_BINARY_H
#define USM_INSPECTOR_GO_BINARY_H

#include <stddef.h>

#include "inspect_proto.h"

#define GO_MAX_PCLNTAB (256u << 20)
#define GO_MAX_FUNC_BYTES (1u << 20) /* GO_MAX_FUNCS: go_tables.h */

/* Answers req (kind GO_TLS, valid) for the file at fd into rep (zeroed by
 * the caller, magic and nfuncs set): error 0 with go and funcs filled, or
 * error < 0 with reason. Functions not found are found = 0. */
void go_binary_answer(int fd, const struct usm_inspect_req *req, struct usm_inspect_rep *rep);

#endif
