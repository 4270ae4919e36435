/* A Go program's crypto/tls for the capture programs. The contract and
 * the bounds are in go_binary.h: this file finds and bounds the sections
 * and the code; go_tables.c reads the tables, go_code.c the code,
 * go_offsets.c the struct offsets. */
#include "go_binary.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"
#include "go_offsets.h"
#include "go_tables.h"
#include "go_code.h"

static int fail(struct usm_inspect_rep *rep, int error, const char *reason)
{
	rep->error = error;
	snprintf(rep->reason, sizeof(rep->reason), "%s", reason);
	return error;
}

/* A section's bytes, at most max (malloc'd; NULL: missing, too large or
 * unreadable, with *err saying which). */
static uint8_t *read_section(const struct elf_file *f, const char *name, uint64_t max,
			     uint64_t *size, int *err)
{
	GElf_Shdr sh;
	*err = -ENOENT;
	if (!elf_file_section(f, name, &sh) || sh.sh_type != SHT_PROGBITS)
		return NULL;
	*err = sh.sh_size > max ? -E2BIG : -ENOMEM;
	uint8_t *buf = sh.sh_size <= max && sh.sh_size > 0 ? malloc(sh.sh_size) : NULL;
	if (buf && (*err = elf_file_read(f, buf, sh.sh_size, sh.sh_offset)) != 0) {
		free(buf);
		return NULL;
	}
	*size = sh.sh_size;
	return buf;
}

/* The version string of .go.buildinfo: "not-go" without one. */
static int read_version(const struct elf_file *f, struct usm_inspect_rep *rep)
{
	uint64_t size = 0;
	int err;
	uint8_t *b = read_section(f, ".go.buildinfo", 64u << 10, &size, &err);
	if (!b)
		return err == -ENOENT ? fail(rep, -ENOEXEC, "not-go") : fail(rep, -EINVAL, "bad-go-buildinfo");
	int rc = go_buildinfo_version(b, size, rep->go.version, sizeof(rep->go.version));
	free(b);
	if (rc == -EINVAL)
		return fail(rep, rc, "bad-go-buildinfo");
	if (rc != 0 || go_minor_version(rep->go.version) < 18)
		return fail(rep, -ENOTSUP, "unsupported-go-version");
	return 0;
}

/* Each asked name's [entry, end) from .gopclntab (.data.rel.ro.gopclntab
 * in PIE builds). */
static int find_functions(const struct elf_file *f, const struct usm_inspect_req *req,
			  struct go_func_range *range, struct usm_inspect_rep *rep)
{
	uint64_t size = 0;
	int err;
	uint8_t *t = read_section(f, ".gopclntab", GO_MAX_PCLNTAB, &size, &err);
	if (!t && err == -ENOENT)
		t = read_section(f, ".data.rel.ro.gopclntab", GO_MAX_PCLNTAB, &size, &err);
	if (!t)
		return err == -ENOENT ? fail(rep, -ENOEXEC, "no-symbols")
		       : err == -E2BIG ? fail(rep, -E2BIG, "too-large") : fail(rep, -EINVAL, "bad-gopclntab");
	int rc = go_pclntab_find(t, size, req->names, req->nfuncs, range);
	free(t);
	for (unsigned k = 0; rc == 0 && k < req->nfuncs; k++)
		rep->funcs[k].found = range[k].found;
	return rc ? fail(rep, rc, "bad-gopclntab") : 0;
}

/* Where the function's entry probe goes (its stack check's jump) and its
 * RET instructions, as file offsets. */
static int decode(const struct elf_file *f, unsigned k, uint64_t entry, uint64_t end,
		  struct usm_inspect_rep *rep)
{
	struct usm_inspect_func *fn = &rep->funcs[k];
	uint64_t off, len = end - entry;
	if (len > GO_MAX_FUNC_BYTES)
		return fail(rep, -E2BIG, "too-large");
	if (!elf_file_offset(f, entry, len, true, &off))
		return fail(rep, -EINVAL, "bad-gopclntab"); /* not code of this file */
	uint8_t *code = malloc(len);
	if (!code)
		return fail(rep, -ENOMEM, "no-memory");
	int n = elf_file_read(f, code, len, off);
	if (n == 0)
		n = go_code_rets(code, len, off, fn->returns, USM_INSPECT_MAX_RETURNS);
	int check = n < 0 ? 0 : go_code_stack_check(code, len, off, &fn->offset);
	free(code);
	if (n < 0)
		return fail(rep, n, n == -E2BIG ? "too-many-returns" : n == -EILSEQ ? "bad-code" : "read");
	if (check != 0)
		return fail(rep, check == -ENOENT ? -ENOTSUP : check,
			    check == -ENOENT ? "unexpected-prologue" : "no-memory");
	fn->nreturns = (uint8_t)n;
	return 0;
}

void go_binary_answer(int fd, const struct usm_inspect_req *req, struct usm_inspect_rep *rep)
{
	struct elf_file f;
	if ((rep->error = elf_file_open(&f, fd, rep->reason, sizeof(rep->reason))) != 0)
		return;
	GElf_Ehdr eh;
	struct go_func_range range[USM_INSPECT_MAX_FUNCS];
	int rc = !gelf_getehdr(f.elf, &eh) || eh.e_machine != EM_X86_64 ||
			 gelf_getclass(f.elf) != ELFCLASS64
		 ? fail(rep, -ENOTSUP, "unsupported-arch")
		 : read_version(&f, rep);
	if (rc == 0 && go_offsets_from_dwarf(&f, &rep->go) != 0 &&
	    go_offsets_from_table(go_minor_version(rep->go.version), &rep->go) != 0)
		rc = fail(rep, -ENOTSUP, "unsupported-go-version");
	if (rc == 0)
		rc = find_functions(&f, req, range, rep);
	for (unsigned k = 0; rc == 0 && k < req->nfuncs; k++)
		if (rep->funcs[k].found)
			rc = decode(&f, k, range[k].entry, range[k].end, rep);
	elf_file_close(&f);
	if (rc != 0) { /* an error answers nothing */
		memset(&rep->go, 0, sizeof(rep->go));
		memset(rep->funcs, 0, sizeof(rep->funcs));
	}
}
