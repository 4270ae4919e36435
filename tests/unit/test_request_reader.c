/* apid/request_reader.c: libhttp-parser under apid's limits. Every limit
 * is tested at its edge (at it: read; one past: refused) and fed both at
 * once and a byte at a time, since a client decides how bytes arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "request_reader.h"

static const struct request_limits lim = {
	.request_line_max = 8192,
	.fields_max = 32 * 1024,
	.field_lines_max = 100,
	.body_max = 1024,
};

/* A growing string for building requests. */
struct text {
	char *s;
	size_t len;
};

static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	t->s = realloc(t->s, t->len + (size_t)n + 1);
	assert_non_null(t->s);
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static void add_repeat(struct text *t, char c, size_t n)
{
	t->s = realloc(t->s, t->len + n + 1);
	assert_non_null(t->s);
	memset(t->s + t->len, c, n);
	t->len += n;
	t->s[t->len] = '\0';
}

/* Feeds all of data, at once or a byte at a time; returns the verdict and
 * the bytes taken in total. */
static enum request_verdict feed(struct request_reader *r, const char *data, size_t len,
				 bool bytewise, size_t *taken)
{
	enum request_verdict v = REQUEST_MORE;
	size_t used, total = 0;
	if (!bytewise) {
		v = request_reader_feed(r, data, len, &used);
		*taken = used;
		return v;
	}
	for (size_t i = 0; i < len && v == REQUEST_MORE; i++) {
		v = request_reader_feed(r, data + i, 1, &used);
		total += used;
	}
	*taken = total;
	return v;
}

/* The verdict on one whole request, both ways of feeding it. */
static enum request_verdict verdict_of(const char *data, size_t len)
{
	enum request_verdict both[2];
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct request_reader r;
		size_t taken;
		request_reader_init(&r, &lim);
		both[bytewise] = feed(&r, data, len, bytewise, &taken);
		request_reader_free(&r);
	}
	assert_int_equal(both[0], both[1]);
	return both[0];
}

static int setup(void **state)
{
	(void)state;
	request_reader_setup(&lim);
	return 0;
}

static void test_get_complete(void **state)
{
	(void)state;
	const char *req = "GET /usm/http_stats?limit=5 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct request_reader r;
		size_t taken;
		request_reader_init(&r, &lim);
		assert_int_equal(feed(&r, req, strlen(req), bytewise, &taken), REQUEST_COMPLETE);
		assert_int_equal(taken, strlen(req));
		assert_string_equal(request_reader_method(&r), "GET");
		assert_string_equal(r.target, "/usm/http_stats?limit=5");
		assert_int_equal(request_reader_minor(&r), 1);
		assert_true(r.keep_alive);
		assert_int_equal(r.body_len, 0);
		request_reader_free(&r);
	}
}

static void test_incomplete_is_more(void **state)
{
	(void)state;
	const char *req = "GET / HTTP/1.1\r\nHost: x\r\n";
	assert_int_equal(verdict_of(req, strlen(req)), REQUEST_MORE);
}

/* Two requests in one read: the first ends where it ends, the rest is the
 * second's once the reader is reset. */
static void test_pipelined(void **state)
{
	(void)state;
	const char *two = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
			  "POST /usm/control HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody";
	size_t first = strlen("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"), used;
	struct request_reader r;
	request_reader_init(&r, &lim);
	assert_int_equal(request_reader_feed(&r, two, strlen(two), &used), REQUEST_COMPLETE);
	assert_int_equal(used, first);
	assert_string_equal(r.target, "/health");
	/* A verdict is final until the reader is reset. */
	assert_int_equal(request_reader_feed(&r, two + used, strlen(two) - used, &used),
			 REQUEST_COMPLETE);
	assert_int_equal(used, 0);
	request_reader_next(&r);
	assert_false(r.begun);
	assert_int_equal(request_reader_feed(&r, two + first, strlen(two) - first, &used),
			 REQUEST_COMPLETE);
	assert_int_equal(used, strlen(two) - first);
	assert_string_equal(request_reader_method(&r), "POST");
	assert_string_equal(r.target, "/usm/control");
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "body", 4);
	request_reader_free(&r);
}

