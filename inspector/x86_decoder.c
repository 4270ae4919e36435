/* Capstone set-up and a C function's first call. The contract is in
 * x86_decoder.h. */
#include "x86_decoder.h"

#include <errno.h>

int x86_decoder_open(csh *cs, cs_insn **insn, bool detail)
{
#if defined(__x86_64__)
	if (cs_open(CS_ARCH_X86, CS_MODE_64, cs) != CS_ERR_OK)
		return -EINVAL;
	if (detail)
		cs_option(*cs, CS_OPT_DETAIL, CS_OPT_ON);
	if ((*insn = cs_malloc(*cs)) == NULL) {
		cs_close(cs);
		return -ENOMEM;
	}
	return 0;
#else
	(void)cs, (void)insn, (void)detail;
	return -EINVAL; /* the probes read amd64 registers only */
#endif
}

void x86_decoder_close(csh *cs, cs_insn *insn)
{
	cs_free(insn, 1);
	cs_close(cs);
}

/* Does insn write RDI, RSI, RDX or RCX, or a part of one (explicitly or
 * not)? Unknown counts as yes. */
static bool writes_arguments(csh cs, const cs_insn *insn)
{
	static const x86_reg args[] = {
		X86_REG_RDI, X86_REG_EDI, X86_REG_DI, X86_REG_DIL, X86_REG_RSI, X86_REG_ESI,
		X86_REG_SI,  X86_REG_SIL, X86_REG_RDX, X86_REG_EDX, X86_REG_DX, X86_REG_DL,
		X86_REG_DH,  X86_REG_RCX, X86_REG_ECX, X86_REG_CX, X86_REG_CL, X86_REG_CH,
	};
	cs_regs read, written;
	uint8_t nread, nwritten;
	if (cs_regs_access(cs, insn, read, &nread, written, &nwritten) != CS_ERR_OK)
		return true;
	for (unsigned i = 0; i < nwritten; i++)
		for (size_t j = 0; j < sizeof(args) / sizeof(args[0]); j++)
			if (written[i] == args[j])
				return true;
	return false;
}

int x86_first_call(const uint8_t *code, size_t len, uint64_t base, bool pass_args,
		   uint64_t *target)
{
	csh cs;
	cs_insn *insn;
	int rc = x86_decoder_open(&cs, &insn, true);
	if (rc != 0)
		return rc;
	rc = -ENOENT;
	/* cs_disasm_iter advances code, len and base past each instruction. */
	while (len > 0 && cs_disasm_iter(cs, &code, &len, &base, insn)) {
		const cs_x86 *x = &insn->detail->x86;
		if (insn->id == X86_INS_CALL) {
			/* E8 rel32 only: an indirect call says nothing here */
			if (insn->bytes[0] == 0xe8 && insn->size == 5 && x->op_count == 1 &&
			    x->operands[0].type == X86_OP_IMM) {
				*target = (uint64_t)x->operands[0].imm;
				rc = 0;
			}
			break;
		}
		/* where straight-line decoding stops knowing what runs next; for
		 * the first caller any branch: its call must be unconditional */
		if (cs_insn_group(cs, insn, CS_GRP_RET) || cs_insn_group(cs, insn, CS_GRP_IRET) ||
		    cs_insn_group(cs, insn, CS_GRP_INT) || insn->id == X86_INS_JMP ||
		    insn->id == X86_INS_LJMP || insn->id == X86_INS_UD2 || insn->id == X86_INS_HLT ||
		    insn->id == X86_INS_LCALL ||
		    (pass_args && (cs_insn_group(cs, insn, CS_GRP_JUMP) || writes_arguments(cs, insn))))
			break;
	}
	x86_decoder_close(&cs, insn);
	return rc;
}
