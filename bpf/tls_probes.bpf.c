// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* TLS library probes. One program per direction serves every function of
 * every probe set: the attach cookie (set_id * USM_MAX_FUNCS + function
 * index) says which function fired, so a traced file needs two links at
 * most (uprobe_multi), and the programs stay few.
 *
 * For now they count hits per function; HTTP capture builds on them. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "usm_events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, USM_PROBE_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} probe_hits SEC(".maps");

static __always_inline void count(__u64 cookie, __u32 ret)
{
	__u32 slot = (__u32)(cookie % (USM_MAX_SETS * USM_MAX_FUNCS)) * 2 + ret;
	__u64 *hits = bpf_map_lookup_elem(&probe_hits, &slot);
	if (hits)
		*hits += 1;
}

SEC("uprobe")
int tls_entry(struct pt_regs *ctx)
{
	count(bpf_get_attach_cookie(ctx), 0);
	return 0;
}

SEC("uretprobe")
int tls_return(struct pt_regs *ctx)
{
	count(bpf_get_attach_cookie(ctx), 1);
	return 0;
}
