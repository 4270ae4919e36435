/* libFuzzer target: the attach policy parser (common/attach_policy_parse.c)
 * on arbitrary text, as usm-policy-compile runs it on policy/attach.policy
 * at build time. A refusal says why and leaves nothing behind; an accepted
 * policy keeps the invariants privd relies on: counts within their bounds,
 * every set with a required function, via= indexes naming earlier
 * functions of the set whose replaced_by points back. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach_policy_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_set(const struct probe_set *s, unsigned id)
{
	bool required = false;
	if (s->id != id || s->nfuncs > ATTACH_MAX_FUNCS || !memchr(s->name, '\0', sizeof(s->name)))
		abort();
	for (unsigned i = 0; i < s->nfuncs; i++) {
		const struct attach_func *f = &s->funcs[i];
		required |= f->required;
		if (!memchr(f->name, '\0', sizeof(f->name)) || !f->name[0])
			abort();
		if (f->via[0] && (f->via[0] > i || f->via[1] > i || !f->via[1] ||
				  f->via[0] == f->via[1] ||
				  s->funcs[f->via[0] - 1].replaced_by != i + 1 ||
				  s->funcs[f->via[1] - 1].replaced_by != i + 1))
			abort();
		if (f->replaced_by && (f->replaced_by > s->nfuncs ||
				       s->funcs[f->replaced_by - 1].via[0] == 0))
			abort();
	}
	if (!required)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct attach_policy p;
	static const struct attach_policy zero;
	struct attach_policy_error err = {{0}};
	int rc = attach_policy_parse((const char *)data, size, "fuzz.policy", &p, &err);
	if (rc != 0) {
		if (!err.msg[0] || !memchr(err.msg, '\0', sizeof(err.msg)) ||
		    memcmp(&p, &zero, sizeof(p)) != 0)
			abort();
		return 0;
	}
	if (p.nsets > ATTACH_MAX_SETS || p.nlibraries > ATTACH_MAX_LIBRARIES)
		abort();
	for (unsigned i = 0; i < p.nsets; i++)
		check_set(&p.sets[i], i);
	for (unsigned i = 0; i < p.nlibraries; i++)
		if (p.libraries[i].set_id >= p.nsets ||
		    !memchr(p.libraries[i].prefix, '\0', sizeof(p.libraries[i].prefix)))
			abort();
	return 0;
}