static void test_target_limit(void **state)
{
	(void)state;
	for (size_t extra = 0; extra < 2; extra++) {
		struct text t = {0};
		add(&t, "GET /");
		add_repeat(&t, 'a', lim.request_line_max - 1 + extra);
		add(&t, " HTTP/1.1\r\nHost: x\r\n\r\n");
		assert_int_equal(verdict_of(t.s, t.len), extra ? REQUEST_URI_TOO_LONG : REQUEST_COMPLETE);
		free(t.s);
	}
	/* Decided before the line ends: a client need not finish it. */
	struct text t = {0};
	add(&t, "GET /");
	add_repeat(&t, 'a', 200000);
	struct request_reader r;
	size_t used;
	request_reader_init(&r, &lim);
	assert_int_equal(request_reader_feed(&r, t.s, t.len, &used), REQUEST_URI_TOO_LONG);
	assert_true(request_reader_memory(&r) <= lim.request_line_max + 1);
	request_reader_free(&r);
	free(t.s);
}

static void test_field_lines_limit(void **state)
{
	(void)state;
	for (unsigned extra = 0; extra < 2; extra++) {
		struct text t = {0};
		add(&t, "GET / HTTP/1.1\r\nHost: x\r\n");
		for (unsigned i = 1; i < lim.field_lines_max + extra; i++)
			add(&t, "X-%u: y\r\n", i);
		add(&t, "\r\n");
		assert_int_equal(verdict_of(t.s, t.len), extra ? REQUEST_FIELDS_TOO_LARGE : REQUEST_COMPLETE);
		free(t.s);
	}
	/* 20,000 of them: refused at the 101st, never kept. */
	struct text t = {0};
	add(&t, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (unsigned i = 0; i < 20000; i++)
		add(&t, "X-%u: y\r\n", i);
	struct request_reader r;
	size_t used;
	request_reader_init(&r, &lim);
	assert_int_equal(request_reader_feed(&r, t.s, t.len, &used), REQUEST_FIELDS_TOO_LARGE);
	assert_true(used < 2000);
	assert_int_equal(request_reader_memory(&r), 64); /* the target's first buffer only */
	request_reader_free(&r);
	free(t.s);
}

static void test_field_bytes_limit(void **state)
{
	(void)state;
	/* Names and values count: "Host" + "x" + "V" + the value. */
	for (size_t extra = 0; extra < 2; extra++) {
		struct text t = {0};
		add(&t, "GET / HTTP/1.1\r\nHost: x\r\nV: ");
		add_repeat(&t, 'v', lim.fields_max - 6 + extra);
		add(&t, "\r\n\r\n");
		assert_int_equal(verdict_of(t.s, t.len), extra ? REQUEST_FIELDS_TOO_LARGE : REQUEST_COMPLETE);
		free(t.s);
	}
	/* Whitespace the callbacks never see: http-parser's own bound. */
	struct text t = {0};
	add(&t, "GET / HTTP/1.1\r\nHost: x\r\nV:");
	add_repeat(&t, ' ', 100000);
	add(&t, "v\r\n\r\n");
	assert_int_equal(verdict_of(t.s, t.len), REQUEST_FIELDS_TOO_LARGE);
	free(t.s);
}

static void test_host(void **state)
{
	(void)state;
	const char *none = "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n";
	const char *hostx = "GET / HTTP/1.1\r\nHostx: y\r\n\r\n";
	const char *ho = "GET / HTTP/1.1\r\nHo: y\r\n\r\n";
	const char *upper = "GET / HTTP/1.1\r\nHOST: y\r\n\r\n";
	assert_int_equal(verdict_of(none, strlen(none)), REQUEST_BAD);
	assert_int_equal(verdict_of(hostx, strlen(hostx)), REQUEST_BAD);
	assert_int_equal(verdict_of(ho, strlen(ho)), REQUEST_BAD);
	assert_int_equal(verdict_of(upper, strlen(upper)), REQUEST_COMPLETE);
	/* HTTP/1.0 needs none, and is not kept alive unless it asks. */
	const char *old = "GET /health HTTP/1.0\r\n\r\n";
	struct request_reader r;
	size_t used;
	request_reader_init(&r, &lim);
	assert_int_equal(request_reader_feed(&r, old, strlen(old), &used), REQUEST_COMPLETE);
	assert_int_equal(request_reader_minor(&r), 0);
	assert_false(r.keep_alive);
	request_reader_free(&r);
}

static void test_connection_close(void **state)
{
	(void)state;
	const char *req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct request_reader r;
	size_t used;
	request_reader_init(&r, &lim);
	assert_int_equal(request_reader_feed(&r, req, strlen(req), &used), REQUEST_COMPLETE);
	assert_false(r.keep_alive);
	request_reader_free(&r);
}

static void test_body(void **state)
{
	(void)state;
	const char *chunked = "POST /usm/control HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct request_reader r;
		size_t taken;
		request_reader_init(&r, &lim);
		assert_int_equal(feed(&r, chunked, strlen(chunked), bytewise, &taken), REQUEST_COMPLETE);
		assert_int_equal(taken, strlen(chunked));
		assert_int_equal(r.body_len, 5);
		assert_memory_equal(r.body, "abcde", 5);
		request_reader_free(&r);
	}
	/* Content-Length over the limit: refused before any of the body. */
	const char *big = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n";
	assert_int_equal(verdict_of(big, strlen(big)), REQUEST_BODY_TOO_LARGE);
	const char *huge = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999\r\n\r\n";
	assert_int_equal(verdict_of(huge, strlen(huge)), REQUEST_BODY_TOO_LARGE);
	/* At the limit: read. */
	struct text t = {0};
	add(&t, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n");
	add_repeat(&t, 'b', 1024);
	assert_int_equal(verdict_of(t.s, t.len), REQUEST_COMPLETE);
	free(t.s);
	/* Chunks past the limit. */
	struct text c = {0};
	add(&c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n");
	add_repeat(&c, 'b', 1024);
	add(&c, "\r\n1\r\nb\r\n0\r\n\r\n");
	assert_int_equal(verdict_of(c.s, c.len), REQUEST_BODY_TOO_LARGE);
	free(c.s);
}

static void test_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		enum request_verdict v;
	} cases[] = {
		{"FOO / HTTP/1.1\r\nHost: x\r\n\r\n", REQUEST_NOT_IMPLEMENTED},
		{"GET / HTTP/2.0\r\nHost: x\r\n\r\n", REQUEST_VERSION},
		{"GET / HTTP/1.2\r\nHost: x\r\n\r\n", REQUEST_VERSION},
		{"GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", REQUEST_BAD},
		{"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", REQUEST_BAD},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", REQUEST_BAD},
		{"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		 REQUEST_BAD},
		{"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n", REQUEST_BAD},
		{"GET / HTTP/1.1\r\nHo st: x\r\n\r\n", REQUEST_BAD},
		{"GET / HTTP/x.y\r\nHost: x\r\n\r\n", REQUEST_BAD},
		{"CONNECT / HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n", REQUEST_NOT_IMPLEMENTED},
		{"CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n", REQUEST_NOT_IMPLEMENTED},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", REQUEST_NOT_IMPLEMENTED},
		{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
		 REQUEST_BAD},
		{"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", REQUEST_BAD},
		{"GET / HTTP/1.0\r\nhost: x\r\nHOST: y\r\n\r\n", REQUEST_BAD},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum request_verdict v = verdict_of(cases[i].req, strlen(cases[i].req));
		if (v != cases[i].v)
			fail_msg("case %zu (%s): verdict %d, expected %d", i, cases[i].req, v, cases[i].v);
	}
	/* A control character in a value. */
	const char nul[] = "GET / HTTP/1.1\r\nHost: x\0y\r\n\r\n";
	assert_int_equal(verdict_of(nul, sizeof(nul) - 1), REQUEST_BAD);
}

/* Large buffers are released between requests; small ones kept. */
static void test_next_releases(void **state)
{
	(void)state;
	struct text t = {0};
	add(&t, "GET /");
	add_repeat(&t, 'a', 4000);
	add(&t, " HTTP/1.1\r\nHost: x\r\n\r\n");
	struct request_reader r;
	size_t used;
	request_reader_init(&r, &lim);
	assert_int_equal(request_reader_feed(&r, t.s, t.len, &used), REQUEST_COMPLETE);
	assert_true(request_reader_memory(&r) >= 4001);
	request_reader_next(&r);
	assert_int_equal(request_reader_memory(&r), 0);
	const char *small = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(request_reader_feed(&r, small, strlen(small), &used), REQUEST_COMPLETE);
	request_reader_next(&r);
	assert_int_equal(request_reader_memory(&r), 64);
	assert_int_equal(r.target_len, 0);
	request_reader_free(&r);
	free(t.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_complete),
		cmocka_unit_test(test_incomplete_is_more),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_target_limit),
		cmocka_unit_test(test_field_lines_limit),
		cmocka_unit_test(test_field_bytes_limit),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_connection_close),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_next_releases),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
