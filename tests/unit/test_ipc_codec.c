/* The IPC codec: every message type round-trips; every malformed input is
 * rejected with its reason, before any payload field is trusted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ipc_codec.h"

static _Alignas(max_align_t) unsigned char wire[2 * USM_IPC_MAX_MSG];
static _Alignas(max_align_t) unsigned char payload[USM_IPC_MAX_PAYLOAD];

/* A valid payload for each type, with `count` elements for paged types. */
static size_t make_payload(uint16_t type, uint32_t count)
{
	memset(payload, 0, sizeof(payload));
	switch (type) {
	case USM_MSG_ERROR: {
		struct usm_msg_error *e = (void *)payload;
		e->code = -ENOENT;
		strcpy(e->message, "no such thing");
		break;
	}
	case USM_MSG_PRIVD_HEALTH_REP:
	case USM_MSG_COLL_HEALTH_REP: {
		struct usm_health *h = (void *)payload;
		for (unsigned i = 0; i < USM_ROLE_COUNT; i++) {
			h->proc[i].role = (uint8_t)i;
			h->proc[i].pid = 100 + i;
			h->proc[i].state = USM_PROC_RUNNING;
			h->proc[i].last_exit = -1;
		}
		h->ipc_rejected_peers = 3;
		break;
	}
	case USM_MSG_COLL_STATS_REP: {
		struct usm_stats *s = (void *)payload;
		s->state = USM_STATE_RUNNING;
		s->last_check = 1700000000;
		strcpy(s->error, "");
		s->counters[USM_CTR_IPC_REQUESTS] = 42;
		break;
	}
	case USM_MSG_COLL_TRACED_REQ:
	case USM_MSG_COLL_BLOCKED_REQ:
		((struct usm_page_req *)payload)->cursor = 7;
		break;
	case USM_MSG_COLL_TRACED_REP: {
		struct usm_traced_page *p = (void *)payload;
		struct usm_traced_record *r = (void *)(p + 1);
		p->count = count;
		p->next_cursor = 9;
		for (uint32_t i = 0; i < count; i++) {
			r[i].dev = 34;
			r[i].inode = 1000 + i;
			r[i].program_type = USM_PROG_SHARED_LIBRARIES;
			r[i].npids = 2;
			r[i].pids[0] = 732;
			r[i].pids[1] = 1648;
			strcpy(r[i].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
		}
		break;
	}
	case USM_MSG_COLL_BLOCKED_REP: {
		struct usm_blocked_page *p = (void *)payload;
		struct usm_blocked_record *r = (void *)(p + 1);
		p->count = count;
		for (uint32_t i = 0; i < count; i++) {
			r[i].inode = 112 + i;
			r[i].program_type = USM_PROG_NODEJS;
			strcpy(r[i].reason, "no-symbols");
			strcpy(r[i].sample_path, "/opt/x/libssl.so.3");
		}
		break;
	}
	case USM_MSG_PRIVD_STATUS_REP:
		strcpy(((struct usm_privd_status *)payload)->error, "");
		((struct usm_privd_status *)payload)->process_monitor = 1;
		break;
	case USM_MSG_PRIVD_ATTACH_REQ: {
		struct usm_attach_req *r = (void *)payload;
		r->pid = 4242;
		r->set_id = 1;
		r->program_type = USM_PROG_NODEJS;
		strcpy(r->path, "/usr/bin/node");
		break;
	}
	case USM_MSG_PRIVD_ATTACH_REP: {
		struct usm_attach_rep *r = (void *)payload;
		r->error = -ENOENT;
		strcpy(r->reason, "no-symbols");
		break;
	}
	case USM_MSG_PRIVD_DETACH_REQ:
		((struct usm_detach_req *)payload)->attachment = 3;
		break;
	case USM_MSG_PRIVD_LIST_REQ:
	case USM_MSG_PRIVD_SCAN_REQ:
		((struct usm_page_req *)payload)->cursor = 1;
		break;
	case USM_MSG_PRIVD_LIST_REP: {
		struct usm_attachment_page *p = (void *)payload;
		struct usm_attachment_record *r = (void *)(p + 1);
		p->count = count;
		for (uint32_t i = 0; i < count; i++) {
			r[i].attachment = i + 1;
			strcpy(r[i].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
		}
		break;
	}
	case USM_MSG_PRIVD_SCAN_REP: {
		struct usm_scan_page *p = (void *)payload;
		struct usm_scan_record *r = (void *)(p + 1);
		p->count = count;
		for (uint32_t i = 0; i < count; i++) {
			r[i].pid = 100 + i;
			r[i].kind = i % 2 ? USM_SCAN_LIBRARY : USM_SCAN_EXE;
			strcpy(r[i].path, "/usr/bin/python3");
		}
		break;
	}
	case USM_MSG_COLL_CONTROL_REQ:
		((struct usm_control_req *)payload)->action = USM_CONTROL_ATTACH_PID;
		((struct usm_control_req *)payload)->pid = 77;
		break;
	case USM_MSG_COLL_CONTROL_REP:
		strcpy(((struct usm_control_rep *)payload)->message, "ok");
		break;
	case USM_MSG_COLL_HTTP_STATS_REP: {
		struct usm_http_stats_page *p = (void *)payload;
		struct usm_http_stats_record *r = (void *)(p + 1);
		p->count = count;
		for (uint32_t i = 0; i < count; i++) {
			r[i].family = USM_AF_INET;
			r[i].addr[0] = 127;
			r[i].addr[3] = 1;
			r[i].method = USM_HTTP_METHOD_GET;
			r[i].port = 8080;
			r[i].status = 200;
			r[i].protocol = USM_HTTP_PROTO_HTTP1;
			r[i].grpc_status = USM_GRPC_STATUS_NONE;
			strcpy(r[i].comm, "nginx");
			strcpy(r[i].path, "/a");
			r[i].count = 1;
		}
		break;
	}
	default:
		break;
	}
	return usm_msg_payload_size(type, count);
}

static const uint16_t all_types[] = {
	USM_MSG_ERROR,           USM_MSG_PRIVD_HEALTH_REQ, USM_MSG_PRIVD_HEALTH_REP,
	USM_MSG_COLL_STATS_REQ,  USM_MSG_COLL_STATS_REP,   USM_MSG_COLL_TRACED_REQ,
	USM_MSG_COLL_TRACED_REP, USM_MSG_COLL_BLOCKED_REQ, USM_MSG_COLL_BLOCKED_REP,
	USM_MSG_COLL_HEALTH_REQ, USM_MSG_COLL_HEALTH_REP,  USM_MSG_PRIVD_STATUS_REQ,
	USM_MSG_PRIVD_STATUS_REP, USM_MSG_PRIVD_ATTACH_REQ, USM_MSG_PRIVD_ATTACH_REP,
	USM_MSG_PRIVD_DETACH_REQ, USM_MSG_PRIVD_DETACH_REP, USM_MSG_PRIVD_LIST_REQ,
	USM_MSG_PRIVD_LIST_REP,  USM_MSG_PRIVD_SCAN_REQ,   USM_MSG_PRIVD_SCAN_REP,
	USM_MSG_COLL_CONTROL_REQ, USM_MSG_COLL_CONTROL_REP, USM_MSG_COLL_HTTP_STATS_REQ,
	USM_MSG_COLL_HTTP_STATS_REP,
};

static long encode_valid(uint16_t type, uint32_t count)
{
	size_t len = make_payload(type, count);
	return usm_msg_encode(type, payload, len, wire, sizeof(wire));
}

static void test_every_type_round_trips(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
		uint32_t counts[] = {0, 1, USM_PAGE_MAX_RECORDS};
		for (size_t c = 0; c < 3; c++) {
			long n = encode_valid(all_types[i], counts[c]);
			assert_true(n >= (long)sizeof(struct usm_msg_hdr));
			struct usm_msg_view v;
			assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
			assert_int_equal(v.type, all_types[i]);
			assert_int_equal(v.length, (size_t)n - sizeof(struct usm_msg_hdr));
			assert_memory_equal(v.payload, payload, v.length);
		}
	}
}

static void test_paged_reply_carries_its_records(void **state)
{
	(void)state;
	long n = encode_valid(USM_MSG_COLL_TRACED_REP, 3);
	struct usm_msg_view v;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	const struct usm_traced_page *p = v.payload;
	const struct usm_traced_record *r = (const void *)(p + 1);
	assert_int_equal(p->count, 3);
	assert_int_equal(r[2].inode, 1002);
	assert_int_equal(r[1].pids[1], 1648);
	assert_string_equal(r[0].path, "/usr/lib/x86_64-linux-gnu/libssl.so.3");
}

static void test_truncated_message_is_rejected(void **state)
{
	(void)state;
	long n = encode_valid(USM_MSG_COLL_STATS_REQ, 0);
	struct usm_msg_view v;
	for (size_t len = 0; len < sizeof(struct usm_msg_hdr); len++)
		assert_int_equal(usm_msg_decode(wire, len, &v), USM_DECODE_TRUNCATED);
	/* A payload cut short disagrees with the header's length. */
	n = encode_valid(USM_MSG_COLL_STATS_REP, 0);
	assert_int_equal(usm_msg_decode(wire, (size_t)n - 1, &v), USM_DECODE_BAD_LENGTH);
}

static void test_oversized_message_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	encode_valid(USM_MSG_COLL_STATS_REQ, 0);
	assert_int_equal(usm_msg_decode(wire, USM_IPC_MAX_MSG + 1, &v), USM_DECODE_OVERSIZED);
}

