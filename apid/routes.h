/* apid's HTTP routes on nng's HTTP server.
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

/* Registers every route on srv; queries go through cl. control: whether
 * the control endpoints (api_control) are enabled; otherwise they answer
 * 403. */
int routes_register(nng_http_server *srv, struct usm_ipc_client *cl, bool control);

#endif
