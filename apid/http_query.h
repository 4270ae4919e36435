/* The query string of GET /usm/http_stats, read into the collector
 * request it asks for (struct usm_http_stats_req).
 *
 * Contract of http_query_parse():
 * - The URI is the request target as nng_http_req_get_uri() gives it
 *   ("/usm/http_stats?status=200&path=%2Fa"). nng_url_parse() splits off
 *   the query (and a fragment) and refuses a '%' without two hex digits
 *   and percent-escaped bytes that are not UTF-8.
 * - The query is split on '&' first, then each piece on its first '=',
 *   then name and value are percent-decoded once (http_query_decode), so
 *   that %26 and %3D are data, not separators. Empty pieces ("a=1&&",
 *   a bare "?") are skipped. '+' is a plus sign, not a space: request
 *   paths often hold '+' and never a raw space.
 * - Parameters, each at most once:
 *     path=P      rows of this exact path (as the collector keeps it: the
 *                 request target up to '?', not decoded); 1..255 bytes
 *                 after decoding, no control characters (%00-%1F, %7F)
 *     status=N    rows with this status, 100..599
 *     pid=N       rows of this server pid, 1..4294967295
 *     reset=B     true: read and reset (sets USM_HTTP_STATS_RESET, which
 *                 the route allows only with api_control); false: a plain
 *                 read, the default
 *   Numbers are decimal digits only (no sign, no space, no hex).
 * - Anything else (an unknown or repeated name, a bad value, a malformed
 *   URI) returns -EINVAL with a one-line message for the client in err;
 *   the route answers 400 with it. -ENOMEM (with a message too) when nng
 *   could not allocate. On success req is a complete request with
 *   cursor 0.
 *
 * Pure: no I/O; allocates only inside nng_url_parse(). */
#ifndef USM_APID_HTTP_QUERY_H
#define USM_APID_HTTP_QUERY_H

#include <stddef.h>
#include <sys/types.h>

#include "ipc_proto.h"

#define HTTP_QUERY_ERROR_MAX 160 /* err capacity that no message exceeds */

int http_query_parse(const char *uri, struct usm_http_stats_req *req, char *err, size_t errcap);

/* Percent-decodes in[0..len) into out, NUL-terminated: "%XX" (hex digits
 * in either case) becomes that byte, every other byte stays as it is.
 * Returns the decoded length, -EINVAL for a '%' not followed by two hex
 * digits or for "%00" (a NUL would cut the C string the collector gets),
 * -ENAMETOOLONG when the result and its NUL do not fit in cap bytes. */
ssize_t http_query_decode(const char *in, size_t len, char *out, size_t cap);

#endif
