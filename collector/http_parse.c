/* HTTP/1.x framing over captured prefixes: see http_parse.h for the
 * contract. A byte-at-a-time state machine for lines (start line, headers,
 * chunk-size lines, trailers) and byte counting for bodies, so that a line
 * may be split anywhere between segments and nothing is buffered beyond the
 * first HTTP_LINE_KEEP bytes of a line and the first max_path_len bytes of
 * a path. */
#include "http_parse.h"

#include <errno.h>
#include <string.h>

#include "ipc_codec.h"

enum state {
	S_IDLE = 0, /* between messages: the next byte starts one */
	S_SEEK,     /* lost: skip until a segment begins with a start line */
	/* the head: start line and headers, limited by max_header_bytes */
	S_TOKEN,       /* method, or HTTP/1.x of a status line */
	S_TLS_MAYBE,   /* 0x16/0x17 read at a message start */
	S_TARGET,      /* request-target, path part */
	S_TARGET_REST, /* request-target, ?query or #fragment */
	S_REQ_VERSION, /* HTTP/1.x CRLF of a request line */
	S_STATUS,      /* the three digits */
	S_REASON,      /* reason phrase up to LF */
	S_HEADER,      /* a header line, or the empty line ending the head */
	/* the body */
	S_BODY,           /* `remaining` bytes of a Content-Length body */
	S_CHUNK_SIZE,     /* chunk-size [; ext] CRLF */
	S_CHUNK_DATA,     /* `remaining` bytes of chunk data */
	S_CHUNK_CRLF,     /* CRLF after chunk data */
	S_TRAILER,        /* trailer lines after the last chunk */
	S_UNTIL_CLOSE,    /* a response body delimited by close */
	S_TO_SEGMENT_END, /* framing unknown: the message ends with this segment */
	/* terminal */
	S_STOPPED,  /* left HTTP: 101, a tunnel */
	S_NOT_HTTP, /* TLS records */
	S_FINISHED, /* http_stream_finish() was called */
};

enum flag {
	F_SEEKING = 1u << 0,     /* this start line began a segment while lost: failing is silent */
	F_KNOWN = 1u << 1,       /* method or status read: a cut head is still reported */
	F_REPORTED = 1u << 2,    /* on_head was called */
	F_HEAD_PART = 1u << 3,   /* the head was not read to its end */
	F_LINE_CUT = 1u << 4,    /* the current line is longer than HTTP_LINE_KEEP */
	F_CHUNKED = 1u << 5,     /* chunked is the last transfer coding */
	F_TE = 1u << 6,          /* Transfer-Encoding present */
	F_CL = 1u << 7,          /* Content-Length present */
	F_BAD_FRAMING = 1u << 8, /* framing headers invalid or cut */
	F_CLOSE = 1u << 9,       /* Connection: close */
	F_KEEP_ALIVE = 1u << 10, /* Connection: keep-alive */
	F_PATH_CUT = 1u << 11,
	F_EXT_METHOD = 1u << 12, /* a method outside the nine known: reported once its
				  * request line ends with HTTP/1.x */
};

/* How the body of a message whose head was read is framed. */
enum body_rule {
	BODY_NONE,
	BODY_LENGTH,
	BODY_CHUNKED,
	BODY_UNTIL_CLOSE,
	BODY_GUESS, /* framing headers unusable: to the end of the segment */
	BODY_STOP,  /* HTTP ends after this head */
};

struct feed {
	const struct http_parse_sink *sink;
	void *ctx;
	uint64_t ts_ns;
};

/* "HTTP/1.1": a status line's first token, and the request line's last. */
#define TOKEN_MAX 8
/* An extension method's length ("BASELINE-CONTROL" is 16). */
#define EXT_METHOD_MAX 20
/* Hex digits of a chunk size: keeps the size below 2^60. */
#define CHUNK_SIZE_DIGITS_MAX 15
/* Decimal digits of a Content-Length: keeps it below 10^18. */
#define LENGTH_DIGITS_MAX 18

