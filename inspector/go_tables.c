/* .go.buildinfo and .gopclntab, from bytes. The layouts and the contract
 * are in go_tables.h; every offset and count read is checked against the
 * buffer before use. */
#include "go_tables.h"

#include <errno.h>
#include <string.h>

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

int go_buildinfo_version(const uint8_t *b, size_t size, char *version, size_t cap)
{
	if (size < 33 || memcmp(b, BUILDINFO_MAGIC, 14) != 0)
		return -EINVAL;
	if (!(b[15] & BUILDINFO_INLINE))
		return -ENOTSUP; /* before Go 1.18: pointers to the strings */
	uint64_t len = 0;
	size_t i = 32;
	for (unsigned shift = 0; i < size && shift < 63; shift += 7) {
		len |= (uint64_t)(b[i] & 0x7f) << shift;
		if (!(b[i++] & 0x80))
			break;
	}
	if (len == 0 || len >= cap || len > size - i)
		return -ENOTSUP;
	memcpy(version, b + i, len);
	version[len] = '\0';
	return usm_inspect_string_ok(version, cap, false) ? 0 : -ENOTSUP;
}

static uint64_t word(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

int go_pclntab_find(const uint8_t *t, size_t size, const char (*names)[USM_INSPECT_NAME_MAX],
		    unsigned n, struct go_func_range *out)
{
	memset(out, 0, n * sizeof(*out));
	if (size < PCLNTAB_HEADER)
		return -EINVAL;
	uint32_t magic = u32(t);
	uint64_t nfunc = word(t + 8), text = word(t + 24), fnames = word(t + 32), tab = word(t + 64);
	if ((magic != PCLNTAB_GO118 && magic != PCLNTAB_GO120) || t[4] || t[5] || t[6] != 1 ||
	    t[7] != 8 || nfunc == 0 || nfunc > GO_MAX_FUNCS || fnames >= size || tab >= size ||
	    (nfunc + 1) * 8 > size - tab)
		return -EINVAL;
	size_t len[USM_INSPECT_MAX_FUNCS];
	unsigned seen[USM_INSPECT_MAX_FUNCS] = {0};
	for (unsigned k = 0; k < n && k < USM_INSPECT_MAX_FUNCS; k++)
		len[k] = strnlen(names[k], USM_INSPECT_NAME_MAX);
	for (uint64_t i = 0; i < nfunc; i++) {
		const uint8_t *e = t + tab + i * 8;
		uint64_t func = tab + u32(e + 4), name;
		/* entries ascend; a _func and its name lie inside the section */
		if (func > size - 8 || u32(e + 8) <= u32(e) || (name = fnames + u32(t + func + 4)) >= size)
			return -EINVAL;
		const char *s = (const char *)t + name;
		for (unsigned k = 0; k < n && k < USM_INSPECT_MAX_FUNCS; k++) {
			if (len[k] < size - name && memcmp(s, names[k], len[k] + 1) == 0) {
				seen[k]++;
				out[k] = (struct go_func_range){true, text + u32(e), text + u32(e + 8)};
			}
		}
	}
	for (unsigned k = 0; k < n && k < USM_INSPECT_MAX_FUNCS; k++)
		out[k].found = seen[k] == 1;
	return 0;
}
