/* privd's BPF owner: the process that holds the kernel side.
 *
 * owner_start() forks it during the supervisor's start-up, while still
 * root with every capability and a single thread, before the supervisor
 * opens anything the owner must not hold. The owner loads the BPF
 * objects, sets RLIMIT_NOFILE for max_traced_files, then becomes
 * bpf_user keeping only CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE
 * (CAP_SYS_ADMIN too for classic uprobes), before any thread exists. Then
 * it listens for the collector, starts the link closer, applies
 * policy/privd_bpf.policy, hands the supervisor the ring buffer fds
 * (OWNER_READY), and serves the request table (requests.c) a bounded
 * batch per wakeup, between signals and the supervisor's messages. It
 * never forks or executes: inspectors are started by the supervisor.
 *
 * It reads the signalfd it inherits (the signals stay blocked), and stops
 * on SIGTERM or SIGINT, or when the supervisor goes away (parent-death
 * signal, or the channel closing), closing every link itself, in
 * parallel, first. Exit status 0, or 1 when its start-up failed. */
#ifndef USM_PRIVD_OWNER_H
#define USM_PRIVD_OWNER_H

#include <sys/types.h>

#include "attach_policy.h"
#include "config.h"

/* The owner's pid (*channel: the supervisor's end), or -errno. */
pid_t owner_start(const struct usm_config *cfg, const struct attach_policy *policy, int sigfd,
		  int *channel);

#endif
