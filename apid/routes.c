#include "routes.h"

#include <errno.h>
#include <stdint.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_counters.h"
#include "dashboard.h"
#include "fetch.h"
#include "http_query.h"
#include "http_render.h"
#include "log.h"
#include "metrics_render.h"

static struct usm_ipc_client *collector;
static bool control_enabled;

/* One question to the collector at a time: its answers share a buffer,
 * and the collector serves one request at a time anyway. */
static pthread_mutex_t query_lock = PTHREAD_MUTEX_INITIALIZER;

/* Answers with a copy of text[0..len) (nng copies it), with the headers
 * (name, value pairs ending with a NULL name; NULL for none). */
static void respond_with(nng_aio *aio, uint16_t status, const char *content_type,
			 const char *const *headers, const void *text, size_t len)
{
	nng_http_res *res = NULL;
	int rv = nng_http_res_alloc(&res);
	if (rv == 0)
		rv = nng_http_res_set_status(res, status);
	if (rv == 0)
		rv = nng_http_res_set_header(res, "Content-Type", content_type);
	for (size_t i = 0; rv == 0 && headers && headers[i]; i += 2)
		rv = nng_http_res_set_header(res, headers[i], headers[i + 1]);
	if (rv == 0)
		rv = nng_http_res_copy_data(res, text, len);
	if (rv != 0 && res)
		nng_http_res_free(res);
	if (rv != 0) {
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* The same, with an Allow header when allow is not NULL. */
static void respond_bytes(nng_aio *aio, uint16_t status, const char *content_type,
			  const char *allow, const void *text, size_t len)
{
	const char *const headers[] = {"Allow", allow, NULL};
	respond_with(aio, status, content_type, allow ? headers : NULL, text, len);
}

static void respond(nng_aio *aio, uint16_t status, json_object *body, const char *allow)
{
	size_t len;
	/* NOSLASHESCAPE: paths read "/a", not "\/a"; both are valid JSON. */
	const char *json = json_object_to_json_string_length(
		body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	char *text = json ? malloc(len + 2) : NULL; /* with a newline, for people using curl */
	if (!text) {
		json_object_put(body);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	memcpy(text, json, len);
	text[len++] = '\n';
	json_object_put(body);
	respond_bytes(aio, status, "application/json", allow, text, len);
	free(text);
}

static void respond_error(nng_aio *aio, uint16_t status, const char *allow, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void respond_error(nng_aio *aio, uint16_t status, const char *allow, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(text));
	json_object_object_add(o, "status", json_object_new_int(status));
	respond(aio, status, o, allow);
}

/* The path without its query string, for messages. */
static void request_path(nng_http_req *req, char *out, size_t cap)
{
	const char *uri = nng_http_req_get_uri(req);
	size_t n = strcspn(uri, "?");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, uri, n);
	out[n] = '\0';
}

/* Common prologue: only `method`. Returns false when it already answered. */
static bool accept_method(nng_aio *aio, nng_http_req **req_out, const char *method)
{
	nng_http_req *req = nng_aio_get_input(aio, 0);
	*req_out = req;
	if (strcmp(nng_http_req_get_method(req), method) != 0) {
		char path[128];
		request_path(req, path, sizeof(path));
		respond_error(aio, 405, method, "method %s is not allowed on %s",
			      nng_http_req_get_method(req), path);
		return false;
	}
	return true;
}

static bool accept_get(nng_aio *aio, nng_http_req **req_out)
{
	return accept_method(aio, req_out, "GET");
}

typedef int (*fetch_fn)(struct usm_ipc_client *cl, json_object **out);

static void serve_fetch(nng_aio *aio, fetch_fn fetch)
{
	nng_http_req *req;
	if (!accept_get(aio, &req))
		return;
	json_object *body = NULL;
	pthread_mutex_lock(&query_lock);
	int rc = fetch(collector, &body);
	pthread_mutex_unlock(&query_lock);
	if (rc != 0) {
		respond_error(aio, 503, NULL, "the collector did not answer: %s", strerror(-rc));
		return;
	}
	respond(aio, 200, body, NULL);
}

static void on_stats(nng_aio *aio) { serve_fetch(aio, fetch_stats); }
static void on_traced(nng_aio *aio) { serve_fetch(aio, fetch_traced_programs); }
static void on_blocked(nng_aio *aio) { serve_fetch(aio, fetch_blocked_processes); }

static void on_http_stats(nng_aio *aio)
{
	nng_http_req *req;
	if (!accept_get(aio, &req))
		return;
	struct usm_http_stats_req filter;
	char err[HTTP_QUERY_ERROR_MAX];
	int rc = http_query_parse(nng_http_req_get_uri(req), &filter, err, sizeof(err));
	if (rc != 0) {
		respond_error(aio, rc == -EINVAL ? 400 : 500, NULL, "%s", err);
		return;
	}
	if ((filter.flags & USM_HTTP_STATS_RESET) && !control_enabled) {
		respond_error(aio, 403, NULL, "reset=true is disabled: set api_control = true");
		return;
	}
	struct http_records rows;
	char refusal[sizeof(((struct usm_msg_error *)0)->message)];
	pthread_mutex_lock(&query_lock);
	rc = fetch_http_stats(collector, &filter, &rows, refusal, sizeof(refusal));
	pthread_mutex_unlock(&query_lock);
	if (rc != 0 && refusal[0]) {
		/* Two reset reads at once, or one abandoned: the client may retry. */
		uint16_t status = rc == -EPERM ? 403 : rc == -EBUSY || rc == -ESTALE ? 409 : 503;
		respond_error(aio, status, NULL, "the collector refused: %s", refusal);
		return;
	}
	if (rc != 0) {
		respond_error(aio, 503, NULL, "the collector did not answer: %s", strerror(-rc));
		return;
	}
	json_object *body = http_render_json(rows.v, rows.n);
	http_records_free(&rows);
	if (!body) {
		respond_error(aio, 500, NULL, "out of memory");
		return;
	}
	respond(aio, 200, body, NULL);
}

static void on_metrics(nng_aio *aio)
{
	nng_http_req *req;
	if (!accept_get(aio, &req))
		return;
	/* No filter, no reset: scraping never changes what it reads. */
	struct usm_http_stats_req all = {0};
	struct http_records rows;
	struct usm_stats stats;
	char refusal[sizeof(((struct usm_msg_error *)0)->message)];
	pthread_mutex_lock(&query_lock);
	int rc = fetch_stats_raw(collector, &stats);
	if (rc == 0)
		rc = fetch_http_stats(collector, &all, &rows, refusal, sizeof(refusal));
	pthread_mutex_unlock(&query_lock);
	if (rc != 0) {
		respond_error(aio, 503, NULL, "the collector did not answer: %s", strerror(-rc));
		return;
	}
	char *text;
	size_t len;
	rc = metrics_render(rows.v, rows.n, stats.counters, &text, &len);
	http_records_free(&rows);
	if (rc == 0 && (rc = api_counters_prometheus(&text, &len)) != 0)
		free(text);
	if (rc != 0) {
		respond_error(aio, 500, NULL, "out of memory");
		return;
	}
	respond_bytes(aio, 200, METRICS_CONTENT_TYPE, NULL, text, len);
	free(text);
}

static void on_health(nng_aio *aio)
{
	nng_http_req *req;
	if (!accept_get(aio, &req))
		return;
	json_object *body = NULL;
	int healthy = 0;
	pthread_mutex_lock(&query_lock);
	int rc = fetch_health(collector, &body, &healthy);
	pthread_mutex_unlock(&query_lock);
	if (rc != 0) {
		/* The collector is down (restarting or given up): say so, with
		 * what apid knows itself. */
		body = json_object_new_object();
		json_object_object_add(body, "status", json_object_new_string("degraded"));
		json_object_object_add(body, "error", json_object_new_string(strerror(-rc)));
		json_object *procs = json_object_new_array();
		json_object *c = json_object_new_object();
		json_object_object_add(c, "name", json_object_new_string("usm-collector"));
		json_object_object_add(c, "state", json_object_new_string("unreachable"));
		json_object_array_add(procs, c);
		json_object_object_add(body, "processes", procs);
	}
	json_object_object_add(body, "api", api_counters_json());
	respond(aio, healthy ? 200 : 503, body, NULL);
}

/* Reads {"pid": N, "type": "T"} (type defaults to shared_libraries).
 * Returns false after answering 400. */
static bool parse_control_body(nng_aio *aio, nng_http_req *req, uint32_t *pid, int *type)
{
	void *data;
	size_t len;
	nng_http_req_get_data(req, &data, &len);
	json_tokener *tok = json_tokener_new();
	json_object *body = len > 0 && len <= ROUTES_BODY_MAX && tok
				    ? json_tokener_parse_ex(tok, data, (int)len)
				    : NULL;
	if (tok)
		json_tokener_free(tok);
	json_object *jpid, *jtype;
	bool ok = body && json_object_is_type(body, json_type_object) &&
		  json_object_object_get_ex(body, "pid", &jpid) &&
		  json_object_is_type(jpid, json_type_int);
	int64_t p = ok ? json_object_get_int64(jpid) : 0;
	const char *t = "shared_libraries";
	if (ok && json_object_object_get_ex(body, "type", &jtype))
		t = json_object_is_type(jtype, json_type_string) ? json_object_get_string(jtype) : "";
	*type = usm_program_type_parse(t);
	if (!ok || p <= 0 || p > INT32_MAX || *type < 0) {
		respond_error(aio, 400, NULL,
			      "expected a JSON body {\"pid\": N, \"type\": \"shared_libraries\"|"
			      "\"istio\"|\"nodejs\"|\"go-tls\"}");
		json_object_put(body);
		return false;
	}
	*pid = (uint32_t)p;
	json_object_put(body);
	return true;
}

static void serve_control(nng_aio *aio, uint8_t action)
{
	nng_http_req *req;
	if (!accept_method(aio, &req, "POST"))
		return;
	if (!control_enabled) {
		respond_error(aio, 403, NULL, "control endpoints are disabled: set api_control = true");
		return;
	}
	uint32_t pid = 0;
	int type = USM_PROG_SHARED_LIBRARIES;
	if (action != USM_CONTROL_CLEAR_BLOCKED && !parse_control_body(aio, req, &pid, &type))
		return;
	json_object *body = NULL;
	pthread_mutex_lock(&query_lock);
	int rc = fetch_control(collector, action, pid, (uint8_t)type, &body);
	pthread_mutex_unlock(&query_lock);
	if (rc != 0 && !body) {
		respond_error(aio, 503, NULL, "the collector did not answer: %s", strerror(-rc));
		return;
	}
	if (rc != 0)
		json_object_object_add(body, "status", json_object_new_int(rc == -EPERM ? 403 : 422));
	respond(aio, rc == 0 ? 200 : rc == -EPERM ? 403 : 422, body, NULL);
}

static void on_clear_blocked(nng_aio *aio) { serve_control(aio, USM_CONTROL_CLEAR_BLOCKED); }
static void on_attach_pid(nng_aio *aio) { serve_control(aio, USM_CONTROL_ATTACH_PID); }
static void on_detach_pid(nng_aio *aio) { serve_control(aio, USM_CONTROL_DETACH_PID); }

/* Every path no other route takes: the dashboard at "/" itself, a JSON 404
 * below it (nng gives one handler per path, so "/" and its tree share this
 * one). */
static void on_root(nng_aio *aio)
{
	char path[128];
	nng_http_req *req;
	request_path(nng_aio_get_input(aio, 0), path, sizeof(path));
	if (strcmp(path, "/") != 0) {
		respond_error(aio, 404, NULL, "no such endpoint: %s", path);
		return;
	}
	if (!accept_get(aio, &req))
		return;
	size_t len;
	const char *page = dashboard_page(&len);
	respond_with(aio, 200, DASHBOARD_CONTENT_TYPE, dashboard_headers, page, len);
}

static const struct route {
	const char *path;
	route_handler handler;
	bool tree; /* also answers every path below it */
} route_table[] = {
	{"/usm/stats", on_stats, false},
	{"/usm/http_stats", on_http_stats, false},
	{"/metrics", on_metrics, false},
	{"/debug/usm/traced_programs", on_traced, false},
	{"/debug/usm/blocked_processes", on_blocked, false},
	{"/health", on_health, false},
	{"/debug/usm/clear_blocked", on_clear_blocked, false},
	{"/debug/usm/attach-pid", on_attach_pid, false},
	{"/debug/usm/detach-pid", on_detach_pid, false},
	{"/", on_root, true}, /* the dashboard; everything else: JSON 404 */
};

void routes_init(struct usm_ipc_client *cl, bool control)
{
	collector = cl;
	control_enabled = control;
}

route_handler routes_find(const char *target)
{
	size_t n = strcspn(target, "?");
	for (size_t i = 0; i < sizeof(route_table) / sizeof(route_table[0]); i++) {
		const struct route *r = &route_table[i];
		size_t len = strlen(r->path);
		/* As nng's server matched: the path, or the path and a final
		 * "/"; a tree route takes everything below it. */
		if (r->tree && strncmp(target, r->path, len) == 0)
			return r->handler;
		if (strncmp(target, r->path, len) == 0 &&
		    (n == len || (n == len + 1 && target[len] == '/')))
			return r->handler;
	}
	return NULL;
}
