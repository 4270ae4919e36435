/* GET /usm/http_stats as JSON: one object per collector row, in the
 * collector's order (rows are never merged here):
 *
 *   {"server": {"addr": "127.0.0.1", "port": 8443, "pid": 1234, "comm": "nginx"},
 *    "method": "GET", "path": "/a", "status": 200, "count": 3, "bytes": 1234,
 *    "latency_ms": {"p50": 1.234, "p90": 2.5, "p99": 3.1, "max": 3.2, "sum": 7.5}}
 *
 * - addr: inet_ntop of the address (IPv4 or IPv6); addr and port are null
 *   when the address is unknown (family 0); port is null when 0, pid when 0
 *   (unknown), comm when "".
 * - method: "GET" ... "TRACE", null when the collector did not know it (0).
 * - path and comm: as the collector keeps them, any byte that is not part
 *   of well-formed UTF-8 replaced with U+FFFD (JSON is UTF-8).
 * - latency_ms: the record's nanoseconds as exact decimal milliseconds
 *   (up to six decimals, trailing zeros dropped); the quantiles come from
 *   the collector's sketch (within 1 %), max and sum (of all count
 *   exchanges) are exact.
 *
 * Pure: builds json-c objects only. */
#ifndef USM_APID_HTTP_RENDER_H
#define USM_APID_HTTP_RENDER_H

#include <json-c/json.h>
#include <stddef.h>

#include "ipc_proto.h"

/* A new JSON array of n objects (NULL only if json-c cannot allocate). */
json_object *http_render_json(const struct usm_http_stats_record *records, size_t n);

#endif
