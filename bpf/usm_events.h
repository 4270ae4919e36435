/* Event records shared by the BPF programs and the collector.
 * Plain fixed-width types only (compiled by both sides); the collector
 * checks every record's size and type before reading it. */
#ifndef USM_EVENTS_H
#define USM_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define USM_EXE_PATH_MAX 256
#define USM_COMM_LEN 16

enum usm_event_type {
	USM_EVENT_EXEC = 1,
	USM_EVENT_EXIT = 2,
};

/* Process lifecycle, from the sched_process_exec / sched_process_exit
 * tracepoints (BTF-typed: no tracefs needed). Exit events are sent for
 * thread-group leaders only. dev is the kernel's encoding (MAJOR << 20 |
 * MINOR); the collector converts it to the st_dev form stat(2) returns. */
struct usm_proc_event {
	__u32 type; /* enum usm_event_type */
	__u32 pid;  /* tgid */
	__u32 ppid;
	__u32 path_len; /* bytes of path used, NUL included; 0 for exit */
	__u64 exe_dev;
	__u64 exe_ino;
	__u64 ktime_ns;
	char comm[USM_COMM_LEN];
	char path[USM_EXE_PATH_MAX];
};

#endif
