/* What usm-privd's BPF owner and the usm-inspector exchange.
 *
 * The inspector is a short-lived, unprivileged process that parses a file
 * nobody vouches for (ELF symbol tables today; Go build info, .gopclntab
 * and instruction decoding next) so that no privileged process ever does.
 * The supervisor starts it with:
 *   fd 3  the file to inspect, opened read-only by the BPF owner after its
 *         identity and policy checks (the inspector opens nothing itself);
 *   fd 4  one end of a SOCK_SEQPACKET socketpair whose other end the BPF
 *         owner holds.
 * The BPF owner writes one struct usm_inspect_req on its end; the
 * inspector answers one struct usm_inspect_rep and exits 0. Both are
 * fixed-size: a datagram of any other size is refused by the receiver.
 *
 * Nothing in the answer is trusted beyond what can be checked cheaply:
 * privd checks the shape here (usm_inspect_rep_valid) and that every
 * offset lies inside an executable PT_LOAD segment of the very file it
 * handed over, so a compromised inspector can at worst misplace probes in
 * that file. */
#ifndef USM_INSPECT_PROTO_H
#define USM_INSPECT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define USM_INSPECT_MAGIC 0x31534e49u /* "INS1" in memory order */
#define USM_INSPECT_FILE_FD 3
#define USM_INSPECT_SOCKET_FD 4
#define USM_INSPECT_MAX_FUNCS 16 /* = ATTACH_MAX_FUNCS: one probe set's functions */
#define USM_INSPECT_NAME_MAX 64  /* function name, NUL included */
#define USM_INSPECT_REASON_MAX 64

enum usm_inspect_kind {
	USM_INSPECT_ELF_SYMBOLS = 1, /* file offsets of named functions (.dynsym, .symtab) */
};

struct usm_inspect_req {
	uint32_t magic;  /* USM_INSPECT_MAGIC */
	uint16_t kind;   /* enum usm_inspect_kind */
	uint16_t nfuncs; /* 1..USM_INSPECT_MAX_FUNCS */
	char names[USM_INSPECT_MAX_FUNCS][USM_INSPECT_NAME_MAX]; /* C identifiers, NUL-ended; unused: zero */
};

struct usm_inspect_func {
	uint64_t offset; /* file offset of the function's entry, when found */
	uint8_t found;   /* 0 or 1 */
	uint8_t pad[7];  /* must be 0 */
};

struct usm_inspect_rep {
	uint32_t magic;  /* USM_INSPECT_MAGIC */
	int32_t error;   /* 0, or -errno: the file could not be inspected */
	char reason[USM_INSPECT_REASON_MAX]; /* with error: "not-elf", "no-symbols", "bad-elf"... */
	uint16_t nfuncs; /* equal to the request's */
	uint8_t pad[6];  /* must be 0 */
	struct usm_inspect_func funcs[USM_INSPECT_MAX_FUNCS]; /* in the request's order */
};

static inline bool usm_inspect_string_ok(const char *s, size_t cap, bool identifier)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool ok = identifier ? (ch == '_' || (ch >= '0' && ch <= '9') ||
					(ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
				     : (ch >= 0x20 && ch < 0x7f);
		if (!ok)
			return false;
	}
	return !identifier || n > 0;
}

/* The inspector's check of what it was asked. */
static inline bool usm_inspect_req_valid(const struct usm_inspect_req *r)
{
	if (r->magic != USM_INSPECT_MAGIC || r->kind != USM_INSPECT_ELF_SYMBOLS || r->nfuncs == 0 ||
	    r->nfuncs > USM_INSPECT_MAX_FUNCS)
		return false;
	for (unsigned i = 0; i < r->nfuncs; i++)
		if (!usm_inspect_string_ok(r->names[i], USM_INSPECT_NAME_MAX, true))
			return false;
	return true;
}

/* privd's check of the answer's shape (offsets are checked against the
 * file separately). */
static inline bool usm_inspect_rep_valid(const struct usm_inspect_rep *r, uint16_t nfuncs)
{
	static const uint8_t zero[7];
	if (r->magic != USM_INSPECT_MAGIC || r->error > 0 || r->nfuncs != nfuncs ||
	    memcmp(r->pad, zero, sizeof(r->pad)) != 0 ||
	    !usm_inspect_string_ok(r->reason, sizeof(r->reason), false))
		return false;
	for (unsigned i = 0; i < USM_INSPECT_MAX_FUNCS; i++) {
		const struct usm_inspect_func *f = &r->funcs[i];
		if (f->found > 1 || memcmp(f->pad, zero, sizeof(f->pad)) != 0 ||
		    (i >= nfuncs && (f->found || f->offset)))
			return false;
	}
	return true;
}

#endif
