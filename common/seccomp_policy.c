/* Seccomp policy text -> libseccomp filter. The contract and the syntax are
 * in seccomp_policy.h; this file only parses, checks and compiles.
 *
 * The parser is strict on purpose: a policy is a security boundary that
 * people read in review, so anything ambiguous (an unknown name, a rule that
 * silently shadows another, an allowed call without a reason) is an error
 * with its line number rather than a guess. */
#include "seccomp_policy.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_BYTES 1024          /* longest policy line, NUL included */
#define FILE_MAX_BYTES (1024 * 1024) /* a policy is a few KiB; refuse junk */
#define ERRNO_MAX 4095               /* kernel errno range (MAX_ERRNO) */

/* Constants a policy may name. Only what the daemons' filters need to say
 * something precise about an argument; add a row when a policy needs one. */
struct named_const {
	const char *name;
	uint64_t value;
};

#define K(c) { #c, (uint64_t)(c) }
static const struct named_const named_consts[] = {
	K(AF_UNIX), K(AF_LOCAL), K(AF_INET), K(AF_INET6), K(AF_NETLINK), K(AF_PACKET),
	K(SOCK_STREAM), K(SOCK_DGRAM), K(SOCK_SEQPACKET), K(SOCK_RAW), K(SOCK_NONBLOCK),
	K(SOCK_CLOEXEC),
	K(MSG_DONTWAIT), K(MSG_NOSIGNAL), K(MSG_PEEK), K(MSG_WAITALL), K(MSG_CMSG_CLOEXEC),
	K(PROT_NONE), K(PROT_READ), K(PROT_WRITE), K(PROT_EXEC),
	K(O_RDONLY), K(O_WRONLY), K(O_RDWR), K(O_ACCMODE), K(O_CREAT), K(O_EXCL), K(O_TRUNC),
	K(O_APPEND), K(O_CLOEXEC), K(O_NONBLOCK), K(O_DIRECTORY), K(O_NOFOLLOW), K(O_NOCTTY),
	K(O_PATH),
	K(MAP_SHARED), K(MAP_PRIVATE), K(MAP_ANONYMOUS), K(MAP_ANON), K(MAP_FIXED),
	K(MAP_NORESERVE), K(MAP_STACK),
	K(F_DUPFD), K(F_DUPFD_CLOEXEC), K(F_GETFD), K(F_SETFD), K(F_GETFL), K(F_SETFL),
	K(TCGETS), K(FIONREAD), K(FIONBIO),
	K(SIG_BLOCK), K(SIG_UNBLOCK), K(SIG_SETMASK),
	K(PR_SET_NAME), K(PR_GET_NAME), K(PR_SET_NO_NEW_PRIVS), K(PR_GET_NO_NEW_PRIVS),
	K(PR_SET_PDEATHSIG), K(PR_CAPBSET_READ), K(PR_CAPBSET_DROP), K(PR_GET_DUMPABLE),
	K(PR_SET_DUMPABLE), K(PR_SET_KEEPCAPS), K(PR_CAP_AMBIENT), K(PR_GET_SECCOMP),
	K(CLONE_VM), K(CLONE_FS), K(CLONE_FILES), K(CLONE_SIGHAND), K(CLONE_THREAD),
	K(CLONE_SYSVSEM), K(CLONE_SETTLS), K(CLONE_PARENT_SETTID), K(CLONE_CHILD_CLEARTID),
};
#undef K

/* glibc names errno values itself (strerrorname_np) but only by their
 * primary name; these are the aliases people also write. */
static const struct named_const errno_aliases[] = {
	{ "EWOULDBLOCK", EWOULDBLOCK },
	{ "EDEADLOCK", EDEADLOCK },
	{ "ENOTSUP", ENOTSUP },
};

/* One line being parsed: where we are and where to report. */
struct parser {
	const char *origin;
	unsigned line;
	struct usm_policy_error *err;
	const char *p; /* cursor in the NUL-terminated rule text */
};

