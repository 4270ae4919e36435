/* The inspector's readers of a Go program's bytes: .go.buildinfo,
 * .gopclntab and the RET finder (Capstone), each fed the input after a
 * selector byte (0, 1, 2). Seeds in fuzz/corpus/go_tables/ (made by
 * make_go_corpus.py from a real Go build and a small synthetic table). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "go_tables.h"
#include "go_code.h"

static const char names[3][USM_INSPECT_NAME_MAX] = {
	"crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write", "crypto/tls.(*Conn).Close"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const uint8_t *b = data + 1;
	size_t n = size - 1;
	switch (data[0] % 3) {
	case 0: {
		char version[USM_INSPECT_GO_VERSION_MAX];
		if (go_buildinfo_version(b, n, version, sizeof(version)) == 0 &&
		    strnlen(version, sizeof(version)) == sizeof(version))
			__builtin_trap(); /* always NUL-ended */
		break;
	}
	case 1: {
		struct go_func_range r[3];
		if (go_pclntab_find(b, n, names, 3, r) == 0)
			for (int i = 0; i < 3; i++)
				if (r[i].found && (r[i].end - r[i].entry == 0 ||
						   r[i].end - r[i].entry > 0xffffffffu))
					__builtin_trap(); /* a found function has a length */
		break;
	}
	default: {
		uint64_t out[USM_INSPECT_MAX_RETURNS];
		int k = go_code_rets(b, n, 0x1000, out, USM_INSPECT_MAX_RETURNS);
		for (int i = 0; i < k; i++)
			if (out[i] < 0x1000 || out[i] >= 0x1000 + n || b[out[i] - 0x1000] == 0)
				__builtin_trap(); /* a RET is inside the code, and starts with its opcode */
		uint64_t jbe;
		if (go_code_stack_check(b, n, 0x1000, &jbe) == 0 &&
		    (jbe < 0x1004 || jbe >= 0x1000 + n || (b[jbe - 0x1000] != 0x0f && b[jbe - 0x1000] != 0x76)))
			__builtin_trap(); /* a JBE after a CMP, inside the code */
		break;
	}
	}
	return 0;
}
