/* The names processes chose, by pid: what their exec events said
 * (proc_name.h), kept while they live, so that the rows of the exchanges
 * they serve carry them.
 *
 * Contract:
 * - Only processes with a service name or a container id are kept; the
 *   others are named by their command and cost nothing here.
 * - proc_names_set() replaces pid's names (an exec replaces the image and
 *   its environment); names with neither part remove pid. At most `max`
 *   pids are kept: a new one beyond is refused (-ENOSPC) and the caller
 *   counts it; -ENOMEM likewise.
 * - proc_names_inherit() gives a forked child its parent's names (a fork
 *   keeps the environment and the cgroup): -ENOENT when the parent is not
 *   kept (the child is then not changed), else as proc_names_set().
 * - proc_names_get() on a NULL table or an unknown pid is NULL; the
 *   pointer is valid until the next set, remove, prune or free.
 * - Memory: about 170 bytes per kept pid (152 and malloc's overhead), plus 8 bytes per bucket
 *   (PROC_NAMES_BUCKETS). Not thread-safe: the collector's loop owns it. */
#ifndef USM_COLLECTOR_PROC_NAMES_H
#define USM_COLLECTOR_PROC_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "proc_name.h"

#define PROC_NAMES_MAX 32768 /* named processes kept at once */
#define PROC_NAMES_BUCKETS 4096

struct proc_names;

/* NULL on ENOMEM. */
struct proc_names *proc_names_new(uint32_t max);
void proc_names_free(struct proc_names *t);

/* 0, -ENOSPC (full), -ENOMEM. */
int proc_names_set(struct proc_names *t, uint32_t pid, const struct proc_name *n);
void proc_names_remove(struct proc_names *t, uint32_t pid);
/* 0, -ENOENT (parent unknown), -ENOSPC, -ENOMEM. */
int proc_names_inherit(struct proc_names *t, uint32_t parent, uint32_t child);
const struct proc_name *proc_names_get(const struct proc_names *t, uint32_t pid);
uint32_t proc_names_count(const struct proc_names *t);

/* Removes the pids `alive` says are gone (exits we did not see); returns
 * how many. */
unsigned proc_names_prune(struct proc_names *t, bool (*alive)(void *ctx, uint32_t pid),
			  void *ctx);

#endif