static void test_wrong_magic_is_rejected(void **state)
{
	(void)state;
	long n = encode_valid(USM_MSG_COLL_STATS_REQ, 0);
	wire[0] ^= 1;
	struct usm_msg_view v;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_MAGIC);
}

static void test_wrong_version_is_rejected(void **state)
{
	(void)state;
	long n = encode_valid(USM_MSG_COLL_STATS_REQ, 0);
	((struct usm_msg_hdr *)wire)->version = USM_IPC_VERSION + 1;
	struct usm_msg_view v;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_VERSION);
}

static void test_unknown_type_is_rejected(void **state)
{
	(void)state;
	long n = encode_valid(USM_MSG_COLL_STATS_REQ, 0);
	struct usm_msg_view v;
	uint16_t unknown[] = {0, 2, 15, 28, 31, 44, 999, 0xffff};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		((struct usm_msg_hdr *)wire)->type = unknown[i];
		assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_UNKNOWN_TYPE);
	}
}

static void test_nonzero_reserved_header_field_is_rejected(void **state)
{
	(void)state;
	long n = encode_valid(USM_MSG_COLL_STATS_REQ, 0);
	((struct usm_msg_hdr *)wire)->reserved = 1;
	struct usm_msg_view v;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_length_field_must_match_bytes_and_type(void **state)
{
	(void)state;
	struct usm_msg_view v;
	/* The header claims more than was received. */
	long n = encode_valid(USM_MSG_COLL_TRACED_REQ, 0);
	((struct usm_msg_hdr *)wire)->length += 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_LENGTH);
	/* Header and bytes agree, but the type is fixed-size and this is not it. */
	n = encode_valid(USM_MSG_COLL_TRACED_REQ, 0);
	((struct usm_msg_hdr *)wire)->length += 4;
	assert_int_equal(usm_msg_decode(wire, (size_t)n + 4, &v), USM_DECODE_BAD_LENGTH);
	/* An empty request with a payload. */
	n = encode_valid(USM_MSG_COLL_HEALTH_REQ, 0);
	((struct usm_msg_hdr *)wire)->length = 8;
	assert_int_equal(usm_msg_decode(wire, (size_t)n + 8, &v), USM_DECODE_BAD_LENGTH);
}

