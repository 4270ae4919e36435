/* Closing uprobe links off the request path, many at a time: each close
 * waits for an RCU grace period and concurrent closes share them
 * (DESIGN.md). DETACH only queues the handles; a pool of threads closes
 * them. At shutdown the pool grows to one thread per pending link (up to
 * CLOSER_MAX_THREADS) and drains before privd exits. */
#ifndef USM_LINK_CLOSER_H
#define USM_LINK_CLOSER_H

#include <stddef.h>

struct bpf_link;

int link_closer_start(unsigned threads);

/* Queues a raw link fd (uprobe_multi) or a libbpf link (classic); the
 * closer owns it from here. */
void link_closer_push_fd(int fd);
void link_closer_push_link(struct bpf_link *link);

/* Queues every link a skeleton holds and clears it in the skeleton, so
 * that destroying the skeleton afterwards closes no link itself. */
struct bpf_object_skeleton;
void link_closer_push_skeleton_links(struct bpf_object_skeleton *s);

/* Handles queued or being closed right now. */
size_t link_closer_pending(void);

/* Blocks until nothing is pending, then stops the threads. At shutdown
 * many links close at once: it first adds threads, up to one per pending
 * link and CLOSER_MAX_THREADS, since concurrent closes share grace
 * periods (200 at once close in about the time of one). */
void link_closer_drain_and_stop(void);

#endif
