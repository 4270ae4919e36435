/* apid's questions to the collector, as JSON built from checked replies.
 *
 * Each returns 0 and a new json_object in *out, or a negative errno when
 * the collector did not answer (the route answers 503). Paged lists are
 * read to the end; if the collector's registry changed while paging
 * (generation differs), the listing restarts, at most FETCH_MAX_RETRIES
 * times. */
#ifndef USM_APID_FETCH_H
#define USM_APID_FETCH_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "ipc_socket.h"

#define FETCH_MAX_RETRIES 3
#define FETCH_MAX_PAGES 4096 /* bound on one listing: 4096 * 48 records (96 for HTTP rows) */

/* /usm/stats: state, error, blocked_processes, traced_programs,
 * last_check, counters. */
int fetch_stats(struct usm_ipc_client *cl, json_object **out);

/* The collector's STATS reply as it is (state, counters, ...). */
int fetch_stats_raw(struct usm_ipc_client *cl, struct usm_stats *out);

/* [{"ProgramType", "FilePath", "PIDs", "PathID": {"Dev", "Inode"}}] */
int fetch_traced_programs(struct usm_ipc_client *cl, json_object **out);

/* [{"ProgramType", "PathIdentifiers": [{"Dev", "Inode", "Reason", "SamplePath"}]}] */
int fetch_blocked_processes(struct usm_ipc_client *cl, json_object **out);

/* {"status", "processes": [...], "ipc": {...}}; *healthy false when any
 * process is not running. */
int fetch_health(struct usm_ipc_client *cl, json_object **out, int *healthy);

/* A control request; *out is {"affected": N} on success. A refusal by the
 * collector returns its (negative) code with *out = {"error": ...}. */
int fetch_control(struct usm_ipc_client *cl, uint8_t action, uint32_t pid, uint8_t program_type,
		  json_object **out);

/* Every HTTP statistics row matching filter (path, status, pid, flags; its
 * cursor is ignored), read page by page to the end (a reset read sets
 * USM_HTTP_STATS_RESET on every page), in the collector's order. Returns 0
 * with *out filled (free it with http_records_free), or -errno with *out
 * empty: -ENOMEM too when the rows do not fit in memory. When the
 * collector refused (an error reply, not a transport failure: -EPERM for
 * a reset without api_control, -EBUSY while another reset read runs,
 * -ESTALE when this one was abandoned), its message is copied to refusal
 * (cap bytes); otherwise refusal is "". */
struct http_records {
	struct usm_http_stats_record *v;
	size_t n, cap;
	bool failed; /* an allocation failed while reading */
};
int fetch_http_stats(struct usm_ipc_client *cl, const struct usm_http_stats_req *filter,
		     struct http_records *out, char *refusal, size_t cap);
void http_records_free(struct http_records *h);

#endif
