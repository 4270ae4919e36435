/* RET instructions with Capstone. The contract is in ret_insns.h. */
#include "ret_insns.h"

#include <capstone/capstone.h>
#include <errno.h>

int ret_insns_find(const uint8_t *code, size_t len, uint64_t base, uint64_t *out, size_t max)
{
#if defined(__x86_64__)
	csh cs;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -EINVAL;
	cs_insn *insn = cs_malloc(cs);
	if (!insn) {
		cs_close(&cs);
		return -ENOMEM;
	}
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
	cs_free(insn, 1);
	cs_close(&cs);
	return n;
#else
	(void)code, (void)len, (void)base, (void)out, (void)max;
	return -EINVAL; /* the Go probes read amd64 registers only */
#endif
}