static void test_page_count_beyond_bound_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_BLOCKED_REP, 2);
	struct usm_blocked_page *p = (void *)(wire + sizeof(struct usm_msg_hdr));
	/* count disagrees with the bytes present */
	p->count = 3;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_LENGTH);
	/* a huge count must not overflow the size computation */
	p->count = UINT32_MAX;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_LENGTH);
	p->count = USM_PAGE_MAX_RECORDS + 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_LENGTH);
}

static void test_unterminated_string_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_ERROR, 0);
	struct usm_msg_error *e = (void *)(wire + sizeof(struct usm_msg_hdr));
	memset(e->message, 'A', sizeof(e->message));
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);

	n = encode_valid(USM_MSG_COLL_TRACED_REP, 2);
	struct usm_traced_record *r =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_traced_page));
	memset(r[1].path, 'x', sizeof(r[1].path));
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_control_characters_in_strings_are_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_BLOCKED_REP, 1);
	struct usm_blocked_record *r =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_blocked_page));
	r[0].sample_path[3] = '\n';
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_enum_out_of_range_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_STATS_REP, 0);
	((struct usm_stats *)(wire + sizeof(struct usm_msg_hdr)))->state = USM_STATE_COUNT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);

	n = encode_valid(USM_MSG_COLL_TRACED_REP, 1);
	struct usm_traced_record *r =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_traced_page));
	r[0].program_type = USM_PROG_TYPE_COUNT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);

	n = encode_valid(USM_MSG_COLL_TRACED_REP, 1);
	r = (void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_traced_page));
	r[0].flags = USM_TRACED_RESIDENT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	r[0].flags = 0x2; /* no such flag */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);

	n = encode_valid(USM_MSG_PRIVD_HEALTH_REP, 0);
	struct usm_health *h = (void *)(wire + sizeof(struct usm_msg_hdr));
	h->proc[1].role = USM_ROLE_APID; /* role must equal its slot */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_pids_beyond_record_capacity_are_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_TRACED_REP, 1);
	struct usm_traced_record *r =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_traced_page));
	r[0].npids = USM_PIDS_PER_RECORD + 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_nonzero_padding_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_STATS_REP, 0);
	((struct usm_stats *)(wire + sizeof(struct usm_msg_hdr)))->pad[2] = 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_encoder_refuses_what_the_decoder_would_reject(void **state)
{
	(void)state;
	size_t len = make_payload(USM_MSG_COLL_STATS_REP, 0);
	((struct usm_stats *)payload)->state = 200;
	assert_int_equal(usm_msg_encode(USM_MSG_COLL_STATS_REP, payload, len, wire, sizeof(wire)),
			 -EINVAL);
	assert_int_equal(usm_msg_encode(999, payload, 0, wire, sizeof(wire)), -EINVAL);
	len = make_payload(USM_MSG_COLL_STATS_REP, 0);
	assert_int_equal(usm_msg_encode(USM_MSG_COLL_STATS_REP, payload, len, wire, 20), -EMSGSIZE);
}

