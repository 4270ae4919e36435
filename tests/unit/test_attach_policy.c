/* attach_policy: the shipped policy/attach.policy as privd will see it,
 * each parse error with its line, library name matching and the
 * allow/refuse answers privd acts on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attach_policy.h"
#include "attach_policy_parse.h"
#include "usm_events.h"
#include "ipc_proto.h"

#define ORIGIN "t.policy"
#define BIT(t) (1u << (t))

static struct attach_policy policy; /* large-ish: keep it off the stack */

static void parse_ok(const char *text, struct attach_policy *out)
{
	struct attach_policy_error err = { { 0 } };
	int rc = attach_policy_parse(text, strlen(text), ORIGIN, out, &err);
	if (rc != 0)
		print_error("unexpected parse error: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

/* Asserts the text is refused with exactly "t.policy:LINE: MESSAGE". */
static void assert_rejected(const char *text, unsigned line, const char *message)
{
	struct attach_policy_error err = { { 0 } };
	int rc = attach_policy_parse(text, strlen(text), ORIGIN, &policy, &err);
	char want[sizeof(err.msg)];
	snprintf(want, sizeof(want), ORIGIN ":%u: %s", line, message);
	if (rc != -EINVAL || strcmp(err.msg, want) != 0)
		fail_msg("rc %d, got \"%s\", want \"%s\"", rc, err.msg, want);
	/* a refused policy leaves nothing usable behind */
	assert_int_equal(policy.nsets, 0);
	assert_int_equal(policy.nlibraries, 0);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("%s: cannot open", path);
	char *buf = malloc(1024 * 1024);
	assert_non_null(buf);
	*len = fread(buf, 1, 1024 * 1024, f);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	return buf;
}

static const struct attach_func *find_func(const struct probe_set *s, const char *name)
{
	for (unsigned i = 0; i < s->nfuncs; i++)
		if (strcmp(s->funcs[i].name, name) == 0)
			return &s->funcs[i];
	fail_msg("function %s not in set %s", name, s->name);
	return NULL;
}

static void assert_func(const struct probe_set *s, const char *name, bool entry, bool ret,
			bool required, enum usm_tls_role role)
{
	const struct attach_func *f = find_func(s, name);
	if (f->entry != entry || f->ret != ret || f->required != required || f->role != role)
		fail_msg("%s.%s: entry %d return %d required %d role %d, want %d %d %d %d",
			 s->name, name, f->entry, f->ret, f->required, f->role, entry, ret, required,
			 role);
}

/* ---- the shipped policy ----------------------------------------------- */

static void test_shipped_policy_parses(void **state)
{
	(void)state;
	size_t len;
	char *text = read_file(USM_SOURCE_ROOT "/policy/attach.policy", &len);
	struct attach_policy_error err = { { 0 } };
	int rc = attach_policy_parse(text, len, "attach.policy", &policy, &err);
	free(text);
	if (rc != 0)
		fail_msg("%s", err.msg);

	assert_int_equal(policy.nsets, 3);
	const struct probe_set *ssl = attach_policy_find_set(&policy, "openssl");
	assert_non_null(ssl);
	assert_int_equal(ssl->id, 0);
	assert_int_equal(ssl->targets,
			 BIT(USM_PROG_SHARED_LIBRARIES) | BIT(USM_PROG_ISTIO) | BIT(USM_PROG_NODEJS));
	assert_int_equal(ssl->max_file_size, 512ull << 20);
	assert_int_equal(ssl->nfuncs, 9);
	/* reads need their return (the data exists only then); writes are
	 * captured at entry: one probe hit per write */
	assert_func(ssl, "SSL_read", true, true, true, USM_TLS_ROLE_READ);
	assert_func(ssl, "SSL_write", true, false, true, USM_TLS_ROLE_WRITE);
	assert_func(ssl, "SSL_read_ex", true, true, false, USM_TLS_ROLE_READ_EX);
	assert_func(ssl, "SSL_write_ex", true, false, false, USM_TLS_ROLE_WRITE);
	assert_func(ssl, "SSL_set_fd", true, false, false, USM_TLS_ROLE_SET_FD);
	assert_func(ssl, "SSL_shutdown", true, false, false, USM_TLS_ROLE_CLOSE);
	assert_func(ssl, "SSL_free", true, false, false, USM_TLS_ROLE_CLOSE);
	/* the internal read and write BIO_f_ssl reaches, found through the
	 * exported pair that call them, replacing those when found */
	assert_func(ssl, "ssl_read_internal", true, true, false, USM_TLS_ROLE_READ_EX);
	assert_func(ssl, "ssl_write_internal", true, false, false, USM_TLS_ROLE_WRITE);
	const struct attach_func *ri = find_func(ssl, "ssl_read_internal");
	const struct attach_func *wi = find_func(ssl, "ssl_write_internal");
	assert_string_equal(ssl->funcs[ri->via[0] - 1].name, "SSL_read_ex");
	assert_string_equal(ssl->funcs[ri->via[1] - 1].name, "SSL_read");
	assert_string_equal(ssl->funcs[wi->via[0] - 1].name, "SSL_write_ex");
	assert_string_equal(ssl->funcs[wi->via[1] - 1].name, "SSL_write");
	assert_ptr_equal(&ssl->funcs[find_func(ssl, "SSL_read")->replaced_by - 1], ri);
	assert_ptr_equal(&ssl->funcs[find_func(ssl, "SSL_write_ex")->replaced_by - 1], wi);
	assert_int_equal(find_func(ssl, "SSL_set_fd")->replaced_by, 0);

	const struct probe_set *gnutls = attach_policy_find_set(&policy, "gnutls");
	assert_non_null(gnutls);
	assert_int_equal(gnutls->id, 1);
	assert_int_equal(gnutls->targets, BIT(USM_PROG_SHARED_LIBRARIES));
	assert_int_equal(gnutls->max_file_size, 64ull << 20);
	assert_int_equal(gnutls->nfuncs, 5);
	assert_func(gnutls, "gnutls_record_recv", true, true, true, USM_TLS_ROLE_READ);
	assert_func(gnutls, "gnutls_record_send", true, false, true, USM_TLS_ROLE_WRITE);
	assert_func(gnutls, "gnutls_transport_set_int2", true, false, false, USM_TLS_ROLE_SET_FD);
	assert_func(gnutls, "gnutls_transport_set_ptr", true, false, false, USM_TLS_ROLE_SET_FD);
	assert_func(gnutls, "gnutls_deinit", true, false, false, USM_TLS_ROLE_CLOSE);

	/* Go: the executable itself; Read's count on each RET instruction */
	const struct probe_set *go = attach_policy_find_set(&policy, "gotls");
	assert_non_null(go);
	assert_int_equal(go->targets, BIT(USM_PROG_GO_TLS));
	assert_int_equal(go->max_returns, 16);
	assert_int_equal(go->nfuncs, 3);
	assert_func(go, "crypto/tls.(*Conn).Read", true, false, true, USM_TLS_ROLE_GO_READ);
	assert_true(find_func(go, "crypto/tls.(*Conn).Read")->ret_insns);
	assert_func(go, "crypto/tls.(*Conn).Write", true, false, true, USM_TLS_ROLE_GO_WRITE);
	assert_func(go, "crypto/tls.(*Conn).Close", true, false, false, USM_TLS_ROLE_GO_CLOSE);
	assert_false(find_func(go, "crypto/tls.(*Conn).Write")->ret_insns);

	assert_int_equal(policy.nlibraries, 2);
	assert_int_equal(attach_policy_set_for_library(&policy, "/usr/lib/x86_64-linux-gnu/libssl.so.3"),
			 ssl->id);
	assert_int_equal(attach_policy_set_for_library(&policy, "/lib/libgnutls.so.30"), gnutls->id);
	/* libcrypto has no rule: nothing there is probed */
	assert_int_equal(attach_policy_set_for_library(&policy, "/lib/libcrypto.so.3"), -ENOENT);
	assert_null(attach_policy_find_set(&policy, "libcrypto"));
}

/* ---- parsing ---------------------------------------------------------- */

static void test_syntax_details_parse(void **state)
{
	(void)state;
	parse_ok("# comment\n"
		 "\n"
		 "  \t \n"
		 "set a_1 max_size=1 targets=nodejs,istio # keywords in any order\r\n"
		 "set b targets=nodejs max_size=2K\n"
		 "set c targets=shared_libraries max_size=3G\n"
		 "func a_1 f1 return required\n"
		 "func b _g2 entry required#no blank before the comment\n"
		 "\tfunc c Hx entry,return required\n"
		 "library libfoo.so a_1\n"
		 "library libfoo-bar_1+x b\n"
		 "library libbar.so.3x c", /* no final newline */
		 &policy);
	assert_int_equal(policy.nsets, 3);
	assert_int_equal(policy.sets[0].targets, BIT(USM_PROG_NODEJS) | BIT(USM_PROG_ISTIO));
	assert_int_equal(policy.sets[0].max_file_size, 1);
	assert_int_equal(policy.sets[1].max_file_size, 2048);
	assert_int_equal(policy.sets[2].max_file_size, 3ull << 30);
	assert_true(policy.sets[0].funcs[0].ret && !policy.sets[0].funcs[0].entry);
	assert_string_equal(policy.sets[1].funcs[0].name, "_g2");
	assert_int_equal(policy.nlibraries, 3);
	assert_int_equal(policy.libraries[1].set_id, 1);
	assert_int_equal(attach_policy_set_for_library(&policy, "libbar.so.3x.1"), 2);
	assert_int_equal(attach_policy_set_for_library(&policy, "libbar.so.3"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "libfoo-bar_1+x.so"), 1);

	/* Longest allowed names. */
	parse_ok("set abcdefghijklmnopqrstuvwxyz01234 targets=istio max_size=1M\n"
		 "func abcdefghijklmnopqrstuvwxyz01234 "
		 "F23456789012345678901234567890123456789012345678901234567890123 entry required\n"
		 "library l23456789012345 abcdefghijklmnopqrstuvwxyz01234\n",
		 &policy);
	assert_int_equal(strlen(policy.sets[0].funcs[0].name), 63);
	assert_string_equal(policy.libraries[0].prefix, "l23456789012345");

	/* Empty text is an empty policy. */
	parse_ok("", &policy);
	assert_int_equal(policy.nsets, 0);
}

static void test_parse_errors_name_their_line(void **state)
{
	(void)state;
	const char *set_a = "set a targets=istio max_size=1M\n";
	char text[4096];

	/* unknown statement or keyword */
	assert_rejected("# x\nprobe a\n", 2, "unknown statement 'probe'");
	assert_rejected("set a targets=istio max=1M\n", 1,
			"unknown keyword 'max=1M' (want targets=... max_size=... max_returns=...)");
	assert_rejected("set a targets = istio max_size=1M\n", 1,
			"unknown keyword 'targets' (want targets=... max_size=... max_returns=...)");
	assert_rejected("set a targets=istio max_size=1M targets=istio\n", 1,
			"duplicate keyword 'targets'");
	assert_rejected("set a max_size=1 targets=istio max_size=1M\n", 1,
			"duplicate keyword 'max_size'");
	assert_rejected("set a max_size=1M\n", 1, "set 'a' needs targets=");
	assert_rejected("set a targets=istio\n", 1, "set 'a' needs max_size=");
	snprintf(text, sizeof(text), "%s\nfunc a f entry optional\n", set_a);
	assert_rejected(text, 3,
			"unexpected 'optional' (role=ROLE, required and via=A,B may follow the "
			"probes, once each)");
	snprintf(text, sizeof(text), "%s\nfunc a f entry required required\n", set_a);
	assert_rejected(text, 3,
			"unexpected 'required' (role=ROLE, required and via=A,B may follow the "
			"probes, once each)");
	snprintf(text, sizeof(text), "%s\nfunc a f entry role=peek\n", set_a);
	assert_rejected(text, 3,
			"unknown role 'peek' (none, read, read_ex, write, set_fd, close, go_read, "
			"go_write, go_close)");
	/* Go: a read's count on its RET instructions, never a return probe */
	snprintf(text, sizeof(text), "%s\nfunc a f entry,return role=go_read\n", set_a);
	assert_rejected(text, 3, "role=go_read goes with entry,ret-insns probes, and only it");
	snprintf(text, sizeof(text), "%s\nfunc a f entry,ret-insns role=read\n", set_a);
	assert_rejected(text, 3, "role=read needs entry,return probes");
	snprintf(text, sizeof(text), "%s\nfunc a f entry,ret-insns role=go_write\n", set_a);
	assert_rejected(text, 3, "role=go_read goes with entry,ret-insns probes, and only it");
	snprintf(text, sizeof(text), "%s\nfunc a f entry,return role=go_write\n", set_a);
	assert_rejected(text, 3, "role=go_write cannot have a return probe");
	snprintf(text, sizeof(text), "%s\nfunc a f entry,ret-insns role=go_read\n", set_a);
	assert_rejected(text, 3, "ret-insns probes need max_returns= on set 'a'");
	assert_rejected("set a targets=go-tls max_size=1 max_returns=0\n", 1,
			"bad or repeated max_returns '0' (1 to 16, once)");
	assert_rejected("set a targets=go-tls max_size=1 max_returns=17\n", 1,
			"bad or repeated max_returns '17' (1 to 16, once)");
	assert_rejected("set a targets=go-tls max_size=1 max_returns=4 max_returns=4\n", 1,
			"bad or repeated max_returns '4' (1 to 16, once)");
	assert_rejected("set a targets=go-tls max_size=1 max_returns=4x\n", 1,
			"bad or repeated max_returns '4x' (1 to 16, once)");
	/* Go's sets are Go's alone: no return probes, no other roles, and
	 * Go's roles and RET probes nowhere else */
	assert_rejected("set g targets=go-tls,istio max_size=1\n", 1,
			"set 'g': go-tls cannot share a set with other targets");
	const char *set_g = "set g targets=go-tls max_size=1M max_returns=4\n";
	snprintf(text, sizeof(text), "%sfunc g f entry,return\n", set_g);
	assert_rejected(text, 2, "set 'g' targets Go: no return probes, go_* roles only");
	snprintf(text, sizeof(text), "%sfunc g f entry role=write\n", set_g);
	assert_rejected(text, 2, "set 'g' targets Go: no return probes, go_* roles only");
	snprintf(text, sizeof(text), "%sfunc a f entry role=go_close\n", set_a);
	assert_rejected(text, 2, "role=go_close and ret-insns probes are for go-tls sets only");
	snprintf(text, sizeof(text), "set a targets=istio max_size=1M max_returns=2\n"
				     "func a f entry,ret-insns role=go_read\n");
	assert_rejected(text, 2, "role=go_read and ret-insns probes are for go-tls sets only");
	/* a read's bytes exist at return, a write's at entry */
	snprintf(text, sizeof(text), "%s\nfunc a f entry role=read\n", set_a);
	assert_rejected(text, 3, "role=read needs entry,return probes");
	snprintf(text, sizeof(text), "%s\nfunc a f return role=write\n", set_a);
	assert_rejected(text, 3, "role=write needs an entry probe");
	snprintf(text, sizeof(text), "%sfunc a f entry required now\n", set_a);
	assert_rejected(text, 2, "unexpected 'now' (role=ROLE, required and via=A,B may follow the "
				 "probes, once each)");
	snprintf(text, sizeof(text), "%sfunc a f\n", set_a);
	assert_rejected(text, 2, "func needs SET FUNCTION PROBES [role=ROLE] [required] [via=A,B]");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary libx.so\n", set_a);
	assert_rejected(text, 3, "library needs PREFIX SET");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary libx.so a b\n", set_a);
	assert_rejected(text, 3, "unexpected 'b'");
	assert_rejected("set a b c d e f g h i j\n", 1, "unexpected 'h i j'");

	/* bad name */
	assert_rejected("set\n", 1, "set needs a name");
	assert_rejected("set Open targets=istio max_size=1\n", 1,
			"bad set name 'Open' (want [a-z0-9_]{1,31})");
	assert_rejected("set abcdefghijklmnopqrstuvwxyz012345 targets=istio max_size=1\n", 1,
			"bad set name 'abcdefghijklmnopqrstuvwxyz012345' (want [a-z0-9_]{1,31})");
	snprintf(text, sizeof(text), "%sfunc a 9lives entry required\n", set_a);
	assert_rejected(text, 2, "bad function name '9lives'");
	snprintf(text, sizeof(text), "%sfunc a SSL-read entry required\n", set_a);
	assert_rejected(text, 2, "bad function name 'SSL-read'");
	snprintf(text, sizeof(text), "%sfunc a crypto/tls.(*Conn).Read[0] entry required\n", set_a);
	assert_rejected(text, 2, "bad function name 'crypto/tls.(*Conn).Read[0]'");
	snprintf(text, sizeof(text),
		 "%sfunc a F234567890123456789012345678901234567890123456789012345678901234 entry\n",
		 set_a);
	assert_rejected(
		text, 2,
		"bad function name 'F234567890123456789012345678901234567890123456789012345678901234'");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary lib/ssl.so a\n", set_a);
	assert_rejected(text, 3,
			"bad library prefix 'lib/ssl.so' (a file name start, no '/', at most 15 characters)");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary l234567890123456 a\n",
		 set_a);
	assert_rejected(
		text, 3,
		"bad library prefix 'l234567890123456' (a file name start, no '/', at most 15 characters)");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary libssl* a\n", set_a);
	assert_rejected(text, 3,
			"bad library prefix 'libssl*' (a file name start, no '/', at most 15 characters)");

	/* duplicates */
	snprintf(text, sizeof(text), "%sfunc a f entry required\n\nset a targets=nodejs max_size=1\n",
		 set_a);
	assert_rejected(text, 4, "duplicate set 'a'");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nfunc a f return\n", set_a);
	assert_rejected(text, 3, "duplicate function 'f' in set 'a'");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary libx.so a\nlibrary libx.so a\n",
		 set_a);
	assert_rejected(text, 4, "duplicate library 'libx.so'");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary libx a\nlibrary libx.so a\n",
		 set_a);
	assert_rejected(text, 4, "library 'libx.so' overlaps 'libx'");
	assert_rejected("set a targets=istio,nodejs,istio max_size=1\n", 1,
			"duplicate program type 'istio'");

	/* func or library naming an unknown set (a set must come first) */
	snprintf(text, sizeof(text), "func a f entry required\n%s", set_a);
	assert_rejected(text, 1, "unknown set 'a'");
	snprintf(text, sizeof(text), "%sfunc a f entry required\nlibrary libx.so b\n", set_a);
	assert_rejected(text, 3, "unknown set 'b'");

	/* a set with no required function: reported at the set's line */
	snprintf(text, sizeof(text),
		 "# two sets\n%sset b targets=nodejs max_size=1\nfunc b g entry required\n"
		 "func a f entry\n",
		 set_a);
	assert_rejected(text, 2, "set 'a' has no required function");
	assert_rejected("\n\nset z targets=istio max_size=1\n", 3, "set 'z' has no required function");

	/* too many sets / functions / libraries */
	size_t n = 0;
	for (int i = 0; i <= ATTACH_MAX_SETS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "set s%d targets=istio max_size=1\n", i);
	assert_rejected(text, ATTACH_MAX_SETS + 1, "too many sets (at most 8)");
	n = (size_t)snprintf(text, sizeof(text), "%s", set_a);
	for (int i = 0; i <= ATTACH_MAX_FUNCS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "func a f%d entry required\n", i);
	assert_rejected(text, ATTACH_MAX_FUNCS + 2, "too many functions in set 'a' (at most 16)");
	n = (size_t)snprintf(text, sizeof(text), "%sfunc a f entry required\n", set_a);
	for (int i = 0; i <= ATTACH_MAX_LIBRARIES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "library lib%d.so a\n", i);
	assert_rejected(text, ATTACH_MAX_LIBRARIES + 3, "too many libraries (at most 8)");

	/* bad size */
	const char *bad_sizes[] = { "", "M", "0", "0K", "12k", "1T", "1MB", "-1", "+1", "1.5M",
				    "18446744073709551616", "17179869184G" };
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		char want[128];
		snprintf(text, sizeof(text), "\nset a targets=istio max_size=%s\n", bad_sizes[i]);
		snprintf(want, sizeof(want), "bad size '%s' (bytes, optionally with K, M or G)",
			 bad_sizes[i]);
		assert_rejected(text, 2, want);
	}
	parse_ok("set a targets=istio max_size=18446744073709551615\n"
		 "set b targets=istio max_size=17179869183G\n"
		 "func a f entry required\nfunc b f entry required\n",
		 &policy);
	assert_int_equal(policy.sets[0].max_file_size, UINT64_MAX);
	assert_int_equal(policy.sets[1].max_file_size, 17179869183ull << 30);
	parse_ok("set g max_returns=3 targets=go-tls max_size=1M\n"
		 "func g pkg/x.(*T).Read entry,ret-insns role=go_read required\n",
		 &policy);
	assert_int_equal(policy.sets[0].max_returns, 3);
	assert_true(policy.sets[0].funcs[0].ret_insns && policy.sets[0].funcs[0].entry);
	assert_false(policy.sets[0].funcs[0].ret);
	assert_string_equal(policy.sets[0].funcs[0].name, "pkg/x.(*T).Read");

	/* bad probe kind */
	const char *bad_kinds[] = { "Entry", "exit", "return,entry", "entry,", "entry,entry", ",",
				    "ret-insns", "entry,return,ret-insns" };
	for (size_t i = 0; i < sizeof(bad_kinds) / sizeof(bad_kinds[0]); i++) {
		char want[128];
		snprintf(text, sizeof(text), "%sfunc a f %s required\n", set_a, bad_kinds[i]);
		snprintf(want, sizeof(want), "bad probe kind '%s' (entry, return, entry,return or "
			 "entry,ret-insns)", bad_kinds[i]);
		assert_rejected(text, 2, want);
	}

	/* unknown program type */
	assert_rejected("set a targets=java max_size=1\n", 1, "unknown program type 'java'");
	assert_rejected("set a targets=istio, max_size=1\n", 1, "unknown program type ''");
	assert_rejected("set a targets= max_size=1\n", 1, "unknown program type ''");
	assert_rejected("set a targets=go_tls max_size=1\n", 1, "unknown program type 'go_tls'");

	/* malformed text */
	static const char with_nul[] = "set a targets=istio max_size=1\nfunc a f\0 entry required\n";
	struct attach_policy_error err = { { 0 } };
	assert_int_equal(attach_policy_parse(with_nul, sizeof(with_nul) - 1, ORIGIN, &policy, &err),
			 -EINVAL);
	assert_string_equal(err.msg, ORIGIN ":2: NUL byte in the policy");
	memset(text, ' ', 600);
	strcpy(text + 600, "x\n");
	assert_rejected(text, 1, "line too long (at most 511 bytes)");
	/* a long comment is not a long statement */
	strcpy(text, "#");
	memset(text + 1, 'c', 2000);
	strcpy(text + 2001, "\nset a targets=istio max_size=1\nfunc a f entry required\n");
	parse_ok(text, &policy);
}

