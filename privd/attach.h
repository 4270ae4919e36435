/* The attachment table: which files carry which probe set, attached by
 * identity (DESIGN.md). attach_file() checks meaning before it opens
 * anything (a known set, a program type whose enable_* switch is on in
 * privd's own configuration, pid 0 only for a resident library), then
 * that the file is one the process uses (its exe or a mapping, by dev and
 * inode), a regular file of a type and size the policy allows, before any
 * read open; every refusal up to the identity check is the same -EPERM,
 * path or no path. Idempotent per (dev, inode, set). A new file's
 * functions come from an inspector (inspect_client.h); its probes go on
 * /proc/self/fd/N of the checked O_PATH fd. rep->reason is set only when
 * the failure is the file's (the collector blocklists it). Detaching hands
 * the links to the closer: it never waits for the kernel. */
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
