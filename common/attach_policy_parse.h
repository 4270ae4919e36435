/* Attach policy text -> struct attach_policy (attach_policy.h), for the
 * build tool that compiles policy/attach.policy (tools/policy-compile)
 * and the tests. Daemons read the compiled table,
 * usm_attach_policy_compiled, instead of parsing at run time (privd/main.c
 * still parses until its rewrite lands).
 *
 * File syntax, one statement a line, '#' starts a comment:
 *
 *     set NAME targets=TYPE[,TYPE...] max_size=SIZE [max_returns=N]
 *     func SET FUNCTION PROBES [role=ROLE] [required] [via=FUNC,FUNC]
 *     library PREFIX SET
 *
 *   NAME, SET    [a-z0-9_]{1,31}; a `set` line must come before its funcs.
 *   TYPE         shared_libraries | istio | nodejs | go-tls
 *   SIZE         bytes, optionally with K, M or G (powers of 1024)
 *   N            1..USM_INSPECT_MAX_RETURNS: RET instructions probed per
 *                function at most (a file with more is refused)
 *   FUNCTION     a C identifier or a Go qualified name
 *                ([A-Za-z0-9_./()*], not starting with a digit), at most 63
 *   PROBES       entry | return | entry,return | entry,ret-insns (an entry
 *                probe on the function and on each of its RET
 *                instructions: Go, whose moving stacks a return probe breaks)
 *   ROLE         what the capture programs do with it (enum usm_tls_role):
 *                read | read_ex (entry,return) | write | set_fd | close
 *                (entry) | go_read (entry,ret-insns) | go_write | go_close
 *                (entry) | none (the default: hits counted only)
 *   required     the file must export it, or the set is refused for that
 *                file ("no-symbols"); other functions are probed if present
 *   via=A,B      for an internal function that has no symbol where it
 *                matters (libssl's ssl_read_internal, which BIO_f_ssl
 *                reaches without the exported SSL_read): found as the one
 *                function the first direct call of A and of B both go to,
 *                A's with A's own arguments unchanged (the inspector reads
 *                their code: inspector/elf_callees.h), and only so: a
 *                symbol of its name must agree, not stand in (node's
 *                OpenSSL has one, and a copy inlined into SSL_read). A and
 *                B are earlier,
 *                different functions of the same set without via=, with
 *                this function's probes, and not another via='s: once it
 *                is found, they are not probed (each calls it, so probing
 *                both would see every call twice), and they count as found
 *                for `required`. Not for go-tls sets.
 *   PREFIX       a file name prefix, e.g. libssl.so (matches libssl.so.3);
 *                no '/', at most 15 characters (the kernel filter's size)
 *
 * Errors are "ORIGIN:LINE: message": unknown statement or keyword, bad
 * name, duplicate set/function/library, func or library naming an unknown
 * set, a set with no required function, too many sets/functions/libraries,
 * bad size, bad probe kind, unknown program type. */
#ifndef USM_ATTACH_POLICY_PARSE_H
#define USM_ATTACH_POLICY_PARSE_H

#include <stddef.h>

#include "attach_policy.h"

struct attach_policy_error {
	char msg[256];
};

/* Parses text[0..len) into *out. 0, or -EINVAL with err set; *out is then
 * all zero, never half-read. */
int attach_policy_parse(const char *text, size_t len, const char *origin, struct attach_policy *out,
			struct attach_policy_error *err);

/* How a policy spells role r (enum usm_tls_role): "read", "set_fd"...; NULL
 * for a value outside the enum. For messages and generated comments. */
const char *attach_policy_role_name(unsigned role);

#endif
