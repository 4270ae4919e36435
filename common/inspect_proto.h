/* What usm-privd's BPF owner and the usm-inspector exchange.
 *
 * The inspector is a short-lived, unprivileged process that parses a file
 * nobody vouches for (ELF symbol tables and, for a via= function, the
 * first call in two others' code; a Go program's build info, .gopclntab,
 * RET instructions and DWARF) so that no privileged process ever does.
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

#include "usm_events.h" /* USM_GO_COOKIE */

#define USM_INSPECT_MAGIC 0x33534e49u /* "INS3" in memory order */
#define USM_INSPECT_FILE_FD 3
#define USM_INSPECT_SOCKET_FD 4
#define USM_INSPECT_MAX_FUNCS 16 /* = ATTACH_MAX_FUNCS: one probe set's functions */
#define USM_INSPECT_NAME_MAX 64  /* function name, NUL included */
#define USM_INSPECT_REASON_MAX 64
#define USM_INSPECT_MAX_RETURNS 16 /* RET instructions per function (Go) */
#define USM_INSPECT_GO_VERSION_MAX 16

enum usm_inspect_kind {
	USM_INSPECT_ELF_SYMBOLS = 1, /* file offsets of named functions (.dynsym, .symtab;
				      * via: their callers' first call) */
	USM_INSPECT_GO_TLS = 2,      /* a Go program: its functions (.gopclntab), each one's
				      * RET instructions, and the struct offsets of
				      * struct usm_inspect_go */
};

struct usm_inspect_req {
	uint32_t magic;  /* USM_INSPECT_MAGIC */
	uint16_t kind;   /* enum usm_inspect_kind */
	uint16_t nfuncs; /* 1..USM_INSPECT_MAX_FUNCS */
	char names[USM_INSPECT_MAX_FUNCS][USM_INSPECT_NAME_MAX]; /* symbol names, NUL-ended; unused: zero */
	/* ELF_SYMBOLS: for a function no symbol names, the indexes + 1 of the
	 * two functions (without via of their own) whose first direct call
	 * both go to it (the attach policy's via=); 0, 0: none. GO_TLS: all 0. */
	uint8_t via[USM_INSPECT_MAX_FUNCS][2];
};

struct usm_inspect_func {
	uint64_t offset;   /* file offset of the function's entry, when found */
	uint8_t found;     /* 0 or 1 */
	uint8_t nreturns;  /* GO_TLS: file offsets of its RET instructions in returns[] */
	uint8_t pad[6];    /* must be 0 */
	uint64_t returns[USM_INSPECT_MAX_RETURNS]; /* unused: 0 */
};

/* GO_TLS: where the capture programs find a call's goroutine and a
 * crypto/tls.Conn's socket, in bytes (from the binary's DWARF, else from
 * the table of verified Go versions in inspector/go_binary.c). Each is
 * carried in the probes' BPF cookies (USM_GO_COOKIE, bpf/usm_events.h),
 * hence the bounds usm_inspect_rep_valid() checks. ELF_SYMBOLS: all 0. */
struct usm_inspect_go {
	uint16_t goid;   /* runtime.g.goid */
	uint16_t conn;   /* crypto/tls.Conn.conn: a net.Conn interface (itab, data) */
	uint16_t netfd;  /* net.TCPConn's *net.netFD (its embedded net.conn.fd) */
	uint16_t sysfd;  /* the fd in net.netFD (netFD.pfd + internal/poll.FD.Sysfd) */
	uint16_t family; /* net.netFD.family; net.netFD.sotype is the next word */
	uint16_t pad[3]; /* must be 0 */
	char version[USM_INSPECT_GO_VERSION_MAX]; /* "go1.19.8", NUL-ended; ELF_SYMBOLS: "" */
};

struct usm_inspect_rep {
	uint32_t magic;  /* USM_INSPECT_MAGIC */
	int32_t error;   /* 0, or -errno: the file could not be inspected */
	char reason[USM_INSPECT_REASON_MAX]; /* with error: "not-elf", "no-symbols", "bad-elf",
					      * "not-go", "unsupported-go-version"... */
	uint16_t nfuncs; /* equal to the request's */
	uint8_t pad[6];  /* must be 0 */
	struct usm_inspect_go go;
	struct usm_inspect_func funcs[USM_INSPECT_MAX_FUNCS]; /* in the request's order */
};

/* A function name as the attach policy may spell one: C identifiers, and
 * Go's qualified names ("crypto/tls.(*Conn).Read"): [A-Za-z0-9_./()*]. */
