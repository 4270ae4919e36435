/* What the inspector reads of a Go function's machine code, decoded with
 * Capstone (x86-64) rather than by a home-made decoder:
 *
 *   - its RET instructions: Go functions are probed on each RET because
 *     a return probe breaks Go's moving stacks;
 *   - where its stack check branches: the entry probe goes on that
 *     conditional jump rather than on the first instruction. The kernel
 *     emulates a jump for a uprobe but single-steps a CMP or LEA out of
 *     line (about 3.5 times the cost per hit, bench go_tls_overhead), and
 *     at the jump the flags already say whether the stack must grow, in
 *     which case Go calls morestack and runs the function again from its
 *     start: the capture programs skip that first pass (so a Write is not
 *     captured twice). */
#ifndef USM_INSPECTOR_GO_CODE_H
#define USM_INSPECTOR_GO_CODE_H

#include <stddef.h>
#include <stdint.h>

/* Decodes code[0..len) (loaded at file offset `base`) from its first byte
 * to its end; writes the file offset of each RET (near return, with or
 * without an immediate) to out[0..max). Returns how many there are, or
 * -E2BIG (more than max), -EILSEQ (a byte sequence that is no
 * instruction before the end: not code we can reason about), -ENOMEM or
 * -EINVAL (Capstone could not start). Trailing INT3 padding decodes. */
int go_code_rets(const uint8_t *code, size_t len, uint64_t base, uint64_t *out, size_t max);

/* Go's amd64 prologue: an optional `lea r12, [rsp - N]`, then
 * `cmp rsp|r12, qword ptr [r14 + 16]` (g.stackguard0) and `jbe` to
 * morestack. 0 with *jbe the file offset of that jump, or -ENOENT (no
 * such prologue: a function without a stack check, or code of another
 * shape), -ENOMEM, -EINVAL. */
#define GO_STACKGUARD0 16 /* runtime.g.stackguard0, after stack.lo and stack.hi */
int go_code_stack_check(const uint8_t *code, size_t len, uint64_t base, uint64_t *jbe);

#endif
