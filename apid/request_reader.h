/* One HTTP/1.x request read from an untrusted API client within hard
 * limits. The parsing is libhttp-parser's (nodejs/http-parser 2.9, the
 * Debian package); this file only bounds what it keeps and says which
 * answer the HTTP standard names when a request does not fit.
 *
 * Why apid reads requests itself: nng 1.5's HTTP server has no limit it
 * can be told, closed over-long requests without an answer and kept idle
 * connections forever (api_server.h). nng still carries the bytes.
 *
 * What is kept of a request is what apid's routes use: the method, the
 * target (at most request_line_max bytes) and the body (at most body_max
 * bytes, Content-Length or chunked). Header fields are counted and their
 * size summed, never kept; only whether a Host field came is noted.
 *
 * Verdicts, final once not REQUEST_MORE, each with the answer it calls for:
 * - REQUEST_URI_TOO_LONG (414): a target over request_line_max bytes,
 *   decided at most 4 KiB after that many arrived, whether or not the line
 *   ended (http-parser is fed in 4 KiB slices, request_reader_feed);
 * - REQUEST_FIELDS_TOO_LARGE (431): more than field_lines_max field lines,
 *   or their names and values over fields_max bytes, or a head over
 *   http-parser's own bound (request_reader_setup);
 * - REQUEST_BODY_TOO_LARGE (413): a Content-Length or a chunked body over
 *   body_max;
 * - REQUEST_NOT_IMPLEMENTED (501): a method http-parser does not know,
 *   CONNECT, a transfer coding other than chunked;
 * - REQUEST_VERSION (505): HTTP/<major>.<minor> but not 1.0 or 1.1;
 * - REQUEST_BAD (400): anything else http-parser refuses (a control
 *   character, a bad or repeated Content-Length, Content-Length with
 *   chunked, ...), a space in a field name (Debian's http-parser is built
 *   lenient and would take it), a target that is not origin-form
 *   ("/..."), no Host in HTTP/1.1, two Host fields;
 * - REQUEST_NO_MEMORY (503): malloc failed;
 * - REQUEST_COMPLETE: a whole request; bytes after *used are the next's.
 *
 * Memory: the struct, and buffers that grow only as far as the request
 * needs (request_reader_memory). Not thread-safe; one per connection. */
#ifndef USM_APID_REQUEST_READER_H
#define USM_APID_REQUEST_READER_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

struct request_limits {
	size_t request_line_max;  /* target bytes: over it, 414 */
	size_t fields_max;        /* bytes of field names and values: over it, 431 */
	unsigned field_lines_max; /* field lines: over it, 431 */
	size_t body_max;          /* body bytes: over it, 413 */
};

enum request_verdict {
	REQUEST_MORE,
	REQUEST_COMPLETE,
	REQUEST_BAD,
	REQUEST_URI_TOO_LONG,
	REQUEST_FIELDS_TOO_LARGE,
	REQUEST_BODY_TOO_LARGE,
	REQUEST_NOT_IMPLEMENTED,
	REQUEST_VERSION,
	REQUEST_NO_MEMORY,
};

struct request_reader {
	http_parser parser;
	const struct request_limits *lim;
	enum request_verdict verdict;
	bool begun;         /* a byte of this request arrived */
	bool keep_alive;    /* with REQUEST_COMPLETE */
	bool host;          /* a Host field came */
	bool in_value;      /* the last field callback was for a value */
	char name[5];       /* a field name's first bytes, to recognise Host */
	size_t name_len;
	unsigned field_lines;
	size_t field_bytes;
	char *target;       /* NUL-terminated once complete */
	size_t target_len, target_cap;
	char *body;
	size_t body_len, body_cap;
};

/* Sets http-parser's process-wide bound on a head's size (it counts the
 * request line, field lines and whitespace the callbacks never see) to
 * what lim allows plus room for line ends. Call once, before any reader
 * is used. */
void request_reader_setup(const struct request_limits *lim);

/* A reader for a connection's first request; lim must outlive it. */
void request_reader_init(struct request_reader *r, const struct request_limits *lim);

/* Feeds the len bytes that follow what was fed before. Returns the
 * verdict and sets *used to the bytes taken: all of them with
 * REQUEST_MORE, up to the request's end with REQUEST_COMPLETE. Once the
 * verdict is not REQUEST_MORE, feeding again returns it and takes
 * nothing. */
enum request_verdict request_reader_feed(struct request_reader *r, const char *data, size_t len,
					 size_t *used);

/* With REQUEST_COMPLETE: the method ("GET", ...) and HTTP/1.<minor>. */
const char *request_reader_method(const struct request_reader *r);
unsigned request_reader_minor(const struct request_reader *r);

/* Ready for the connection's next request: counts and verdict reset,
 * buffers kept for reuse if they are small (the first 256 bytes),
 * released otherwise. */
void request_reader_next(struct request_reader *r);

/* Bytes of buffers it holds now (the struct not included). */
size_t request_reader_memory(const struct request_reader *r);

void request_reader_free(struct request_reader *r);

#endif
