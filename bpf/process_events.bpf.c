// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Process exec and exit events for the collector's process table.
 *
 * BTF tracepoints (tp_btf) rather than tp/sched/...: they need no tracefs,
 * and they give typed access to the task and the binprm, so the
 * executable's device and inode are read in the kernel at exec time (the
 * identity the registry keys files by), not looked up later by path. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "usm_events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* usm's own processes are never reported (set by privd before load). */
const volatile __u32 ignored_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} proc_events SEC(".maps");

/* Events that did not fit the ring buffer; the collector reports them. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} proc_events_lost SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&proc_events_lost, &zero);
	if (lost)
		*lost += 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (ignored_tgid && tgid == ignored_tgid)
		return 0;
	struct usm_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	e->type = USM_EVENT_EXEC;
	e->pid = tgid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->exe_dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	e->exe_ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	e->ktime_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	long n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	e->path_len = n > 0 ? (__u32)n : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);
	if (pid != tgid || (ignored_tgid && tgid == ignored_tgid))
		return 0; /* a thread, not the process */
	struct usm_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = USM_EVENT_EXIT;
	e->pid = tgid;
	e->ktime_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}
