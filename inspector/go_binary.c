/* A Go program's crypto/tls for the capture programs. The contract and
 * the bounds are in go_binary.h. Everything read from the file is
 * checked against the section or segment it came from before use. */
#include "go_binary.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_file.h"
#include "go_offsets.h"
#include "ret_insns.h"

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_INLINE 0x2 /* flags: version and module info inline (Go 1.18+) */
#define PCLNTAB_GO118 0xfffffff0u
#define PCLNTAB_GO120 0xfffffff1u
#define PCLNTAB_HEADER 72 /* magic, 4 bytes, then 8 words (64-bit) */

int go_minor_version(const char *s)
{
	if (strncmp(s, "go1.", 4) != 0 || s[4] < '1' || s[4] > '9')
		return -1;
	int minor = 0;
	const char *p = s + 4;
	for (; *p >= '0' && *p <= '9' && minor < 1000; p++)
		minor = minor * 10 + (*p - '0');
	return *p == '\0' || *p == '.' || *p == 'r' || *p == 'b' || *p == ' ' ? minor : -1;
}

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
	int rc = 0;
	if (size < 33 || memcmp(b, BUILDINFO_MAGIC, 14) != 0) {
		rc = fail(rep, -EINVAL, "bad-go-buildinfo");
	} else if (!(b[15] & BUILDINFO_INLINE)) {
		rc = fail(rep, -ENOTSUP, "unsupported-go-version"); /* before Go 1.18 */
	} else {
		uint64_t len = 0, i = 32;
		for (unsigned shift = 0; i < size && shift < 63; shift += 7) {
			len |= (uint64_t)(b[i] & 0x7f) << shift;
			if (!(b[i++] & 0x80))
				break;
		}
		if (len == 0 || len >= sizeof(rep->go.version) || len > size - i) {
			rc = fail(rep, -ENOTSUP, "unsupported-go-version");
		} else {
			memcpy(rep->go.version, b + i, len);
			rep->go.version[len] = '\0';
			if (!usm_inspect_string_ok(rep->go.version, sizeof(rep->go.version), false) ||
			    go_minor_version(rep->go.version) < 18)
				rc = fail(rep, -ENOTSUP, "unsupported-go-version");
		}
	}
	free(b);
	return rc;
}

static uint64_t word(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Each asked name's [entry, end) virtual addresses from .gopclntab
 * (a name seen twice is not found: never a guess). */
static int find_functions(const struct elf_file *f, const struct usm_inspect_req *req,
			  uint64_t entry[], uint64_t end[], struct usm_inspect_rep *rep)
{
	uint64_t size = 0;
	int err;
	uint8_t *t = read_section(f, ".gopclntab", GO_MAX_PCLNTAB, &size, &err);
	if (!t)
		t = read_section(f, ".data.rel.ro.gopclntab", GO_MAX_PCLNTAB, &size, &err);
	if (!t)
		return err == -ENOENT ? fail(rep, -ENOEXEC, "no-symbols")
		       : err == -E2BIG ? fail(rep, -E2BIG, "too-large") : fail(rep, -EINVAL, "bad-gopclntab");
	int rc = 0;
	uint32_t magic = size >= PCLNTAB_HEADER ? u32(t) : 0;
	uint64_t nfunc = size >= PCLNTAB_HEADER ? word(t + 8) : 0, text = 0, names = 0, tab = 0;
	if (size >= PCLNTAB_HEADER) {
		text = word(t + 24), names = word(t + 32), tab = word(t + 64);
	}
	if ((magic != PCLNTAB_GO118 && magic != PCLNTAB_GO120) || t[4] || t[5] || t[6] != 1 ||
	    t[7] != 8 || nfunc == 0 || nfunc > GO_MAX_FUNCS || names >= size || tab >= size ||
	    (nfunc + 1) * 8 > size - tab) {
		rc = fail(rep, -EINVAL, "bad-gopclntab");
		goto out;
	}
	bool twice[USM_INSPECT_MAX_FUNCS] = {false};
	for (uint64_t i = 0; i < nfunc; i++) {
		const uint8_t *e = t + tab + i * 8;
		uint64_t func = tab + u32(e + 4), name = 0;
		if (func > size - 8 || u32(e + 8) <= u32(e) ||
		    (name = names + (uint64_t)u32(t + func + 4)) >= size) {
			rc = fail(rep, -EINVAL, "bad-gopclntab");
			goto out;
		}
		const char *n = (const char *)t + name;
		size_t max = size - name;
		for (unsigned k = 0; k < req->nfuncs; k++) {
			size_t len = strnlen(req->names[k], USM_INSPECT_NAME_MAX);
			if (len < max && memcmp(n, req->names[k], len + 1) == 0) {
				twice[k] = rep->funcs[k].found;
				rep->funcs[k].found = 1;
				entry[k] = text + u32(e);
				end[k] = text + u32(e + 8);
			}
		}
	}
	for (unsigned k = 0; k < req->nfuncs; k++)
		if (twice[k])
			rep->funcs[k].found = 0;
out:
	free(t);
	return rc;
}

/* The function's file offset and its RET instructions'. */
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
		n = ret_insns_find(code, len, off, fn->returns, USM_INSPECT_MAX_RETURNS);
	free(code);
	if (n < 0)
		return fail(rep, n, n == -E2BIG ? "too-many-returns" : n == -EILSEQ ? "bad-code" : "read");
	fn->offset = off;
	fn->nreturns = (uint8_t)n;
	return 0;
}

void go_binary_answer(int fd, const struct usm_inspect_req *req, struct usm_inspect_rep *rep)
{
	struct elf_file f;
	if ((rep->error = elf_file_open(&f, fd, rep->reason, sizeof(rep->reason))) != 0)
		return;
	GElf_Ehdr eh;
	uint64_t entry[USM_INSPECT_MAX_FUNCS] = {0}, end[USM_INSPECT_MAX_FUNCS] = {0};
	int rc = !gelf_getehdr(f.elf, &eh) || eh.e_machine != EM_X86_64 ||
			 gelf_getclass(f.elf) != ELFCLASS64
		 ? fail(rep, -ENOTSUP, "unsupported-arch")
		 : read_version(&f, rep);
	if (rc == 0 && go_offsets_from_dwarf(f.elf, &rep->go) != 0 &&
	    go_offsets_from_table(go_minor_version(rep->go.version), &rep->go) != 0)
		rc = fail(rep, -ENOTSUP, "unsupported-go-version");
	if (rc == 0)
		rc = find_functions(&f, req, entry, end, rep);
	for (unsigned k = 0; rc == 0 && k < req->nfuncs; k++)
		if (rep->funcs[k].found)
			rc = decode(&f, k, entry[k], end[k], rep);
	elf_file_close(&f);
	if (rc != 0) { /* an error answers nothing */
		memset(&rep->go, 0, sizeof(rep->go));
		memset(rep->funcs, 0, sizeof(rep->funcs));
	}
}
