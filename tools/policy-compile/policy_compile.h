/* usm-policy-compile: turns the policies in policy/ into C at build time,
 * so that the daemons install and read ready tables instead of parsing
 * text at run time (privd above all: it must not run parsers). It uses the
 * daemons' own parsers, so what it accepts is exactly what they would.
 *
 * Each compiler writes its files in full or not at all, and reports a
 * refused policy as "FILE:LINE: message" on stderr. */
#ifndef USM_POLICY_COMPILE_H
#define USM_POLICY_COMPILE_H

#include <stdio.h>

/* policy/NAME.policy -> OUT_C defining usm_filter_NAME_kill[] and
 * usm_filter_NAME_log[] (struct sock_filter) with their _len, and OUT_H
 * declaring them. NAME: [a-z][a-z0-9_]*, at most 32 characters. */
int compile_seccomp(const char *policy_path, const char *name, const char *out_c,
		    const char *out_h);

/* policy/attach.policy -> OUT_C defining usm_attach_policy_compiled. */
int compile_attach(const char *policy_path, const char *out_c);

/* Output files. output_open() creates path for writing (NULL, reported, on
 * failure); output_close() closes it, reports a failed write, and removes
 * the file if rc < 0 or a write failed: a half-written file must not look
 * up to date to the next build. Returns rc, or the write's -errno. */
FILE *output_open(const char *path);
int output_close(FILE *f, const char *path, int rc);

/* The file name without its directories: generated files name their
 * source without the build machine's paths, so builds are reproducible. */
const char *base_name(const char *path);

#endif
