/* HTTP monitoring in the collector: the capture ring buffer (fd 4 from
 * privd) in, per-connection parsing and pairing (connections.h), the
 * statistics table (http_stats.h) out, served page by page to apid.
 *
 * Contract:
 * - http_monitor_init() builds the tables from the configuration
 *   (http_max_path_len, max_http_stats_entries, max_tracked_connections,
 *   http_request_timeout_ms, http_idle_timeout_s); it is not an error
 *   for no ring to arrive (HTTP monitoring then serves an empty table).
 * - Records that fail data_event_check() are counted (malformed) and
 *   dropped; nothing else is affected.
 * - A reset read (USM_HTTP_STATS_RESET, allowed only with api_control)
 *   swaps the live table for an empty one at its first page and pages
 *   through the old one, so no exchange is lost between reading and
 *   resetting; the old table is freed after its last page. One reset read
 *   at a time: another one starting meanwhile gets -EBUSY, unless the
 *   first was left unfinished for HTTP_MONITOR_RESET_ABANDON_MS (its rows
 *   are then dropped, with a warning). A page of a read that is no longer
 *   in progress is refused (-ESTALE): start again.
 * - Filters (pid, status, path) apply to the rows; a page examines at most
 *   HTTP_MONITOR_SCAN_LIMIT rows, so a filter that matches little may
 *   return short or empty pages with a next cursor: keep paging. */
#ifndef USM_COLLECTOR_HTTP_MONITOR_H
#define USM_COLLECTOR_HTTP_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ipc_proto.h"

#define HTTP_MONITOR_SCAN_LIMIT 8192
/* Records applied per http_monitor_consume() call: under a flood the loop
 * still answers queries and reads discovery events between batches. */
#define HTTP_MONITOR_BATCH 16384
#define HTTP_MONITOR_RESET_ABANDON_MS 10000
/* Free heap above which memory is trimmed back to the kernel, looked at
 * every so many seconds. */
#define HTTP_MONITOR_TRIM_BYTES (4u << 20)
#define HTTP_MONITOR_TRIM_EVERY 10

struct ring_buffer;

struct http_monitor {
	struct ring_buffer *ring;    /* the capture ring, NULL without one */
	uint32_t budget;             /* records left in this batch */
	struct http_stats *stats;    /* live */
	struct http_stats *snapshot; /* being read by a reset read, or NULL */
	uint64_t snapshot_ms;        /* when that read started */
	struct conn_table *conns;
	struct proc_names *names;    /* the names processes chose, by pid */
	uint64_t names_dropped;      /* named processes not kept (table full, no memory) */
	uint64_t malformed;
	uint64_t next_expiry_ms;
	uint32_t ticks;              /* expiry runs, one a second */
	/* http_stats counters of the tables a reset read replaced, so that
	 * the reported ones stay cumulative */
	uint64_t overflow_base;
	uint64_t truncated_base;
};

/* 0 or -errno (limits out of range: -EINVAL; -ENOMEM). */
int http_monitor_init(struct http_monitor *m, const struct usm_config *cfg);
void http_monitor_free(struct http_monitor *m);

/* Opens the capture ring at fd: 0 or -errno. */
int http_monitor_open_ring(struct http_monitor *m, int fd);

/* The ring's epoll fd to poll, or -1. */
int http_monitor_poll_fd(const struct http_monitor *m);

/* Applies up to HTTP_MONITOR_BATCH records; returns true if more are
 * waiting (poll again without sleeping). */
bool http_monitor_consume(struct http_monitor *m);

/* Expiry of unanswered requests and idle connections, at most once a
 * second; returns ms until the next one is due. */
int64_t http_monitor_tick(struct http_monitor *m, uint64_t now_ms);

/* A process exited: its connections end, its names are forgotten. */
void http_monitor_process_exit(struct http_monitor *m, uint32_t pid);

/* A process exec'd with these names (proc_name.h): its next exchanges'
 * rows carry them. 0, or -ENOSPC / -ENOMEM (not kept, counted in
 * process_names_dropped; the process is named by its command). */
struct proc_name;
int http_monitor_process_names(struct http_monitor *m, uint32_t pid, const struct proc_name *n);

/* A process forked without exec (parent and child tgids): the child's
 * rows carry its parent's names. 0; -ENOENT when the parent's are not
 * kept (nothing changes; the caller counts it); -ENOSPC / -ENOMEM as
 * above (counted in process_names_dropped). */
int http_monitor_process_fork(struct http_monitor *m, uint32_t parent, uint32_t child);

/* Forgets the names of pids `alive` says are gone; returns how many. */
unsigned http_monitor_prune_names(struct http_monitor *m, bool (*alive)(void *ctx, uint32_t pid),
				  void *ctx);

/* Fills the HTTP counters of enum usm_counter. */
void http_monitor_counters(const struct http_monitor *m, uint64_t *counters);

/* One page for request r: 0, -EBUSY, -ESTALE (see above) or -ENOMEM. */
int http_monitor_page(struct http_monitor *m, const struct usm_http_stats_req *r,
		      struct usm_http_stats_page *pg, struct usm_http_stats_record *out);

#endif
