/* Attach policy text -> struct attach_policy. The contract and the syntax
 * are in attach_policy_parse.h; the questions asked of the table are in
 * attach_policy.c.
 *
 * privd decides with this table what it may probe in a file someone else
 * controls, so the parser is strict like the seccomp one: anything
 * ambiguous (a prefix two rules could both claim, a repeated target, a set
 * nothing can ever refuse for missing symbols) is an error with its line
 * number rather than a guess. No allocation: the policy is a fixed struct. */
#include "attach_policy_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_codec.h"
#include "inspect_proto.h"
#include "ipc_proto.h"
#include "usm_events.h"

#define LINE_MAX_BYTES 512 /* longest statement, NUL included; real ones are < 100 */
#define MAX_WORDS 8        /* more than any statement takes, to name the first extra */
#define NAME_MAX_LEN 31
#define FUNC_MAX_LEN 63
#define PREFIX_MAX_LEN (ATTACH_PREFIX_MAX - 1)

_Static_assert(USM_PROG_TYPE_COUNT <= 32, "targets is a 32-bit mask");
_Static_assert(ATTACH_MAX_SETS <= 256, "set ids are uint8_t");
/* The capture programs decode cookies and size their tables with the
 * same bounds (bpf/usm_events.h). */
_Static_assert(ATTACH_MAX_FUNCS == USM_MAX_FUNCS && ATTACH_MAX_SETS == USM_MAX_SETS,
	       "attach policy and capture programs must agree on the cookie layout");

struct parser {
	const char *origin;
	unsigned line;
	struct attach_policy_error *err;
	struct attach_policy *out;
	unsigned set_line[ATTACH_MAX_SETS]; /* where each set was declared */
};

static int fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "ORIGIN:LINE: message", like the seccomp policies and compilers. */
static int fail_at(struct parser *ps, unsigned line, const char *fmt, ...)
{
	if (!ps->err)
		return -EINVAL;
	int n = snprintf(ps->err->msg, sizeof(ps->err->msg), "%s:%u: ", ps->origin, line);
	if (n < 0 || (size_t)n >= sizeof(ps->err->msg))
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg + n, sizeof(ps->err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define fail(ps, ...) fail_at((ps), (ps)->line, __VA_ARGS__)

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static bool is_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* A C identifier or a Go qualified name ("crypto/tls.(*Conn).Read"): the
 * characters the inspector's protocol carries (usm_symbol_char). */
static bool is_function_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > FUNC_MAX_LEN || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!usm_symbol_char((unsigned char)s[i]))
			return false;
	return true;
}

/* A file name prefix the kernel filter can compare byte for byte: no '/',
 * and only the characters library file names use, so that no prefix
 * carries a space, a glob or a control character into logs or the filter. */
static bool is_prefix(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PREFIX_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '+' || c == '.'))
			return false;
	}
	return true;
}

/* The query answers const; the parser owns the table it fills. */
static struct probe_set *find_set(struct attach_policy *p, const char *name)
{
	const struct probe_set *s = attach_policy_find_set(p, name);
	return s ? &p->sets[s - p->sets] : NULL;
}

/* Decimal bytes with an optional K, M or G (powers of 1024); 0 is refused:
 * a set that may target no file is a mistake, not a policy. */
