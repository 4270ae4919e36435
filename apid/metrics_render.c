#include "metrics_render.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/linkhash.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_record.h"
#include "ipc_codec.h"

/* A cleaned value (HTTP_RECORD_UTF8_MAX) with every byte escaped, at worst. */
#define LABEL_VALUE_MAX (2 * HTTP_RECORD_UTF8_MAX(USM_HTTP_PATH_MAX))
#define LABELS_MAX (4 * LABEL_VALUE_MAX)
/* OpenTelemetry's spelling of a method it does not know
 * (http.request.method) and of a service without a name (service.name). */
#define OTEL_OTHER_METHOD "_OTHER"
#define OTEL_UNKNOWN_SERVICE "unknown_service"

static const struct counter_doc {
	const char *help;
	bool gauge; /* a level now, not a count since start */
} counter_docs[] = {
	[USM_CTR_IPC_REQUESTS] = {"Requests from apid the collector answered.", false},
	[USM_CTR_IPC_BAD_MESSAGES] = {"Requests from apid the collector's codec rejected.", false},
	[USM_CTR_IPC_REJECTED_PEERS] = {"Connections to the collector refused by peer uid.", false},
	[USM_CTR_PRIVD_CALL_FAILURES] = {"Requests to privd that failed or timed out.", false},
	[USM_CTR_PROC_EVENTS] = {"Process discovery events consumed.", false},
	[USM_CTR_PROC_EVENTS_LOST] = {"Process discovery events the kernel could not queue "
				      "(ring buffer full).",
				      false},
	[USM_CTR_PROC_EVENTS_MALFORMED] = {"Process discovery events the collector rejected.",
					   false},
	[USM_CTR_REG_REGISTERED] = {"Files attached by the registry.", false},
	[USM_CTR_REG_ALREADY_REGISTERED] = {"Pids added to a file already traced.", false},
	[USM_CTR_REG_HOOK_FAILED] = {"Attaches that failed through no fault of the file.", false},
	[USM_CTR_REG_BLOCKED] = {"Files put on the blocklist.", false},
	[USM_CTR_REG_BLOCKED_HITS] = {"Registers refused because the file is blocked.", false},
	[USM_CTR_REG_UNREGISTERED] = {"Pids removed from traced files.", false},
	[USM_CTR_REG_DETACHED] = {"Files detached after their last pid left.", false},
	[USM_CTR_REG_FULL] = {"Registers refused at the traced file limit.", false},
	[USM_CTR_SCAN_PROCESSES] = {"Records received from the start-up scan.", false},
	[USM_CTR_PROBE_HITS] = {"TLS probe hits in the kernel.", false},
	[USM_CTR_ATTACHMENTS] = {"Files with probes attached in the kernel now.", true},
	[USM_CTR_DETACH_PENDING] = {"Probe links privd is still closing.", true},
	[USM_CTR_HTTP_EVENTS] = {"HTTP capture records consumed.", false},
	[USM_CTR_HTTP_EVENTS_LOST] = {"HTTP capture records the kernel could not queue "
				      "(ring buffer full).",
				      false},
	[USM_CTR_HTTP_EVENTS_MALFORMED] = {"HTTP capture records the collector rejected.", false},
	[USM_CTR_HTTP_EXCHANGES] = {"HTTP request/response pairs aggregated.", false},
	[USM_CTR_HTTP_UNANSWERED] = {"HTTP requests that expired or were left at close without "
				     "a response.",
				     false},
	[USM_CTR_HTTP_ORPHAN_RESPONSES] = {"HTTP responses with no request to answer.", false},
	[USM_CTR_HTTP_PIPELINE_OVERFLOW] = {"HTTP requests pipelined past the depth tracked "
					    "per connection (1,024): dropped, oldest first.",
					    false},
	[USM_CTR_HTTP_PARSE_ERRORS] = {"HTTP parse errors: garbage, desync, oversized heads, "
				       "malformed HTTP/2 requests.",
				       false},
	[USM_CTR_HTTP_NOT_HTTP] = {"Connections that turned out not to carry HTTP/1.x.", false},
	[USM_CTR_HTTP_CLIENT_DUPLICATES] = {"Client-side exchanges dropped because the server "
					    "side is seen.",
					    false},
	[USM_CTR_HTTP_CONNECTIONS] = {"HTTP connections tracked now.", true},
	[USM_CTR_HTTP_CONNECTIONS_EVICTED] = {"HTTP connections dropped at the tracking limit.",
					      false},
	[USM_CTR_HTTP_STATS_OVERFLOW] = {"HTTP exchanges counted without labels because the "
					 "statistics table was full.",
					 false},
	[USM_CTR_HTTP_PATHS_TRUNCATED] = {"HTTP exchanges whose path was cut at "
					  "http_max_path_len.",
					  false},
	[USM_CTR_HTTP_STATS_ROWS] = {"Rows in the HTTP statistics table now.", true},
	[USM_CTR_TRACED_FILES] = {"Files in the registry now.", true},
	[USM_CTR_BLOCKED_FILES] = {"Files on the blocklist now.", true},
	[USM_CTR_INSPECTIONS] = {"Files inspected by an unprivileged inspector.", false},
	[USM_CTR_INSPECT_FAILURES] = {"Inspections that answered nothing usable.", false},
	[USM_CTR_INSPECT_TIMEOUTS] = {"Inspections that did not answer in time.", false},
	[USM_CTR_INSPECT_CACHE_HITS] = {"Attaches answered from the inspection cache.", false},
	[USM_CTR_HTTP_WITHOUT_TUPLE] = {"HTTP exchanges aggregated without their connection's "
					"addresses (a TLS session whose socket was not seen).",
					false},
	[USM_CTR_HTTP2_CONNECTIONS] = {"Connections found to be HTTP/2.", false},
	[USM_CTR_HTTP2_HPACK_DESYNC] = {"HTTP/2 directions whose header compression state could "
					"no longer be trusted (no rows from them after).",
					false},
	[USM_CTR_HTTP2_STARTED_UNSEEN] = {"HTTP/2 connections first seen after their start (not "
					  "decoded).",
					  false},
	[USM_CTR_HTTP2_FRAMING_LOST] = {"HTTP/2 directions whose frames a capture gap broke.",
					false},
	[USM_CTR_HTTP2_STREAMS_RESET] = {"HTTP/2 streams ended by RST_STREAM.", false},
	[USM_CTR_HTTP2_PUSHES_IGNORED] = {"HTTP/2 server pushes (not counted as exchanges).",
					  false},
	[USM_CTR_HTTP2_GOAWAY] = {"HTTP/2 GOAWAY frames.", false},
	[USM_CTR_SERVICE_NAMES_REJECTED] = {"Exec events whose service name (not printable, too "
					    "long) or cgroup name was refused; the process is "
					    "named by its command.",
					    false},
	[USM_CTR_PROCESS_NAMES_DROPPED] = {"Processes whose chosen service name or container id "
					   "was not kept because the table was full.",
					   false},
	[USM_CTR_FORKS_PARENT_UNNAMED] = {"Forked processes whose parent's names were not kept "
					  "(refused, dropped, or no container id in a long cgroup "
					  "name); the child is named by its command.",
					  false},
};
_Static_assert(sizeof(counter_docs) / sizeof(counter_docs[0]) == USM_CTR_COUNT,
	       "document every counter");