static void test_via_names_two_earlier_callers(void **state)
{
	(void)state;
	const char *head = "set a targets=istio max_size=1M\n"
			   "func a A entry,return role=read required\n"
			   "func a B entry,return role=read_ex\n"
			   "func a W entry role=write\n";
	char text[1024];
	snprintf(text, sizeof(text), "%sfunc a i entry,return role=read_ex via=A,B\n", head);
	parse_ok(text, &policy);
	const struct probe_set *s = attach_policy_find_set(&policy, "a");
	assert_int_equal(s->funcs[3].via[0], 1);
	assert_int_equal(s->funcs[3].via[1], 2);
	assert_int_equal(s->funcs[0].replaced_by, 4);
	assert_int_equal(s->funcs[1].replaced_by, 4);
	assert_int_equal(s->funcs[2].replaced_by, 0);
	assert_int_equal(s->funcs[3].replaced_by, 0);
	/* a write over a read and a write is not one */
	snprintf(text, sizeof(text), "%sfunc a i entry role=write via=W,A\n", head);
	assert_rejected(text, 5, "via=W,A: 'A' has a via= or is another's, or other probes");

	static const struct {
		const char *line, *message;
	} bad[] = {
		{"func a i entry,return via=A", "via= names two functions: via=A,B"},
		{"func a i entry,return via=A,Z",
		 "via=A,Z: two different functions of set 'a' given before it"},
		{"func a i entry,return via=A,A",
		 "via=A,A: two different functions of set 'a' given before it"},
		{"func a i entry,return via=A,i",
		 "via=A,i: two different functions of set 'a' given before it"},
		{"func a i entry via=A,B",
		 "via=A,B: 'A' has a via= or is another's, or other probes"},
		{"func a i entry,return role=read via=A,B",
		 "a via= function is role=read_ex over two reads, or role=write over two writes"},
		{"func a i entry,return via=A,B",
		 "a via= function is role=read_ex over two reads, or role=write over two writes"},
		{"func a i entry,return via=A,B via=A,B",
		 "unexpected 'via=A,B' (role=ROLE, required and via=A,B may follow the probes, "
		 "once each)"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s\n", head, bad[i].line);
		assert_rejected(text, 5, bad[i].message);
	}
	/* a caller belongs to one via= function at most, and has none itself */
	snprintf(text, sizeof(text), "%sfunc a i entry,return role=read_ex via=A,B\n"
		 "func a j entry,return role=read_ex via=A,B\n", head);
	assert_rejected(text, 6, "via=A,B: 'A' has a via= or is another's, or other probes");
	snprintf(text, sizeof(text), "%sfunc a i entry,return role=read_ex via=A,B\n"
		 "func a j entry,return role=read_ex via=i,W\n", head);
	assert_rejected(text, 6, "via=i,W: 'i' has a via= or is another's, or other probes");
	assert_rejected("set g targets=go-tls max_size=1M max_returns=4\n"
			"func g A entry role=go_write required\n"
			"func g B entry role=go_close\n"
			"func g i entry via=A,B\n", 4, "via= is not for go-tls sets");
}

static void test_null_error_and_origin(void **state)
{
	(void)state;
	const char *bad = "nope\n";
	assert_int_equal(attach_policy_parse(bad, strlen(bad), ORIGIN, &policy, NULL), -EINVAL);
	struct attach_policy_error err = { { 0 } };
	assert_int_equal(attach_policy_parse(bad, strlen(bad), NULL, &policy, &err), -EINVAL);
	assert_string_equal(err.msg, "attach.policy:1: unknown statement 'nope'");
	assert_int_equal(attach_policy_parse(bad, strlen(bad), ORIGIN, NULL, &err), -EINVAL);
	/* len bounds the text: the statement after it is not read */
	const char *cut = "set a targets=istio max_size=1\nfunc a f entry required\nnope\n";
	assert_int_equal(attach_policy_parse(cut, strlen(cut) - 5, ORIGIN, &policy, &err), 0);
}

/* ---- library matching ------------------------------------------------- */

static void test_set_for_library(void **state)
{
	(void)state;
	parse_ok("set openssl targets=shared_libraries max_size=1M\n"
		 "func openssl SSL_read entry,return required\n"
		 "set gnutls targets=shared_libraries max_size=1M\n"
		 "func gnutls gnutls_record_recv entry,return required\n"
		 "library libssl.so openssl\n"
		 "library libgnutls.so gnutls\n",
		 &policy);
	assert_int_equal(attach_policy_set_for_library(&policy, "/usr/lib/x86_64-linux-gnu/libssl.so.3"),
			 0);
	assert_int_equal(attach_policy_set_for_library(&policy, "libssl.so"), 0);
	assert_int_equal(attach_policy_set_for_library(&policy, "/lib/libssl.so.1.1"), 0);
	assert_int_equal(attach_policy_set_for_library(&policy, "/usr/lib/libgnutls.so.30"), 1);
	assert_int_equal(attach_policy_set_for_library(&policy, "libssl.sox"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "/opt/libssl.so.3/other"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "libssl3.so"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "/usr/lib/libgnutls-openssl.so.27"),
			 -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "/usr/lib/libssl.so/"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "xlibssl.so.3"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, "libssl.s"), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, ""), -ENOENT);
	assert_int_equal(attach_policy_set_for_library(&policy, NULL), -ENOENT);

	assert_non_null(attach_policy_find_set(&policy, "gnutls"));
	assert_null(attach_policy_find_set(&policy, "gnutl"));
	assert_null(attach_policy_find_set(&policy, NULL));
}

