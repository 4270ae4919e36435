/* Seccomp policies as readable text, compiled with libseccomp.
 *
 * Policy file syntax (policy/NAME.policy), one rule per line:
 *
 *     # a comment line
 *     NAME [COND [&& COND]...] [=> ERRNO]   # reason (required)
 *
 *   NAME   a syscall name libseccomp knows for the native architecture.
 *   COND   argN OP VALUE, or argN & MASK == VALUE (masked equality);
 *          N is 0-5; OP is one of == != < <= > >=; VALUE and MASK are a
 *          decimal or 0x hex number or a known constant (AF_UNIX, PROT_EXEC,
 *          ...), several joined with '|'. Conditions on a line are ANDed.
 *   => ERRNO  instead of allowing, fail the call with this errno (EPERM,
 *          ENOSYS, ...): for harmless calls libc makes that must fail
 *          softly rather than kill.
 *   The trailing "# reason" is mandatory: every allowed call says why.
 *
 * A syscall may appear on several lines only if every one of those lines
 * has conditions (each line is one alternative; they are ORed), at most
 * USM_POLICY_MAX_ALTERNATIVES lines, and those lines compare only with ==
 * or & MASK == (libseccomp 2.5 takes minutes to build alternatives with
 * != < <= > >=; on a single line they are fine). An
 * unconditional duplicate, a repeated identical rule, an unknown syscall,
 * an unknown constant, a bad argument index or operator, or a rule without
 * a reason is an error "ORIGIN:LINE: message".
 *
 * Applying: the default action is SECCOMP_RET_KILL_PROCESS in kill mode,
 * SECCOMP_RET_LOG in log mode; the architecture is checked first (a foreign
 * arch is killed); the filter is installed with TSYNC so that every thread
 * (nng starts its own) is covered; no_new_privs is set if not already. */
#ifndef USM_SECCOMP_POLICY_H
#define USM_SECCOMP_POLICY_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" /* enum usm_seccomp_mode */

#define USM_POLICY_MAX_RULES 512
#define USM_POLICY_MAX_CONDS 6 /* one per syscall argument at most */
#define USM_POLICY_MAX_ALTERNATIVES 16 /* lines for one syscall */

struct usm_policy_cond {
	unsigned arg;        /* 0-5 */
	enum scmp_compare op; /* SCMP_CMP_EQ ... SCMP_CMP_MASKED_EQ */
	uint64_t value;
	uint64_t mask;       /* only for SCMP_CMP_MASKED_EQ */
};

struct usm_policy_rule {
	int syscall_nr;      /* native number, from seccomp_syscall_resolve_name */
	char name[48];
	unsigned line;       /* where it was written, for messages */
	unsigned ncond;
	struct usm_policy_cond cond[USM_POLICY_MAX_CONDS];
	int errno_action;    /* 0: allow; >0: fail with this errno */
};

struct usm_policy {
	char origin[256];
	size_t nrules;
	struct usm_policy_rule rules[USM_POLICY_MAX_RULES];
};

struct usm_policy_error {
	char msg[512];
};

/* Parses text (not necessarily NUL-terminated) of len bytes. On success
 * *out is a new policy (usm_policy_free it). Returns 0 or -EINVAL (message
 * in err), -ENOMEM, -E2BIG (more than USM_POLICY_MAX_RULES). */
int usm_policy_parse(const char *text, size_t len, const char *origin, struct usm_policy **out,
		     struct usm_policy_error *err);

/* Reads and parses a file; I/O errors are reported in err as "PATH: ...". */
int usm_policy_parse_file(const char *path, struct usm_policy **out, struct usm_policy_error *err);

void usm_policy_free(struct usm_policy *policy);

/* A libseccomp context with the policy's rules and the given default
 * action (SCMP_ACT_KILL_PROCESS, SCMP_ACT_LOG, SCMP_ACT_NOTIFY...). */
int usm_policy_build(const struct usm_policy *policy, uint32_t default_action,
		     scmp_filter_ctx *out);

/* Builds and loads the filter for the calling process, all threads. */
int usm_policy_apply(const struct usm_policy *policy, enum usm_seccomp_mode mode);

/* Parse a policy text and apply it; logs and returns -errno on any
 * failure. The daemons install the filters compiled at build time
 * (seccomp_install.h); this run-time path serves the tests and the tools. */
int usm_policy_apply_text(const char *text, size_t len, const char *origin,
			  enum usm_seccomp_mode mode);

/* The classic BPF program usm_policy_build() gives for this default action,
 * as seccomp(2) takes it: *prog (free() it) of *len instructions, the
 * architecture check first. What the build-time compiler
 * (tools/policy-compile) writes into the daemons and what `usm-policy run`
 * loads. 0, or -errno; -E2BIG beyond BPF_MAXINSNS instructions. */
int usm_policy_export_bpf(const struct usm_policy *policy, uint32_t default_action,
			  struct sock_filter **prog, unsigned *len);

/* Writes libseccomp's PFC rendering of the kill-mode filter to fd. */
int usm_policy_export_pfc(const struct usm_policy *policy, int fd);

#endif
