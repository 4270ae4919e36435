/* The BPF owner's side of inspection: a probe set's function offsets in
 * a file, found by an unprivileged usm-inspector (common/inspect_proto.h)
 * the supervisor starts, never by parsing the file here. The answer's
 * shape is checked and every offset must lie in an executable PT_LOAD
 * segment of that same file (a lying inspector can at worst misplace
 * probes in that file's code), else "inspect-failed" (also for no, short
 * or malformed answers); no answer in timeout_ms is "inspect-timeout".
 * Answers are cached per (dev, inode, size, ctime (only the kernel sets
 * it), set), at most cache_max, the oldest replaced and counted;
 * timeouts and our own failures are not cached. */
#ifndef USM_PRIVD_INSPECT_CLIENT_H
#define USM_PRIVD_INSPECT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "attach_policy.h"
#include "inspect_proto.h"

/* Where a file's code is: its executable PT_LOAD segments, from the ELF
 * header and at most ELF_SEGMENTS_MAX_PHDRS program headers (64-bit, this
 * machine; each segment inside the file), the one thing the BPF owner
 * reads of a file itself. 0, or -ENOEXEC. */
#define ELF_SEGMENTS_MAX_PHDRS 64
#define ELF_SEGMENTS_MAX_EXEC 16

struct exec_segments {
	unsigned n;
	struct {
		uint64_t start, end; /* file offsets [start, end) */
	} seg[ELF_SEGMENTS_MAX_EXEC];
};

int elf_exec_segments(int fd, struct exec_segments *out);
bool elf_offset_is_code(const struct exec_segments *s, uint64_t offset);

struct inspect_cache_entry;

struct inspect_client {
	int channel;     /* to the supervisor */
	int timeout_ms;
	struct inspect_cache_entry *cache;
	uint32_t cache_max, cache_count, cache_next;
	uint64_t inspections, cache_hits, cache_evictions, failures, timeouts;
};

int inspect_client_init(struct inspect_client *ic, int channel, int timeout_ms, uint32_t cache_max);

/* fd: the file, read-only; st: its fstat; kind: enum usm_inspect_kind; set: the
 * functions to find, by name and via= (its id is part of the cache key). Always fills
 * *out: error 0 and funcs in the set's order (entries and Go's RETs, all checked to be
 * code), or error and reason. */
void inspect_functions(struct inspect_client *ic, int fd, const struct stat *st,
		       const struct probe_set *set, uint16_t kind, struct usm_inspect_rep *out);

#endif
