/* Encoding and checked decoding of usm IPC messages (ipc_proto.h).
 *
 * usm_msg_decode() is the only way to read a received message: it checks
 * the header (magic, version, reserved, known type), the exact payload
 * length for the type (fixed size, or fixed part + count * element with
 * count bounded), and the type's fields (enums in range, strings NUL-ended
 * and printable, padding zero). Only then does the caller see the payload. */
#ifndef USM_IPC_CODEC_H
#define USM_IPC_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc_proto.h"

/* Why a message was rejected; each has a counter at the receiver. */
enum usm_decode_error {
	USM_DECODE_OK = 0,
	USM_DECODE_TRUNCATED,    /* shorter than a header */
	USM_DECODE_OVERSIZED,    /* longer than USM_IPC_MAX_MSG */
	USM_DECODE_BAD_MAGIC,
	USM_DECODE_BAD_VERSION,
	USM_DECODE_UNKNOWN_TYPE,
	USM_DECODE_BAD_LENGTH,   /* length field disagrees with the bytes or the type's bounds */
	USM_DECODE_BAD_FIELD,    /* enum out of range, unterminated string, padding set */
	USM_DECODE_ERROR_COUNT,
};

struct usm_msg_view {
	uint16_t type;
	const void *payload;
	size_t length;
};

/* Checks buf[0..len) completely; on success fills *view (pointing into buf)
 * and returns USM_DECODE_OK. buf must be aligned for max_align_t (the
 * transport copies each received message into such a buffer), so that the
 * payload can be read as its struct. */
enum usm_decode_error usm_msg_decode(const void *buf, size_t len, struct usm_msg_view *view);

/* Writes header + payload into out (capacity out_cap). Returns the total
 * size, or -EINVAL (unknown type / payload not valid for the type: the
 * sender checks its own messages too) or -EMSGSIZE. */
long usm_msg_encode(uint16_t type, const void *payload, size_t length, void *out, size_t out_cap);

/* Size of a message with `count` elements of the type's array part (or the
 * fixed size for a fixed-size type); 0 for an unknown type. */
size_t usm_msg_payload_size(uint16_t type, uint32_t count);

const char *usm_msg_type_name(uint16_t type);
const char *usm_decode_error_name(enum usm_decode_error e);

/* Copies src into a fixed char array, truncating, always NUL-terminated,
 * with any non-printable byte replaced by '?', so that what we send passes
 * the receiver's string check. */
void usm_copy_printable(char *dst, size_t cap, const char *src);

/* Vocabulary shared by the collector (producer) and apid (renderer). */
const char *usm_monitor_state_name(uint8_t state);
const char *usm_program_type_name(uint8_t type);
int usm_program_type_parse(const char *name); /* -EINVAL if unknown */
/* "GET" ... "TRACE", the token a request line spells, for
 * USM_HTTP_METHOD_GET..USM_HTTP_METHOD_TRACE; NULL for
 * USM_HTTP_METHOD_UNKNOWN and any value >= USM_HTTP_METHOD_COUNT, so that
 * each caller says "not known" its own way (JSON null, a log's "UNKNOWN"). */
const char *usm_http_method_name(uint8_t method);
/* "http/1.1", "h2"; NULL for anything else (0 included). */
const char *usm_http_protocol_name(uint8_t protocol);
const char *usm_proc_state_name(uint8_t state);
const char *usm_role_name(uint8_t role);
const char *usm_counter_name(unsigned counter);

#endif
