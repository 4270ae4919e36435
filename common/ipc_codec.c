/* The table of message types with their size bounds and field checks.
 * Reviewers: every accepted shape of every message is in msg_specs[]. */
#include "ipc_codec.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* The records carry the kernel's address families as they are. */
_Static_assert(USM_AF_UNSPEC == AF_UNSPEC && USM_AF_INET == AF_INET && USM_AF_INET6 == AF_INET6,
	       "enum usm_addr_family is Linux's AF_* values");

typedef bool (*field_check_fn)(const void *payload, size_t length);

struct msg_spec {
	uint16_t type;
	const char *name;
	uint32_t fixed;        /* size of the fixed part */
	uint32_t elem;         /* size of one array element, 0 if none */
	uint32_t max_elems;    /* bound on the element count */
	uint32_t count_offset; /* offset of the uint32_t count in the fixed part */
	field_check_fn check;  /* may be NULL when no field can be invalid */
};

static bool is_cstring(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

#define CSTR(field) is_cstring((field), sizeof(field))
#define ZERO(field) all_zero(&(field), sizeof(field))

static bool check_error(const void *p, size_t len)
{
	const struct usm_msg_error *m = p;
	(void)len;
	return m->code <= 0 && CSTR(m->message);
}

static bool check_health(const void *p, size_t len)
{
	const struct usm_health *h = p;
	(void)len;
	for (unsigned i = 0; i < USM_ROLE_COUNT; i++) {
		const struct usm_proc_health *ph = &h->proc[i];
		if (ph->role != i || ph->state >= USM_PROC_STATE_COUNT || ph->pad != 0)
			return false;
	}
	return true;
}

static bool check_stats(const void *p, size_t len)
{
	const struct usm_stats *s = p;
	(void)len;
	return s->state < USM_STATE_COUNT && ZERO(s->pad) && CSTR(s->error);
}

static bool check_traced_page(const void *p, size_t len)
{
	const struct usm_traced_page *pg = p;
	const struct usm_traced_record *r = (const void *)(pg + 1);
	(void)len;
	if (pg->pad != 0)
		return false;
	for (uint32_t i = 0; i < pg->count; i++) {
		if (r[i].program_type >= USM_PROG_TYPE_COUNT || !ZERO(r[i].pad) ||
		    (r[i].flags & ~USM_TRACED_RESIDENT) != 0 || r[i].npids > USM_PIDS_PER_RECORD ||
		    !CSTR(r[i].path))
			return false;
	}
	return true;
}

static bool check_blocked_page(const void *p, size_t len)
{
	const struct usm_blocked_page *pg = p;
	const struct usm_blocked_record *r = (const void *)(pg + 1);
	(void)len;
	if (pg->pad != 0)
		return false;
	for (uint32_t i = 0; i < pg->count; i++) {
		if (r[i].program_type >= USM_PROG_TYPE_COUNT || !ZERO(r[i].pad) ||
		    !CSTR(r[i].reason) || !CSTR(r[i].sample_path))
			return false;
	}
	return true;
}

static bool check_privd_status(const void *p, size_t len)
{
	const struct usm_privd_status *s = p;
	(void)len;
	return s->pad == 0 && s->start_error <= 0 && s->process_monitor <= 1 &&
	       s->uprobe_multi <= 1 && s->socket_filter <= 1 && CSTR(s->error);
}

static bool is_absolute_path(const char *path, size_t cap)
{
	return is_cstring(path, cap) && path[0] == '/';
}

static bool is_addr_family(uint8_t family)
{
	return family == USM_AF_UNSPEC || family == USM_AF_INET || family == USM_AF_INET6;
}

static bool check_attach_req(const void *p, size_t len)
{
	const struct usm_attach_req *r = p;
	(void)len;
	return r->set_id < USM_MAX_PROBE_SETS && r->program_type < USM_PROG_TYPE_COUNT &&
	       r->pad == 0 && is_absolute_path(r->path, sizeof(r->path));
}

static bool check_attach_rep(const void *p, size_t len)
{
	const struct usm_attach_rep *r = p;
	(void)len;
	return r->error <= 0 && r->created <= 1 && ZERO(r->pad) && CSTR(r->reason);
}

static bool check_detach_req(const void *p, size_t len)
{
	(void)len;
	return ((const struct usm_detach_req *)p)->attachment != 0;
}

static bool check_attachment_page(const void *p, size_t len)
{
	const struct usm_attachment_page *pg = p;
	const struct usm_attachment_record *r = (const void *)(pg + 1);
	(void)len;
	if (pg->pad != 0)
		return false;
	for (uint32_t i = 0; i < pg->count; i++)
		if (r[i].attachment == 0 || r[i].set_id >= USM_MAX_PROBE_SETS ||
		    r[i].program_type >= USM_PROG_TYPE_COUNT || !ZERO(r[i].pad) ||
		    !is_absolute_path(r[i].path, sizeof(r[i].path)))
			return false;
	return true;
}

static bool check_scan_page(const void *p, size_t len)
{
	const struct usm_scan_page *pg = p;
	const struct usm_scan_record *r = (const void *)(pg + 1);
	(void)len;
	if (pg->pad != 0)
		return false;
	for (uint32_t i = 0; i < pg->count; i++)
		if (r[i].pid == 0 || r[i].kind >= USM_SCAN_KIND_COUNT ||
		    r[i].set_id >= USM_MAX_PROBE_SETS ||
		    r[i].pad != 0 || !is_absolute_path(r[i].path, sizeof(r[i].path)))
			return false;
	return true;
}

static bool check_control_req(const void *p, size_t len)
{
	const struct usm_control_req *r = p;
	(void)len;
	if (r->action >= USM_CONTROL_ACTION_COUNT || r->pad != 0 ||
	    r->program_type >= USM_PROG_TYPE_COUNT)
		return false;
	return r->action == USM_CONTROL_CLEAR_BLOCKED ? r->pid == 0 : r->pid > 0;
}

static bool check_control_rep(const void *p, size_t len)
{
	const struct usm_control_rep *r = p;
	(void)len;
	return r->error <= 0 && CSTR(r->message);
}

static bool check_http_stats_req(const void *p, size_t len)
{
	const struct usm_http_stats_req *r = p;
	(void)len;
	return r->protocol < USM_HTTP_PROTO_COUNT &&
	       (r->status == 0 || (r->status >= 100 && r->status <= 599)) &&
	       (r->flags & ~USM_HTTP_STATS_RESET) == 0 && CSTR(r->path);
}

static bool check_http_stats_page(const void *p, size_t len)
{
	const struct usm_http_stats_page *pg = p;
	const struct usm_http_stats_record *r = (const void *)(pg + 1);
	(void)len;
	if (pg->pad != 0)
		return false;
	for (uint32_t i = 0; i < pg->count; i++)
		if (!is_addr_family(r[i].family) || r[i].method >= USM_HTTP_METHOD_COUNT ||
		    r[i].status < 100 || r[i].status > 599 || r[i].protocol == 0 ||
		    r[i].protocol >= USM_HTTP_PROTO_COUNT ||
		    r[i].grpc_status < USM_GRPC_STATUS_NONE ||
		    r[i].grpc_status > USM_GRPC_STATUS_MAX ||
		    (r[i].protocol == USM_HTTP_PROTO_HTTP1 && r[i].grpc_status != USM_GRPC_STATUS_NONE) ||
		    !CSTR(r[i].comm) || !CSTR(r[i].path) || !CSTR(r[i].service) ||
		    !CSTR(r[i].container_id))
			return false;
	return true;
}

#define FIXED(t, s, chk) {t, #t, sizeof(s), 0, 0, 0, chk}
#define EMPTY(t) {t, #t, 0, 0, 0, 0, NULL}
#define PAGED(t, page, rec, chk) \
	{t, #t, sizeof(page), sizeof(rec), USM_PAGE_MAX_RECORDS, offsetof(page, count), chk}

static const struct msg_spec msg_specs[] = {
	FIXED(USM_MSG_ERROR, struct usm_msg_error, check_error),
	EMPTY(USM_MSG_PRIVD_HEALTH_REQ),
	FIXED(USM_MSG_PRIVD_HEALTH_REP, struct usm_health, check_health),
	EMPTY(USM_MSG_PRIVD_STATUS_REQ),
	FIXED(USM_MSG_PRIVD_STATUS_REP, struct usm_privd_status, check_privd_status),
	FIXED(USM_MSG_PRIVD_ATTACH_REQ, struct usm_attach_req, check_attach_req),
	FIXED(USM_MSG_PRIVD_ATTACH_REP, struct usm_attach_rep, check_attach_rep),
	FIXED(USM_MSG_PRIVD_DETACH_REQ, struct usm_detach_req, check_detach_req),
	EMPTY(USM_MSG_PRIVD_DETACH_REP),
	FIXED(USM_MSG_PRIVD_LIST_REQ, struct usm_page_req, NULL),
	PAGED(USM_MSG_PRIVD_LIST_REP, struct usm_attachment_page, struct usm_attachment_record,
	      check_attachment_page),
	FIXED(USM_MSG_PRIVD_SCAN_REQ, struct usm_page_req, NULL),
	PAGED(USM_MSG_PRIVD_SCAN_REP, struct usm_scan_page, struct usm_scan_record,
	      check_scan_page),
	EMPTY(USM_MSG_COLL_STATS_REQ),
	FIXED(USM_MSG_COLL_STATS_REP, struct usm_stats, check_stats),
	FIXED(USM_MSG_COLL_TRACED_REQ, struct usm_page_req, NULL),
	PAGED(USM_MSG_COLL_TRACED_REP, struct usm_traced_page, struct usm_traced_record,
	      check_traced_page),
	FIXED(USM_MSG_COLL_BLOCKED_REQ, struct usm_page_req, NULL),
	PAGED(USM_MSG_COLL_BLOCKED_REP, struct usm_blocked_page, struct usm_blocked_record,
	      check_blocked_page),
	EMPTY(USM_MSG_COLL_HEALTH_REQ),
	FIXED(USM_MSG_COLL_HEALTH_REP, struct usm_health, check_health),
	FIXED(USM_MSG_COLL_CONTROL_REQ, struct usm_control_req, check_control_req),
	FIXED(USM_MSG_COLL_CONTROL_REP, struct usm_control_rep, check_control_rep),
	FIXED(USM_MSG_COLL_HTTP_STATS_REQ, struct usm_http_stats_req, check_http_stats_req),
	{USM_MSG_COLL_HTTP_STATS_REP, "USM_MSG_COLL_HTTP_STATS_REP",
	 sizeof(struct usm_http_stats_page), sizeof(struct usm_http_stats_record),
	 USM_HTTP_PAGE_MAX_RECORDS, offsetof(struct usm_http_stats_page, count),
	 check_http_stats_page},
};

static const struct msg_spec *find_spec(uint16_t type)
{
	for (size_t i = 0; i < sizeof(msg_specs) / sizeof(msg_specs[0]); i++)
		if (msg_specs[i].type == type)
			return &msg_specs[i];
	return NULL;
}

/* Length check against the type's bounds; also the element count. */
static bool length_fits(const struct msg_spec *spec, const void *payload, size_t length)
{
	if (spec->elem == 0)
		return length == spec->fixed;
	if (length < spec->fixed)
		return false;
	uint32_t count;
	memcpy(&count, (const char *)payload + spec->count_offset, sizeof(count));
	return count <= spec->max_elems && length == spec->fixed + (size_t)count * spec->elem;
}

enum usm_decode_error usm_msg_decode(const void *buf, size_t len, struct usm_msg_view *view)
{
	struct usm_msg_hdr hdr;
	if (len < sizeof(hdr))
		return USM_DECODE_TRUNCATED;
	if (len > USM_IPC_MAX_MSG)
		return USM_DECODE_OVERSIZED;
	memcpy(&hdr, buf, sizeof(hdr));
	if (hdr.magic != USM_IPC_MAGIC)
		return USM_DECODE_BAD_MAGIC;
	if (hdr.version != USM_IPC_VERSION)
		return USM_DECODE_BAD_VERSION;
	if (hdr.reserved != 0)
		return USM_DECODE_BAD_FIELD;
	const struct msg_spec *spec = find_spec(hdr.type);
	if (!spec)
		return USM_DECODE_UNKNOWN_TYPE;
	if (hdr.length != len - sizeof(hdr))
		return USM_DECODE_BAD_LENGTH;
	const void *payload = (const char *)buf + sizeof(hdr);
	if (!length_fits(spec, payload, hdr.length))
		return USM_DECODE_BAD_LENGTH;
	if (spec->check && !spec->check(payload, hdr.length))
		return USM_DECODE_BAD_FIELD;
	view->type = hdr.type;
	view->payload = payload;
	view->length = hdr.length;
	return USM_DECODE_OK;
}

long usm_msg_encode(uint16_t type, const void *payload, size_t length, void *out, size_t out_cap)
{
	const struct msg_spec *spec = find_spec(type);
	if (!spec || !length_fits(spec, payload, length) ||
	    (spec->check && !spec->check(payload, length)))
		return -EINVAL;
	size_t total = sizeof(struct usm_msg_hdr) + length;
	if (total > USM_IPC_MAX_MSG || total > out_cap)
		return -EMSGSIZE;
	struct usm_msg_hdr hdr = {
		.magic = USM_IPC_MAGIC,
		.version = USM_IPC_VERSION,
		.type = type,
		.length = (uint32_t)length,
	};
	memcpy(out, &hdr, sizeof(hdr));
	if (length)
		memcpy((char *)out + sizeof(hdr), payload, length);
	return (long)total;
}

size_t usm_msg_payload_size(uint16_t type, uint32_t count)
{
	const struct msg_spec *spec = find_spec(type);
	if (!spec)
		return 0;
	return spec->fixed + (size_t)count * spec->elem;
}

const char *usm_msg_type_name(uint16_t type)
{
	const struct msg_spec *spec = find_spec(type);
	return spec ? spec->name + strlen("USM_MSG_") : "unknown";
}

const char *usm_decode_error_name(enum usm_decode_error e)
{
	static const char *const names[] = {
		[USM_DECODE_OK] = "ok",
		[USM_DECODE_TRUNCATED] = "truncated",
		[USM_DECODE_OVERSIZED] = "oversized",
		[USM_DECODE_BAD_MAGIC] = "bad magic",
		[USM_DECODE_BAD_VERSION] = "wrong protocol version",
		[USM_DECODE_UNKNOWN_TYPE] = "unknown type",
		[USM_DECODE_BAD_LENGTH] = "bad length",
		[USM_DECODE_BAD_FIELD] = "bad field",
	};
	return (unsigned)e < USM_DECODE_ERROR_COUNT ? names[e] : "?";
}

void usm_copy_printable(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	if (cap == 0)
		return;
	for (; src && src[i] && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	memset(dst + i, 0, cap - i);
}

#define NAME_OR_UNKNOWN(table, i) \
	((unsigned)(i) < sizeof(table) / sizeof(table[0]) && table[i] ? table[i] : "unknown")

const char *usm_monitor_state_name(uint8_t state)
{
	static const char *const names[] = {"Disabled", "Running", "Not running", "Stopped"};
	return NAME_OR_UNKNOWN(names, state);
}

static const char *const program_type_names[] = {"shared_libraries", "istio", "nodejs",
						  "go-tls"};

const char *usm_program_type_name(uint8_t type) { return NAME_OR_UNKNOWN(program_type_names, type); }

int usm_program_type_parse(const char *name)
{
	for (int i = 0; i < USM_PROG_TYPE_COUNT; i++)
		if (strcmp(name, program_type_names[i]) == 0)
			return i;
	return -EINVAL;
}

const char *usm_http_method_name(uint8_t method)
{
	static const char *const names[] = {
		[USM_HTTP_METHOD_UNKNOWN] = NULL,
		[USM_HTTP_METHOD_GET] = "GET",
		[USM_HTTP_METHOD_HEAD] = "HEAD",
		[USM_HTTP_METHOD_POST] = "POST",
		[USM_HTTP_METHOD_PUT] = "PUT",
		[USM_HTTP_METHOD_DELETE] = "DELETE",
		[USM_HTTP_METHOD_PATCH] = "PATCH",
		[USM_HTTP_METHOD_OPTIONS] = "OPTIONS",
		[USM_HTTP_METHOD_CONNECT] = "CONNECT",
		[USM_HTTP_METHOD_TRACE] = "TRACE",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == USM_HTTP_METHOD_COUNT,
		       "name every method");
	return method < USM_HTTP_METHOD_COUNT ? names[method] : NULL;
}

const char *usm_http_protocol_name(uint8_t protocol)
{
	static const char *const names[] = {
		[USM_HTTP_PROTO_HTTP1] = "http/1.1",
		[USM_HTTP_PROTO_H2] = "h2",
	};
	return protocol < USM_HTTP_PROTO_COUNT ? names[protocol] : NULL;
}

const char *usm_proc_state_name(uint8_t state)
{
	static const char *const names[] = {"running", "restarting", "failed"};
	return NAME_OR_UNKNOWN(names, state);
}

const char *usm_role_name(uint8_t role)
{
	static const char *const names[] = {"usm-privd", "usm-collector", "usm-apid"};
	return NAME_OR_UNKNOWN(names, role);
}

const char *usm_counter_name(unsigned counter)
{
	static const char *const names[] = {
		[USM_CTR_IPC_REQUESTS] = "ipc_requests",
		[USM_CTR_IPC_BAD_MESSAGES] = "ipc_bad_messages",
		[USM_CTR_IPC_REJECTED_PEERS] = "ipc_rejected_peers",
		[USM_CTR_PRIVD_CALL_FAILURES] = "privd_call_failures",
		[USM_CTR_PROC_EVENTS] = "proc_events",
		[USM_CTR_PROC_EVENTS_LOST] = "proc_events_lost",
		[USM_CTR_PROC_EVENTS_MALFORMED] = "proc_events_malformed",
		[USM_CTR_REG_REGISTERED] = "registered",
		[USM_CTR_REG_ALREADY_REGISTERED] = "already_registered",
		[USM_CTR_REG_HOOK_FAILED] = "hook_failed",
		[USM_CTR_REG_BLOCKED] = "blocked",
		[USM_CTR_REG_BLOCKED_HITS] = "blocked_hits",
		[USM_CTR_REG_UNREGISTERED] = "unregistered",
		[USM_CTR_REG_DETACHED] = "detached",
		[USM_CTR_REG_FULL] = "registry_full",
		[USM_CTR_SCAN_PROCESSES] = "scan_records",
		[USM_CTR_PROBE_HITS] = "probe_hits",
		[USM_CTR_ATTACHMENTS] = "attachments",
		[USM_CTR_DETACH_PENDING] = "detach_pending",
		[USM_CTR_HTTP_EVENTS] = "http_events",
		[USM_CTR_HTTP_EVENTS_LOST] = "http_events_lost",
		[USM_CTR_HTTP_EVENTS_MALFORMED] = "http_events_malformed",
		[USM_CTR_HTTP_EXCHANGES] = "http_exchanges",
		[USM_CTR_HTTP_UNANSWERED] = "http_unanswered",
		[USM_CTR_HTTP_ORPHAN_RESPONSES] = "http_orphan_responses",
		[USM_CTR_HTTP_PIPELINE_OVERFLOW] = "http_pipeline_overflow",
		[USM_CTR_HTTP_PARSE_ERRORS] = "http_parse_errors",
		[USM_CTR_HTTP_NOT_HTTP] = "http_not_http_connections",
		[USM_CTR_HTTP_CLIENT_DUPLICATES] = "http_client_duplicates",
		[USM_CTR_HTTP_CONNECTIONS] = "http_connections",
		[USM_CTR_HTTP_CONNECTIONS_EVICTED] = "http_connections_evicted",
		[USM_CTR_HTTP_STATS_OVERFLOW] = "http_stats_overflow",
		[USM_CTR_HTTP_PATHS_TRUNCATED] = "http_paths_truncated",
		[USM_CTR_HTTP_STATS_ROWS] = "http_stats_rows",
		[USM_CTR_TRACED_FILES] = "traced_files",
		[USM_CTR_BLOCKED_FILES] = "blocked_files",
		[USM_CTR_INSPECTIONS] = "inspections",
		[USM_CTR_INSPECT_FAILURES] = "inspect_failures",
		[USM_CTR_INSPECT_TIMEOUTS] = "inspect_timeouts",
		[USM_CTR_INSPECT_CACHE_HITS] = "inspect_cache_hits",
		[USM_CTR_HTTP_WITHOUT_TUPLE] = "http_exchanges_without_tuple",
		[USM_CTR_HTTP2_CONNECTIONS] = "http2_connections",
		[USM_CTR_HTTP2_HPACK_DESYNC] = "http2_hpack_desync",
		[USM_CTR_HTTP2_STARTED_UNSEEN] = "http2_started_unseen",
		[USM_CTR_HTTP2_FRAMING_LOST] = "http2_framing_lost",
		[USM_CTR_HTTP2_STREAMS_RESET] = "http2_streams_reset",
		[USM_CTR_HTTP2_PUSHES_IGNORED] = "http2_pushes_ignored",
		[USM_CTR_HTTP2_GOAWAY] = "http2_goaway",
		[USM_CTR_SERVICE_NAMES_REJECTED] = "service_names_rejected",
		[USM_CTR_PROCESS_NAMES_DROPPED] = "process_names_dropped",
		[USM_CTR_FORKS_PARENT_UNNAMED] = "forks_parent_unnamed",
	};
	_Static_assert(sizeof(names) / sizeof(names[0]) == USM_CTR_COUNT, "name every counter");
	return NAME_OR_UNKNOWN(names, counter);
}