static int parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	unsigned shift = 0;
	switch (s[i]) {
	case '\0':
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (shift && s[i + 1] != '\0')
		return -EINVAL;
	if (v == 0 || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

static int parse_targets(struct parser *ps, const char *list, uint32_t *out)
{
	uint32_t mask = 0;
	const char *p = list;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char type[32];
		if (n >= sizeof(type))
			return fail(ps, "unknown program type '%.*s'", (int)n, p);
		memcpy(type, p, n);
		type[n] = '\0';
		int t = usm_program_type_parse(type);
		if (t < 0 || t >= USM_PROG_TYPE_COUNT)
			return fail(ps, "unknown program type '%s'", type);
		if (mask & (1u << t))
			return fail(ps, "duplicate program type '%s'", type);
		mask |= 1u << t;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = mask;
	return 0;
}

/* set NAME targets=TYPE[,TYPE...] max_size=SIZE [max_returns=N] (keywords
 * in any order, each at most once, the first two required). */
static int parse_set(struct parser *ps, char **w, unsigned nw)
{
	struct attach_policy *p = ps->out;
	if (nw < 2)
		return fail(ps, "set needs a name");
	if (!is_name(w[1]))
		return fail(ps, "bad set name '%s' (want [a-z0-9_]{1,31})", w[1]);
	if (find_set(p, w[1]))
		return fail(ps, "duplicate set '%s'", w[1]);
	if (p->nsets >= ATTACH_MAX_SETS)
		return fail(ps, "too many sets (at most %d)", ATTACH_MAX_SETS);

	struct probe_set s = { .id = (uint8_t)p->nsets };
	snprintf(s.name, sizeof(s.name), "%s", w[1]);
	bool have_targets = false, have_size = false;
	for (unsigned i = 2; i < nw; i++) {
		if (strncmp(w[i], "targets=", 8) == 0) {
			if (have_targets)
				return fail(ps, "duplicate keyword 'targets'");
			int rc = parse_targets(ps, w[i] + 8, &s.targets);
			if (rc < 0)
				return rc;
			have_targets = true;
		} else if (strncmp(w[i], "max_size=", 9) == 0) {
			if (have_size)
				return fail(ps, "duplicate keyword 'max_size'");
			if (parse_size(w[i] + 9, &s.max_file_size) < 0)
				return fail(ps, "bad size '%s' (bytes, optionally with K, M or G)", w[i] + 9);
			have_size = true;
		} else if (strncmp(w[i], "max_returns=", 12) == 0) {
			char *end;
			unsigned long n = strtoul(w[i] + 12, &end, 10);
			if (s.max_returns || w[i][12] < '1' || w[i][12] > '9' || *end ||
			    n > USM_INSPECT_MAX_RETURNS)
				return fail(ps, "bad or repeated max_returns '%s' (1 to %d, once)",
					    w[i] + 12, USM_INSPECT_MAX_RETURNS);
			s.max_returns = (uint8_t)n;
		} else {
			return fail(ps, "unknown keyword '%s' (want targets=... max_size=... "
					"max_returns=...)", w[i]);
		}
	}
	if (!have_targets)
		return fail(ps, "set '%s' needs targets=", s.name);
	if (!have_size)
		return fail(ps, "set '%s' needs max_size=", s.name);
	/* Go programs are read and probed their own way (register ABI, no
	 * return probes): a set is for them alone or not at all. */
	if ((s.targets & (1u << USM_PROG_GO_TLS)) && s.targets != (1u << USM_PROG_GO_TLS))
		return fail(ps, "set '%s': go-tls cannot share a set with other targets", s.name);
	ps->set_line[p->nsets] = ps->line;
	p->sets[p->nsets++] = s;
	return 0;
}

/* The names of enum usm_tls_role, as the policy spells them. */
static const char *const role_names[USM_TLS_ROLE_COUNT] = {
	[USM_TLS_ROLE_NONE] = "none",       [USM_TLS_ROLE_READ] = "read",
	[USM_TLS_ROLE_READ_EX] = "read_ex", [USM_TLS_ROLE_WRITE] = "write",
	[USM_TLS_ROLE_SET_FD] = "set_fd",   [USM_TLS_ROLE_CLOSE] = "close",
	[USM_TLS_ROLE_GO_READ] = "go_read", [USM_TLS_ROLE_GO_WRITE] = "go_write",
	[USM_TLS_ROLE_GO_CLOSE] = "go_close",
};

const char *attach_policy_role_name(unsigned role)
{
	return role < USM_TLS_ROLE_COUNT ? role_names[role] : NULL;
}

/* The index in s of the function named name, or -1. */
static int func_index(const struct probe_set *s, const char *name)
{
	for (unsigned i = 0; i < s->nfuncs; i++)
		if (strcmp(s->funcs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* via=A,B of function f (to be s's next): the checks attach_policy_parse.h
 * lists, then f.via and each one's replaced_by (set when f is added). */
static int parse_via(struct parser *ps, const struct probe_set *s, struct attach_func *f,
		     const char *list)
{
	char a[FUNC_MAX_LEN + 2], *b;
	snprintf(a, sizeof(a), "%s", list);
	if (strlen(list) > FUNC_MAX_LEN || !(b = strchr(a, ',')))
		return fail(ps, "via= names two functions: via=A,B");
	*b++ = '\0';
	int ia = func_index(s, a), ib = func_index(s, b);
	if (ia < 0 || ib < 0 || ia == ib)
		return fail(ps, "via=%s: two different functions of set '%s' given before it",
			    list, s->name);
	for (int k = 0; k < 2; k++) {
		const struct attach_func *v = &s->funcs[k ? ib : ia];
		if (v->via[0] || v->replaced_by || v->entry != f->entry || v->ret != f->ret)
			return fail(ps, "via=%s: '%s' has a via= or is another's, or other probes",
				    list, v->name);
	}
	f->via[0] = (uint8_t)(ia + 1);
	f->via[1] = (uint8_t)(ib + 1);
	return 0;
}

/* func SET FUNCTION PROBES [role=ROLE] [required] [via=A,B] */
static int parse_func(struct parser *ps, char **w, unsigned nw)
{
	if (nw < 4)
		return fail(ps, "func needs SET FUNCTION PROBES [role=ROLE] [required] [via=A,B]");
	struct probe_set *s = find_set(ps->out, w[1]);
	if (!s)
		return fail(ps, "unknown set '%s'", w[1]);
	if (!is_function_name(w[2]))
		return fail(ps, "bad function name '%s'", w[2]);

	struct attach_func f = { { 0 } };
	snprintf(f.name, sizeof(f.name), "%s", w[2]);
	if (strcmp(w[3], "entry") == 0)
		f.entry = true;
	else if (strcmp(w[3], "return") == 0)
		f.ret = true;
	else if (strcmp(w[3], "entry,return") == 0)
		f.entry = f.ret = true;
	else if (strcmp(w[3], "entry,ret-insns") == 0)
		f.entry = f.ret_insns = true;
	else
		return fail(ps, "bad probe kind '%s' (entry, return, entry,return or "
				"entry,ret-insns)", w[3]);
	bool have_role = false;
	for (unsigned i = 4; i < nw; i++) {
		if (strcmp(w[i], "required") == 0 && !f.required) {
			f.required = true;
		} else if (strncmp(w[i], "via=", 4) == 0 && !f.via[0]) {
			if (s->targets & (1u << USM_PROG_GO_TLS))
				return fail(ps, "via= is not for go-tls sets");
			int rc = parse_via(ps, s, &f, w[i] + 4);
			if (rc < 0)
				return rc;
		} else if (strncmp(w[i], "role=", 5) == 0 && !have_role) {
			have_role = true;
			unsigned r = 0;
			while (r < USM_TLS_ROLE_COUNT && strcmp(w[i] + 5, role_names[r]) != 0)
				r++;
			if (r == USM_TLS_ROLE_COUNT)
				return fail(ps, "unknown role '%s' (none, read, read_ex, write, "
						"set_fd, close, go_read, go_write, go_close)", w[i] + 5);
			f.role = (uint8_t)r;
		} else {
			return fail(ps, "unexpected '%s' (role=ROLE, required and via=A,B may "
					"follow the probes, once each)", w[i]);
		}
	}
	/* A via= function takes its callers' place: the internal read
	 * (read_ex's arguments and result) of two reads, or a write of two
	 * writes. */
	if (f.via[0]) {
		uint8_t ra = s->funcs[f.via[0] - 1].role, rb = s->funcs[f.via[1] - 1].role;
		bool reads = (ra == USM_TLS_ROLE_READ || ra == USM_TLS_ROLE_READ_EX) &&
			     (rb == USM_TLS_ROLE_READ || rb == USM_TLS_ROLE_READ_EX);
		bool writes = ra == USM_TLS_ROLE_WRITE && rb == USM_TLS_ROLE_WRITE;
		if (!(reads && f.role == USM_TLS_ROLE_READ_EX) &&
		    !(writes && f.role == USM_TLS_ROLE_WRITE))
			return fail(ps, "a via= function is role=read_ex over two reads, or role=write "
					"over two writes");
	}
	/* The capture programs read a read's bytes at return, a write's at
	 * entry: a role without its probe would capture nothing. */
	if ((f.role == USM_TLS_ROLE_READ || f.role == USM_TLS_ROLE_READ_EX) && !(f.entry && f.ret))
		return fail(ps, "role=%s needs entry,return probes", role_names[f.role]);
	if (f.role >= USM_TLS_ROLE_WRITE && !f.entry)
		return fail(ps, "role=%s needs an entry probe", role_names[f.role]);
	/* Go's functions: return probes would corrupt goroutine stacks, a
	 * read's count is read on its RET instructions instead. */
	if ((f.role == USM_TLS_ROLE_GO_READ) != f.ret_insns)
		return fail(ps, "role=go_read goes with entry,ret-insns probes, and only it");
	if (f.role >= USM_TLS_ROLE_GO_READ && f.ret)
		return fail(ps, "role=%s cannot have a return probe", role_names[f.role]);
	if (f.ret_insns && s->max_returns == 0)
		return fail(ps, "ret-insns probes need max_returns= on set '%s'", s->name);
	bool go_set = s->targets == (1u << USM_PROG_GO_TLS);
	bool go_role = f.role >= USM_TLS_ROLE_GO_READ;
	if (go_set && (f.ret || (f.role != USM_TLS_ROLE_NONE && !go_role)))
		return fail(ps, "set '%s' targets Go: no return probes, go_* roles only", s->name);
	if (!go_set && (go_role || f.ret_insns))
		return fail(ps, "role=%s and ret-insns probes are for go-tls sets only",
			    role_names[f.role]);

	if (func_index(s, f.name) >= 0)
		return fail(ps, "duplicate function '%s' in set '%s'", f.name, s->name);
	if (s->nfuncs >= ATTACH_MAX_FUNCS)
		return fail(ps, "too many functions in set '%s' (at most %d)", s->name,
			    ATTACH_MAX_FUNCS);
	for (int k = 0; k < 2 && f.via[0]; k++)
		s->funcs[f.via[k] - 1].replaced_by = (uint8_t)(s->nfuncs + 1);
	s->funcs[s->nfuncs++] = f;
	return 0;
}

/* library PREFIX SET. Two prefixes that can both match one file name
 * ("libssl" and "libssl.so") are refused: which set a library gets must
 * not depend on the order of lines. */
static int parse_library(struct parser *ps, char **w, unsigned nw)
{
	struct attach_policy *p = ps->out;
	if (nw < 3)
		return fail(ps, "library needs PREFIX SET");
	if (nw > 3)
		return fail(ps, "unexpected '%s'", w[3]);
	if (!is_prefix(w[1]))
		return fail(ps, "bad library prefix '%s' (a file name start, no '/', at most %d characters)",
			    w[1], PREFIX_MAX_LEN);
	const struct probe_set *s = find_set(p, w[2]);
	if (!s)
		return fail(ps, "unknown set '%s'", w[2]);
	for (unsigned i = 0; i < p->nlibraries; i++) {
		const char *other = p->libraries[i].prefix;
		if (strcmp(other, w[1]) == 0)
			return fail(ps, "duplicate library '%s'", w[1]);
		if (attach_policy_prefix_matches(other, w[1]) ||
		    attach_policy_prefix_matches(w[1], other))
			return fail(ps, "library '%s' overlaps '%s'", w[1], other);
	}
	if (p->nlibraries >= ATTACH_MAX_LIBRARIES)
		return fail(ps, "too many libraries (at most %d)", ATTACH_MAX_LIBRARIES);
	struct library_rule *r = &p->libraries[p->nlibraries++];
	snprintf(r->prefix, sizeof(r->prefix), "%s", w[1]);
	r->set_id = s->id;
	return 0;
}

/* One line, comment included, without its '\n'. */
static int parse_line(struct parser *ps, const char *text, size_t len)
{
	char buf[LINE_MAX_BYTES];
	if (memchr(text, '\0', len))
		return fail(ps, "NUL byte in the policy");
	const char *hash = memchr(text, '#', len);
	if (hash)
		len = (size_t)(hash - text);
	if (len >= sizeof(buf))
		return fail(ps, "line too long (at most %d bytes)", LINE_MAX_BYTES - 1);
	memcpy(buf, text, len);
	buf[len] = '\0';

	char *w[MAX_WORDS];
	unsigned nw = 0;
	char *c = buf;
	for (;;) {
		while (is_blank(*c))
			c++;
		if (*c == '\0')
			break;
		if (nw == MAX_WORDS)
			return fail(ps, "unexpected '%s'", c);
		w[nw++] = c;
		while (*c && !is_blank(*c))
			c++;
		if (*c)
			*c++ = '\0';
	}
	if (nw == 0)
		return 0;
	if (strcmp(w[0], "set") == 0)
		return parse_set(ps, w, nw);
	if (strcmp(w[0], "func") == 0)
		return parse_func(ps, w, nw);
	if (strcmp(w[0], "library") == 0)
		return parse_library(ps, w, nw);
	return fail(ps, "unknown statement '%s'", w[0]);
}

int attach_policy_parse(const char *text, size_t len, const char *origin, struct attach_policy *out,
			struct attach_policy_error *err)
{
	struct parser ps = { .origin = origin ? origin : "attach.policy", .err = err, .out = out };
	if (err)
		err->msg[0] = '\0';
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!text && len)
		return fail_at(&ps, 0, "no policy text");

	int rc = 0;
	size_t pos = 0;
	while (pos < len) {
		ps.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		rc = parse_line(&ps, text + pos, n);
		if (rc < 0)
			goto fail;
		pos += n + (nl ? 1 : 0);
	}
	/* Checked at the end because a set's funcs may follow other sets. A
	 * set without a required function would be attached to any file of its
	 * type, whether or not it is the library the set was written for. */
	for (unsigned i = 0; i < out->nsets; i++) {
		bool required = false;
		for (unsigned j = 0; j < out->sets[i].nfuncs; j++)
			required |= out->sets[i].funcs[j].required;
		if (!required) {
			rc = fail_at(&ps, ps.set_line[i], "set '%s' has no required function",
				     out->sets[i].name);
			goto fail;
		}
	}
	return 0;
fail:
	/* Never leave a half-read policy behind for a caller that ignores rc. */
	memset(out, 0, sizeof(*out));
	return rc;
}