/* One labelled series: the sum of the rows that share its labels. */
struct series {
	uint64_t count, bytes, sum_ns;
	uint64_t buckets[USM_HTTP_BUCKETS];
	char labels[]; /* the key: service="...",method="...",... */
};

/* Copies in, cleaned to UTF-8 and escaped for a label value. */
static void label_value(const char *in, char *out, size_t cap)
{
	char clean[HTTP_RECORD_UTF8_MAX(USM_HTTP_PATH_MAX)];
	size_t o = 0;
	http_record_utf8(in, clean, sizeof(clean));
	for (const char *p = clean; *p && o + 3 <= cap; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n') {
			out[o++] = '\\';
			out[o++] = *p == '\n' ? 'n' : *p;
		} else
			out[o++] = *p;
	}
	out[o] = '\0';
}

/* The service label's value: the name the process chose or its command
 * (the collector resolved it), else `unknown`, escaped. */
static void service_value(const struct usm_http_stats_record *r, const char *unknown, char *out,
			  size_t cap)
{
	label_value(r->service[0] ? r->service : unknown, out, cap);
}

/* `,container_id="..."` when the server runs in a container, else "". */
static void container_label(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	char id[LABEL_VALUE_MAX];
	out[0] = '\0';
	if (!r->container_id[0])
		return;
	label_value(r->container_id, id, sizeof(id));
	snprintf(out, cap, ",container_id=\"%s\"", id);
}

