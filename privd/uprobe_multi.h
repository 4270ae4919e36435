/* uprobe_multi links through the raw bpf(2) call.
 *
 * Kernel 6.6+ attaches one BPF program to many offsets of one file in one
 * link (BPF_TRACE_UPROBE_MULTI): it attaches in well under a millisecond
 * and closes with one RCU grace period instead of one per probe. libbpf
 * 1.1 (Debian 12) has no API for it (1.3 has) and Debian 12's UAPI header
 * lacks its attr fields, so this is the small wrapper; replace it with
 * bpf_program__attach_uprobe_multi() when libbpf allows. */
#ifndef USM_UPROBE_MULTI_H
#define USM_UPROBE_MULTI_H

#include <stdbool.h>
#include <stdint.h>

#define USM_BPF_TRACE_UPROBE_MULTI 48 /* enum bpf_attach_type, kernel 6.6 */

/* Links prog_fd (loaded with expected attach type
 * USM_BPF_TRACE_UPROBE_MULTI) to n offsets of the file at path, each with
 * its cookie, as return probes if ret. Returns the link fd or -errno. */
int bpf_link_uprobe_multi(int prog_fd, const char *path, const uint64_t *offsets,
			  const uint64_t *cookies, uint32_t n, bool ret);

/* Does the kernel accept a program with that expected attach type? */
bool uprobe_multi_supported(void);

#endif
