/* The questions asked of an attach policy table (attach_policy.h): which
 * set a library gets, and whether a set may target a file. No parsing:
 * the daemons ask them of the table compiled at build time. */
#include "attach_policy.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ipc_proto.h"
#include "inspect_proto.h"

_Static_assert(ATTACH_MAX_FUNCS == USM_INSPECT_MAX_FUNCS,
	       "an inspection answers for one probe set's functions");

const struct probe_set *attach_policy_find_set(const struct attach_policy *p, const char *name)
{
	if (!p || !name)
		return NULL;
	for (unsigned i = 0; i < p->nsets && i < ATTACH_MAX_SETS; i++)
		if (strcmp(p->sets[i].name, name) == 0)
			return &p->sets[i];
	return NULL;
}

bool attach_policy_prefix_matches(const char *prefix, const char *name)
{
	size_t n = strlen(prefix);
	return strncmp(name, prefix, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

int attach_policy_set_for_library(const struct attach_policy *p, const char *path)
{
	if (!p || !path)
		return -ENOENT;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (*base == '\0')
		return -ENOENT;
	for (unsigned i = 0; i < p->nlibraries && i < ATTACH_MAX_LIBRARIES; i++) {
		const struct library_rule *r = &p->libraries[i];
		if (r->prefix[0] != '\0' && attach_policy_prefix_matches(r->prefix, base))
			return r->set_id;
	}
	return -ENOENT;
}

static void set_reason(char *reason, size_t reason_len, const char *word)
{
	if (reason && reason_len > 0)
		snprintf(reason, reason_len, "%s", word);
}

int attach_policy_check(const struct attach_policy *p, unsigned set_id, unsigned program_type,
			uint64_t file_size, char *reason, size_t reason_len)
{
	if (!p || set_id >= p->nsets || set_id >= ATTACH_MAX_SETS) {
		set_reason(reason, reason_len, "unknown-set");
		return -EINVAL;
	}
	const struct probe_set *s = &p->sets[set_id];
	/* A type outside the enum is never allowed (and must not reach the
	 * shift below). */
	if (program_type >= USM_PROG_TYPE_COUNT || !(s->targets & (1u << program_type))) {
		set_reason(reason, reason_len, "type-not-allowed");
		return -EPERM;
	}
	if (file_size > s->max_file_size) {
		set_reason(reason, reason_len, "too-large");
		return -EFBIG;
	}
	set_reason(reason, reason_len, "");
	return 0;
}
