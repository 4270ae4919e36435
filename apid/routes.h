/* apid's HTTP routes, called by apid's front (api_server.h) with nng's
 * HTTP request and response types, as nng's HTTP server called them.
 *
 * Every answer is JSON with Content-Type application/json (except a
 * successful GET /metrics, Prometheus text, metrics_render.h, and of GET /,
 * the dashboard's HTML page, dashboard.h): the route's
 * document, or {"error": ..., "status": N} for 404 (unknown path), 405
 * (other method; an Allow header says which), 503 (the collector did not
 * answer), 400 (a control request's body is not {"pid": N, "type": T}; a
 * bad /usm/http_stats query, http_query.h), 403 (control endpoints, or
 * /usm/http_stats?reset=true, while api_control is off), 409 (another
 * reset read is in progress), 500 (apid ran out of memory). Each route
 * asks the collector; nothing is cached in apid. */
#ifndef USM_APID_ROUTES_H
#define USM_APID_ROUTES_H

#include <nng/nng.h>
#include <stdbool.h>
#include <nng/supplemental/http/http.h>

#include "ipc_socket.h"

/* The largest request body a route reads (a control request's
 * {"pid": N, "type": "..."} fits easily); the front refuses larger ones. */
#define ROUTES_BODY_MAX 1024

/* A route: input 0 of aio is the nng_http_req (its body, if any, copied
 * in), and the route sets output 0 to its nng_http_res and finishes aio.
 * It sets no header but those api_response.h names. */
typedef void (*route_handler)(nng_aio *aio);

/* Queries go through cl. control: whether the control endpoints
 * (api_control) are enabled; otherwise they answer 403. */
void routes_init(struct usm_ipc_client *cl, bool control);

/* The route of a request target ("/path?query"): the route of that path
 * (or of that path with a final "/"), else the dashboard's, which answers
 * 404 for paths other than "/". NULL for a target that does not start
 * with "/". */
route_handler routes_find(const char *target);

#endif