/* The ATTACH and SCAN messages carry paths and pids from one process to a
 * more privileged one: every field is checked. */
static void test_attach_request_with_bad_fields_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	struct usm_attach_req *r = (void *)(wire + sizeof(struct usm_msg_hdr));
	long n;
	n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	strcpy(r->path, "usr/lib/libssl.so.3"); /* relative */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	r->pid = 0; /* the file privd itself sees (resident_libraries) */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	r->set_id = USM_MAX_PROBE_SETS;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	r->program_type = USM_PROG_TYPE_COUNT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	memset(r->path, '/', sizeof(r->path)); /* unterminated */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	r->path[5] = '\n';
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_DETACH_REQ, 0);
	((struct usm_detach_req *)(wire + sizeof(struct usm_msg_hdr)))->attachment = 0;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_scan_page_with_bad_records_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_PRIVD_SCAN_REP, 3);
	struct usm_scan_record *r =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_scan_page));
	r[2].kind = USM_SCAN_KIND_COUNT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_SCAN_REP, 3);
	r[1].pid = 0;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_SCAN_REP, 3);
	r[0].path[0] = 'x';
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_PRIVD_SCAN_REP, 2);
	((struct usm_scan_page *)(wire + sizeof(struct usm_msg_hdr)))->count = 3;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_LENGTH);
	n = encode_valid(USM_MSG_PRIVD_LIST_REP, 1);
	struct usm_attachment_record *a =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_attachment_page));
	a[0].attachment = 0;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

static void test_control_request_rules(void **state)
{
	(void)state;
	struct usm_msg_view v;
	struct usm_control_req *r = (void *)(wire + sizeof(struct usm_msg_hdr));
	long n = encode_valid(USM_MSG_COLL_CONTROL_REQ, 0);
	r->action = USM_CONTROL_ACTION_COUNT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_COLL_CONTROL_REQ, 0);
	r->pid = 0; /* attach needs a pid */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	n = encode_valid(USM_MSG_COLL_CONTROL_REQ, 0);
	r->action = USM_CONTROL_CLEAR_BLOCKED; /* takes no pid */
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	r->pid = 0;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
}

/* ---- the named vocabulary: methods, address families, probe sets ---- */

static struct usm_http_stats_record *http_stats_records(void)
{
	return (void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_http_stats_page));
}

