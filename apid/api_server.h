/* apid's HTTP front: accepts connections itself (nng's stream API),
 * reads each request with hard limits (request_reader.h: libhttp-parser
 * parses, apid bounds what is kept) before nng's HTTP types see any of it,
 * then hands the request to its route (routes.h) and writes the route's
 * answer (api_response.h).
 *
 * Why not nng_http_server: in nng 1.5 it has no option for any of this.
 * Measured on libnng 1.5.2 (see tests/e2e/test_hostile_api.py): a request
 * line or a header over its 8 KiB buffer, or 20,000 header lines, were
 * closed without an answer; a connection that sends nothing or sends its
 * head a byte a second was kept forever; nothing bounded the number of
 * connections. libmicrohttpd (Debian 0.9.75) answers 414 and 431 but
 * closes a slow or idle request without 408, and would replace nng as the
 * HTTP transport; so nng carries the bytes, libhttp-parser parses them.
 *
 * Limits and answers (each answer a JSON {"error": ..., "status": N} with
 * Connection: close, each refusal counted in api_counters.h):
 * - more than max_connections open: 503 and close (up to
 *   API_REFUSING_MAX such answers in flight; beyond, closed unanswered);
 * - a request target over API_REQUEST_LINE_MAX bytes: 414;
 * - field lines over API_FIELDS_MAX bytes or API_FIELD_LINES_MAX lines:
 *   431;
 * - a request (head and body) not complete API_HEAD_TIMEOUT_MS after the
 *   connection opened or its previous answer was sent: 408, except a
 *   kept-alive connection that sent nothing of a next request, which is
 *   closed silently (RFC 9112 9.5);
 * - a body over API_BODY_MAX: 413; a method http-parser does not know,
 *   CONNECT, or a transfer coding other than chunked: 501; not HTTP/1.0
 *   or 1.1: 505; anything else malformed (request_reader.h), a target
 *   that is not "/...", no Host or two in HTTP/1.1: 400;
 * - an answer the client does not take within API_SEND_TIMEOUT_MS of its
 *   first byte's sending: closed;
 * - more than ROUTE_QUEUE_MAX requests waiting for their routes
 *   (route_worker.h): 503, the connection closed.
 * Memory: a connection holds its state with a receive buffer of
 * API_RECV_BUF bytes, and buffers for the target and body that grow only
 * as far as its request needs; of those buffers, what a connection holds
 * beyond API_REQUEST_MEMORY_FREE counts against API_REQUEST_MEMORY_MAX
 * for all connections together (beyond: 503), so clients that hold the
 * budget with long requests cannot get ordinary ones refused. Field lines
 * are never kept. Connections are kept alive (HTTP/1.1 without
 * Connection: close; HTTP/1.0 is closed after its answer); pipelined
 * requests are answered in order, one at a time; a HEAD is answered with
 * the head of the GET's answer. Callbacks run on nng's threads, routes on
 * the route worker's (route_worker.h). */
#ifndef USM_APID_API_SERVER_H
#define USM_APID_API_SERVER_H

#include "routes.h"

#define API_MAX_CONNECTIONS 8192
#define API_REFUSING_MAX 64
#define API_REQUEST_LINE_MAX 8192
#define API_FIELDS_MAX (32 * 1024)
#define API_FIELD_LINES_MAX 100
#define API_HEAD_TIMEOUT_MS 10000
#define API_SEND_TIMEOUT_MS 10000
#define API_RECV_BUF 2048
#define API_REQUEST_MEMORY_FREE 512
#define API_REQUEST_MEMORY_MAX (16u << 20)
#define API_BODY_MAX ROUTES_BODY_MAX

/* Raises the soft RLIMIT_NOFILE (up to the hard limit) to fit want
 * connections, the refusals in flight and apid's own descriptors, and
 * returns how many connections fit: want, or fewer (logged) when the hard
 * limit is lower. Call before seccomp. */
unsigned api_server_fit_fds(unsigned want);

/* Binds and listens on listen ("host:port") and starts accepting. Routes
 * must be set up (routes_init). 0 or -errno (logged). */
int api_server_start(const char *listen, unsigned max_connections);

/* Stops accepting, closes every connection, stops the route worker
 * (waiting for a route that runs, ipc_timeout_ms at most) and waits a few
 * seconds at most for the connections to end. No route runs after it. */
void api_server_stop(void);

#endif
