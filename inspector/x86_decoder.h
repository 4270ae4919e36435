/* Capstone's x86-64 decoder as the inspector uses it (go_code.c for Go
 * functions, elf_callees.c for a library's internal functions): opening
 * and closing one, and the one question asked of a C function's code. */
#ifndef USM_INSPECTOR_X86_DECODER_H
#define USM_INSPECTOR_X86_DECODER_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An x86-64 decoder and the instruction it fills: 0, or -EINVAL
 * (Capstone would not start, or not an x86-64 build) or -ENOMEM. detail:
 * operands too (slower). Close it with x86_decoder_close. */
int x86_decoder_open(csh *cs, cs_insn **insn, bool detail);
void x86_decoder_close(csh *cs, cs_insn *insn);

/* The target of the first direct near call (`call rel32`) in code[0..len),
 * loaded at `base`, decoding from its first byte: 0 with *target, or
 * -ENOENT when a return, an unconditional or far jump, an interrupt, UD2,
 * HLT, a far call, bytes that are no instruction or the end of code come
 * first (straight-line decoding cannot tell what follows those), or, with
 * pass_args, when a conditional jump or an instruction that writes one of
 * the first four integer argument registers (RDI, RSI, RDX, RCX, or a part
 * of one) comes before the call: the call is then unconditional and gets
 * the function's own arguments unchanged. -EINVAL or -ENOMEM (Capstone). */
int x86_first_call(const uint8_t *code, size_t len, uint64_t base, bool pass_args,
		   uint64_t *target);

#endif
