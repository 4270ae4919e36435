/* The attach policy (policy/attach.policy): which probe sets exist, which
 * functions each may probe (entry and/or return), which program types and
 * file sizes each may target, and which library file names map to which
 * set. privd checks every ATTACH against it; the collector uses it to pick
 * the set for a library; privd also hands the library name patterns to
 * the kernel-side open filter. Built into both binaries, like the seccomp
 * policies.
 *
 * File syntax, one statement a line, '#' starts a comment:
 *
 *     set NAME targets=TYPE[,TYPE...] max_size=SIZE
 *     func SET FUNCTION PROBES [role=ROLE] [required]
 *     library PREFIX SET
 *
 *   NAME, SET    [a-z0-9_]{1,31}; a `set` line must come before its funcs.
 *   TYPE         shared_libraries | istio | nodejs | go-tls
 *   SIZE         bytes, optionally with K, M or G (powers of 1024)
 *   FUNCTION     a C identifier, at most 63 characters
 *   PROBES       entry | return | entry,return
 *   ROLE         what the capture programs do with it (enum usm_tls_role):
 *                read | read_ex (entry,return) | write | set_fd | close
 *                (entry) | none (the default: hits counted only)
 *   required     the file must export it, or the set is refused for that
 *                file ("no-symbols"); other functions are probed if present
 *   PREFIX       a file name prefix, e.g. libssl.so (matches libssl.so.3);
 *                no '/', at most 15 characters (the kernel filter's size)
 *
 * Errors are "ORIGIN:LINE: message": unknown statement or keyword, bad
 * name, duplicate set/function/library, func or library naming an unknown
 * set, a set with no required function, too many sets/functions/libraries,
 * bad size, bad probe kind, unknown program type. */
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
	bool required;
	uint8_t role; /* enum usm_tls_role */
};

struct probe_set {
	char name[32];
	uint8_t id;               /* index in attach_policy.sets */
	uint32_t targets;         /* bit (1 << enum usm_program_type) per allowed type */
	uint64_t max_file_size;
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

struct attach_policy_error {
	char msg[256];
};

/* Parses text[0..len) into *out. 0, or -EINVAL with err set. */
int attach_policy_parse(const char *text, size_t len, const char *origin, struct attach_policy *out,
			struct attach_policy_error *err);

/* The set with this name, or NULL. */
const struct probe_set *attach_policy_find_set(const struct attach_policy *p, const char *name);

/* The set id for a library path (its basename starts with a rule's
 * prefix, and the next character is '\0' or '.'), or -ENOENT. */
int attach_policy_set_for_library(const struct attach_policy *p, const char *path);

/* May set_id target a file of this program type and size? 0, or -EINVAL
 * (unknown set), -EPERM (type not allowed; reason "type-not-allowed"),
 * -EFBIG (reason "too-large"). reason gets a short word for the blocklist. */
int attach_policy_check(const struct attach_policy *p, unsigned set_id, unsigned program_type,
			uint64_t file_size, char *reason, size_t reason_len);

#endif
