/* apid's HTTP routes on nng's HTTP server.
 *
 * Every answer is JSON with Content-Type application/json: the route's
 * document, or {"error": ..., "status": N} for 404 (unknown path), 405
 * (other method; an Allow header says which), 503 (the collector did not
 * answer), 400 (a control request's body is not {"pid": N, "type": T}),
 * 403 (control endpoints while api_control is off). Each route asks the collector; nothing is cached in apid. */
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
