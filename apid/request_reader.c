#include "request_reader.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEEP_MAX 256 /* buffers this small are kept for the next request */
#define FEED_SLICE 4096 /* bytes per http_parser_execute (request_reader_feed) */

/* Ends parsing at this byte with verdict v: http-parser stops when a
 * callback returns non-zero (HPE_CB_*), and feed() reports v. */
static int stop(struct request_reader *r, enum request_verdict v)
{
	r->verdict = v;
	return -1;
}

/* Appends n bytes to a NUL-terminated buffer of at most max bytes (the
 * NUL not counted), growing it by doubling. 0, 1 if it would pass max,
 * -1 when out of memory. */
static int append(char **buf, size_t *len, size_t *cap, const char *at, size_t n, size_t max)
{
	if (n > max - *len)
		return 1;
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 64;
		while (ncap < *len + n + 1)
			ncap *= 2;
		if (ncap > max + 1)
			ncap = max + 1;
		char *b = realloc(*buf, ncap);
		if (!b)
			return -1;
		*buf = b;
		*cap = ncap;
	}
	memcpy(*buf + *len, at, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct request_reader *r = p->data;
	int rc = append(&r->target, &r->target_len, &r->target_cap, at, n, r->lim->request_line_max);
	return rc == 0 ? 0 : stop(r, rc > 0 ? REQUEST_URI_TOO_LONG : REQUEST_NO_MEMORY);
}

static int count_field_bytes(struct request_reader *r, size_t n)
{
	if (n > r->lim->fields_max - r->field_bytes)
		return stop(r, REQUEST_FIELDS_TOO_LARGE);
	r->field_bytes += n;
	return 0;
}

/* A name may arrive in pieces (one call per feed); a new field line
 * begins when a name follows a value, or with the first name. */
static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct request_reader *r = p->data;
	if (r->in_value || r->field_lines == 0) {
		if (++r->field_lines > r->lim->field_lines_max)
			return stop(r, REQUEST_FIELDS_TOO_LARGE);
		r->in_value = false;
		r->name_len = 0;
	}
	/* Saturates at 5 bytes: a name that long is not Host. */
	for (size_t i = 0; i < n && r->name_len < sizeof(r->name); i++)
		r->name[r->name_len++] = (char)tolower((unsigned char)at[i]);
	/* Debian builds http-parser lenient, which lets a space into a name
	 * ("Transfer-Encoding : chunked" would count as chunked); RFC 9112
	 * 5.1 says 400. */
	if (memchr(at, ' ', n))
		return stop(r, REQUEST_BAD);
	return count_field_bytes(r, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	(void)at; /* values are counted, never kept */
	struct request_reader *r = p->data;
	if (!r->in_value) {
		r->in_value = true;
		if (r->name_len == 4 && memcmp(r->name, "host", 4) == 0) {
			if (r->host)
				return stop(r, REQUEST_BAD); /* two Host fields: RFC 9112 3.2 */
			r->host = true;
		}
	}
	return count_field_bytes(r, n);
}

/* Returning 1 or 2 here would tell http-parser to skip the body; only
 * 0 and -1 are used. */
static int on_headers_complete(http_parser *p)
{
	struct request_reader *r = p->data;
	if (p->http_major != 1 || p->http_minor > 1)
		return stop(r, REQUEST_VERSION);
	/* http-parser ends a CONNECT at its head and leaves what follows to
	 * the tunnel: apid tunnels nothing. */
	if (p->method == HTTP_CONNECT)
		return stop(r, REQUEST_NOT_IMPLEMENTED);
	if (!r->target || r->target[0] != '/')
		return stop(r, REQUEST_BAD); /* only origin-form is served */
	if (p->http_minor == 1 && !r->host)
		return stop(r, REQUEST_BAD); /* RFC 9112 3.2 */
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > r->lim->body_max)
		return stop(r, REQUEST_BODY_TOO_LARGE);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct request_reader *r = p->data;
	int rc = append(&r->body, &r->body_len, &r->body_cap, at, n, r->lim->body_max);
	return rc == 0 ? 0 : stop(r, rc > 0 ? REQUEST_BODY_TOO_LARGE : REQUEST_NO_MEMORY);
}

