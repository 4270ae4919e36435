/* The BPF owner's side of file inspection: the offsets of a probe set's
 * functions in a file, found by an unprivileged usm-inspector
 * (common/inspect_proto.h) that the supervisor starts on request, never by
 * parsing the file here.
 *
 * inspect_functions(): on a cache miss, makes a socketpair, queues the
 * request on its end, asks the supervisor (owner channel, OWNER_INSPECT)
 * to start an inspector on [the read-only file, the other end], and waits
 * at most `timeout_ms` for one answer. The answer's shape is checked
 * (usm_inspect_rep_valid) and every offset found must lie in an executable
 * PT_LOAD segment of that same file (elf_segments.h); otherwise the file
 * is refused with reason "inspect-failed" (also: no answer, a short one,
 * the inspector died) or "inspect-timeout". The inspector's own refusals
 * ("not-elf", "no-symbols", "bad-elf"...) are passed on.
 *
 * Answers are cached per (dev, inode, size, mtime, probe set): a file is
 * inspected once however many processes map it or how often it is
 * attached again. The cache holds `max` answers; at the limit the oldest
 * is replaced and counted. */
#ifndef USM_PRIVD_INSPECT_CLIENT_H
#define USM_PRIVD_INSPECT_CLIENT_H

#include <stdint.h>
#include <sys/stat.h>

#include "inspect_proto.h"

struct inspect_answer {
	int error;          /* 0, or -errno: nothing usable */
	char reason[USM_INSPECT_REASON_MAX]; /* with error: for the blocklist */
	uint16_t nfuncs;
	struct usm_inspect_func funcs[USM_INSPECT_MAX_FUNCS];
};

struct inspect_cache_entry;

struct inspect_client {
	int channel;     /* to the supervisor */
	int timeout_ms;
	struct inspect_cache_entry *cache;
	uint32_t cache_max, cache_count, cache_next;
	uint64_t inspections, cache_hits, cache_evictions, failures, timeouts;
};

int inspect_client_init(struct inspect_client *ic, int channel, int timeout_ms, uint32_t cache_max);

/* fd: the file opened read-only; st: its fstat; names[nfuncs]: what to
 * find, with set_id part of the cache key. Always fills *out. */
void inspect_functions(struct inspect_client *ic, int fd, const struct stat *st, uint8_t set_id,
		       const char (*names)[USM_INSPECT_NAME_MAX], uint16_t nfuncs,
		       struct inspect_answer *out);

#endif
