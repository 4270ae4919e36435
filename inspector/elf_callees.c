/* The common first callee of two functions. The contract is in
 * elf_callees.h. */
#include "elf_callees.h"

#include <errno.h>
#include <stdbool.h>

#include "elf_file.h"
#include "x86_decoder.h"

/* The executable segment holding file offset off, or NULL. */
static const struct elf_segment *code_segment(const struct elf_file *f, uint64_t off)
{
	for (size_t i = 0; i < f->nseg; i++)
		if (f->seg[i].exec && off >= f->seg[i].offset && off - f->seg[i].offset < f->seg[i].filesz)
			return &f->seg[i];
	return NULL;
}

/* The first call's target from caller, in the caller's segment. Offsets
 * stand for addresses: inside one segment they differ by a constant. */
static int first_callee(const struct elf_file *f, uint64_t caller, bool pass_args,
			uint64_t *callee)
{
	uint8_t code[ELF_CALLER_BYTES];
	const struct elf_segment *s = code_segment(f, caller);
	if (!s)
		return -ENOENT;
	uint64_t left = s->filesz - (caller - s->offset);
	size_t len = left < sizeof(code) ? (size_t)left : sizeof(code);
	if (elf_file_read(f, code, len, caller) != 0 ||
	    x86_first_call(code, len, caller, pass_args, callee) != 0)
		return -ENOENT;
	return code_segment(f, *callee) == s ? 0 : -ENOENT;
}

int elf_common_callee(int fd, uint64_t caller_a, uint64_t caller_b, uint64_t *callee,
		      char *reason, size_t reason_len)
{
	struct elf_file f;
	int rc = elf_file_open(&f, fd, reason, reason_len);
	if (rc != 0)
		return rc;
	uint64_t a, b;
	GElf_Shdr text;
	rc = -ENOENT;
	if (first_callee(&f, caller_a, true, &a) == 0 && first_callee(&f, caller_b, false, &b) == 0 &&
	    a == b && a != caller_a && a != caller_b && elf_file_section(&f, ".text", &text) &&
	    text.sh_type == SHT_PROGBITS && a >= text.sh_offset && a - text.sh_offset < text.sh_size) {
		*callee = a;
		rc = 0;
	}
	elf_file_close(&f);
	return rc;
}
