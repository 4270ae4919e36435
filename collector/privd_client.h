/* The collector's requests to privd, one wrapper per request, as OpenSSH's
 * monitor_wrap.c mm_* functions: each builds the request, calls privd
 * expecting its one reply type, and copies the typed reply out, so that
 * callers read like ordinary function calls. No other file calls
 * usm_ipc_call() on c->privd.
 *
 * Every wrapper returns 0, or the negative errno of USM_MSG_ERROR when
 * privd refused the request, or of the transport (-ETIMEDOUT,
 * -ECONNREFUSED, -EBADMSG for a reply of another type: usm_ipc_call()).
 * Outputs are written only on success.
 *
 * USM_CTR_PRIVD_CALL_FAILURES counts the failures of the calls whose
 * callers carry on without the answer: attach, detach (but -ENOENT: the
 * attachment is already gone), health and privd_status_refresh(). The
 * failures of privd_status(), privd_list_page() and privd_scan_page()
 * become their caller's own error (the monitor's start failure, a control
 * request's answer) and are not counted.
 *
 * The collector calls privd from its one thread: the wrappers share one
 * reply buffer and are not reentrant. */
#ifndef USM_COLLECTOR_PRIVD_CLIENT_H
#define USM_COLLECTOR_PRIVD_CLIENT_H

#include <stdint.h>

#include "collector.h"
#include "ipc_proto.h"

/* ATTACH: probe set set_id on the file pid sees at path (pid 0: the file
 * privd sees); hint is the identity the kernel reported, {0, 0} if none.
 * 0 when privd answered: *out holds its verdict (out->error 0 or -errno,
 * out->reason set when the file is at fault). */
int privd_attach(struct collector *c, uint32_t pid, const char *path, uint8_t set_id,
		 uint8_t program_type, struct path_id hint, struct usm_attach_rep *out);

/* DETACH: privd closes the attachment's links (in the background). */
int privd_detach(struct collector *c, uint64_t attachment);

/* One page of a LIST: the attachments privd holds. */
struct privd_attachments {
	uint64_t next_cursor; /* 0: this was the last page */
	uint32_t count;
	struct usm_attachment_record records[USM_PAGE_MAX_RECORDS];
};

/* LIST from cursor (0 for the first page, then next_cursor). */
int privd_list_page(struct collector *c, uint64_t cursor, struct privd_attachments *out);

/* One page of a SCAN: executables and matching libraries of running
 * processes, by pid. */
struct privd_scan_records {
	uint64_t next_cursor; /* the next pid to scan; 0 when done */
	uint32_t count;
	struct usm_scan_record records[USM_PAGE_MAX_RECORDS];
};

/* SCAN from pid `cursor` (>= 1, then next_cursor). */
int privd_scan_page(struct collector *c, uint64_t cursor, struct privd_scan_records *out);

/* STATUS: how the kernel side started, and its counters. */
int privd_status(struct collector *c, struct usm_privd_status *out);

/* STATUS into c->kernel (privd's last STATUS answer, whose counters the
 * statistics report); on failure c->kernel keeps the previous answer. */
int privd_status_refresh(struct collector *c);

/* HEALTH: privd's supervisor view of the three processes. */
int privd_health(struct collector *c, struct usm_health *out);

#endif