/* ---- check ------------------------------------------------------------ */

static void test_check_allows_and_refuses(void **state)
{
	(void)state;
	parse_ok("set openssl targets=shared_libraries,istio,nodejs max_size=512M\n"
		 "func openssl SSL_read entry,return required\n"
		 "set gnutls targets=shared_libraries max_size=64M\n"
		 "func gnutls gnutls_record_recv entry,return required\n",
		 &policy);
	char reason[64];

	strcpy(reason, "stale");
	assert_int_equal(attach_policy_check(&policy, 0, USM_PROG_NODEJS, 100u << 20, reason,
					     sizeof(reason)),
			 0);
	assert_string_equal(reason, "");
	assert_int_equal(attach_policy_check(&policy, 0, USM_PROG_ISTIO, 512u << 20, reason,
					     sizeof(reason)),
			 0);
	assert_int_equal(attach_policy_check(&policy, 1, USM_PROG_SHARED_LIBRARIES, 0, reason,
					     sizeof(reason)),
			 0);

	/* one byte over the limit */
	assert_int_equal(attach_policy_check(&policy, 0, USM_PROG_SHARED_LIBRARIES,
					     (512ull << 20) + 1, reason, sizeof(reason)),
			 -EFBIG);
	assert_string_equal(reason, "too-large");
	assert_int_equal(attach_policy_check(&policy, 1, USM_PROG_SHARED_LIBRARIES, UINT64_MAX,
					     reason, sizeof(reason)),
			 -EFBIG);
	assert_string_equal(reason, "too-large");

	/* type not in the set's targets, or not a type at all */
	assert_int_equal(attach_policy_check(&policy, 1, USM_PROG_NODEJS, 1, reason, sizeof(reason)),
			 -EPERM);
	assert_string_equal(reason, "type-not-allowed");
	assert_int_equal(attach_policy_check(&policy, 0, USM_PROG_GO_TLS, 1, reason, sizeof(reason)),
			 -EPERM);
	assert_string_equal(reason, "type-not-allowed");
	assert_int_equal(attach_policy_check(&policy, 0, USM_PROG_TYPE_COUNT, 1, reason,
					     sizeof(reason)),
			 -EPERM);
	assert_int_equal(attach_policy_check(&policy, 0, 31, 1, reason, sizeof(reason)), -EPERM);
	assert_int_equal(attach_policy_check(&policy, 0, 32, 1, reason, sizeof(reason)), -EPERM);
	assert_int_equal(attach_policy_check(&policy, 0, UINT32_MAX, 1, reason, sizeof(reason)),
			 -EPERM);
	assert_string_equal(reason, "type-not-allowed");
	/* the type is judged before the size */
	assert_int_equal(attach_policy_check(&policy, 1, USM_PROG_ISTIO, UINT64_MAX, reason,
					     sizeof(reason)),
			 -EPERM);

	/* unknown set */
	assert_int_equal(attach_policy_check(&policy, 2, USM_PROG_SHARED_LIBRARIES, 1, reason,
					     sizeof(reason)),
			 -EINVAL);
	assert_int_equal(attach_policy_check(&policy, ATTACH_MAX_SETS, USM_PROG_SHARED_LIBRARIES, 1,
					     reason, sizeof(reason)),
			 -EINVAL);

	/* reason is optional and never overrun */
	assert_int_equal(attach_policy_check(&policy, 1, USM_PROG_ISTIO, 1, NULL, 0), -EPERM);
	char tiny[4] = "abc";
	assert_int_equal(attach_policy_check(&policy, 1, USM_PROG_ISTIO, 1, tiny, sizeof(tiny)),
			 -EPERM);
	assert_string_equal(tiny, "typ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_policy_parses),
		cmocka_unit_test(test_syntax_details_parse),
		cmocka_unit_test(test_parse_errors_name_their_line),
		cmocka_unit_test(test_via_names_two_earlier_callers),
		cmocka_unit_test(test_null_error_and_origin),
		cmocka_unit_test(test_set_for_library),
		cmocka_unit_test(test_check_allows_and_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