/* ---- small lexical helpers ---- */

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool same_ci(const char *a, size_t n, const char *lower)
{
	if (strlen(lower) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != lower[i])
			return false;
	return true;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims optional whitespace around [*p, *p + *n). */
static void trim_ows(const char **p, size_t *n)
{
	while (*n > 0 && is_ows(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*p)[*n - 1]))
		(*n)--;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "HTTP/1." then one digit, or a prefix of it. */
static bool http_version_prefix(const char *t, size_t n)
{
	static const char v[] = "HTTP/1.";
	if (n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i < 7 ? t[i] != v[i] : (t[i] < '0' || t[i] > '9'))
			return false;
	}
	return true;
}

static bool accepts_requests(const struct http_stream *s)
{
	return s->kind != HTTP_STREAM_RESPONSES;
}

static bool accepts_responses(const struct http_stream *s)
{
	return s->kind != HTTP_STREAM_REQUESTS;
}

/* Whether the first token read so far can still become a valid one: lets
 * garbage be refused at its first bytes rather than at a space. */
/* An extension method (PURGE, PROPFIND, MKCOL, M-SEARCH...): the token
 * grammar narrowed to what registered methods use, upper-case letters,
 * '-' and '_', so that binary data and other text protocols do not pass
 * for requests; its request line must still end with HTTP/1.x. */