static void series_labels(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	char service[LABEL_VALUE_MAX], path[LABEL_VALUE_MAX], server[HTTP_RECORD_SERVER_MAX];
	char container[LABEL_VALUE_MAX + 32];
	const char *method = usm_http_method_name(r->method);
	service_value(r, "unknown", service, sizeof(service));
	container_label(r, container, sizeof(container));
	label_value(r->path, path, sizeof(path));
	http_record_server(r, server, sizeof(server)); /* no character to escape */
	snprintf(out, cap,
		 "service=\"%s\",method=\"%s\",path=\"%s\",status=\"%u\",server=\"%s\"%s",
		 service, method ? method : "unknown", path, (unsigned)r->status, server, container);
}

/* A gRPC row's labels in OpenTelemetry's RPC conventions (rpc.system,
 * rpc.service, rpc.method, rpc.grpc.status_code, as Prometheus spells
 * them), with usm's service and server; false for other rows, and for
 * rows of the other side than `server_side` (a row without a server pid
 * was seen only from its client). */
static bool rpc_labels(const struct usm_http_stats_record *r, bool server_side, char *out,
		       size_t cap)
{
	if (r->grpc_status == USM_GRPC_STATUS_NONE || (r->pid != 0) != server_side)
		return false;
	char service[LABEL_VALUE_MAX], rpc_service[LABEL_VALUE_MAX], rpc_method[LABEL_VALUE_MAX];
	char server[HTTP_RECORD_SERVER_MAX], path[USM_HTTP_PATH_MAX];
	char container[LABEL_VALUE_MAX + 32];
	/* "/package.Service/Method" */
	snprintf(path, sizeof(path), "%s", r->path[0] == '/' ? r->path + 1 : r->path);
	char *slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	label_value(slash ? path : "", rpc_service, sizeof(rpc_service));
	label_value(slash ? slash + 1 : path, rpc_method, sizeof(rpc_method));
	service_value(r, "unknown", service, sizeof(service));
	container_label(r, container, sizeof(container));
	http_record_server(r, server, sizeof(server));
	snprintf(out, cap,
		 "rpc_system=\"grpc\",rpc_service=\"%s\",rpc_method=\"%s\","
		 "rpc_grpc_status_code=\"%d\",service=\"%s\",server=\"%s\"%s",
		 rpc_service, rpc_method, r->grpc_status, service, server, container);
	return true;
}

static bool rpc_server_labels(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	return rpc_labels(r, true, out, cap);
}

static bool rpc_client_labels(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	return rpc_labels(r, false, out, cap);
}

/* A plain HTTP row's labels in OpenTelemetry's HTTP conventions, as
 * Prometheus spells them (http.request.method, http.response.status_code,
 * http.route, server.address, server.port, service.name); false for gRPC
 * rows (in rpc_* only, as OpenTelemetry's gRPC instrumentation and Beyla
 * count them, so a sum over both families counts each call once) and for
 * rows of the other side than `server_side`. An attribute that is not
 * known is left out, as OpenTelemetry's exporters leave it out, except
 * service.name, whose fallback the specification names. */
