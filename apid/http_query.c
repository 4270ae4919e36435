#include "http_query.h"

#include <ctype.h>
#include <errno.h>
#include <nng/nng.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_codec.h" /* usm_http_protocol_name */

#define NAME_MAX_LEN 16 /* longer than every parameter name, with its NUL */

ssize_t http_query_decode(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '%') {
			/* i + 2 < len keeps the look-ahead inside in[0..len);
			 * isxdigit is [0-9A-Fa-f] in the C locale apid runs in. */
			char hex[3] = {0};
			if (i + 2 < len)
				memcpy(hex, in + i + 1, 2);
			if (!isxdigit((unsigned char)hex[0]) || !isxdigit((unsigned char)hex[1]))
				return -EINVAL;
			c = (char)strtoul(hex, NULL, 16);
			if (c == '\0')
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	if (cap == 0)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return (ssize_t)o;
}

/* Decimal digits only, lo..hi (hi <= UINT32_MAX, so v * 10 + 9 cannot
 * overflow before the check stops it). */
static bool parse_number(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v = 0;
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > hi)
			return false;
	}
	*out = v;
	return v >= lo;
}

/* Each setter gets the decoded value, or NULL when it did not fit. */
static bool set_path(struct usm_http_stats_req *req, const char *v)
{
	if (!v || *v == '\0')
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false; /* the codec would refuse the request */
	memcpy(req->path, v, strlen(v) + 1);
	return true;
}

static bool set_status(struct usm_http_stats_req *req, const char *v)
{
	uint64_t n;
	if (!v || !parse_number(v, 100, 599, &n))
		return false;
	req->status = (uint16_t)n;
	return true;
}

static bool set_pid(struct usm_http_stats_req *req, const char *v)
{
	uint64_t n;
	if (!v || !parse_number(v, 1, UINT32_MAX, &n))
		return false;
	req->pid = (uint32_t)n;
	return true;
}

static bool set_protocol(struct usm_http_stats_req *req, const char *v)
{
	for (uint8_t p = 1; v && p < USM_HTTP_PROTO_COUNT; p++)
		if (strcmp(v, usm_http_protocol_name(p)) == 0) {
			req->protocol = p;
			return true;
		}
	return false;
}

static bool set_reset(struct usm_http_stats_req *req, const char *v)
{
	if (v && strcmp(v, "true") == 0)
		req->flags |= USM_HTTP_STATS_RESET;
	else if (!v || strcmp(v, "false") != 0)
		return false;
	return true;
}

static const struct param {
	const char *name;
	bool (*set)(struct usm_http_stats_req *req, const char *value);
	const char *invalid; /* the 400 message for a bad value */
} params[] = {
	{"path", set_path,
	 "path must be an exact request path of 1 to 255 bytes (percent-decoded), "
	 "without control characters"},
	{"status", set_status, "status must be a number from 100 to 599"},
	{"pid", set_pid, "pid must be a number from 1 to 4294967295"},
	{"protocol", set_protocol, "protocol must be http/1.1 or h2"},
	{"reset", set_reset, "reset must be true or false"},
};
#define PARAM_COUNT (sizeof(params) / sizeof(params[0]))

/* One "name[=value]" piece. Returns 0, or -EINVAL with err written. */
static int parse_piece(const char *piece, size_t len, struct usm_http_stats_req *req,
		       unsigned *seen, char *err, size_t errcap)
{
	const char *eq = memchr(piece, '=', len);
	size_t name_len = eq ? (size_t)(eq - piece) : len;
	char name[NAME_MAX_LEN];
	char value[USM_HTTP_PATH_MAX]; /* the largest value: a path */
	const struct param *p = NULL;
	if (http_query_decode(piece, name_len, name, sizeof(name)) >= 0)
		for (size_t i = 0; i < PARAM_COUNT && !p; i++)
			if (strcmp(name, params[i].name) == 0)
				p = &params[i];
	if (!p) {
		/* The name is echoed only whole: cutting it could split a
		 * UTF-8 sequence, and the message goes into JSON. */
		if (name_len < NAME_MAX_LEN)
			snprintf(err, errcap,
				 "unknown query parameter \"%.*s\": expected path, status, pid or reset",
				 (int)name_len, piece);
		else
			snprintf(err, errcap,
				 "unknown query parameter: expected path, status, pid or reset");
		return -EINVAL;
	}
	unsigned bit = 1u << (p - params);
	if (*seen & bit) {
		snprintf(err, errcap, "query parameter %s is given more than once", p->name);
		return -EINVAL;
	}
	*seen |= bit;
	const char *v = eq ? piece + name_len + 1 : "";
	ssize_t n = http_query_decode(v, eq ? len - name_len - 1 : 0, value, sizeof(value));
	if (n == -EINVAL) {
		snprintf(err, errcap, "%s: bad percent escape (%%00 or not %%XX)", p->name);
		return -EINVAL;
	}
	if (!p->set(req, n >= 0 ? value : NULL)) {
		snprintf(err, errcap, "%s", p->invalid);
		return -EINVAL;
	}
	return 0;
}

int http_query_parse(const char *uri, struct usm_http_stats_req *req, char *err, size_t errcap)
{
	static const char base[] = "http://localhost";
	memset(req, 0, sizeof(*req));
	if (uri[0] != '/') {
		snprintf(err, errcap, "malformed request URI");
		return -EINVAL;
	}
	size_t len = strlen(uri);
	char *url = malloc(sizeof(base) + len);
	nng_url *u = NULL;
	int rv = url ? 0 : NNG_ENOMEM;
	if (url) {
		memcpy(url, base, sizeof(base) - 1);
		memcpy(url + sizeof(base) - 1, uri, len + 1);
		rv = nng_url_parse(&u, url);
		free(url);
	}
	if (rv != 0) {
		snprintf(err, errcap, "%s", rv == NNG_ENOMEM ? "out of memory"
							     : "malformed request URI (bad percent "
							       "escape, or not UTF-8)");
		return rv == NNG_ENOMEM ? -ENOMEM : -EINVAL;
	}
	unsigned seen = 0;
	int rc = 0;
	for (const char *q = u->u_query; q && *q && rc == 0;) {
		size_t n = strcspn(q, "&");
		if (n > 0)
			rc = parse_piece(q, n, req, &seen, err, errcap);
		q += n + (q[n] == '&');
	}
	nng_url_free(u);
	return rc;
}
