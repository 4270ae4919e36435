/* apid's answers on the wire: the nng_http_res a route (routes.h) or the
 * front (api_server.h) made, as HTTP/1.1 bytes.
 *
 * nng 1.5 offers no public way to serialize a response outside its own
 * server, and no way to list a response's headers, so the head carries
 * the headers apid ever sets, asked for by name: Content-Type, Allow
 * (routes.c) and the dashboard's (dashboard.h). A route that sets another
 * header must add its name here. Content-Length is always sent (from the
 * response's data), and Connection: close when the front closes after it.
 */
#ifndef USM_APID_API_RESPONSE_H
#define USM_APID_API_RESPONSE_H

#include <nng/nng.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nng/supplemental/http/http.h>

/* The status line and headers of res, ending with the empty line, in a
 * malloc'd *head of *len bytes. 0 or -ENOMEM. */
int api_response_head(nng_http_res *res, bool close, char **head, size_t *len);

/* A new response with status and the JSON body {"error": message,
 * "status": status}, the shape of every other error apid answers.
 * message is plain text without quotes or backslashes. NULL when out of
 * memory. */
nng_http_res *api_response_error(uint16_t status, const char *message);

#endif
