/* The attach policy (policy/attach.policy): which probe sets exist, which
 * functions each may probe (entry and/or return), which program types and
 * file sizes each may target, and which library file names map to which
 * set. privd checks every ATTACH against it; the collector uses it to pick
 * the set for a library; privd also hands the library name patterns to
 * the kernel-side open filter.
 *
 * This header is the table and the questions asked of it, nothing that
 * reads text: the shipped policy is compiled at build time into
 * usm_attach_policy_compiled, so no daemon parses it at run time. The
 * syntax and the parser (for the build tool and the tests) are in
 * attach_policy_parse.h. */
#ifndef USM_ATTACH_POLICY_H
#define USM_ATTACH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATTACH_MAX_SETS 8
#define ATTACH_MAX_FUNCS 16     /* per set; cookie = set id * ATTACH_MAX_FUNCS + function index */
#define ATTACH_MAX_LIBRARIES 8
#define ATTACH_PREFIX_MAX 16    /* NUL included */

struct attach_func {
	char name[64];
	bool entry;
	bool ret;
	bool ret_insns; /* an entry probe on each RET instruction (Go: no return probes) */
	bool required;
	uint8_t role; /* enum usm_tls_role */
	/* via=A,B: indexes + 1 in the set of the two functions this one is
	 * found through when no symbol names it (the common target of the
	 * first direct call in each: an internal function both call, which
	 * other paths reach too). 0, 0: none. */
	uint8_t via[2];
	/* The index + 1 of the via= function that replaces this one when it is
	 * found (this one calls it: probing both would see each call twice);
	 * 0: none. Derived by the parser from via. */
	uint8_t replaced_by;
};

struct probe_set {
	char name[32];
	uint8_t id;               /* index in attach_policy.sets */
	uint32_t targets;         /* bit (1 << enum usm_program_type) per allowed type */
	uint64_t max_file_size;
	uint8_t max_returns;      /* RET instructions probed per function, at most */
	unsigned nfuncs;
	struct attach_func funcs[ATTACH_MAX_FUNCS];
};

struct library_rule {
	char prefix[ATTACH_PREFIX_MAX];
	uint8_t set_id;
};

struct attach_policy {
	unsigned nsets;
	struct probe_set sets[ATTACH_MAX_SETS];
	unsigned nlibraries;
	struct library_rule libraries[ATTACH_MAX_LIBRARIES];
};

/* policy/attach.policy, compiled at build time by usm-policy-compile
 * (tools/policy-compile) with attach_policy_parse(): defined in the
 * generated attach_policy_compiled.c, which policy/meson.build puts in
 * attach_policy_c for the binaries that list it. */
extern const struct attach_policy usm_attach_policy_compiled;

/* The set with this name, or NULL. */
const struct probe_set *attach_policy_find_set(const struct attach_policy *p, const char *name);

/* Does file name `name` (a basename) match library prefix `prefix`: it
 * starts with it and the next character ends the name or starts a version
 * suffix ("libssl.so" matches "libssl.so.3", not "libssl.sox"). */
bool attach_policy_prefix_matches(const char *prefix, const char *name);

/* The set id for a library path (its basename matches a rule's prefix), or
 * -ENOENT. */
int attach_policy_set_for_library(const struct attach_policy *p, const char *path);

/* May set_id target a file of this program type and size? 0, or -EINVAL
 * (unknown set), -EPERM (type not allowed; reason "type-not-allowed"),
 * -EFBIG (reason "too-large"). reason gets a short word for the blocklist. */
int attach_policy_check(const struct attach_policy *p, unsigned set_id, unsigned program_type,
			uint64_t file_size, char *reason, size_t reason_len);


#endif
