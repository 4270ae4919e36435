/* Marshalling of the collector's requests to privd; the contract is in
 * privd_client.h. */
#include "privd_client.h"

#include <errno.h>
#include <string.h>

#include "attach_policy.h"
#include "ipc_codec.h"
#include "ipc_socket.h"

/* Set ids come from the attach policy and must fit the wire's. */
_Static_assert(ATTACH_MAX_SETS == USM_MAX_PROBE_SETS,
	       "the attach policy's probe sets are the ones ATTACH may name");

static struct usm_ipc_reply reply; /* one thread calls privd (see the header) */

static int call(struct collector *c, uint16_t req_type, const void *req, size_t req_len,
		uint16_t rep_type)
{
	return usm_ipc_call(&c->privd, req_type, req, req_len, rep_type, &reply);
}

static int counted(struct collector *c, int rc)
{
	if (rc != 0)
		c->counters[USM_CTR_PRIVD_CALL_FAILURES]++;
	return rc;
}

int privd_attach(struct collector *c, uint32_t pid, const char *path, uint8_t set_id,
		 uint8_t program_type, struct path_id hint, struct usm_attach_rep *out)
{
	struct usm_attach_req req;
	memset(&req, 0, sizeof(req));
	req.pid = pid;
	req.set_id = set_id;
	req.program_type = program_type;
	req.hint_dev = hint.dev;
	req.hint_ino = hint.ino;
	usm_copy_printable(req.path, sizeof(req.path), path);
	int rc = counted(c, call(c, USM_MSG_PRIVD_ATTACH_REQ, &req, sizeof(req),
				 USM_MSG_PRIVD_ATTACH_REP));
	if (rc == 0)
		memcpy(out, reply.payload, sizeof(*out));
	return rc;
}

int privd_detach(struct collector *c, uint64_t attachment)
{
	struct usm_detach_req req = {.attachment = attachment};
	int rc = call(c, USM_MSG_PRIVD_DETACH_REQ, &req, sizeof(req), USM_MSG_PRIVD_DETACH_REP);
	return rc == -ENOENT ? rc : counted(c, rc);
}

int privd_list_page(struct collector *c, uint64_t cursor, struct privd_attachments *out)
{
	struct usm_page_req req = {.cursor = cursor};
	int rc = call(c, USM_MSG_PRIVD_LIST_REQ, &req, sizeof(req), USM_MSG_PRIVD_LIST_REP);
	if (rc != 0)
		return rc;
	/* The codec checked count <= USM_PAGE_MAX_RECORDS and the length. */
	const struct usm_attachment_page *pg = (const void *)reply.payload;
	out->next_cursor = pg->next_cursor;
	out->count = pg->count;
	memcpy(out->records, pg + 1, pg->count * sizeof(out->records[0]));
	return 0;
}

int privd_scan_page(struct collector *c, uint64_t cursor, struct privd_scan_records *out)
{
	struct usm_page_req req = {.cursor = cursor};
	int rc = call(c, USM_MSG_PRIVD_SCAN_REQ, &req, sizeof(req), USM_MSG_PRIVD_SCAN_REP);
	if (rc != 0)
		return rc;
	const struct usm_scan_page *pg = (const void *)reply.payload;
	out->next_cursor = pg->next_cursor;
	out->count = pg->count;
	memcpy(out->records, pg + 1, pg->count * sizeof(out->records[0]));
	return 0;
}

int privd_status(struct collector *c, struct usm_privd_status *out)
{
	int rc = call(c, USM_MSG_PRIVD_STATUS_REQ, NULL, 0, USM_MSG_PRIVD_STATUS_REP);
	if (rc == 0)
		memcpy(out, reply.payload, sizeof(*out));
	return rc;
}

int privd_status_refresh(struct collector *c)
{
	return counted(c, privd_status(c, &c->kernel));
}

int privd_health(struct collector *c, struct usm_health *out)
{
	int rc = counted(c, call(c, USM_MSG_PRIVD_HEALTH_REQ, NULL, 0, USM_MSG_PRIVD_HEALTH_REP));
	if (rc == 0)
		memcpy(out, reply.payload, sizeof(*out));
	return rc;
}
