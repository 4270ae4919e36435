/* privd's BPF owner. owner_start() forks it while the supervisor is still
 * root with every capability and one thread. It loads the BPF objects,
 * sets RLIMIT_NOFILE for max_traced_files, becomes bpf_user with only
 * CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE (and CAP_SYS_ADMIN for classic
 * uprobes) before any thread exists, listens for the collector, starts
 * the link closer, applies policy/privd_bpf.policy, sends READY with the
 * ring buffers, and serves the request table a bounded batch per wakeup.
 * It never forks or executes. It stops on SIGTERM/SIGINT (read from the
 * inherited signalfd) or when the supervisor goes away, closing every
 * link itself, in parallel, first. Exit status 1: its start-up failed. */
#ifndef USM_PRIVD_OWNER_H
#define USM_PRIVD_OWNER_H

#include <sys/types.h>

#include "attach_policy.h"
#include "config.h"

/* The owner's pid (*channel: the supervisor's end), or -errno. */
pid_t owner_start(const struct usm_config *cfg, const struct attach_policy *policy, int sigfd,
		  int *channel);

#endif
