/* apid's own counters: what its HTTP front (api_server.h) accepted and
 * refused, each refusal by the answer it got. Served in GET /metrics as
 * usm_api_<name>_total (usm_api_connections for the gauge) and in
 * GET /health under "api".
 *
 * Lock-free (C11 atomics): nng's threads count from every connection at
 * once. */
#ifndef USM_APID_API_COUNTERS_H
#define USM_APID_API_COUNTERS_H

#include <json-c/json.h>
#include <stddef.h>

enum api_counter {
	API_CONNECTIONS_ACCEPTED,   /* connections taken by the front */
	API_REQUESTS,               /* requests handed to the routes */
	API_REFUSED_BUSY,           /* 503: api_max connections already open */
	API_REFUSED_UNANSWERED,     /* closed unanswered: even the 503s in flight were at their limit */
	API_REFUSED_MEMORY,         /* 503: requests being read held their memory budget; or a new
				       connection closed: no memory for it */
	API_ROUTES_BUSY,            /* 503: the routes' queue was full (route_worker.h) */
	API_BAD_REQUEST,            /* 400: malformed request, no or two Host in HTTP/1.1 */
	API_URI_TOO_LONG,           /* 414 */
	API_HEADERS_TOO_LARGE,      /* 431 */
	API_HEAD_TIMEOUT,           /* 408: head (and body) not complete in time */
	API_BODY_TOO_LARGE,         /* 413 */
	API_NOT_IMPLEMENTED,        /* 501: unknown or CONNECT method, a transfer coding not chunked */
	API_VERSION_NOT_SUPPORTED,  /* 505 */
	API_IDLE_CLOSED,            /* kept-alive connections closed after idling */
	API_SEND_FAILED,            /* answers the client did not take in time (or reset) */
	API_COUNTER_COUNT
};

void api_counter_add(enum api_counter c);

/* The gauge of open connections (refused ones not included). */
void api_connections_open(int delta);

/* Appends the Prometheus text of every counter to the malloc'd *text of
 * *len bytes (realloc'd). 0 or -ENOMEM (text unchanged). */
int api_counters_prometheus(char **text, size_t *len);

/* {"connections": N, "<name>": N, ...}; NULL when out of memory. */
json_object *api_counters_json(void);

#endif
