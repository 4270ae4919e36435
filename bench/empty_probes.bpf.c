// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* The floor of the overhead benchmarks: uprobe programs that do no
 * work but count themselves, so that what a hit costs the traced process
 * (the trap, the kernel's uprobe machinery, the return trampoline) can be
 * measured apart from anything usm does in its programs.
 *
 * No vmlinux.h: the programs read nothing from their context. */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Slot 0: entry hits, slot 1: return hits. Per CPU, so that counting does
 * not add cache-line traffic between CPUs to the floor. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &slot);
	if (n)
		*n += 1;
}

SEC("uprobe")
int empty_entry(void *ctx)
{
	count(0);
	return 0;
}

SEC("uretprobe")
int empty_return(void *ctx)
{
	count(1);
	return 0;
}
