/* Checking one HTTP capture record from the ring buffer before it is used.
 *
 * The kernel side is ours, but the bytes still cross a boundary, so a
 * record is accepted only when every field the collector reads is
 * consistent: the size holds the header and the bytes it says were
 * captured, the type, direction and source are known, captured <= len,
 * a DATA record's range [offset, next) lies in the call and holds its
 * captured bytes (other records: offset and next 0),
 * the tuple's family is 0, AF_INET or AF_INET6 (ports non-zero when
 * known), pid is not 0, comm ends in NUL. CONN_CLOSE and CONN_BIND carry
 * no data; a CONN_BIND is a TLS session's, with a tuple.
 * The caller counts a rejected record as malformed and drops it; nothing
 * else is affected. */
#ifndef USM_COLLECTOR_DATA_EVENT_H
#define USM_COLLECTOR_DATA_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "usm_events.h"

enum data_event_error {
	DATA_EVENT_OK = 0,
	DATA_EVENT_SHORT,       /* smaller than the header */
	DATA_EVENT_BAD_TYPE,
	DATA_EVENT_BAD_FIELD,   /* dir, tls, pid, comm or tuple out of range */
	DATA_EVENT_BAD_LENGTH,  /* captured > len, > the cap, or beyond the record */
};

/* Checks the record at rec (size bytes, 8-byte aligned as the ring buffer
 * delivers it). On DATA_EVENT_OK, *data points at the captured bytes. */
enum data_event_error data_event_check(const void *rec, size_t size, const uint8_t **data);

/* "short", "bad type", ...: for logs and tests. */
const char *data_event_error_name(enum data_event_error e);

#endif