/* Pausing makes http_parser_execute return right after the request's
 * last byte, so what follows stays for the next request. */
static int on_message_complete(http_parser *p)
{
	struct request_reader *r = p->data;
	r->keep_alive = http_should_keep_alive(p) != 0;
	r->verdict = REQUEST_COMPLETE;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void request_reader_setup(const struct request_limits *lim)
{
	/* The request line's method, spaces and version, and each field
	 * line's colon, whitespace and line end, besides what the callbacks
	 * count. */
	size_t head = lim->request_line_max + 64 + lim->fields_max + (size_t)lim->field_lines_max * 8 + 8;
	http_parser_set_max_header_size(head > UINT32_MAX ? UINT32_MAX : (uint32_t)head);
}

void request_reader_init(struct request_reader *r, const struct request_limits *lim)
{
	memset(r, 0, sizeof(*r));
	r->lim = lim;
	http_parser_init(&r->parser, HTTP_REQUEST);
	r->parser.data = r;
}

static enum request_verdict verdict_of(enum http_errno e)
{
	switch (e) {
	case HPE_OK:
		return REQUEST_MORE;
	case HPE_HEADER_OVERFLOW:
		return REQUEST_FIELDS_TOO_LARGE;
	case HPE_INVALID_METHOD:
	case HPE_INVALID_TRANSFER_ENCODING: /* a coding other than chunked: RFC 9112 6.1 */
		return REQUEST_NOT_IMPLEMENTED;
	default:
		return REQUEST_BAD;
	}
}

enum request_verdict request_reader_feed(struct request_reader *r, const char *data, size_t len,
					 size_t *used)
{
	*used = 0;
	/* A zero length would tell http-parser the stream ended. */
	if (r->verdict != REQUEST_MORE || len == 0)
		return r->verdict;
	r->begun = true;
	/* In slices: http-parser hands a target, name or value that has not
	 * ended to its callback only at the end of each call, so slices keep
	 * the counters here ahead of http-parser's own head bound, and the
	 * verdict the same however the bytes arrive. */
	while (*used < len && r->verdict == REQUEST_MORE) {
		size_t slice = len - *used < FEED_SLICE ? len - *used : FEED_SLICE;
		size_t n = http_parser_execute(&r->parser, &settings, data + *used, slice);
		*used += n;
		/* A callback's verdict (COMPLETE with HPE_PAUSED, or a limit)
		 * comes first; otherwise http-parser's own. */
		if (r->verdict == REQUEST_MORE)
			r->verdict = verdict_of(HTTP_PARSER_ERRNO(&r->parser));
		if (r->verdict == REQUEST_MORE && n != slice)
			r->verdict = REQUEST_BAD; /* stopped without saying why: cannot happen */
	}
	return r->verdict;
}

const char *request_reader_method(const struct request_reader *r)
{
	return http_method_str((enum http_method)r->parser.method);
}

unsigned request_reader_minor(const struct request_reader *r)
{
	return r->parser.http_minor;
}

static void reuse(char **buf, size_t *len, size_t *cap)
{
	if (*cap > KEEP_MAX) {
		free(*buf);
		*buf = NULL;
		*cap = 0;
	}
	*len = 0;
	if (*buf)
		(*buf)[0] = '\0';
}

void request_reader_next(struct request_reader *r)
{
	reuse(&r->target, &r->target_len, &r->target_cap);
	reuse(&r->body, &r->body_len, &r->body_cap);
	r->verdict = REQUEST_MORE;
	r->begun = r->keep_alive = r->host = r->in_value = false;
	r->name_len = 0;
	r->field_lines = 0;
	r->field_bytes = 0;
	http_parser_init(&r->parser, HTTP_REQUEST);
	r->parser.data = r;
}

size_t request_reader_memory(const struct request_reader *r)
{
	return r->target_cap + r->body_cap;
}

void request_reader_free(struct request_reader *r)
{
	free(r->target);
	free(r->body);
	r->target = r->body = NULL;
	r->target_cap = r->body_cap = 0;
}
