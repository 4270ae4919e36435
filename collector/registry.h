/* The file registry: which files carry uprobes for which pids, and which
 * files are blocked because attaching failed (the seed's semantics).
 *
 * A file is identified by its path id (device, inode) as privd saw it when
 * it opened the file, and keyed together with the program type:
 * (dev, inode, program_type). Contract:
 *
 * - registry_register(pid, path, type, hint): if `hint` (the identity the
 *   kernel reported, {0,0} if unknown) is already traced for that type,
 *   the pid is added without asking privd; if it is blocked, nothing is
 *   asked and REGISTRY_BLOCKED is returned (never retried until cleared).
 *   Otherwise ops->attach is called once. On success the entry is created
 *   (or, if privd's identity matches an existing entry, the pid is added
 *   to it). On a failure that is the file's (outcome.reason non-empty:
 *   "no-symbols", "not-elf", an error text) the identity privd reported is
 *   blocklisted with a sample path, the type and the reason. A failure of
 *   the environment (empty reason: the process or the file vanished) is
 *   counted as hook_failed and not blocked.
 * - registry_unregister(pid): the pid leaves every entry. An entry left
 *   without pids lingers `linger_ms` (a new pid cancels the linger), then
 *   registry_expire() calls ops->detach and removes it.
 * - registry_register_resident(root_pid, path, type): attaches the file
 *   `root_pid` sees at path (0: privd itself) (as register does, same blocklist and limits)
 *   and marks the entry resident: it never lingers or detaches for lack of
 *   pids, only in registry_detach_all(); pids come and go as usual. An
 *   entry that already exists (adopted, or a pid's) becomes resident.
 *   Returns REGISTRY_ATTACHED (new), REGISTRY_PRESENT (existing), or the
 *   failure as register would.
 * - registry_adopt(): an attachment privd already holds (after a collector
 *   restart, from privd's LIST) becomes an entry without pids, lingering;
 *   a later register of the same identity adds the pid without attaching.
 * - Bounded: at most max_entries traced entries (a register beyond is
 *   counted in `full` and not attached), max_pids_per_entry pids each
 *   (beyond: counted in `pids_dropped`), max_blocked blocked files kept as
 *   an LRU (the oldest evicted first, counted in `blocked_evicted`).
 * - Every change bumps the generation; pages for the API are read with a
 *   cursor (0 to start; next_cursor 0 when done). A file with more pids
 *   than USM_PIDS_PER_RECORD spans several consecutive records.
 *
 * Not thread-safe: the collector's single loop owns it. */
#ifndef USM_COLLECTOR_REGISTRY_H
#define USM_COLLECTOR_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "ipc_proto.h"

struct path_id {
	uint64_t dev;
	uint64_t ino;
};

struct attach_outcome {
	int rc;               /* 0: attached (or already attached in privd); <0: -errno */
	struct path_id id;    /* identity privd saw; valid when rc == 0 or reason[0] */
	uint64_t attachment;  /* privd's attachment id when rc == 0 */
	char reason[64];      /* file's fault: block with this reason; "" = environment */
};

struct registry_ops {
	void (*attach)(void *ctx, uint32_t pid, const char *path, uint8_t program_type,
		       struct path_id hint, struct attach_outcome *out);
	void (*detach)(void *ctx, uint64_t attachment);
};

struct registry_limits {
	uint32_t max_entries;        /* traced files, e.g. 4096 */
	uint32_t max_pids_per_entry; /* e.g. 65536 */
	uint32_t max_blocked;        /* LRU size, reference 2000 */
	uint32_t linger_ms;          /* keep probes this long after the last pid left */
};

struct registry_counters {
	uint64_t registered;         /* new entries attached */
	uint64_t already_registered; /* pid added to an existing entry */
	uint64_t hook_failed;        /* attach failed, environment (not blocked) */
	uint64_t blocked;            /* files put on the blocklist */
	uint64_t blocked_hits;       /* registers refused because the file is blocked */
	uint64_t blocked_evicted;    /* blocklist LRU evictions */
	uint64_t unregistered;       /* pid removals */
	uint64_t detached;           /* entries detached after their linger */
	uint64_t full;               /* registers refused at max_entries */
	uint64_t pids_dropped;       /* pids not recorded at max_pids_per_entry */
};

enum registry_result {
	REGISTRY_ATTACHED = 0,  /* new entry */
	REGISTRY_ADDED = 1,     /* pid added to an existing entry */
	REGISTRY_PRESENT = 2,   /* pid was already in the entry */
	REGISTRY_BLOCKED = 3,   /* blocked now or before: not attached */
	REGISTRY_FAILED = 4,    /* environment failure: not attached, not blocked */
	REGISTRY_FULL = 5,      /* at max_entries (counted in full), or the entry is at
				 * max_pids_per_entry (counted in pids_dropped) */
};

struct registry;

struct registry *registry_new(const struct registry_limits *limits, const struct registry_ops *ops,
			      void *ctx);
void registry_free(struct registry *r);

enum registry_result registry_register(struct registry *r, uint32_t pid, const char *path,
				       uint8_t program_type, struct path_id hint, uint64_t now_ms);

/* Returns how many entries the pid was removed from. */
enum registry_result registry_register_resident(struct registry *r, uint32_t root_pid,
						const char *path, uint8_t program_type,
						uint64_t now_ms);

unsigned registry_unregister(struct registry *r, uint32_t pid, uint64_t now_ms);

/* Detaches entries whose linger has passed. Returns ms until the next
 * linger ends, or -1 if none is pending. */
int registry_expire(struct registry *r, uint64_t now_ms);

/* Detaches every entry now (shutdown or control); returns how many. */
unsigned registry_detach_all(struct registry *r);

int registry_adopt(struct registry *r, struct path_id id, uint8_t program_type, const char *path,
		   uint64_t attachment, uint64_t now_ms);

/* Removes every pid for which alive() is false; returns how many. */
unsigned registry_prune(struct registry *r, bool (*alive)(void *ctx, uint32_t pid), void *ctx,
			uint64_t now_ms);

/* Removes every pid of program_type entries matching pid (control
 * endpoint detach-pid); returns entries affected. */
unsigned registry_unregister_type(struct registry *r, uint32_t pid, uint8_t program_type,
				  uint64_t now_ms);

/* Empties the blocklist; returns how many were cleared. */
unsigned registry_clear_blocked(struct registry *r);

bool registry_is_blocked(const struct registry *r, struct path_id id, uint8_t program_type);
/* Number of traced entries / blocked files / pids in one entry (tests, metrics). */
uint32_t registry_traced_count(const struct registry *r);
uint32_t registry_blocked_count(const struct registry *r);
/* pids of the entry, or -ENOENT; fills up to max, returns the total. */
int registry_entry_pids(const struct registry *r, struct path_id id, uint8_t program_type,
			uint32_t *pids, uint32_t max);

uint64_t registry_generation(const struct registry *r);
const struct registry_counters *registry_counters(const struct registry *r);

/* Fills up to max records from cursor; *count records written and
 * *next_cursor (0: done). A stale cursor (generation changed so that it
 * no longer points anywhere) restarts from 0; the reader restarts on a
 * generation change anyway. Returns 0. */
int registry_page_traced(const struct registry *r, uint64_t cursor, struct usm_traced_record *out,
			 uint32_t max, uint32_t *count, uint64_t *next_cursor);
int registry_page_blocked(const struct registry *r, uint64_t cursor,
			  struct usm_blocked_record *out, uint32_t max, uint32_t *count,
			  uint64_t *next_cursor);

#endif
