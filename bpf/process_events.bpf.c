// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* Process exec, fork and exit events for the collector's process table.
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

#define FMODE_WRITE 0x2 /* include/linux/fs.h; macros are not in vmlinux.h */

/* usm's own processes are never reported (set by privd before load). */
const volatile __u32 ignored_tgid = 0;

/* Library rules from the attach policy (set by privd before load). */
const volatile __u32 nlib_rules = 0;
const volatile char lib_prefix[USM_MAX_LIB_RULES][USM_LIB_PREFIX_MAX] = {};
const volatile __u8 lib_set[USM_MAX_LIB_RULES] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* 512 KiB: about 770 events of 680 bytes (exec carries the names) */
	__uint(max_entries, 512 * 1024);
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

/* ---- the names a process chose (usm_events.h) ----
 * Read at exec, in the kernel, so that no user-space process needs the
 * right to read another's /proc/PID/environ (policy/PRIVILEGES.md). The
 * new image's environment was just written by exec into its stack, so
 * it is resident and bpf_probe_read_user reads it without faulting. */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, char[USM_ENV_CHUNK]);
} env_chunk SEC(".maps");

struct env_scan {
	__u64 p, end;   /* user addresses: the next read, the window's end */
	__u64 otel, dd; /* where each variable's value starts, 0 if not seen */
	__u64 skipping; /* p is inside a string longer than a chunk */
};

/* Whether buf starts with the literal `lit` (a NUL in buf ends a string
 * earlier, so stale bytes past it never match). */
#define HAS_PREFIX(buf, lit)                                                                       \
	({                                                                                         \
		int same_ = 1;                                                                     \
		_Pragma("unroll") for (int j_ = 0; j_ < (int)sizeof(lit) - 1; j_++) same_ &=       \
			(buf)[j_] == (lit)[j_];                                                    \
		same_;                                                                             \
	})

#define OTEL_VAR "OTEL_SERVICE_NAME="
#define DD_VAR "DD_SERVICE="

/* One read of the environment: a whole string (or the next chunk of a
 * long one). Stops at the window's end and once OTEL_SERVICE_NAME, which
 * wins, is found. */
static long env_step(__u32 index, void *ctx)
{
	struct env_scan *s = ctx;
	__u32 zero = 0;
	char *buf = bpf_map_lookup_elem(&env_chunk, &zero);
	if (!buf || s->p >= s->end)
		return 1;
	__u64 at = s->p;
	long n = bpf_probe_read_user_str(buf, USM_ENV_CHUNK, (const void *)at);
	if (n <= 0)
		return 1;
	int start = !s->skipping;
	s->skipping = n == USM_ENV_CHUNK; /* no NUL yet: the string goes on */
	s->p = at + (s->skipping ? USM_ENV_CHUNK - 1 : (__u64)n);
	if (start && HAS_PREFIX(buf, OTEL_VAR))
		s->otel = at + sizeof(OTEL_VAR) - 1;
	else if (start && !s->dd && HAS_PREFIX(buf, DD_VAR))
		s->dd = at + sizeof(DD_VAR) - 1;
	return s->otel != 0;
}

static __always_inline void read_service(struct task_struct *p, struct usm_proc_event *e)
{
	__u64 start = BPF_CORE_READ(p, mm, env_start), end = BPF_CORE_READ(p, mm, env_end);
	struct env_scan s = {.p = start, .end = end};
	if (end > start + USM_ENV_SCAN_BYTES)
		s.end = start + USM_ENV_SCAN_BYTES;
	e->service[0] = '\0';
	e->service_from = USM_SERVICE_NONE;
	if (start == 0 || end <= start)
		return;
	bpf_loop(USM_ENV_SCAN_READS, env_step, &s, 0);
	__u64 value = s.otel ? s.otel : s.dd;
	if (!value)
		return;
	e->service_from = s.otel ? USM_SERVICE_OTEL : USM_SERVICE_DD;
	if (bpf_probe_read_user_str(e->service, sizeof(e->service), (const void *)value) <= 0)
		e->service[0] = '\0';
}

/* kernfs_node's parent was renamed __parent in 6.15: both spellings. */
struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___new, __parent))
		return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* A container id is 64 hex digits (USM_CONTAINER_ID_LEN, which the
 * collector checks): a shorter cgroup name cannot hold one. */
#define CONTAINER_ID_HEX 64

/* Returns whether some name is long enough to hold a container id (the
 * collector decides whether it does). */
static __always_inline int read_cgroup(struct task_struct *p, struct usm_proc_event *e)
{
	struct kernfs_node *kn = BPF_CORE_READ(p, cgroups, dfl_cgrp, kn);
	int long_name = 0;
#pragma unroll
	for (int l = 0; l < USM_CGROUP_LEVELS; l++) {
		e->cgroup[l][0] = '\0';
		if (!kn)
			continue;
		const char *name = BPF_CORE_READ(kn, name);
		long n = bpf_probe_read_kernel_str(e->cgroup[l], USM_CGROUP_NAME_MAX, name);
		if (n <= 0)
			e->cgroup[l][0] = '\0';
		long_name |= n > CONTAINER_ID_HEX;
		kn = kn_parent(kn);
	}
	return long_name;
}