static bool ext_method_prefix(const char *t, size_t n)
{
	if (n > EXT_METHOD_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') || (i > 0 && (t[i] == '-' || t[i] == '_'))))
			return false;
	return true;
}

static bool token_prefix_ok(const struct http_stream *s)
{
	size_t n = s->line_len;
	if (accepts_responses(s) && http_version_prefix(s->line, n))
		return true;
	if (!accepts_requests(s))
		return false;
	if (ext_method_prefix(s->line, n))
		return true;
	for (uint8_t m = USM_HTTP_METHOD_GET; m < USM_HTTP_METHOD_COUNT; m++) {
		const char *name = usm_http_method_name(m);
		if (strlen(name) >= n && memcmp(name, s->line, n) == 0)
			return true;
	}
	return false;
}

static enum usm_http_method method_of(const char *t, size_t n)
{
	for (uint8_t m = USM_HTTP_METHOD_GET; m < USM_HTTP_METHOD_COUNT; m++) {
		const char *name = usm_http_method_name(m);
		if (strlen(name) == n && memcmp(name, t, n) == 0)
			return (enum usm_http_method)m;
	}
	return USM_HTTP_METHOD_UNKNOWN;
}

/* OWS 1*DIGIT OWS */
static bool parse_length(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t digits = 0;
	trim_ows(&p, &n);
	if (n == 0 || n > LENGTH_DIGITS_MAX)
		return false;
	for (; digits < n; digits++) {
		if (p[digits] < '0' || p[digits] > '9')
			return false;
		v = v * 10 + (uint64_t)(p[digits] - '0');
	}
	*out = v;
	return true;
}

/* Whether the last element of a comma-separated list is `lower`. */
static bool last_element_is(const char *p, size_t n, const char *lower)
{
	size_t start = n;
	while (start > 0 && p[start - 1] != ',')
		start--;
	p += start;
	n -= start;
	trim_ows(&p, &n);
	return same_ci(p, n, lower);
}

/* `name:` at the start of the line (no space before the colon, as RFC 9112
 * §5.1 requires); *value is where the value starts. */
static bool header_is(const char *line, size_t n, const char *lower_name, size_t *value)
{
	size_t len = strlen(lower_name);
	if (n < len + 1 || line[len] != ':' || !same_ci(line, len, lower_name))
		return false;
	*value = len + 1;
	return true;
}

/* ---- the line being read ---- */

static void line_reset(struct http_stream *s)
{
	s->line_len = 0;
	s->flags &= (uint16_t)~F_LINE_CUT;
}

static void line_add(struct http_stream *s, uint8_t b)
{
	if (s->line_len < HTTP_LINE_KEEP)
		s->line[s->line_len++] = (char)b;
	else
		s->flags |= F_LINE_CUT;
}

/* The line read up to its LF, without its CR. */
static size_t line_content(const struct http_stream *s)
{
	size_t n = s->line_len;
	if (!(s->flags & F_LINE_CUT) && n > 0 && s->line[n - 1] == '\r')
		n--;
	return n;
}

static bool line_is_empty(const struct http_stream *s)
{
	return !(s->flags & F_LINE_CUT) && line_content(s) == 0;
}

/* ---- messages and callbacks ---- */

static bool is_head_state(unsigned st)
{
	return st >= S_TOKEN && st <= S_HEADER;
}

/* States that consume one byte at a time (lines). */
static bool is_byte_state(unsigned st)
{
	return st == S_IDLE || is_head_state(st) || st == S_CHUNK_SIZE || st == S_CHUNK_CRLF ||
	       st == S_TRAILER;
}

static void describe(struct http_stream *s, struct http_message *m, enum http_end end)
{
	memset(m, 0, sizeof(*m));
	s->path[s->path_len] = '\0';
	m->kind = (enum http_message_kind)s->msg_kind;
	m->method = (enum usm_http_method)s->method;
	m->status = s->status;
	m->version_minor = s->version_minor;
	m->head_complete = !(s->flags & F_HEAD_PART);
	m->closes = (s->flags & F_CLOSE) ||
		    (m->head_complete && s->version_minor == 0 && !(s->flags & F_KEEP_ALIVE));
	m->path_cut = s->flags & F_PATH_CUT;
	m->end = end;
	m->path = s->path;
	m->path_len = s->path_len;
	m->start_ts_ns = s->start_ts_ns;
	m->bytes = s->msg_bytes;
}

static enum usm_http_method ask_request_method(struct http_stream *s, struct feed *f)
{
	struct http_message m;
	if (!f->sink || !f->sink->request_method)
		return USM_HTTP_METHOD_UNKNOWN;
	describe(s, &m, HTTP_END_NONE);
	return f->sink->request_method(f->ctx, &m);
}

static void report_head(struct http_stream *s, struct feed *f)
{
	struct http_message m;
	s->flags |= F_REPORTED;
	s->counters.messages++;
	if (s->msg_kind == HTTP_MESSAGE_REQUEST)
		s->last_method = s->method;
	describe(s, &m, HTTP_END_NONE);
	if (f->sink && f->sink->on_head)
		f->sink->on_head(f->ctx, &m);
}

/* Ends the reported message in progress and moves to `next`. */
static void end_message(struct http_stream *s, struct feed *f, enum http_end end, enum state next)
{
	struct http_message m;
	describe(s, &m, end);
	s->msg_bytes = 0;
	s->flags = 0;
	s->state = (uint8_t)next;
	if (f->sink && f->sink->on_end)
		f->sink->on_end(f->ctx, &m);
}

static void begin_message(struct http_stream *s, struct feed *f)
{
	s->flags &= F_SEEKING;
	s->msg_kind =
		s->kind == HTTP_STREAM_RESPONSES ? HTTP_MESSAGE_RESPONSE : HTTP_MESSAGE_REQUEST;
	s->method = USM_HTTP_METHOD_UNKNOWN;
	s->status = 0;
	s->version_minor = 0;
	s->path_len = 0;
	s->line_len = 0;
	s->head_bytes = 0;
	s->remaining = 0;
	s->content_length = 0;
	s->msg_bytes = 0;
	s->start_ts_ns = f->ts_ns;
	s->state = S_TOKEN;
}

/* A start line that is not reported: its bytes are skipped; `counter` (if
 * any) counts it unless the stream was already resynchronizing. */
static void drop_attempt(struct http_stream *s, uint64_t *counter)
{
	s->counters.skipped_bytes += s->msg_bytes;
	s->msg_bytes = 0;
	if (counter && !(s->flags & F_SEEKING))
		(*counter)++;
	s->flags = 0;
	s->state = S_SEEK;
}

static void garbage(struct http_stream *s)
{
	drop_attempt(s, &s->counters.garbage);
}

/* Framing lost inside a reported message. */
static void desync_lost(struct http_stream *s, struct feed *f)
{
	s->counters.desync++;
	end_message(s, f, HTTP_END_LOST, S_SEEK);
}

static void tls_seen(struct http_stream *s)
{
	s->counters.ignored_bytes += s->msg_bytes;
	s->msg_bytes = 0;
	s->flags = 0;
	if (accepts_requests(s) && s->last_method == USM_HTTP_METHOD_CONNECT) {
		s->state = S_STOPPED; /* the client's side of a tunnel */
		return;
	}
	s->counters.not_http = 1;
	s->state = S_NOT_HTTP;
}

/* The head cannot be read to its end (a gap, or over max_header_bytes) but
 * its method or status is known: report it, and end it with its segment. */
static void head_cut(struct http_stream *s, struct feed *f)
{
	bool stop = false;
	if (s->state == S_TARGET)
		s->flags |= F_PATH_CUT;
	s->flags |= F_HEAD_PART;
	if (s->msg_kind == HTTP_MESSAGE_RESPONSE) {
		if (s->status == 101)
			stop = true;
		else if (s->status >= 200)
			stop = ask_request_method(s, f) == USM_HTTP_METHOD_CONNECT &&
			       s->status < 300;
	}
	report_head(s, f);
	if (stop)
		end_message(s, f, HTTP_END_GUESSED, S_STOPPED);
	else
		s->state = S_TO_SEGMENT_END;
}

/* RFC 9112 §6.3, once the status and request method rules are applied. */
static enum body_rule framing_rule(const struct http_stream *s)
{
	bool response = s->msg_kind == HTTP_MESSAGE_RESPONSE;
	if (s->flags & F_BAD_FRAMING)
		return BODY_GUESS;
	if (s->flags & F_TE) {
		if (s->flags & F_CHUNKED)
			return BODY_CHUNKED;
		return response ? BODY_UNTIL_CLOSE : BODY_GUESS;
	}
	if (s->flags & F_CL)
		return BODY_LENGTH;
	return response ? BODY_UNTIL_CLOSE : BODY_NONE;
}

static void head_done(struct http_stream *s, struct feed *f)
{
	enum body_rule rule;
	if (s->msg_kind == HTTP_MESSAGE_RESPONSE) {
		if (s->status == 101) {
			rule = BODY_STOP;
		} else if (s->status < 200) {
			rule = BODY_NONE;
		} else {
			enum usm_http_method answers = ask_request_method(s, f);
			if (answers == USM_HTTP_METHOD_CONNECT && s->status < 300)
				rule = BODY_STOP;
			else if (answers == USM_HTTP_METHOD_HEAD || s->status == 204 ||
				 s->status == 304)
				rule = BODY_NONE;
			else
				rule = framing_rule(s);
		}
	} else {
		rule = framing_rule(s);
	}
	report_head(s, f);
	switch (rule) {
	case BODY_NONE:
		end_message(s, f, HTTP_END_FRAMED, S_IDLE);
		break;
	case BODY_STOP:
		end_message(s, f, HTTP_END_FRAMED, S_STOPPED);
		break;
	case BODY_LENGTH:
		if (s->content_length == 0) {
			end_message(s, f, HTTP_END_FRAMED, S_IDLE);
		} else {
			s->remaining = s->content_length;
			s->state = S_BODY;
		}
		break;
	case BODY_CHUNKED:
		line_reset(s);
		s->state = S_CHUNK_SIZE;
		break;
	case BODY_UNTIL_CLOSE:
		s->state = S_UNTIL_CLOSE;
		break;
	case BODY_GUESS:
		s->state = S_TO_SEGMENT_END;
		break;
	}
}

static void header_line(struct http_stream *s)
{
	const char *l = s->line;
	size_t n = line_content(s);
	bool cut = s->flags & F_LINE_CUT;
	size_t v;
	if (header_is(l, n, "content-length", &v)) {
		uint64_t length;
		if (cut || !parse_length(l + v, n - v, &length) ||
		    ((s->flags & F_CL) && length != s->content_length)) {
			s->flags |= F_BAD_FRAMING;
			return;
		}
		s->flags |= F_CL;
		s->content_length = length;
	} else if (header_is(l, n, "transfer-encoding", &v)) {
		if (cut) {
			s->flags |= F_BAD_FRAMING;
			return;
		}
		s->flags |= F_TE;
		if (last_element_is(l + v, n - v, "chunked"))
			s->flags |= F_CHUNKED;
		else
			s->flags &= (uint16_t)~F_CHUNKED;
	} else if (header_is(l, n, "connection", &v)) {
		const char *p = l + v;
		size_t left = n - v;
		while (left > 0) {
			size_t len = 0;
			while (len < left && p[len] != ',')
				len++;
			const char *t = p;
			size_t tn = len;
			trim_ows(&t, &tn);
			if (same_ci(t, tn, "close"))
				s->flags |= F_CLOSE;
			else if (same_ci(t, tn, "keep-alive"))
				s->flags |= F_KEEP_ALIVE;
			p += len;
			left -= len;
			if (left > 0) { /* the comma */
				p++;
				left--;
			}
		}
	}
}

/* chunk-size [ chunk-ext ] CRLF; the extension is not read. */
static bool chunk_size(const struct http_stream *s, uint64_t *size)
{
	size_t n = line_content(s), i = 0;
	uint64_t v = 0;
	for (; i < n && hex_value(s->line[i]) >= 0; i++) {
		if (i == CHUNK_SIZE_DIGITS_MAX)
			return false;
		v = v * 16 + (uint64_t)hex_value(s->line[i]);
	}
	if (i == 0)
		return false;
	if (i < n && s->line[i] != ';' && !is_ows(s->line[i]))
		return false;
	*size = v;
	return true;
}

/* ---- the state machine ---- */

static void token_done(struct http_stream *s)
{
	enum usm_http_method m = USM_HTTP_METHOD_UNKNOWN;
	if (accepts_requests(s))
		m = method_of(s->line, s->line_len);
	bool ext = m == USM_HTTP_METHOD_UNKNOWN && accepts_requests(s) && s->line_len >= 3 &&
		   ext_method_prefix(s->line, s->line_len) &&
		   !http_version_prefix(s->line, s->line_len);
	if (m != USM_HTTP_METHOD_UNKNOWN || ext) {
		s->msg_kind = HTTP_MESSAGE_REQUEST;
		s->method = (uint8_t)m;
		s->flags |= ext ? F_EXT_METHOD : F_KNOWN;
		s->path_len = 0;
		s->state = S_TARGET;
		return;
	}
	if (accepts_responses(s) && s->line_len == TOKEN_MAX &&
	    http_version_prefix(s->line, s->line_len)) {
		s->msg_kind = HTTP_MESSAGE_RESPONSE;
		s->version_minor = (uint8_t)(s->line[7] - '0');
		s->status = 0;
		line_reset(s);
		s->state = S_STATUS;
		return;
	}
	garbage(s);
}

static void on_byte(struct http_stream *s, uint8_t b, struct feed *f)
{
	if (s->state == S_IDLE) {
		if (b == '\r' || b == '\n') {
			s->counters.skipped_bytes++;
			return;
		}
		begin_message(s, f);
	}
	s->msg_bytes++;
	if (is_head_state(s->state) && ++s->head_bytes > s->max_header_bytes) {
		s->counters.oversized++;
		if (s->flags & F_KNOWN)
			head_cut(s, f);
		else
			drop_attempt(s, NULL);
		return;
	}

	switch (s->state) {
	case S_TOKEN:
		if (s->line_len == 0 && (b == 0x16 || b == 0x17)) {
			s->state = S_TLS_MAYBE;
		} else if (b == ' ') {
			token_done(s);
		} else if (s->line_len == EXT_METHOD_MAX) {
			garbage(s);
		} else {
			s->line[s->line_len++] = (char)b;
			if (!token_prefix_ok(s))
				garbage(s);
		}
		break;
	case S_TLS_MAYBE:
		if (b == 0x03)
			tls_seen(s);
		else
			garbage(s);
		break;
	case S_TARGET:
		if (b == ' ') {
			if (s->path_len == 0) {
				garbage(s);
			} else {
				line_reset(s);
				s->state = S_REQ_VERSION;
			}
		} else if (b < 0x21 || b == 0x7f) {
			garbage(s); /* HTTP/0.9, or not a request */
		} else if (b == '?' || b == '#') {
			s->state = S_TARGET_REST;
		} else if (s->path_len < s->path_max) {
			s->path[s->path_len++] = (char)b;
		} else {
			s->flags |= F_PATH_CUT;
		}
		break;
	case S_TARGET_REST:
		if (b == ' ') {
			line_reset(s);
			s->state = S_REQ_VERSION;
		} else if (b < 0x21 || b == 0x7f) {
			garbage(s);
		}
		break;
	case S_REQ_VERSION:
		if (s->line_len < TOKEN_MAX) {
			s->line[s->line_len++] = (char)b;
			if (!http_version_prefix(s->line, s->line_len))
				garbage(s);
		} else if (b == '\r' && s->line_len == TOKEN_MAX) {
			s->line_len++; /* CR seen */
		} else if (b == '\n') {
			s->version_minor = (uint8_t)(s->line[7] - '0');
			s->flags |= F_KNOWN; /* an extension method's request line is now whole */
			line_reset(s);
			s->state = S_HEADER;
		} else {
			garbage(s);
		}
		break;
	case S_STATUS:
		if (s->line_len < 3) {
			if (b < '0' || b > '9' || (s->line_len == 0 && (b < '1' || b > '5'))) {
				garbage(s);
				break;
			}
			s->status = (uint16_t)(s->status * 10 + (b - '0'));
			s->line_len++;
		} else if (b == ' ' || b == '\r') {
			s->flags |= F_KNOWN;
			s->state = S_REASON;
		} else if (b == '\n') {
			s->flags |= F_KNOWN;
			line_reset(s);
			s->state = S_HEADER;
		} else {
			garbage(s);
		}
		break;
	case S_REASON:
		if (b == '\n') {
			line_reset(s);
			s->state = S_HEADER;
		}
		break;
	case S_HEADER:
		if (b != '\n') {
			line_add(s, b);
		} else if (line_is_empty(s)) {
			head_done(s, f);
		} else {
			header_line(s);
			line_reset(s);
		}
		break;
	case S_CHUNK_SIZE:
		if (b != '\n') {
			line_add(s, b);
		} else {
			uint64_t size;
			if (!chunk_size(s, &size)) {
				desync_lost(s, f);
				break;
			}
			line_reset(s);
			if (size == 0) {
				s->state = S_TRAILER;
			} else {
				s->remaining = size;
				s->state = S_CHUNK_DATA;
			}
		}
		break;
	case S_CHUNK_CRLF:
		if (b == '\r' && s->line_len == 0) {
			s->line_len = 1;
		} else if (b == '\n') {
			line_reset(s);
			s->state = S_CHUNK_SIZE;
		} else {
			desync_lost(s, f);
		}
		break;
	case S_TRAILER:
		if (b != '\n')
			line_add(s, b);
		else if (line_is_empty(s))
			end_message(s, f, HTTP_END_FRAMED, S_IDLE);
		else
			line_reset(s);
		break;
	default:
		break;
	}
}

/* Consumes known bytes from p[0..n) in the current state; returns how many
 * (at least one, unless a message just ended in a state that needs none). */
static size_t step(struct http_stream *s, const uint8_t *p, size_t n, struct feed *f)
{
	uint64_t k;
	switch (s->state) {
	case S_SEEK:
		s->counters.skipped_bytes += n;
		return n;
	case S_STOPPED:
	case S_NOT_HTTP:
	case S_FINISHED:
		s->counters.ignored_bytes += n;
		return n;
	case S_UNTIL_CLOSE:
	case S_TO_SEGMENT_END:
		s->msg_bytes += n;
		return n;
	case S_BODY:
	case S_CHUNK_DATA:
		k = s->remaining < n ? s->remaining : n;
		s->msg_bytes += k;
		s->remaining -= k;
		if (s->remaining == 0) {
			if (s->state == S_BODY) {
				end_message(s, f, HTTP_END_FRAMED, S_IDLE);
			} else {
				line_reset(s);
				s->state = S_CHUNK_CRLF;
			}
		}
		return (size_t)k;
	default: {
		size_t i = 0;
		while (i < n && is_byte_state(s->state))
			on_byte(s, p[i++], f);
		return i;
	}
	}
}

/* `g` bytes that were not captured. */
static void on_gap(struct http_stream *s, uint64_t g, struct feed *f)
{
	while (g > 0) {
		uint64_t k;
		switch (s->state) {
		case S_SEEK:
			s->counters.skipped_bytes += g;
			return;
		case S_STOPPED:
		case S_NOT_HTTP:
		case S_FINISHED:
			s->counters.ignored_bytes += g;
			return;
		case S_UNTIL_CLOSE:
		case S_TO_SEGMENT_END:
			s->msg_bytes += g;
			return;
		case S_IDLE: /* a message starts where nothing was captured */
			s->counters.skipped_bytes += g;
			if (!(s->flags & F_SEEKING))
				s->counters.desync++;
			s->flags = 0;
			s->state = S_SEEK;
			return;
		case S_BODY:
		case S_CHUNK_DATA:
			k = s->remaining < g ? s->remaining : g;
			s->msg_bytes += k;
			s->remaining -= k;
			g -= k;
			if (s->remaining == 0) {
				if (s->state == S_BODY) {
					end_message(s, f, HTTP_END_FRAMED, S_IDLE);
				} else {
					line_reset(s);
					s->state = S_CHUNK_CRLF;
				}
			}
			break;
		case S_CHUNK_CRLF: { /* taken to be CR LF: two bytes */
			uint64_t need = 2u - s->line_len;
			k = need < g ? need : g;
			s->msg_bytes += k;
			g -= k;
			if (k == need) {
				line_reset(s);
				s->state = S_CHUNK_SIZE;
			} else {
				s->line_len = (uint16_t)(s->line_len + k);
			}
			break;
		}
		case S_CHUNK_SIZE:
		case S_TRAILER:
			s->msg_bytes += g;
			desync_lost(s, f);
			return;
		default: /* the head */
			s->msg_bytes += g;
			if (s->flags & F_KNOWN) {
				s->counters.truncated++;
				head_cut(s, f);
			} else {
				drop_attempt(s, &s->counters.desync);
			}
			return;
		}
	}
}

static enum http_feed_result result_of(const struct http_stream *s)
{
	if (s->state == S_NOT_HTTP)
		return HTTP_FEED_NOT_HTTP;
	if (s->state == S_STOPPED || s->state == S_FINISHED)
		return HTTP_FEED_STOPPED;
	return HTTP_FEED_OK;
}

enum http_feed_result http_stream_feed(struct http_stream *s, const uint8_t *data, size_t captured,
				       size_t total, uint64_t ts_ns,
				       const struct http_parse_sink *sink, void *ctx)
{
	struct feed f = {.sink = sink, .ctx = ctx, .ts_ns = ts_ns};
	size_t off = 0;
	if (!data)
		captured = 0;
	if (total < captured)
		total = captured;
	if (s->state == S_SEEK && captured > 0) {
		s->state = S_IDLE;
		s->flags = F_SEEKING;
	}
	if (s->state != S_STOPPED)
		s->stopped_at = captured;
	while (off < captured) {
		bool was_stopped = s->state == S_STOPPED;
		off += step(s, data + off, captured - off, &f);
		if (!was_stopped && s->state == S_STOPPED)
			s->stopped_at = off;
	}
	on_gap(s, total - captured, &f);
	if (s->state == S_TO_SEGMENT_END)
		end_message(s, &f, HTTP_END_GUESSED, S_SEEK);
	return result_of(s);
}

size_t http_stream_stopped_at(const struct http_stream *s)
{
	return s->stopped_at;
}

void http_stream_finish(struct http_stream *s, const struct http_parse_sink *sink, void *ctx)
{
	struct feed f = {.sink = sink, .ctx = ctx, .ts_ns = 0};
	switch (s->state) {
	case S_STOPPED:
	case S_NOT_HTTP:
	case S_FINISHED:
		return;
	case S_IDLE:
	case S_SEEK:
		break;
	case S_UNTIL_CLOSE:
		end_message(s, &f, HTTP_END_CLOSE, S_FINISHED);
		break;
	default:
		if (is_head_state(s->state)) {
			if (!(s->flags & F_KNOWN)) {
				drop_attempt(s, NULL);
				break;
			}
			if (s->state == S_TARGET)
				s->flags |= F_PATH_CUT;
			s->flags |= F_HEAD_PART;
			report_head(s, &f);
		}
		end_message(s, &f, HTTP_END_LOST, S_FINISHED);
		break;
	}
	s->flags = 0;
	s->state = S_FINISHED;
}

void http_stream_set_kind(struct http_stream *s, enum http_stream_kind kind)
{
	if (kind <= HTTP_STREAM_EITHER)
		s->kind = (uint8_t)kind;
}

int http_stream_init(struct http_stream *s, enum http_stream_kind kind, size_t max_path_len,
		     size_t max_header_bytes)
{
	memset(s, 0, sizeof(*s));
	if (kind > HTTP_STREAM_EITHER || max_path_len < 1 || max_path_len > HTTP_PATH_MAX ||
	    max_header_bytes < HTTP_HEADER_BYTES_MIN || max_header_bytes > UINT32_MAX) {
		s->state = S_FINISHED; /* a stream that failed to start parses nothing */
		return -EINVAL;
	}
	s->state = S_IDLE;
	s->kind = (uint8_t)kind;
	s->path_max = (uint16_t)max_path_len;
	s->max_header_bytes = (uint32_t)max_header_bytes;
	return 0;
}