static int fail_at(struct usm_policy_error *err, const char *origin, unsigned line, int rc,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Every parse error reads "ORIGIN:LINE: message" (like compilers) so that
 * editors and CI logs can jump to it. */
static int fail_at(struct usm_policy_error *err, const char *origin, unsigned line, int rc,
		   const char *fmt, ...)
{
	if (!err)
		return rc;
	int n = snprintf(err->msg, sizeof(err->msg), "%s:%u: ", origin, line);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return rc;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return rc;
}

#define fail(ps, ...) fail_at((ps)->err, (ps)->origin, (ps)->line, -EINVAL, __VA_ARGS__)

static bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void skip_space(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static size_t word_len(const char *p)
{
	size_t n = 0;
	while (is_word_char(p[n]))
		n++;
	return n;
}

/* Length of the offending token for messages: up to the next blank. */
static int token_len(const char *p)
{
	size_t n = 0;
	while (p[n] && p[n] != ' ' && p[n] != '\t' && n < 40)
		n++;
	return (int)n;
}

static bool at(const struct parser *ps, const char *s) { return strncmp(ps->p, s, strlen(s)) == 0; }

/* End of the rule text (the reason was cut off before parsing). */
static bool at_end(const struct parser *ps) { return *ps->p == '\0'; }

static const struct named_const *find_const(const struct named_const *table, size_t n,
					    const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
			return &table[i];
	return NULL;
}

static int find_errno(const char *name, size_t len)
{
	const struct named_const *alias = find_const(
		errno_aliases, sizeof(errno_aliases) / sizeof(errno_aliases[0]), name, len);
	if (alias)
		return (int)alias->value;
	for (int e = 1; e <= ERRNO_MAX; e++) {
		const char *s = strerrorname_np(e);
		if (s && strlen(s) == len && memcmp(s, name, len) == 0)
			return e;
	}
	return 0;
}

/* A number (decimal, or 0x hex) or a named constant. Octal is refused: in
 * a policy "010" would silently mean 8 to some readers and 10 to others. */
static int parse_term(struct parser *ps, uint64_t *out)
{
	size_t len = word_len(ps->p);
	if (len == 0) {
		if (at_end(ps) || at(ps, "&&") || at(ps, "=>"))
			return fail(ps, "missing value after '|'");
		return fail(ps, "expected a number or constant, found '%.*s'", token_len(ps->p), ps->p);
	}
	char word[64];
	if (len >= sizeof(word))
		return fail(ps, "value '%.*s...' is too long", 40, ps->p);
	memcpy(word, ps->p, len);
	word[len] = '\0';
	ps->p += len;

	if (isdigit((unsigned char)word[0])) {
		bool hex = word[0] == '0' && (word[1] == 'x' || word[1] == 'X');
		if (!hex && word[0] == '0' && word[1] != '\0')
			return fail(ps, "ambiguous number '%s' (octal is not supported: write decimal or 0x hex)",
				    word);
		const char *digits = hex ? word + 2 : word;
		char *end;
		errno = 0;
		unsigned long long v = strtoull(digits, &end, hex ? 16 : 10);
		if (*digits == '\0' || *end != '\0' || !isxdigit((unsigned char)*digits))
			return fail(ps, "bad number '%s'", word);
		if (errno == ERANGE)
			return fail(ps, "number '%s' does not fit in 64 bits", word);
		*out = v;
		return 0;
	}
	const struct named_const *k =
		find_const(named_consts, sizeof(named_consts) / sizeof(named_consts[0]), word, len);
	if (!k)
		return fail(ps, "unknown constant '%s'", word);
	*out = k->value;
	return 0;
}

/* TERM ['|' TERM]...: flags are written the way C code writes them. */
static int parse_value(struct parser *ps, uint64_t *out)
{
	uint64_t v = 0;
	for (;;) {
		skip_space(ps);
		uint64_t term = 0;
		int rc = parse_term(ps, &term);
		if (rc < 0)
			return rc;
		v |= term;
		skip_space(ps);
		if (at(ps, "||"))
			return fail(ps, "'||' is not supported: write each alternative on its own line");
		if (*ps->p != '|')
			break;
		ps->p++;
	}
	*out = v;
	return 0;
}

static const struct {
	const char *text;
	enum scmp_compare op;
} operators[] = {
	/* two-character operators first so "<=" is not read as "<" */
	{ "==", SCMP_CMP_EQ }, { "!=", SCMP_CMP_NE }, { "<=", SCMP_CMP_LE },
	{ ">=", SCMP_CMP_GE }, { "<", SCMP_CMP_LT },  { ">", SCMP_CMP_GT },
};

/* argN OP VALUE | argN & MASK == VALUE */
static int parse_cond(struct parser *ps, struct usm_policy_cond *c)
{
	size_t len = word_len(ps->p);
	if (len < 3 || strncmp(ps->p, "arg", 3) != 0)
		return fail(ps, "expected a condition 'argN OP VALUE', found '%.*s'", token_len(ps->p),
			    ps->p);
	if (len != 4 || ps->p[3] < '0' || ps->p[3] > '5')
		return fail(ps, "bad argument index '%.*s' (arguments are arg0 to arg5)", (int)len, ps->p);
	c->arg = (unsigned)(ps->p[3] - '0');
	ps->p += len;
	skip_space(ps);

	if (at_end(ps) || at(ps, "&&") || at(ps, "=>"))
		return fail(ps, "condition on arg%u without operator", c->arg);

	if (*ps->p == '&') {
		/* libseccomp's masked equality: (arg & datum_a) == datum_b */
		ps->p++;
		int rc = parse_value(ps, &c->mask);
		if (rc < 0)
			return rc;
		if (!at(ps, "=="))
			return fail(ps, "masked condition must read 'arg%u & MASK == VALUE', found '%.*s'",
				    c->arg, token_len(ps->p), ps->p);
		ps->p += 2;
		skip_space(ps);
		if (at_end(ps) || at(ps, "&&") || at(ps, "=>"))
			return fail(ps, "condition on arg%u without value", c->arg);
		rc = parse_value(ps, &c->value);
		if (rc < 0)
			return rc;
		if (c->value & ~c->mask)
			return fail(ps,
				    "arg%u & 0x%llx == 0x%llx can never be true (value has bits outside the mask)",
				    c->arg, (unsigned long long)c->mask, (unsigned long long)c->value);
		c->op = SCMP_CMP_MASKED_EQ;
		return 0;
	}

	const char *op_start = ps->p;
	for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
		if (!at(ps, operators[i].text))
			continue;
		ps->p += strlen(operators[i].text);
		/* "<<", "===", "=<"...: better refused than half-read */
		if (*ps->p != '\0' && strchr("<>=!&|", *ps->p))
			break;
		skip_space(ps);
		if (at_end(ps) || at(ps, "&&") || at(ps, "=>"))
			return fail(ps, "condition on arg%u without value", c->arg);
		c->op = operators[i].op;
		c->mask = 0;
		return parse_value(ps, &c->value);
	}
	ps->p = op_start;
	return fail(ps, "bad operator '%.*s' after arg%u (use == != < <= > >= or '& MASK ==')",
		    token_len(ps->p), ps->p, c->arg);
}

/* Conditions are kept sorted by argument so that two rules can be compared
 * as sets (the order they were written in does not matter). */
static void sort_conds(struct usm_policy_rule *r)
{
	for (unsigned i = 1; i < r->ncond; i++) {
		struct usm_policy_cond c = r->cond[i];
		unsigned j = i;
		for (; j > 0 && r->cond[j - 1].arg > c.arg; j--)
			r->cond[j] = r->cond[j - 1];
		r->cond[j] = c;
	}
}

/* NAME [COND [&& COND]...] [=> ERRNO], the reason already cut off. */
static int parse_rule(struct parser *ps, struct usm_policy_rule *r)
{
	skip_space(ps);
	size_t len = word_len(ps->p);
	if (len == 0)
		return fail(ps, "expected a syscall name, found '%.*s'", token_len(ps->p), ps->p);
	if (len >= sizeof(r->name))
		return fail(ps, "unknown syscall '%.*s'", (int)len, ps->p);
	memcpy(r->name, ps->p, len);
	r->name[len] = '\0';
	ps->p += len;

	r->syscall_nr = seccomp_syscall_resolve_name(r->name);
	if (r->syscall_nr == __NR_SCMP_ERROR)
		return fail(ps, "unknown syscall '%s'", r->name);
	/* libseccomp knows every arch's names and gives the ones the native
	 * arch lacks a negative pseudo number; a rule on it would do nothing. */
	if (r->syscall_nr < 0)
		return fail(ps, "syscall '%s' does not exist on this architecture", r->name);

	unsigned seen_args = 0; /* bit per argument already constrained */
	for (;;) {
		skip_space(ps);
		if (at_end(ps) || at(ps, "=>"))
			break;
		if (r->ncond > 0) {
			if (!at(ps, "&&")) {
				if (at(ps, "||"))
					return fail(ps, "'||' is not supported: write each alternative on its own line");
				return fail(ps, "expected '&&', '=> ERRNO' or '# reason', found '%.*s'",
					    token_len(ps->p), ps->p);
			}
			ps->p += 2;
			skip_space(ps);
		}
		if (r->ncond == USM_POLICY_MAX_CONDS)
			return fail(ps, "too many conditions (at most %d)", USM_POLICY_MAX_CONDS);
		struct usm_policy_cond *c = &r->cond[r->ncond];
		int rc = parse_cond(ps, c);
		if (rc < 0)
			return rc;
		/* libseccomp 2.5 takes one comparison per argument per rule. */
		if (seen_args & (1u << c->arg))
			return fail(ps, "arg%u is tested twice in one rule (use one condition, or two lines)",
				    c->arg);
		seen_args |= 1u << c->arg;
		r->ncond++;
	}

	if (at(ps, "=>")) {
		ps->p += 2;
		skip_space(ps);
		len = word_len(ps->p);
		if (len == 0)
			return fail(ps, "'=>' without an errno name (e.g. '=> EPERM')");
		r->errno_action = find_errno(ps->p, len);
		if (r->errno_action == 0)
			return fail(ps, "unknown errno '%.*s'", (int)len, ps->p);
		ps->p += len;
		skip_space(ps);
		if (!at_end(ps))
			return fail(ps, "unexpected '%.*s' after the errno", token_len(ps->p), ps->p);
	}
	sort_conds(r);
	return 0;
}

static bool same_conds(const struct usm_policy_rule *a, const struct usm_policy_rule *b)
{
	if (a->ncond != b->ncond)
		return false;
	for (unsigned i = 0; i < a->ncond; i++) {
		const struct usm_policy_cond *x = &a->cond[i], *y = &b->cond[i];
		if (x->arg != y->arg || x->op != y->op || x->value != y->value || x->mask != y->mask)
			return false;
	}
	return true;
}

/* The header's rule: several lines for one syscall are alternatives, so
 * every one of them must be conditional; anything else would let one line
 * silently widen or contradict another. */
/* Anything but == and masked ==. */
static bool has_inequality(const struct usm_policy_rule *r)
{
	for (unsigned i = 0; i < r->ncond; i++)
		if (r->cond[i].op != SCMP_CMP_EQ && r->cond[i].op != SCMP_CMP_MASKED_EQ)
			return true;
	return false;
}

static int check_against_earlier(struct parser *ps, const struct usm_policy *policy,
				 const struct usm_policy_rule *r)
{
	/* libseccomp 2.5 takes minutes (found by the fuzzer) to build
	 * alternatives that compare with != < <= > >=; alternatives of ==
	 * and masked == stay cheap. So several lines for one syscall may use
	 * only those, and at most USM_POLICY_MAX_ALTERNATIVES of them. */
	unsigned alternatives = 1;
	bool inequality = has_inequality(r);
	for (size_t i = 0; i < policy->nrules; i++) {
		if (policy->rules[i].syscall_nr == r->syscall_nr) {
			alternatives++;
			inequality |= has_inequality(&policy->rules[i]);
		}
	}
	if (alternatives > 1 && inequality)
		return fail(ps,
			    "'%s' on several lines may only compare with == or & MASK ==: != < <= > >= "
			    "belong on a single line (libseccomp cannot build such alternatives in "
			    "reasonable time)",
			    r->name);
	if (alternatives > USM_POLICY_MAX_ALTERNATIVES)
		return fail(ps, "too many lines for '%s' (at most %u)", r->name,
			    USM_POLICY_MAX_ALTERNATIVES);
	for (size_t i = 0; i < policy->nrules; i++) {
		const struct usm_policy_rule *old = &policy->rules[i];
		if (old->syscall_nr != r->syscall_nr)
			continue;
		if (old->ncond == 0 && r->ncond == 0)
			return fail(ps, "duplicate rule for '%s' (first at line %u)", r->name, old->line);
		if (old->ncond > 0 && r->ncond == 0)
			return fail(ps,
				    "unconditional rule for '%s' but line %u has a conditional one "
				    "(a syscall on several lines needs conditions on every line)",
				    r->name, old->line);
		if (old->ncond == 0)
			return fail(ps,
				    "conditional rule for '%s' but line %u already has an unconditional one",
				    r->name, old->line);
		if (same_conds(old, r)) {
			if (old->errno_action == r->errno_action)
				return fail(ps, "duplicate rule for '%s' (identical to line %u)", r->name,
					    old->line);
			return fail(ps, "rule for '%s' has the same conditions as line %u but another action",
				    r->name, old->line);
		}
	}
	return 0;
}

/* One physical line: a comment, a blank, or a rule with its reason. */
static int parse_line(struct parser *ps, char *text, struct usm_policy *policy)
{
	char *hash = strchr(text, '#');
	if (hash)
		*hash = '\0';
	ps->p = text;
	skip_space(ps);
	if (at_end(ps))
		return 0; /* blank or comment-only line */

	const char *reason = hash ? hash + 1 : "";
	while (*reason == ' ' || *reason == '\t')
		reason++;
	if (*reason == '\0')
		return fail(ps, "missing reason comment (write 'RULE  # why it is needed')");

	if (policy->nrules == USM_POLICY_MAX_RULES)
		return fail_at(ps->err, ps->origin, ps->line, -E2BIG, "too many rules (at most %d)",
			       USM_POLICY_MAX_RULES);
	struct usm_policy_rule *r = &policy->rules[policy->nrules];
	memset(r, 0, sizeof(*r));
	r->line = ps->line;
	int rc = parse_rule(ps, r);
	if (rc < 0)
		return rc;
	rc = check_against_earlier(ps, policy, r);
	if (rc < 0)
		return rc;
	policy->nrules++;
	return 0;
}

int usm_policy_parse(const char *text, size_t len, const char *origin, struct usm_policy **out,
		     struct usm_policy_error *err)
{
	*out = NULL;
	if (err)
		err->msg[0] = '\0';
	struct usm_policy *policy = calloc(1, sizeof(*policy));
	if (!policy)
		return -ENOMEM;
	snprintf(policy->origin, sizeof(policy->origin), "%s", origin);

	struct parser ps = { .origin = origin, .err = err };
	size_t pos = 0;
	int rc = 0;
	while (pos < len && rc == 0) {
		ps.line++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *start = text + pos;
		pos += n + (nl ? 1 : 0);
		if (n > 0 && start[n - 1] == '\r')
			n--; /* tolerate CRLF files */
		if (n >= LINE_MAX_BYTES) {
			rc = fail(&ps, "line too long (at most %d bytes)", LINE_MAX_BYTES - 1);
			break;
		}
		if (memchr(start, '\0', n)) {
			rc = fail(&ps, "NUL byte in policy text");
			break;
		}
		char line[LINE_MAX_BYTES];
		memcpy(line, start, n);
		line[n] = '\0';
		rc = parse_line(&ps, line, policy);
	}
	if (rc < 0) {
		free(policy);
		return rc;
	}
	*out = policy;
	return 0;
}

int usm_policy_parse_file(const char *path, struct usm_policy **out, struct usm_policy_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;
		if (err)
			snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-rc));
		return rc;
	}
	/* Read to EOF rather than trusting st_size, so pipes and /dev/stdin
	 * work too; the cap keeps a wrong path from eating memory. */
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc = buf ? 0 : -ENOMEM;
	while (rc == 0) {
		if (len == cap) {
			if (cap >= FILE_MAX_BYTES) {
				rc = -EFBIG;
				break;
			}
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				rc = -ENOMEM;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (n == 0)
			break;
		else
			len += (size_t)n;
	}
	close(fd);
	if (rc == 0)
		rc = usm_policy_parse(buf, len, path, out, err);
	else if (err && rc == -EFBIG)
		snprintf(err->msg, sizeof(err->msg), "%s: larger than %d bytes, not a policy", path,
			 FILE_MAX_BYTES);
	else if (err)
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path, strerror(-rc));
	free(buf);
	return rc;
}

