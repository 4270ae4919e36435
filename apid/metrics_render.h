/* GET /metrics: the Prometheus text exposition format, version 0.0.4
 * (what `promtool check metrics` reads), from the collector's HTTP rows
 * and its counters.
 *
 * Families, each with one # HELP and one # TYPE line, then its samples:
 *   usm_http_requests_total{service,method,path,status,server}       counter
 *   usm_http_request_duration_seconds{...same labels...}             histogram
 *     _bucket{...,le="0.001"} ... le="10" (USM_HTTP_BUCKET_BOUNDS_NS),
 *     _bucket{...,le="+Inf"} = _count, _sum (seconds), _count
 *   usm_http_request_bytes_total{...same labels...}                  counter
 *   http_server_request_duration_seconds{http_request_method,
 *     http_response_status_code,http_route,server_address,server_port,
 *     service_name}                                                  histogram
 *   http_client_request_duration_seconds{...same labels...}          histogram
 *     Plain HTTP rows (gRPC rows are in rpc_* only) in OpenTelemetry's
 *     HTTP conventions as Prometheus spells them, the names Beyla and
 *     OpenTelemetry's eBPF instrumentation export: server rows (the
 *     server's pid known) in the first, rows seen only from a client in
 *     the second. method "_OTHER" when not known; http_route is the path
 *     (usm knows no route templates); server_address the address alone
 *     ("::1", no brackets) and server_port the port, each left out when
 *     not known; service_name the server's comm, or "unknown_service"
 *     (always for the client family: the client is not known). The same
 *     exchanges as the usm_http_* families, whose series they split by
 *     side; the buckets are usm's (below), not OpenTelemetry's defaults.
 *   rpc_server_duration_seconds{rpc_system,rpc_service,rpc_method,
 *     rpc_grpc_status_code,service,server}                           histogram
 *   rpc_client_duration_seconds{...same labels...}                   histogram
 *     gRPC rows (those with a grpc_status) in OpenTelemetry's RPC
 *     conventions as Prometheus spells them: rpc_system "grpc", the
 *     service and method split from the path "/package.Service/Method",
 *     the gRPC status code; server rows (the server's pid known) in the
 *     first, rows seen only from a client in the second. They are in the
 *     usm_http_* families too (they are HTTP/2 exchanges).
 *   usm_<counter>_total for each collector counter (usm_counter_name()),
 *   or usm_<counter> for the ones that are gauges (connections, rows,
 *   files and attachments held now).
 *
 * Labels: service is the server's comm, or "unknown"; method "GET" ...
 * "TRACE", or "unknown";
 * path as the collector keeps it; status the numeric code; server
 * "addr:port", "[v6addr]:port", or "unknown" (http_record_server()).
 * Values are escaped as the format wants (\\, \", \n), and bytes that are
 * not well-formed UTF-8 become U+FFFD first (label values must be UTF-8).
 * Rows whose label sets are equal (rows differing only in pid, since pid
 * is not a label) are merged into one series: counts, bytes, latency sums
 * and buckets added. Series are written in the order of their first row.
 *
 * Numbers: counts are integers; seconds are exact decimals of the
 * nanosecond values (no float rounding). Counters restart from zero when
 * the collector restarts or a client reads /usm/http_stats?reset=true,
 * which Prometheus treats as a counter reset. */
#ifndef USM_APID_METRICS_RENDER_H
#define USM_APID_METRICS_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_proto.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Renders n records and the collector's counters. Returns 0 with *text a
 * malloc()ed, NUL-terminated document of *len bytes (the caller frees it),
 * or -ENOMEM. Pure otherwise: no I/O, no global state. */
int metrics_render(const struct usm_http_stats_record *records, size_t n,
		   const uint64_t counters[USM_CTR_COUNT], char **text, size_t *len);

#endif
