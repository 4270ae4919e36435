#include "api_response.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"

static const char *const route_headers[] = {"Content-Type", "Allow", NULL};

/* RFC 9110's reason phrases where nng 1.5's table words them otherwise
 * (414 "Request Entity Too Long", 431 "Headers Too Large", 413 "Entity
 * Too Large") or not at all (422, which the control routes answer). */
static const char *reason_of(uint16_t status)
{
	switch (status) {
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	default: return NULL;
	}
}

/* Appends "name: value\r\n" when res has that header. */
static void add_header(nng_http_res *res, const char *name, char *out, size_t cap, size_t *n)
{
	const char *v = nng_http_res_get_header(res, name);
	if (v && *n < cap)
		*n += (size_t)snprintf(out + *n, cap - *n, "%s: %s\r\n", name, v);
}

int api_response_head(nng_http_res *res, bool close, char **head, size_t *len)
{
	void *data;
	size_t size, cap = 128;
	nng_http_res_get_data(res, &data, &size);
	const char *reason = reason_of(nng_http_res_get_status(res));
	if (!reason)
		reason = nng_http_res_get_reason(res);
	cap += strlen(reason);
	for (size_t i = 0; route_headers[i]; i++) {
		const char *v = nng_http_res_get_header(res, route_headers[i]);
		cap += v ? strlen(route_headers[i]) + strlen(v) + 4 : 0;
	}
	for (size_t i = 0; dashboard_headers[i]; i += 2) {
		const char *v = nng_http_res_get_header(res, dashboard_headers[i]);
		cap += v ? strlen(dashboard_headers[i]) + strlen(v) + 4 : 0;
	}
	char *out = malloc(cap);
	if (!out)
		return -ENOMEM;
	size_t n = (size_t)snprintf(out, cap, "HTTP/1.1 %u %s\r\n", nng_http_res_get_status(res), reason);
	for (size_t i = 0; route_headers[i]; i++)
		add_header(res, route_headers[i], out, cap, &n);
	for (size_t i = 0; dashboard_headers[i]; i += 2)
		add_header(res, dashboard_headers[i], out, cap, &n);
	if (n < cap)
		n += (size_t)snprintf(out + n, cap - n, "Content-Length: %zu\r\n%s\r\n", size,
				      close ? "Connection: close\r\n" : "");
	if (n >= cap) { /* cannot happen: cap counted every byte */
		free(out);
		return -ENOMEM;
	}
	*head = out;
	*len = n;
	return 0;
}

nng_http_res *api_response_error(uint16_t status, const char *message)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"%s\",\"status\":%u}\n", message, status);
	nng_http_res *res = NULL;
	if (n < 0 || (size_t)n >= sizeof(body) || nng_http_res_alloc(&res) != 0)
		return NULL;
	const char *reason = reason_of(status);
	if (nng_http_res_set_status(res, status) != 0 ||
	    (reason && nng_http_res_set_reason(res, reason) != 0) ||
	    nng_http_res_set_header(res, "Content-Type", "application/json") != 0 ||
	    nng_http_res_copy_data(res, body, (size_t)n) != 0) {
		nng_http_res_free(res);
		return NULL;
	}
	return res;
}