void usm_policy_free(struct usm_policy *policy) { free(policy); }

int usm_policy_build(const struct usm_policy *policy, uint32_t default_action,
		     scmp_filter_ctx *out)
{
	*out = NULL;
	/* NULL means an action libseccomp or the kernel does not support
	 * (or no memory, which libseccomp does not tell apart). */
	scmp_filter_ctx ctx = seccomp_init(default_action);
	if (!ctx)
		return -EINVAL;
	/* Only the native arch is in the filter; a call made through another
	 * ABI (int 0x80, x32) must not slip past the rules, so it kills. */
	int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* Kernel errors from seccomp_load as they are, not as -ECANCELED. */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);

	for (size_t i = 0; i < policy->nrules && rc == 0; i++) {
		const struct usm_policy_rule *r = &policy->rules[i];
		uint32_t action = r->errno_action ? SCMP_ACT_ERRNO((uint32_t)r->errno_action)
						  : SCMP_ACT_ALLOW;
		/* libseccomp refuses (-EACCES) a rule that only restates the
		 * default action; it would change nothing anyway. */
		if (action == default_action)
			continue;
		struct scmp_arg_cmp cmp[USM_POLICY_MAX_CONDS];
		for (unsigned j = 0; j < r->ncond; j++) {
			const struct usm_policy_cond *c = &r->cond[j];
			bool masked = c->op == SCMP_CMP_MASKED_EQ;
			cmp[j] = (struct scmp_arg_cmp){
				.arg = c->arg,
				.op = c->op,
				.datum_a = masked ? c->mask : c->value,
				.datum_b = masked ? c->value : 0,
			};
		}
		rc = seccomp_rule_add_array(ctx, action, r->syscall_nr, r->ncond, cmp);
	}
	if (rc < 0) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int usm_policy_apply(const struct usm_policy *policy, enum usm_seccomp_mode mode)
{
	uint32_t default_action;
	switch (mode) {
	case USM_SECCOMP_KILL:
		default_action = SCMP_ACT_KILL_PROCESS;
		break;
	case USM_SECCOMP_LOG:
		default_action = SCMP_ACT_LOG;
		break;
	default:
		return -EINVAL;
	}

	/* Set no_new_privs ourselves, before building, so that a failure is
	 * reported as such rather than as a failed load; libseccomp's own
	 * attempt (CTL_NNP) is then redundant and switched off. Installing
	 * with TSYNC gives every other thread no_new_privs as well. */
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	if (nnp < 0)
		return -errno;
	if (nnp == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;

	scmp_filter_ctx ctx;
	int rc = usm_policy_build(policy, default_action, &ctx);
	if (rc < 0)
		return rc;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* nng starts worker threads before a daemon confines itself: TSYNC
	 * puts them under the same filter, or the load fails (-ESRCH). */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	return rc;
}

int usm_policy_apply_text(const char *text, size_t len, const char *origin,
			  enum usm_seccomp_mode mode)
{
	struct usm_policy *policy;
	struct usm_policy_error err;
	int rc = usm_policy_parse(text, len, origin, &policy, &err);
	if (rc < 0) {
		if (err.msg[0])
			log_error("seccomp policy: %s", err.msg);
		else
			log_error("seccomp policy %s: %s", origin, strerror(-rc));
		return rc;
	}
	rc = usm_policy_apply(policy, mode);
	if (rc < 0)
		log_error("seccomp policy %s: cannot install filter (%s mode): %s", origin,
			  mode == USM_SECCOMP_LOG ? "log" : "kill", strerror(-rc));
	usm_policy_free(policy);
	return rc;
}

int usm_policy_export_bpf(const struct usm_policy *policy, uint32_t default_action,
			  struct sock_filter **prog, unsigned *len)
{
	*prog = NULL;
	*len = 0;
	scmp_filter_ctx ctx;
	int rc = usm_policy_build(policy, default_action, &ctx);
	if (rc < 0)
		return rc;
	/* libseccomp 2.5 exports BPF only to an fd (seccomp_export_bpf_mem
	 * came in 2.6); a memfd keeps it off the file system. */
	int fd = memfd_create("usm-policy-bpf", MFD_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		seccomp_release(ctx);
		return rc;
	}
	rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	off_t size = rc < 0 ? 0 : lseek(fd, 0, SEEK_END);
	if (rc == 0 && size < 0)
		rc = -errno;
	else if (rc == 0 && (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0))
		rc = -EIO;
	else if (rc == 0 && size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter)))
		rc = -E2BIG;
	struct sock_filter *insns = rc == 0 ? malloc((size_t)size) : NULL;
	if (rc == 0 && !insns)
		rc = -ENOMEM;
	if (rc == 0 && pread(fd, insns, (size_t)size, 0) != size)
		rc = -EIO;
	close(fd);
	if (rc < 0) {
		free(insns);
		return rc;
	}
	*prog = insns;
	*len = (unsigned)((size_t)size / sizeof(struct sock_filter));
	return 0;
}

int usm_policy_export_pfc(const struct usm_policy *policy, int fd)
{
	scmp_filter_ctx ctx;
	int rc = usm_policy_build(policy, SCMP_ACT_KILL_PROCESS, &ctx);
	if (rc < 0)
		return rc;
	rc = seccomp_export_pfc(ctx, fd);
	seccomp_release(ctx);
	return rc;
}
