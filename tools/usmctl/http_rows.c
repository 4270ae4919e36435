#include "http_rows.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(char *err, size_t cap, size_t row, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(char *err, size_t cap, size_t row, const char *fmt, ...)
{
	int n = snprintf(err, cap, "row %zu: ", row);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < cap)
		vsnprintf(err + n, cap - (size_t)n, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/* A member that must be there; json-c gives NULL for a JSON null too, so
 * presence and type are checked apart. */
static bool member(json_object *o, const char *key, json_object **v)
{
	return json_object_object_get_ex(o, key, v);
}

/* A string member, or null (then dflt). Returns false when absent, of
 * another type, or longer than cap allows. */
static bool text(json_object *o, const char *key, const char *dflt, char *out, size_t cap)
{
	json_object *v;
	if (!member(o, key, &v))
		return false;
	const char *s = dflt;
	if (!v && !dflt)
		return false;
	if (v) {
		if (!json_object_is_type(v, json_type_string))
			return false;
		s = json_object_get_string(v);
	}
	size_t len = strlen(s);
	if (len >= cap)
		return false;
	memcpy(out, s, len + 1);
	return true;
}

/* An integer member in [lo, hi]; null allowed when nullable (then -1). */
static bool integer(json_object *o, const char *key, int64_t lo, int64_t hi, bool nullable,
		    int64_t *out)
{
	json_object *v;
	if (!member(o, key, &v))
		return false;
	if (!v) {
		*out = -1;
		return nullable;
	}
	if (!json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	int64_t n = json_object_get_int64(v);
	if (errno || n < lo || n > hi)
		return false;
	*out = n;
	return true;
}

/* count is a uint64 in apid: read it unsigned, refuse a negative one. */
static bool counter(json_object *o, const char *key, uint64_t *out)
{
	json_object *v;
	if (!member(o, key, &v) || !v || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	*out = json_object_get_uint64(v);
	return errno == 0 && json_object_get_int64(v) >= 0;
}

static bool milliseconds(json_object *o, const char *key, double *out)
{
	json_object *v;
	if (!member(o, key, &v) || !v ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return false;
	*out = json_object_get_double(v);
	return *out >= 0;
}

static int parse_server(json_object *server, struct http_row *r, char *err, size_t cap, size_t i)
{
	char addr[HTTP_ROW_TEXT_MAX], comm[HTTP_ROW_TEXT_MAX];
	int64_t port, pid;
	if (!json_object_is_type(server, json_type_object) ||
	    !text(server, "addr", "", addr, sizeof(addr)) ||
	    !integer(server, "port", 0, 65535, true, &port) ||
	    !integer(server, "pid", 1, UINT32_MAX, true, &pid) ||
	    !text(server, "comm", "unknown", comm, sizeof(comm)))
		return bad(err, cap, i,
			   "\"server\" is not {\"addr\", \"port\", \"pid\", \"comm\"}");
	/* The /metrics label's spelling: [v6]:port, and "unknown". */
	bool v6 = strchr(addr, ':') != NULL;
	if (!addr[0])
		snprintf(r->server, sizeof(r->server), "unknown");
	else if (port < 0)
		snprintf(r->server, sizeof(r->server), "%s", addr);
	else
		snprintf(r->server, sizeof(r->server), v6 ? "[%s]:%d" : "%s:%d", addr, (int)port);
	return 0;
}

static int parse_row(json_object *o, struct http_row *r, char *err, size_t cap, size_t i)
{
	json_object *server, *latency;
	if (!json_object_is_type(o, json_type_object))
		return bad(err, cap, i, "not an object");
	if (!member(o, "server", &server) || !server)
		return bad(err, cap, i, "no \"server\"");
	int rc = parse_server(server, r, err, cap, i);
	if (rc != 0)
		return rc;
	/* Grouped by the name /metrics labels the row with, not the command:
	 * a pre-forked worker and its master, or two programs one service
	 * name covers, are one service. */
	if (!text(o, "service", "unknown", r->service, sizeof(r->service)))
		return bad(err, cap, i, "\"service\" is not a string of at most %d bytes or null",
			   HTTP_ROW_SERVICE_MAX - 1);
	int64_t status, grpc;
	if (!text(o, "method", "unknown", r->method, sizeof(r->method)))
		return bad(err, cap, i, "\"method\" is not a short string or null");
	if (!text(o, "path", NULL, r->path, sizeof(r->path)))
		return bad(err, cap, i, "\"path\" is not a string of at most %d bytes",
			   HTTP_ROW_PATH_MAX - 1);
	if (!integer(o, "status", 0, 999, false, &status))
		return bad(err, cap, i, "\"status\" is not a number from 0 to 999");
	if (!integer(o, "grpc_status", 0, 16, true, &grpc))
		return bad(err, cap, i, "\"grpc_status\" is not null or 0 to 16");
	if (!counter(o, "count", &r->count))
		return bad(err, cap, i, "\"count\" is not a count");
	if (!member(o, "latency_ms", &latency) || !latency ||
	    !json_object_is_type(latency, json_type_object) ||
	    !milliseconds(latency, "p50", &r->p50_ms) ||
	    !milliseconds(latency, "p90", &r->p90_ms) ||
	    !milliseconds(latency, "p99", &r->p99_ms) || !milliseconds(latency, "max", &r->max_ms))
		return bad(err, cap, i,
			   "\"latency_ms\" is not {\"p50\", \"p90\", \"p99\", \"max\"}");
	r->status = (int)status;
	r->grpc_status = (int)grpc;
	return 0;
}

int http_rows_parse(json_object *doc, struct http_rows *out, char *err, size_t cap)
{
	*out = (struct http_rows){0};
	if (!json_object_is_type(doc, json_type_array)) {
		snprintf(err, cap, "expected an array of statistics rows");
		return -EBADMSG;
	}
	size_t n = json_object_array_length(doc);
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v) {
		snprintf(err, cap, "out of memory for %zu rows", n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int rc = parse_row(json_object_array_get_idx(doc, i), &out->v[i], err, cap, i);
		if (rc != 0) {
			http_rows_free(out);
			return rc;
		}
	}
	out->n = n;
	return 0;
}

void http_rows_free(struct http_rows *rows)
{
	free(rows->v);
	*rows = (struct http_rows){0};
}
