/* The attach policy compiled at build time (policy/meson.build,
 * usm-policy-compile attach) is, field by field, the table
 * attach_policy_parse() makes of the same text, unused slots included.
 * Fields, not memcmp: the parser copies structs whose padding C leaves
 * unspecified. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "attach_policy.h"
#include "attach_policy_parse.h"

extern const char usm_policy_attach[];
extern const unsigned long usm_policy_attach_len;

static struct attach_policy parsed; /* large-ish: keep it off the stack */

static void parse_shipped(void)
{
	struct attach_policy_error err = { { 0 } };
	if (attach_policy_parse(usm_policy_attach, usm_policy_attach_len, "attach.policy", &parsed,
				&err) != 0)
		fail_msg("%s", err.msg);
}

static void assert_same_func(const char *set, unsigned i, const struct attach_func *c,
			     const struct attach_func *p)
{
	if (strcmp(c->name, p->name) != 0 || c->entry != p->entry || c->ret != p->ret ||
	    c->required != p->required || c->role != p->role)
		fail_msg("set %s, function %u: compiled %s entry %d return %d required %d role %u, "
			 "parsed %s entry %d return %d required %d role %u",
			 set, i, c->name, c->entry, c->ret, c->required, c->role, p->name, p->entry,
			 p->ret, p->required, p->role);
}

static void assert_same_set(unsigned i, const struct probe_set *c, const struct probe_set *p)
{
	if (strcmp(c->name, p->name) != 0 || c->id != p->id || c->targets != p->targets ||
	    c->max_file_size != p->max_file_size || c->nfuncs != p->nfuncs)
		fail_msg("set %u: compiled %s id %u targets %#x max %llu funcs %u, "
			 "parsed %s id %u targets %#x max %llu funcs %u",
			 i, c->name, c->id, c->targets, (unsigned long long)c->max_file_size,
			 c->nfuncs, p->name, p->id, p->targets,
			 (unsigned long long)p->max_file_size, p->nfuncs);
	for (unsigned j = 0; j < ATTACH_MAX_FUNCS; j++)
		assert_same_func(p->name, j, &c->funcs[j], &p->funcs[j]);
}

static void test_compiled_attach_policy_equals_the_parsed_text(void **state)
{
	(void)state;
	parse_shipped();
	const struct attach_policy *c = &usm_attach_policy_compiled;
	/* two empty tables would agree too: the shipped one is not empty */
	assert_true(parsed.nsets > 0);
	assert_true(parsed.nlibraries > 0);
	assert_int_equal(c->nsets, parsed.nsets);
	assert_int_equal(c->nlibraries, parsed.nlibraries);
	for (unsigned i = 0; i < ATTACH_MAX_SETS; i++)
		assert_same_set(i, &c->sets[i], &parsed.sets[i]);
	for (unsigned i = 0; i < ATTACH_MAX_LIBRARIES; i++) {
		assert_string_equal(c->libraries[i].prefix, parsed.libraries[i].prefix);
		assert_int_equal(c->libraries[i].set_id, parsed.libraries[i].set_id);
	}
}

/* The queries privd and the collector ask give the same answers. */
static void test_compiled_attach_policy_answers_like_the_parsed_one(void **state)
{
	(void)state;
	parse_shipped();
	const char *paths[] = { "/usr/lib/x86_64-linux-gnu/libssl.so.3", "libgnutls.so.30",
				"/lib/libgnutls-openssl.so.27", "/usr/lib/libcrypto.so.3" };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(attach_policy_set_for_library(&usm_attach_policy_compiled, paths[i]),
				 attach_policy_set_for_library(&parsed, paths[i]));
	assert_ptr_equal(attach_policy_find_set(&usm_attach_policy_compiled, "openssl"),
			 &usm_attach_policy_compiled.sets[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled_attach_policy_equals_the_parsed_text),
		cmocka_unit_test(test_compiled_attach_policy_answers_like_the_parsed_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
