/* The fields of an HTTP statistics record (common/ipc_proto.h, struct
 * usm_http_stats_record) as text, for the JSON and Prometheus renderers,
 * so that both spell a server and a latency the same way. A method is
 * spelled by usm_http_method_name() (common/ipc_codec.h), as the collector
 * spells it.
 *
 * Every function is pure (no allocation, no I/O) and writes at most `cap`
 * bytes, always NUL-terminated; the *_MAX sizes below always suffice. */
#ifndef USM_APID_HTTP_RECORD_H
#define USM_APID_HTTP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_proto.h"

/* "[" INET6_ADDRSTRLEN "]:65535" */
#define HTTP_RECORD_SERVER_MAX 56
/* UINT64_MAX is 20 digits; a point and the terminator */
#define HTTP_RECORD_DECIMAL_MAX 24
/* Every byte of an invalid sequence may become U+FFFD (3 bytes). */
#define HTTP_RECORD_UTF8_MAX(in_cap) ((in_cap) * 3)

/* The server's address by inet_ntop: addr[0..3] for USM_AF_INET,
 * addr[0..15] for USM_AF_INET6. Returns 0, or -ENOENT for USM_AF_UNSPEC
 * (unknown) and any other family. */
int http_record_addr(const struct usm_http_stats_record *r, char *out, size_t cap);

/* "addr:port", "[v6addr]:port"; the address alone when the port is 0
 * (unknown); "unknown" when the address is. */
void http_record_server(const struct usm_http_stats_record *r, char *out, size_t cap);

/* value / unit as an exact decimal, trailing zeros (and a bare point)
 * dropped: ns = 1234500, unit = 1000000 (ms) -> "1.2345"; 2500000000,
 * 1000000000 (s) -> "2.5"; 0 -> "0". unit is a power of ten, 1..10^19. No
 * float is involved, so every nanosecond shows and none is invented. */
void http_record_decimal(uint64_t value, uint64_t unit, char *out, size_t cap);

/* Copies the C string in, replacing each byte that does not belong to a
 * well-formed UTF-8 sequence (overlong forms, surrogates and code points
 * above U+10FFFF included) with U+FFFD. Paths come from the network and the
 * collector checks only that they hold no control characters, while JSON
 * and Prometheus label values must be UTF-8. Stops early, at a character
 * boundary, when out is full. */
void http_record_utf8(const char *in, char *out, size_t cap);

#endif
