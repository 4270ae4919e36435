#include "api_counters.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	const char *help;
} specs[API_COUNTER_COUNT] = {
	[API_CONNECTIONS_ACCEPTED] = {"connections_accepted", "API connections accepted."},
	[API_REQUESTS] = {"requests", "API requests handed to the routes."},
	[API_REFUSED_BUSY] = {"refused_busy", "API connections answered 503: too many open."},
	[API_REFUSED_UNANSWERED] = {"refused_unanswered",
				    "API connections closed unanswered: too many 503s in flight."},
	[API_REFUSED_MEMORY] = {"refused_memory",
				"API connections refused for memory: requests being read held their "
				"budget (answered 503), or no memory for a new connection (closed)."},
	[API_ROUTES_BUSY] = {"routes_busy",
			     "API requests answered 503: the routes' queue was full."},
	[API_BAD_REQUEST] = {"bad_request", "API requests answered 400: malformed request."},
	[API_URI_TOO_LONG] = {"uri_too_long", "API requests answered 414: request target too long."},
	[API_HEADERS_TOO_LARGE] = {"headers_too_large",
				   "API requests answered 431: header section too large."},
	[API_HEAD_TIMEOUT] = {"head_timeout",
			      "API requests answered 408: request not complete in time."},
	[API_BODY_TOO_LARGE] = {"body_too_large", "API requests answered 413: body too large."},
	[API_NOT_IMPLEMENTED] = {"not_implemented",
				 "API requests answered 501: unknown or CONNECT method, or a "
				 "transfer coding other than chunked."},
	[API_VERSION_NOT_SUPPORTED] = {"version_not_supported",
				       "API requests answered 505: not HTTP/1.0 or 1.1."},
	[API_IDLE_CLOSED] = {"idle_closed", "Kept-alive API connections closed after idling."},
	[API_SEND_FAILED] = {"send_failed", "API answers the client did not take in time."},
};

static atomic_ullong counts[API_COUNTER_COUNT];
static atomic_llong open_connections;

void api_counter_add(enum api_counter c)
{
	atomic_fetch_add_explicit(&counts[c], 1, memory_order_relaxed);
}

void api_connections_open(int delta)
{
	atomic_fetch_add_explicit(&open_connections, delta, memory_order_relaxed);
}

/* Appends printf output to *text; 0 or -ENOMEM. */
static int append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(*text + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -ENOMEM;
		if ((size_t)n < *cap - *len) {
			*len += (size_t)n;
			return 0;
		}
		size_t ncap = *cap * 2 + (size_t)n;
		char *t = realloc(*text, ncap);
		if (!t)
			return -ENOMEM;
		*text = t;
		*cap = ncap;
	}
}

int api_counters_prometheus(char **text, size_t *len)
{
	size_t cap = *len + 4096, n = *len;
	char *t = malloc(cap);
	if (!t)
		return -ENOMEM;
	memcpy(t, *text, *len);
	int rc = append(&t, &n, &cap,
			"# HELP usm_api_connections API connections open now.\n"
			"# TYPE usm_api_connections gauge\nusm_api_connections %lld\n",
			atomic_load(&open_connections));
	for (int i = 0; rc == 0 && i < API_COUNTER_COUNT; i++)
		rc = append(&t, &n, &cap, "# HELP usm_api_%s_total %s\n# TYPE usm_api_%s_total counter\n"
			    "usm_api_%s_total %llu\n", specs[i].name, specs[i].help, specs[i].name,
			    specs[i].name, atomic_load(&counts[i]));
	if (rc != 0) {
		free(t);
		return rc;
	}
	free(*text);
	*text = t;
	*len = n;
	return 0;
}

json_object *api_counters_json(void)
{
	json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "connections", json_object_new_int64(atomic_load(&open_connections)));
	for (int i = 0; i < API_COUNTER_COUNT; i++)
		json_object_object_add(o, specs[i].name,
				       json_object_new_int64((int64_t)atomic_load(&counts[i])));
	return o;
}