static void test_http_method_beyond_the_named_ones_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_HTTP_STATS_REP, 2);
	struct usm_http_stats_record *r = http_stats_records();
	r[1].method = USM_HTTP_METHOD_COUNT - 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	r[1].method = USM_HTTP_METHOD_UNKNOWN;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	r[1].method = USM_HTTP_METHOD_COUNT;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	r[1].method = UINT8_MAX;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	/* The sender is held to the same rule. */
	size_t len = make_payload(USM_MSG_COLL_HTTP_STATS_REP, 1);
	((struct usm_http_stats_record *)(payload + sizeof(struct usm_http_stats_page)))->method =
		USM_HTTP_METHOD_COUNT;
	assert_int_equal(
		usm_msg_encode(USM_MSG_COLL_HTTP_STATS_REP, payload, len, wire, sizeof(wire)),
		-EINVAL);
}

static void test_protocol_and_grpc_status_are_checked(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_HTTP_STATS_REP, 1);
	struct usm_http_stats_record *r = http_stats_records();
	const struct {
		uint8_t protocol;
		int8_t grpc;
		enum usm_decode_error want;
	} cases[] = {
		{USM_HTTP_PROTO_HTTP1, USM_GRPC_STATUS_NONE, USM_DECODE_OK},
		{USM_HTTP_PROTO_H2, USM_GRPC_STATUS_NONE, USM_DECODE_OK},
		{USM_HTTP_PROTO_H2, 0, USM_DECODE_OK},
		{USM_HTTP_PROTO_H2, USM_GRPC_STATUS_MAX, USM_DECODE_OK},
		{USM_HTTP_PROTO_H2, USM_GRPC_STATUS_MAX + 1, USM_DECODE_BAD_FIELD},
		{USM_HTTP_PROTO_H2, -2, USM_DECODE_BAD_FIELD},
		{USM_HTTP_PROTO_HTTP1, 0, USM_DECODE_BAD_FIELD}, /* gRPC is HTTP/2 */
		{0, USM_GRPC_STATUS_NONE, USM_DECODE_BAD_FIELD},
		{USM_HTTP_PROTO_COUNT, USM_GRPC_STATUS_NONE, USM_DECODE_BAD_FIELD},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r[0].protocol = cases[i].protocol;
		r[0].grpc_status = cases[i].grpc;
		assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), cases[i].want);
	}
	/* the request's filter: 0 (any) or a protocol */
	struct usm_http_stats_req req = {.protocol = USM_HTTP_PROTO_H2};
	assert_true(usm_msg_encode(USM_MSG_COLL_HTTP_STATS_REQ, &req, sizeof(req), wire,
				   sizeof(wire)) > 0);
	req.protocol = USM_HTTP_PROTO_COUNT;
	assert_int_equal(usm_msg_encode(USM_MSG_COLL_HTTP_STATS_REQ, &req, sizeof(req), wire,
					sizeof(wire)),
			 -EINVAL);
}

static void test_address_family_other_than_the_named_ones_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_COLL_HTTP_STATS_REP, 1);
	struct usm_http_stats_record *r = http_stats_records();
	const uint8_t named[] = {USM_AF_UNSPEC, USM_AF_INET, USM_AF_INET6};
	for (size_t i = 0; i < sizeof(named); i++) {
		r[0].family = named[i];
		assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	}
	const uint8_t other[] = {1, 3, 9, 11, 17 /* AF_PACKET */, UINT8_MAX};
	for (size_t i = 0; i < sizeof(other); i++) {
		r[0].family = other[i];
		assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
	}
}

static void test_probe_set_id_at_the_bound_is_rejected(void **state)
{
	(void)state;
	struct usm_msg_view v;
	long n = encode_valid(USM_MSG_PRIVD_ATTACH_REQ, 0);
	struct usm_attach_req *a = (void *)(wire + sizeof(struct usm_msg_hdr));
	a->set_id = USM_MAX_PROBE_SETS - 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	a->set_id = USM_MAX_PROBE_SETS;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);

	n = encode_valid(USM_MSG_PRIVD_LIST_REP, 1);
	struct usm_attachment_record *l =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_attachment_page));
	l[0].set_id = USM_MAX_PROBE_SETS - 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	l[0].set_id = USM_MAX_PROBE_SETS;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);

	n = encode_valid(USM_MSG_PRIVD_SCAN_REP, 1);
	struct usm_scan_record *sc =
		(void *)(wire + sizeof(struct usm_msg_hdr) + sizeof(struct usm_scan_page));
	sc[0].set_id = USM_MAX_PROBE_SETS - 1;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_OK);
	sc[0].set_id = USM_MAX_PROBE_SETS;
	assert_int_equal(usm_msg_decode(wire, (size_t)n, &v), USM_DECODE_BAD_FIELD);
}