/* ---- forks: children named as their parents (usm_events.h) ----
 * The processes whose exec found a service name or a cgroup name that
 * may hold a container id, and their forked children: only their forks
 * are sent, so that every other fork on the host costs one lookup. LRU
 * keeps it bounded without a counter: a named process evicted by 32,768
 * newer ones has its later children named by their command. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, USM_NAMED_TGIDS);
	__type(key, __u32);
	__type(value, __u8);
} named_tgids SEC(".maps");

static __always_inline void set_named(__u32 tgid, int named)
{
	__u8 one = 1;
	if (named)
		bpf_map_update_elem(&named_tgids, &tgid, &one, BPF_ANY);
	else
		bpf_map_delete_elem(&named_tgids, &tgid);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (ignored_tgid && tgid == ignored_tgid)
		return 0;
	struct usm_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	if (!e) {
		/* The collector will not know its names: its forks would
		 * name their children after a previous image. */
		set_named(tgid, 0);
		count_lost();
		return 0;
	}
	__builtin_memset(e, 0, offsetof(struct usm_proc_event, comm));
	e->type = USM_EVENT_EXEC;
	e->pid = tgid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	e->ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	e->ktime_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	long n = bpf_probe_read_kernel_str(e->path, sizeof(e->path), BPF_CORE_READ(bprm, filename));
	e->path_len = n > 0 ? (__u32)n : 0;
	__builtin_memset(e->pad2, 0, sizeof(e->pad2));
	read_service(p, e);
	int long_cgroup = read_cgroup(p, e);
	set_named(tgid, e->service[0] != '\0' || long_cgroup);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid), tgid = BPF_CORE_READ(p, tgid);
	if (pid != tgid || (ignored_tgid && tgid == ignored_tgid))
		return 0; /* a thread, not the process */
	set_named(tgid, 0);
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

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 pid = BPF_CORE_READ(child, pid), tgid = BPF_CORE_READ(child, tgid);
	if (pid != tgid || !bpf_map_lookup_elem(&named_tgids, &ptgid))
		return 0; /* a thread (CLONE_THREAD), or a parent nobody named */
	struct usm_fork_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	if (!e) {
		count_lost(); /* and the child stays unnamed, here as there */
		return 0;
	}
	e->type = USM_EVENT_FORK;
	e->pid = tgid;
	e->ppid = ptgid;
	e->pad = 0;
	e->ktime_ns = bpf_ktime_get_ns();
	set_named(tgid, 1);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* ---- library opens ----
 * Only the syscall's exit is traced: when an open succeeded, the new fd's
 * file gives the file's own name (its dentry, after symlinks) and its
 * identity; the name is compared with the rules at constant indexes, and
 * only a match reads the path the process passed. An unrelated open costs
 * an fd-table lookup and a 16-byte read. */

static __always_inline int match_library(const char name[USM_LIB_PREFIX_MAX + 1])
{
	int found = -1;
#pragma unroll
	for (int r = 0; r < USM_MAX_LIB_RULES; r++) {
		int end = -1, mismatch = 0;
		char next = 0;
#pragma unroll
		for (int j = 0; j < USM_LIB_PREFIX_MAX; j++) {
			char want = lib_prefix[r][j];
			if (end < 0) {
				if (want == 0) {
					end = j;
					next = name[j];
				} else if (name[j] != want) {
					mismatch = 1;
				}
			}
		}
		if (found < 0 && (__u32)r < nlib_rules && !mismatch && end > 0 &&
		    (next == 0 || next == '.'))
			found = r;
	}
	return found;
}

static __always_inline int on_open_exit(long ret)
{
	if (ret < 0)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if (ignored_tgid && (id >> 32) == ignored_tgid)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[ret & 0xfffff]) != 0 || !f)
		return 0;
	/* Libraries are opened read-only to be mapped; an open for writing
	 * (an installer or a copy in progress) is not a library being used. */
	if (BPF_CORE_READ(f, f_mode) & FMODE_WRITE)
		return 0;
	char name[USM_LIB_PREFIX_MAX + 1] = {};
	const unsigned char *dname = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), dname) <= 0)
		return 0;
	int rule = match_library(name);
	if (rule < 0)
		return 0;

	struct usm_proc_event *e = bpf_ringbuf_reserve(&proc_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	__builtin_memset(e, 0, offsetof(struct usm_proc_event, comm));
	e->type = USM_EVENT_LIB_OPEN;
	e->pid = id >> 32;
	e->set_id = lib_set[rule & (USM_MAX_LIB_RULES - 1)];
	e->ktime_ns = bpf_ktime_get_ns();
	e->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	e->ino = BPF_CORE_READ(f, f_inode, i_ino);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* The path as the process gave it: the second syscall argument, still
	 * in the task's saved registers at syscall exit. */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	const char *filename = (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	long n = bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
	e->path_len = n > 0 ? (__u16)n : 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Classic syscall tracepoints: they fire only for these syscalls (a raw
 * sys_exit tracepoint would run on every syscall). They need tracefs,
 * which privd mounts when the kernel has it but nobody mounted it. */
SEC("tp/syscalls/sys_exit_openat")
int on_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_open_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_openat2")
int on_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return on_open_exit(ctx->ret);
}
