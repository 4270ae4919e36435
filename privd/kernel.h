/* The kernel side privd owns: loading the BPF objects (bpf/), attaching
 * the process-discovery programs, and the TLS probe programs that
 * attach.c links to files.
 *
 * kernel_start() runs in the BPF owner's start-up, with every capability
 * (the supervisor mounted tracefs before): it probes for uprobe_multi
 * support and loads. A
 * failure is recorded (served through the collector as the monitor's
 * start error) rather than fatal: privd keeps running and says why. */
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
	bool socket_filter;              /* the failure was attaching a socket filter */
	char error[200];
};

void kernel_start(struct kernel *k, const struct usm_config *cfg, const struct attach_policy *policy,
		  pid_t self);

/* The discovery and the HTTP capture ring buffers' map fds, or -1. */
void kernel_ring_fds(const struct kernel *k, int fds[2]);

/* The TLS probe program (entry, or return if ret), or -1 without TLS. */
int kernel_tls_prog_fd(const struct kernel *k, bool ret);

/* Lost records of both rings and TLS probe hits, into a STATUS answer. */
void kernel_counters(const struct kernel *k, struct usm_privd_status *s);

/* Closes all links (queued uprobe links too) in parallel, then unloads. */
void kernel_stop(struct kernel *k);

#endif
