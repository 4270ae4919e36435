/* The RET instructions of one function's machine code, decoded with
 * Capstone (x86-64) rather than by a home-made decoder: Go functions are
 * probed on each RET because a return probe breaks Go's moving stacks. */
#ifndef USM_INSPECTOR_RET_INSNS_H
#define USM_INSPECTOR_RET_INSNS_H

#include <stddef.h>
#include <stdint.h>

/* Decodes code[0..len) (loaded at file offset `base`) from its first byte
 * to its end; writes the file offset of each RET (near return, with or
 * without an immediate) to out[0..max). Returns how many there are, or
 * -E2BIG (more than max), -EILSEQ (a byte sequence that is no
 * instruction before the end: not code we can reason about), -ENOMEM or
 * -EINVAL (Capstone could not start). Trailing INT3 padding decodes. */
int ret_insns_find(const uint8_t *code, size_t len, uint64_t base, uint64_t *out, size_t max);

#endif
