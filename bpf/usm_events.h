/* Event records shared by the BPF programs and the collector.
 * Plain fixed-width types only (compiled by both sides); the collector
 * checks every record's size and type before reading it. */
#ifndef USM_EVENTS_H
#define USM_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
/* TLS probe hit counters (per CPU), indexed by the attach cookie:
 * set_id * USM_MAX_FUNCS + function index, doubled for return probes. */
#define USM_MAX_SETS 8
#define USM_MAX_FUNCS 16
#define USM_PROBE_SLOTS (USM_MAX_SETS * USM_MAX_FUNCS * 2)

#endif

#define USM_EXE_PATH_MAX 256
#define USM_COMM_LEN 16

enum usm_event_type {
	USM_EVENT_EXEC = 1,
	USM_EVENT_EXIT = 2,
	USM_EVENT_LIB_OPEN = 3,
};

/* The kernel-side library filter: file name prefixes (from the attach
 * policy's `library` rules) privd writes into rodata before load. */
#define USM_MAX_LIB_RULES 8
#define USM_LIB_PREFIX_MAX 16

/* One stream for process discovery, so that a process's exec, its
 * library opens and its exit arrive in order:
 * - EXEC, EXIT from the sched_process_exec / sched_process_exit BTF
 *   tracepoints (no tracefs needed); EXIT for thread-group leaders only.
 * - LIB_OPEN from the openat/openat2 syscall tracepoints: a successful
 *   open of a file whose name matches a library rule; set_id is that
 *   rule's probe set; dev/ino are the opened file's, read from the new fd.
 * dev is the kernel's encoding (MAJOR << 20 | MINOR); the collector
 * converts it to the st_dev form stat(2) returns. */
struct usm_proc_event {
	__u32 type; /* enum usm_event_type */
	__u32 pid;  /* tgid */
	__u32 ppid; /* EXEC only */
	__u16 path_len; /* bytes of path used, NUL included; 0 for exit */
	__u8 set_id;    /* LIB_OPEN only */
	__u8 pad;
	__u64 dev;  /* the executable's (EXEC) or the library's (LIB_OPEN) */
	__u64 ino;
	__u64 ktime_ns;
	char comm[USM_COMM_LEN];
	char path[USM_EXE_PATH_MAX];
};

/* TLS probe hit counters (per CPU), indexed by the attach cookie:
 * set_id * USM_MAX_FUNCS + function index, doubled for return probes. */
#define USM_MAX_SETS 8
#define USM_MAX_FUNCS 16
#define USM_PROBE_SLOTS (USM_MAX_SETS * USM_MAX_FUNCS * 2)

#endif
