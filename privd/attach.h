/* The attachment table: which files carry which probe set, attached by
 * identity (DESIGN.md, "Attach is by identity, not by name").
 *
 * attach_file() checks meaning before it opens anything: a known probe
 * set, a program type whose enable_* switch is on in privd's own
 * configuration, and pid 0 only for one of resident_libraries. Then it
 * opens the file with O_PATH and requires it to be the process's
 * executable or a file it maps (attach_target.h), a regular file, of a
 * type and size the attach policy allows, all before any read open.
 * Every refusal up to the identity check is the same -EPERM with no
 * identity, whether the path exists or not. It is idempotent per (dev,
 * inode, probe set). For a new file, the set's functions are found by an
 * unprivileged inspector (inspect_client.h) in a read-only reopening; a
 * required one missing is "no-symbols". Then two uprobe_multi links
 * (entry, return) through /proc/self/fd/N of the checked O_PATH fd, so
 * what was checked is what gets probed (classic perf-event uprobes, one
 * per function and direction, on older kernels). rep->reason is set only
 * when the failure is the file's (the collector blocklists it).
 *
 * detach_attachment() removes the entry and hands its links to the
 * closer: it never waits for the kernel. */
#ifndef USM_PRIVD_ATTACH_H
#define USM_PRIVD_ATTACH_H

#include <stdint.h>

#include "attach_policy.h"
#include "config.h"
#include "inspect_client.h"
#include "ipc_proto.h"
#include "kernel.h"

struct attachment;

struct attach_table {
	struct attachment *items;
	uint32_t count;
	uint32_t max;
	uint64_t next_id;
};

/* What attach_file() checks against and works with. */
struct attach_context {
	const struct kernel *kernel;
	const struct attach_policy *policy;
	const struct usm_config *cfg;
	struct inspect_client *inspector;
};

int attach_table_init(struct attach_table *t, uint32_t max);

void attach_file(struct attach_table *t, const struct attach_context *ctx,
		 const struct usm_attach_req *req, struct usm_attach_rep *rep);

int detach_attachment(struct attach_table *t, uint64_t id);

/* Fills a LIST page from cursor (an index); returns the payload size. */
size_t attach_list_page(const struct attach_table *t, uint64_t cursor, void *payload);

/* Hands every link to the closer (shutdown). */
void attach_release_all(struct attach_table *t);

#endif