static inline bool usm_symbol_char(unsigned char ch)
{
	return ch == '_' || ch == '.' || ch == '/' || ch == '(' || ch == ')' || ch == '*' ||
	       (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static inline bool usm_inspect_string_ok(const char *s, size_t cap, bool symbol)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (symbol ? !usm_symbol_char(ch) : (ch < 0x20 || ch >= 0x7f))
			return false;
	}
	return !symbol || n > 0;
}

/* Function i's via (see the request) is none, or two different other
 * functions of the request that have none. */
static inline bool usm_inspect_via_ok(const struct usm_inspect_req *r, unsigned i)
{
	const uint8_t *v = r->via[i];
	if (i >= r->nfuncs)
		return !v[0] && !v[1];
	if (!v[0] && !v[1])
		return true;
	if (r->kind != USM_INSPECT_ELF_SYMBOLS || v[0] == v[1])
		return false;
	for (int k = 0; k < 2; k++)
		if (v[k] == 0 || v[k] > r->nfuncs || v[k] == i + 1 || r->via[v[k] - 1][0] ||
		    r->via[v[k] - 1][1])
			return false;
	return true;
}

/* The inspector's check of what it was asked. */
static inline bool usm_inspect_req_valid(const struct usm_inspect_req *r)
{
	if (r->magic != USM_INSPECT_MAGIC ||
	    (r->kind != USM_INSPECT_ELF_SYMBOLS && r->kind != USM_INSPECT_GO_TLS) || r->nfuncs == 0 ||
	    r->nfuncs > USM_INSPECT_MAX_FUNCS)
		return false;
	for (unsigned i = 0; i < USM_INSPECT_MAX_FUNCS; i++)
		if ((i < r->nfuncs && !usm_inspect_string_ok(r->names[i], USM_INSPECT_NAME_MAX, true)) ||
		    !usm_inspect_via_ok(r, i))
			return false;
	return true;
}

/* The Go offsets fit the cookie (bpf/usm_events.h, USM_GO_COOKIE). */
static inline bool usm_inspect_go_valid(const struct usm_inspect_go *g, uint16_t kind)
{
	static const struct usm_inspect_go none;
	if (kind != USM_INSPECT_GO_TLS)
		return memcmp(g, &none, sizeof(none)) == 0;
	return g->goid < 4096 && g->conn < 4096 && g->netfd < 4096 && g->sysfd < 4096 &&
	       g->family < 2048 && g->family % 8 == 0 && !g->pad[0] && !g->pad[1] && !g->pad[2] &&
	       usm_inspect_string_ok(g->version, sizeof(g->version), false);
}

/* The part of a probe's BPF cookie that carries the Go offsets (0 for
 * an ELF_SYMBOLS answer, whose go is all zero). */
static inline uint64_t usm_inspect_go_cookie(const struct usm_inspect_go *g)
{
	return USM_GO_COOKIE(g->goid, g->conn, g->netfd, g->sysfd, g->family);
}

/* privd's check of the answer's shape (offsets are checked against the
 * file separately). */
static inline bool usm_inspect_rep_valid(const struct usm_inspect_rep *r, uint16_t nfuncs,
					 uint16_t kind)
{
	static const uint8_t zero[sizeof(r->funcs[0].returns)];
	if (r->magic != USM_INSPECT_MAGIC || r->error > 0 || r->error < -4095 /* an errno */ ||
	    r->nfuncs != nfuncs ||
	    memcmp(r->pad, zero, sizeof(r->pad)) != 0 ||
	    !usm_inspect_string_ok(r->reason, sizeof(r->reason), false) ||
	    !usm_inspect_go_valid(&r->go, r->error ? 0 : kind))
		return false;
	for (unsigned i = 0; i < USM_INSPECT_MAX_FUNCS; i++) {
		const struct usm_inspect_func *f = &r->funcs[i];
		unsigned nret = kind == USM_INSPECT_GO_TLS && f->found ? f->nreturns : 0;
		if (f->found > 1 || memcmp(f->pad, zero, sizeof(f->pad)) != 0 ||
		    (i >= nfuncs && (f->found || f->offset)) || f->nreturns != nret ||
		    nret > USM_INSPECT_MAX_RETURNS ||
		    memcmp(f->returns + nret, zero, (USM_INSPECT_MAX_RETURNS - nret) * 8) != 0)
			return false;
	}
	return true;
}

#endif
