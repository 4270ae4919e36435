/* usmctl's GET requests to usm's API, with nng's HTTP client, and the
 * answer sorted into what went wrong (exit_status.h).
 *
 * Contract of api_get():
 * - One connection per request (apid closes nothing early; a refresh a
 *   second needs no pooling), the whole exchange within API_TIMEOUT_MS.
 * - Returns USMCTL_OK with the parsed JSON in *out (the caller puts it)
 *   when the answer is HTTP 200 (or also_ok, when not 0), Content-Type
 *   application/json, and a body that parses whole as JSON.
 * - Otherwise *out is NULL, err holds one line naming the address, and
 *   the return value says why: USMCTL_ENOTRUNNING (refused, unreachable,
 *   or no connection within the deadline), USMCTL_ENOTUSM (not HTTP, a
 *   body over API_BODY_MAX or chunked, another Content-Type, or an error
 *   status without usm's {"error": ...}), USMCTL_EMALFORMED (JSON that
 *   does not parse), USMCTL_EAPI (usm's {"error": ..., "status": N} with
 *   a status other than 200), USMCTL_EFAIL (out of memory). */
#ifndef USMCTL_API_H
#define USMCTL_API_H

#include <json-c/json.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stddef.h>

#define API_TIMEOUT_MS 5000
#define API_BODY_MAX (64u << 20) /* 10,000 statistics rows are about 3 MB */
#define API_ERROR_MAX 512

struct api {
	nng_url *url;
	nng_http_client *client;
	char where[300]; /* "HOST:PORT", for messages */
};

/* host as cli_parse gives it (IPv6 in brackets). Returns USMCTL_OK or
 * USMCTL_EUSAGE / USMCTL_EFAIL with err. */
int api_open(struct api *a, const char *host, const char *port, char *err, size_t cap);

/* target: path and query, "/usm/http_stats?path=%2Fa". */
int api_get(struct api *a, const char *target, int also_ok, json_object **out, char *err,
	    size_t cap);

void api_close(struct api *a);

/* The request target of /usm/http_stats for one exact path (NULL: every
 * path): every byte but RFC 3986's unreserved ones and '/' is
 * percent-encoded, so the API decodes exactly path. Pure. Returns 0, or
 * -ENAMETOOLONG when it does not fit in cap bytes. */
int api_http_stats_target(const char *path, char *out, size_t cap);

#endif
