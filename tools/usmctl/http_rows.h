/* GET /usm/http_stats's document (apid/http_render.c, README "API") read
 * into plain rows, every field checked.
 *
 * Contract of http_rows_parse(): pure. doc must be an array of objects
 * each with service, server {addr, port, pid, comm}, method, path,
 * status, grpc_status, count and latency_ms {p50, p90, p99, max}, of the types
 * the README documents (null where it allows null); other members are
 * ignored, so fields apid adds later do not break usmctl. Returns 0 with
 * out filled (free with http_rows_free), -EBADMSG with a one-line reason
 * in err naming the row, or -ENOMEM. */
#ifndef USMCTL_HTTP_ROWS_H
#define USMCTL_HTTP_ROWS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_ROW_TEXT_MAX 64  /* a command (16 bytes, each maybe U+FFFD), "[v6]:port" */
#define HTTP_ROW_SERVICE_MAX 192 /* a chosen name: 63 bytes, each maybe U+FFFD, and a NUL */
#define HTTP_ROW_PATH_MAX 800 /* 255 bytes, each maybe U+FFFD (3 bytes), and a NUL */

struct http_row {
	/* The row's service: the name its process chose (OTEL_SERVICE_NAME,
	 * DD_SERVICE), else its command, as /metrics labels it; "unknown"
	 * when null (the server side was not captured). */
	char service[HTTP_ROW_SERVICE_MAX];
	char server[HTTP_ROW_TEXT_MAX];	 /* "addr:port", "[addr]:port", "unknown" */
	char method[HTTP_ROW_TEXT_MAX];	 /* "unknown" when null (an extension method) */
	char path[HTTP_ROW_PATH_MAX];
	int status;
	int grpc_status; /* -1 on rows that are not gRPC */
	uint64_t count;
	double p50_ms, p90_ms, p99_ms, max_ms;
};

struct http_rows {
	struct http_row *v;
	size_t n;
};

int http_rows_parse(json_object *doc, struct http_rows *out, char *err, size_t cap);
void http_rows_free(struct http_rows *rows);

#endif
