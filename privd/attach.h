/* The attachment table: which files carry which probe set, attached by
 * identity (DESIGN.md, "Attach is by identity, not by name").
 *
 * attach_file(): opens the file that pid (0: privd) sees at path through
 * /proc/PID/root (openat2 RESOLVE_IN_ROOT: symlinks resolve inside the
 * process's root), fstat()s it, checks it against the attach policy
 * (regular file, program type, size), and is idempotent per (dev, inode,
 * probe set). New files: the set's functions are resolved in the opened
 * file (ELF symbols), a required one missing is "no-symbols" and nothing
 * is attached; then two uprobe_multi links (entry, return) through
 * /proc/self/fd/N, so what was checked is what gets probed (classic
 * perf-event uprobes, one per function and direction, on older kernels).
 * rep->reason is set only when the failure is the file's (the collector
 * blocklists it); vanished processes or files leave it empty.
 *
 * detach_attachment() removes the entry and hands its links to the
 * closer: it never waits for the kernel. */
#ifndef USM_PRIVD_ATTACH_H
#define USM_PRIVD_ATTACH_H

#include <stdint.h>

#include "attach_policy.h"
#include "ipc_proto.h"
#include "kernel.h"

struct attachment;

struct attach_table {
	struct attachment *items;
	uint32_t count;
	uint32_t max;
	uint64_t next_id;
};

int attach_table_init(struct attach_table *t, uint32_t max);

void attach_file(struct attach_table *t, const struct kernel *k, const struct attach_policy *policy,
		 const struct usm_attach_req *req, struct usm_attach_rep *rep);

int detach_attachment(struct attach_table *t, uint64_t id);

/* Fills a LIST page from cursor (an index); returns the payload size. */
size_t attach_list_page(const struct attach_table *t, uint64_t cursor, void *payload);

/* Hands every link to the closer (shutdown). */
void attach_release_all(struct attach_table *t);

#endif
