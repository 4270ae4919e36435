/* privd's BPF owner: the process that holds the kernel side.
 *
 * Forked by the supervisor during start-up, while still root with every
 * capability and a single thread, it loads the BPF objects, sets
 * RLIMIT_NOFILE for max_traced_files, then becomes bpf_user keeping only
 * CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (CAP_SYS_ADMIN too for classic
 * uprobes), before any thread exists. Then it listens for the collector,
 * starts the link closer, applies policy/privd-bpf.policy, hands the
 * supervisor the ring buffer fds (OWNER_READY), and serves the request
 * table (requests.c) a bounded batch per wakeup, between signals and the
 * supervisor's messages. It never forks or executes anything: inspectors
 * are started by the supervisor (owner_channel.h).
 *
 * It stops on SIGTERM/SIGINT, when the supervisor goes away (parent-death
 * signal, or its end of the channel closing), closing every link itself,
 * in parallel, before it exits. Exit status 0, or 1 when start-up failed. */
#ifndef USM_PRIVD_OWNER_H
#define USM_PRIVD_OWNER_H

#include <sys/types.h>

#include "attach_policy.h"
#include "config.h"

struct owner_start {
	const struct usm_config *cfg;
	const struct attach_policy *policy;
	int channel;      /* the owner's end */
	pid_t supervisor; /* its parent */
};

__attribute__((noreturn)) void owner_run(const struct owner_start *s);

#endif
