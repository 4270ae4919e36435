/* The kernel side the BPF owner holds: the BPF objects (bpf/), the
 * process-discovery programs it attaches, and the TLS probe programs
 * attach.c links to files. kernel_start() runs with every capability,
 * before the owner drops them; a failure is recorded (served as the
 * monitor's start error) rather than fatal. */
#ifndef USM_PRIVD_KERNEL_H
#define USM_PRIVD_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "attach_policy.h"
#include "config.h"
#include "ipc_proto.h"

struct kernel {
	struct process_events_bpf *proc; /* NULL: process monitor not needed or failed */
	struct http_capture_bpf *capture; /* NULL: no monitoring, or it failed */
	bool tls;                        /* capture loaded and TLS probes wanted */
	bool uprobe_multi;               /* link with BPF_TRACE_UPROBE_MULTI */
	int start_error;                 /* 0 or -errno */
	char error[200];
};

void kernel_start(struct kernel *k, const struct usm_config *cfg, const struct attach_policy *policy,
		  pid_t self);

/* The discovery and HTTP capture rings' map fds (-1: none); how many lead. */
unsigned kernel_ring_fds(const struct kernel *k, int fds[2]);

/* Lost records of both rings and TLS probe hits, into a STATUS answer. */
void kernel_counters(const struct kernel *k, struct usm_privd_status *s);

/* Closes all links (queued uprobe links too) in parallel, then unloads. */
void kernel_stop(struct kernel *k);

/* uprobe_multi links (kernel 6.6+: one link for many offsets of a file,
 * one RCU grace period to close) through the raw bpf(2) call: libbpf 1.1
 * (Debian 12) has no API for it. */
#define USM_BPF_TRACE_UPROBE_MULTI 48 /* enum bpf_attach_type, kernel 6.6 */

/* Links prog_fd (loaded with expected attach type
 * USM_BPF_TRACE_UPROBE_MULTI) to n offsets of the file at path, each with
 * its cookie, as return probes if ret. Returns the link fd or -errno. */
int bpf_link_uprobe_multi(int prog_fd, const char *path, const uint64_t *offsets,
			  const uint64_t *cookies, uint32_t n, bool ret);

/* Does the kernel accept a program with that expected attach type? */
bool uprobe_multi_supported(void);

#endif