static bool otel_http_labels(const struct usm_http_stats_record *r, bool server_side,
			     char *out, size_t cap)
{
	if (r->grpc_status != USM_GRPC_STATUS_NONE || (r->pid != 0) != server_side)
		return false;
	char service[LABEL_VALUE_MAX], route[LABEL_VALUE_MAX], addr[INET6_ADDRSTRLEN];
	char address[sizeof(addr) + 32] = "", port[32] = "", container[LABEL_VALUE_MAX + 32];
	const char *method = usm_http_method_name(r->method);
	service_value(r, OTEL_UNKNOWN_SERVICE, service, sizeof(service));
	container_label(r, container, sizeof(container));
	/* usm knows no route templates: the path is the route, as Beyla's
	 * `routes: unmatched: path` makes it. */
	label_value(r->path, route, sizeof(route));
	if (http_record_addr(r, addr, sizeof(addr)) == 0) {
		snprintf(address, sizeof(address), ",server_address=\"%s\"", addr);
		if (r->port)
			snprintf(port, sizeof(port), ",server_port=\"%u\"", (unsigned)r->port);
	}
	snprintf(out, cap,
		 "http_request_method=\"%s\",http_response_status_code=\"%u\",http_route=\"%s\""
		 "%s%s,service_name=\"%s\"%s",
		 method ? method : OTEL_OTHER_METHOD, (unsigned)r->status, route, address, port,
		 service, container);
	return true;
}

static bool otel_server_labels(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	return otel_http_labels(r, true, out, cap);
}

static bool otel_client_labels(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	return otel_http_labels(r, false, out, cap);
}

static bool http_labels(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	series_labels(r, out, cap);
	return true;
}

static void free_series(struct lh_entry *e)
{
	free(lh_entry_v(e));
}

/* The series of the records `labels_of` labels, merged by labels, in
 * first-seen order. */