/* usm_http_method_name(): a name for every method the wire accepts but
 * UNKNOWN, NULL (not "unknown") for UNKNOWN and beyond, so that each
 * renderer says "not known" its own way. */
static void test_every_http_method_has_its_name_and_no_other_value_has_one(void **state)
{
	(void)state;
	static const char *const spelled[] = {"GET",   "HEAD",    "POST",    "PUT",  "DELETE",
					      "PATCH", "OPTIONS", "CONNECT", "TRACE"};
	assert_int_equal(sizeof(spelled) / sizeof(spelled[0]), USM_HTTP_METHOD_COUNT - 1);
	for (unsigned m = USM_HTTP_METHOD_GET; m < USM_HTTP_METHOD_COUNT; m++) {
		const char *name = usm_http_method_name((uint8_t)m);
		assert_non_null(name);
		assert_string_equal(name, spelled[m - 1]);
	}
	assert_null(usm_http_method_name(USM_HTTP_METHOD_UNKNOWN));
	assert_null(usm_http_method_name(USM_HTTP_METHOD_COUNT));
	assert_null(usm_http_method_name(UINT8_MAX));
}

static void test_copy_printable_terminates_and_replaces_controls(void **state)
{
	(void)state;
	char out[8];
	usm_copy_printable(out, sizeof(out), "ab\ncd\x7f" "efghij");
	assert_string_equal(out, "ab?cd?e");
	usm_copy_printable(out, sizeof(out), NULL);
	assert_string_equal(out, "");
}

static void test_vocabulary_names(void **state)
{
	(void)state;
	assert_string_equal(usm_monitor_state_name(USM_STATE_NOT_RUNNING), "Not running");
	assert_string_equal(usm_monitor_state_name(77), "unknown");
	assert_string_equal(usm_program_type_name(USM_PROG_GO_TLS), "go-tls");
	assert_int_equal(usm_program_type_parse("istio"), USM_PROG_ISTIO);
	assert_int_equal(usm_program_type_parse("java"), -EINVAL);
	assert_string_equal(usm_msg_type_name(USM_MSG_COLL_STATS_REQ), "COLL_STATS_REQ");
	assert_string_equal(usm_decode_error_name(USM_DECODE_BAD_VERSION), "wrong protocol version");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type_round_trips),
		cmocka_unit_test(test_paged_reply_carries_its_records),
		cmocka_unit_test(test_truncated_message_is_rejected),
		cmocka_unit_test(test_oversized_message_is_rejected),
		cmocka_unit_test(test_wrong_magic_is_rejected),
		cmocka_unit_test(test_wrong_version_is_rejected),
		cmocka_unit_test(test_unknown_type_is_rejected),
		cmocka_unit_test(test_nonzero_reserved_header_field_is_rejected),
		cmocka_unit_test(test_length_field_must_match_bytes_and_type),
		cmocka_unit_test(test_page_count_beyond_bound_is_rejected),
		cmocka_unit_test(test_unterminated_string_is_rejected),
		cmocka_unit_test(test_control_characters_in_strings_are_rejected),
		cmocka_unit_test(test_enum_out_of_range_is_rejected),
		cmocka_unit_test(test_pids_beyond_record_capacity_are_rejected),
		cmocka_unit_test(test_nonzero_padding_is_rejected),
		cmocka_unit_test(test_encoder_refuses_what_the_decoder_would_reject),
		cmocka_unit_test(test_attach_request_with_bad_fields_is_rejected),
		cmocka_unit_test(test_scan_page_with_bad_records_is_rejected),
		cmocka_unit_test(test_control_request_rules),
		cmocka_unit_test(test_http_method_beyond_the_named_ones_is_rejected),
		cmocka_unit_test(test_protocol_and_grpc_status_are_checked),
		cmocka_unit_test(test_address_family_other_than_the_named_ones_is_rejected),
		cmocka_unit_test(test_probe_set_id_at_the_bound_is_rejected),
		cmocka_unit_test(test_every_http_method_has_its_name_and_no_other_value_has_one),
		cmocka_unit_test(test_copy_printable_terminates_and_replaces_controls),
		cmocka_unit_test(test_vocabulary_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
