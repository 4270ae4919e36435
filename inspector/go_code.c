/* A Go function's RETs and stack check, with Capstone. The contract is in
 * go_code.h. */
#include "go_code.h"

#include <errno.h>
#include <stdbool.h>

#include "x86_decoder.h"

int go_code_rets(const uint8_t *code, size_t len, uint64_t base, uint64_t *out, size_t max)
{
#if defined(__x86_64__)
	csh cs;
	cs_insn *insn;
	int rc = x86_decoder_open(&cs, &insn, false);
	if (rc != 0)
		return rc;
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = base;
	int n = 0;
	/* cs_disasm_iter advances p, left and addr past each instruction. */
	while (left > 0 && cs_disasm_iter(cs, &p, &left, &addr, insn)) {
		if (insn->id != X86_INS_RET)
			continue;
		if ((size_t)n == max) {
			n = -E2BIG;
			break;
		}
		out[n++] = insn->address;
	}
	if (n >= 0 && left > 0)
		n = -EILSEQ;
	x86_decoder_close(&cs, insn);
	return n;
#else
	(void)code, (void)len, (void)base, (void)out, (void)max;
	return -EINVAL; /* the Go probes read amd64 registers only */
#endif
}

#if defined(__x86_64__)
/* `cmp rsp|r12, qword ptr [r14 + 16]` */
static bool is_stack_check(const cs_insn *insn)
{
	const cs_x86 *x = &insn->detail->x86;
	if (insn->id != X86_INS_CMP || x->op_count != 2 || x->operands[0].type != X86_OP_REG ||
	    (x->operands[0].reg != X86_REG_RSP && x->operands[0].reg != X86_REG_R12))
		return false;
	const cs_x86_op *m = &x->operands[1];
	return m->type == X86_OP_MEM && m->mem.base == X86_REG_R14 && m->mem.index == X86_REG_INVALID &&
	       m->mem.disp == GO_STACKGUARD0 && m->mem.segment == X86_REG_INVALID;
}
#endif

int go_code_stack_check(const uint8_t *code, size_t len, uint64_t base, uint64_t *jbe)
{
#if defined(__x86_64__)
	csh cs;
	cs_insn *insn;
	int rc = x86_decoder_open(&cs, &insn, true);
	if (rc != 0)
		return rc;
	const uint8_t *p = code;
	size_t left = len;
	uint64_t addr = base;
	rc = -ENOENT;
	/* at most: lea, cmp, jbe */
	for (unsigned i = 0; i < 3 && cs_disasm_iter(cs, &p, &left, &addr, insn); i++) {
		if (i == 0 && insn->id == X86_INS_LEA)
			continue;
		if (!is_stack_check(insn))
			break;
		/* exactly Go's: `jbe rel32` or `jbe rel8`, no prefix */
		if (cs_disasm_iter(cs, &p, &left, &addr, insn) && insn->id == X86_INS_JBE &&
		    ((insn->size == 6 && insn->bytes[0] == 0x0f) ||
		     (insn->size == 2 && insn->bytes[0] == 0x76))) {
			*jbe = insn->address;
			rc = 0;
		}
		break;
	}
	x86_decoder_close(&cs, insn);
	return rc;
#else
	(void)code, (void)len, (void)base, (void)jbe;
	return -EINVAL;
#endif
}