static struct lh_table *merge_series(const struct usm_http_stats_record *records, size_t n,
				     bool (*labels_of)(const struct usm_http_stats_record *r,
						       char *out, size_t cap))
{
	struct lh_table *t = lh_kchar_table_new(64, free_series);
	char labels[LABELS_MAX];
	for (size_t i = 0; t && i < n; i++) {
		const struct usm_http_stats_record *r = &records[i];
		void *found;
		if (!labels_of(r, labels, sizeof(labels)))
			continue;
		struct series *s = lh_table_lookup_ex(t, labels, &found) ? found : NULL;
		if (!s) {
			size_t len = strlen(labels) + 1;
			if (!(s = calloc(1, sizeof(*s) + len))) {
				lh_table_free(t);
				return NULL;
			}
			memcpy(s->labels, labels, len);
			if (lh_table_insert(t, s->labels, s) != 0) {
				free(s);
				lh_table_free(t);
				return NULL;
			}
		}
		s->count += r->count;
		s->bytes += r->bytes;
		s->sum_ns += r->latency_sum_ns;
		for (int b = 0; b < USM_HTTP_BUCKETS; b++)
			s->buckets[b] += r->buckets[b];
	}
	return t;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram family (name without _bucket, _sum, _count) of seconds. */
static void write_histogram(FILE *f, struct lh_table *t, const char *name, const char *help)
{
	static const uint64_t bounds[USM_HTTP_BUCKETS] = USM_HTTP_BUCKET_BOUNDS_NS;
	struct lh_entry *e;
	char num[HTTP_RECORD_DECIMAL_MAX];
	family(f, name, "histogram", help);
	lh_foreach(t, e)
	{
		const struct series *s = lh_entry_v(e);
		for (int b = 0; b < USM_HTTP_BUCKETS; b++) {
			http_record_decimal(bounds[b], 1000000000, num, sizeof(num));
			fprintf(f, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name, s->labels, num,
				s->buckets[b]);
		}
		fprintf(f, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, s->labels, s->count);
		http_record_decimal(s->sum_ns, 1000000000, num, sizeof(num));
		fprintf(f, "%s_sum{%s} %s\n", name, s->labels, num);
		fprintf(f, "%s_count{%s} %" PRIu64 "\n", name, s->labels, s->count);
	}
}

static void write_http(FILE *f, struct lh_table *t)
{
	struct lh_entry *e;
	family(f, "usm_http_requests_total", "counter",
	       "HTTP exchanges (request and response) seen, by server and endpoint.");
	lh_foreach(t, e)
	{
		const struct series *s = lh_entry_v(e);
		fprintf(f, "usm_http_requests_total{%s} %" PRIu64 "\n", s->labels, s->count);
	}
	write_histogram(f, t, "usm_http_request_duration_seconds",
			"Time from the first byte of a request to the first byte of its response.");
	family(f, "usm_http_request_bytes_total", "counter",
	       "Bytes of HTTP requests and responses, by server and endpoint.");
	lh_foreach(t, e)
	{
		const struct series *s = lh_entry_v(e);
		fprintf(f, "usm_http_request_bytes_total{%s} %" PRIu64 "\n", s->labels, s->bytes);
	}
}

static void write_counters(FILE *f, const uint64_t counters[USM_CTR_COUNT])
{
	char name[96];
	for (unsigned i = 0; i < USM_CTR_COUNT; i++) {
		const struct counter_doc *d = &counter_docs[i];
		snprintf(name, sizeof(name), "usm_%s%s", usm_counter_name(i), d->gauge ? "" : "_total");
		family(f, name, d->gauge ? "gauge" : "counter", d->help);
		fprintf(f, "%s %" PRIu64 "\n", name, counters[i]);
	}
}

int metrics_render(const struct usm_http_stats_record *records, size_t n,
		   const uint64_t counters[USM_CTR_COUNT], char **text, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	/* Each family's series, in the order written. */
	enum { USM_HTTP, OTEL_SERVER, OTEL_CLIENT, RPC_SERVER, RPC_CLIENT, TABLES };
	static bool (*const labels_of[TABLES])(const struct usm_http_stats_record *, char *,
					       size_t) = {
		http_labels, otel_server_labels, otel_client_labels, rpc_server_labels,
		rpc_client_labels,
	};
	struct lh_table *t[TABLES] = {0};
	bool ok = true;
	for (int i = 0; i < TABLES && ok; i++)
		ok = (t[i] = merge_series(records, n, labels_of[i])) != NULL;
	FILE *f = ok ? open_memstream(&buf, &size) : NULL;
	if (f) {
		write_http(f, t[USM_HTTP]);
		write_histogram(f, t[OTEL_SERVER], "http_server_request_duration_seconds",
				"HTTP exchanges served, OpenTelemetry's http.server.request.duration: "
				"from the request's first byte to the response's (gRPC calls are in "
				"rpc_server_duration_seconds).");
		write_histogram(f, t[OTEL_CLIENT], "http_client_request_duration_seconds",
				"HTTP exchanges seen only from their client, OpenTelemetry's "
				"http.client.request.duration.");
		write_histogram(f, t[RPC_SERVER], "rpc_server_duration_seconds",
				"gRPC calls served, OpenTelemetry's rpc.server.duration: from the "
				"request's first HEADERS frame to the response's.");
		write_histogram(f, t[RPC_CLIENT], "rpc_client_duration_seconds",
				"gRPC calls seen only from their client, OpenTelemetry's "
				"rpc.client.duration.");
		write_counters(f, counters);
	}
	for (int i = 0; i < TABLES; i++)
		if (t[i])
			lh_table_free(t[i]);
	if (!f)
		return -ENOMEM;
	bool failed = ferror(f) != 0;
	if (fclose(f) != 0 || failed) {
		free(buf);
		return -ENOMEM;
	}
	*text = buf;
	*len = size;
	return 0;
}
