/* A library's internal function, found through the code of two exported
 * functions that call it (the attach policy's via=): OpenSSL's
 * ssl_read_internal, which SSL_read and SSL_read_ex call first and
 * BIO_f_ssl calls without them, has no symbol in a distribution's
 * stripped libssl. Only the unprivileged usm-inspector runs it; the file
 * is hostile (elf_file.h).
 *
 * The callee is the target of the first direct `call rel32` in each
 * caller's first ELF_CALLER_BYTES bytes (decoded straight from its entry
 * with Capstone, stopping at a RET or JMP: x86_decoder.h), accepted only
 * if the first caller reaches it with its own four arguments unchanged
 * (SSL_read_ex(s, buf, num, readbytes) calls ssl_read_internal with its
 * very arguments; where a compiler inlined ssl_read_internal, as in
 * node's OpenSSL, the first call is something else, with other
 * arguments), both callers' targets are the same offset, it lies in the same
 * executable segment as each caller and inside the file's .text section
 * (not a PLT stub: a call to another library's function), and it is
 * neither caller. */
#ifndef USM_INSPECTOR_ELF_CALLEES_H
#define USM_INSPECTOR_ELF_CALLEES_H

#include <stddef.h>
#include <stdint.h>

#define ELF_CALLER_BYTES 256

/* caller_a, caller_b: file offsets of two functions' entries (from the
 * symbol tables); caller_a passes its four arguments on. 0 with *callee (a file offset), or -ENOENT (no common
 * first callee), or, with reason written, an error of elf_file_open. */
int elf_common_callee(int fd, uint64_t caller_a, uint64_t caller_b, uint64_t *callee,
		      char *reason, size_t reason_len);

#endif
