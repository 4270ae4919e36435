#include "http_render.h"

#include <arpa/inet.h>
#include <stdbool.h>

#include "http_record.h"
#include "ipc_codec.h"

/* ns as a JSON number in ms, serialized exactly as written. */
static json_object *ms(uint64_t ns)
{
	char text[HTTP_RECORD_DECIMAL_MAX];
	http_record_decimal(ns, 1000000, text, sizeof(text));
	return json_object_new_double_s((double)ns / 1e6, text);
}

/* comm and path: at most USM_HTTP_PATH_MAX bytes with their NUL. */
static json_object *utf8_string(const char *s)
{
	char clean[HTTP_RECORD_UTF8_MAX(USM_HTTP_PATH_MAX)];
	http_record_utf8(s, clean, sizeof(clean));
	return json_object_new_string(clean);
}

static json_object *text_or_null(const char *s)
{
	return *s ? utf8_string(s) : NULL;
}

static json_object *render_record(const struct usm_http_stats_record *r)
{
	char addr[INET6_ADDRSTRLEN];
	bool known = http_record_addr(r, addr, sizeof(addr)) == 0;
	const char *method = usm_http_method_name(r->method);

	json_object *server = json_object_new_object();
	json_object_object_add(server, "addr", known ? json_object_new_string(addr) : NULL);
	json_object_object_add(server, "port",
			       known && r->port ? json_object_new_int(r->port) : NULL);
	json_object_object_add(server, "pid", r->pid ? json_object_new_int64(r->pid) : NULL);
	json_object_object_add(server, "comm", text_or_null(r->comm));

	json_object *latency = json_object_new_object();
	json_object_object_add(latency, "p50", ms(r->p50_ns));
	json_object_object_add(latency, "p90", ms(r->p90_ns));
	json_object_object_add(latency, "p99", ms(r->p99_ns));
	json_object_object_add(latency, "max", ms(r->max_ns));
	/* With count, what a reader polling twice needs for the mean latency
	 * between its two reads (quantiles since start cannot give it). */
	json_object_object_add(latency, "sum", ms(r->latency_sum_ns));

	json_object *o = json_object_new_object();
	/* The name the server's process chose (OTEL_SERVICE_NAME, DD_SERVICE),
	 * else its command; its container: null when not known. */
	json_object_object_add(o, "service", text_or_null(r->service));
	json_object_object_add(o, "container_id", text_or_null(r->container_id));
	json_object_object_add(o, "server", server);
	const char *protocol = usm_http_protocol_name(r->protocol); /* the codec checked it */
	json_object_object_add(o, "protocol", protocol ? json_object_new_string(protocol) : NULL);
	json_object_object_add(o, "method", method ? json_object_new_string(method) : NULL);
	json_object_object_add(o, "path", utf8_string(r->path));
	json_object_object_add(o, "status", json_object_new_int(r->status));
	json_object_object_add(o, "grpc_status", r->grpc_status == USM_GRPC_STATUS_NONE
							 ? NULL
							 : json_object_new_int(r->grpc_status));
	json_object_object_add(o, "count", json_object_new_uint64(r->count));
	json_object_object_add(o, "bytes", json_object_new_uint64(r->bytes));
	json_object_object_add(o, "latency_ms", latency);
	return o;
}

json_object *http_render_json(const struct usm_http_stats_record *records, size_t n)
{
	json_object *list = json_object_new_array_ext((int)(n < 1 ? 1 : n));
	for (size_t i = 0; list && i < n; i++)
		json_object_array_add(list, render_record(&records[i]));
	return list;
}
