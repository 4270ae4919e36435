#include "api.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "exit_status.h"
#include "message.h"

int api_open(struct api *a, const char *host, const char *port, char *err, size_t cap)
{
	*a = (struct api){0};
	snprintf(a->where, sizeof(a->where), "%s:%s", host, port);
	char url[sizeof(a->where) + 16];
	snprintf(url, sizeof(url), "http://%s", a->where);
	int rv = nng_url_parse(&a->url, url);
	if (rv != 0)
		return message(rv == NNG_ENOMEM ? USMCTL_EFAIL : USMCTL_EUSAGE, err, cap,
			       "%s: not a usable address: %s", a->where, nng_strerror(rv));
	if ((rv = nng_http_client_alloc(&a->client, a->url)) != 0) {
		api_close(a);
		return message(USMCTL_EFAIL, err, cap, "cannot make an HTTP client: %s",
			       nng_strerror(rv));
	}
	return USMCTL_OK;
}

void api_close(struct api *a)
{
	if (a->client)
		nng_http_client_free(a->client);
	if (a->url)
		nng_url_free(a->url);
	a->client = NULL;
	a->url = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one step of the exchange on aio within what is left of the
 * deadline; returns nng's result. */
static int step(nng_aio *aio, int64_t deadline)
{
	int64_t left = deadline - now_ms();
	nng_aio_set_timeout(aio, left > 0 ? (nng_duration)left : 1);
	nng_aio_wait(aio);
	return nng_aio_result(aio);
}

/* The connection, or a status for nothing listening. */
static int connect_to(struct api *a, nng_aio *aio, int64_t deadline, nng_http_conn **conn,
		      char *err, size_t cap)
{
	nng_aio_set_timeout(aio, API_TIMEOUT_MS);
	nng_http_client_connect(a->client, aio);
	int rv = step(aio, deadline);
	if (rv == NNG_ECONNREFUSED)
		return message(
			USMCTL_ENOTRUNNING, err, cap,
			"usm is not running at %s: nothing listens there (connection refused)",
			a->where);
	if (rv == NNG_ETIMEDOUT)
		return message(USMCTL_ENOTRUNNING, err, cap,
			       "usm is not running at %s: no connection within %d s", a->where,
			       API_TIMEOUT_MS / 1000);
	if (rv == NNG_ENOMEM)
		return message(USMCTL_EFAIL, err, cap, "out of memory");
	if (rv != 0)
		return message(USMCTL_ENOTRUNNING, err, cap, "cannot reach usm at %s: %s", a->where,
			       nng_strerror(rv));
	*conn = nng_aio_get_output(aio, 0);
	return USMCTL_OK;
}

/* Reads the body the headers announce, bounded. */
static int read_body(struct api *a, nng_http_conn *conn, nng_http_res *res, nng_aio *aio,
		     int64_t deadline, char **body, size_t *len, char *err, size_t cap)
{
	const char *te = nng_http_res_get_header(res, "Transfer-Encoding");
	if (te && strcasecmp(te, "identity") != 0)
		return message(USMCTL_ENOTUSM, err, cap,
			       "%s answered with Transfer-Encoding %s: not usm's API", a->where,
			       te);
	const char *cl = nng_http_res_get_header(res, "Content-Length");
	char *end = NULL;
	unsigned long long n = cl ? strtoull(cl, &end, 10) : 0;
	if (cl && (end == cl || *end || cl[0] == '-' || n > API_BODY_MAX))
		return message(USMCTL_ENOTUSM, err, cap,
			       "%s answered with Content-Length %s (at most %u): not usm's API",
			       a->where, cl, API_BODY_MAX);
	*len = (size_t)n;
	*body = malloc(*len + 1);
	if (!*body)
		return message(USMCTL_EFAIL, err, cap, "out of memory for a %zu-byte answer", *len);
	if (*len) {
		nng_iov iov = {.iov_buf = *body, .iov_len = *len};
		nng_aio_set_iov(aio, 1, &iov);
		nng_http_conn_read_all(conn, aio);
		int rv = step(aio, deadline);
		if (rv != 0)
			return message(USMCTL_ENOTUSM, err, cap,
				       "%s: the answer's body was cut: %s", a->where,
				       nng_strerror(rv));
	}
	(*body)[*len] = '\0';
	return USMCTL_OK;
}

static int parse_json(const char *where, const char *target, const char *body, size_t len,
		      json_object **out, char *err, size_t cap)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return message(USMCTL_EFAIL, err, cap, "out of memory");
	json_object *doc = len <= INT32_MAX ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	/* Whole: only white space may follow the document. */
	bool whole =
		doc && jerr == json_tokener_success && strspn(body + used, " \t\r\n") == len - used;
	if (!whole) {
		json_object_put(doc);
		return message(USMCTL_EMALFORMED, err, cap, "malformed JSON from %s%s: %s", where,
			       target,
			       !doc && jerr == json_tokener_continue ? "the document ends early"
			       : !doc				     ? json_tokener_error_desc(jerr)
								     : "more after the document");
	}
	*out = doc;
	return USMCTL_OK;
}

/* Sorts a parsed answer: its status decides between the document and an
 * error of the API's own. */
static int judge(struct api *a, const char *target, unsigned status, int also_ok, json_object **doc,
		 char *err, size_t cap)
{
	if (status == 200 || (also_ok && status == (unsigned)also_ok))
		return USMCTL_OK;
	json_object *e = NULL;
	bool usm_error = json_object_is_type(*doc, json_type_object) &&
			 json_object_object_get_ex(*doc, "error", &e) &&
			 json_object_is_type(e, json_type_string);
	int rc = usm_error
			 ? message(USMCTL_EAPI, err, cap, "usm's API at %s answered %u for %s: %s",
				   a->where, status, target, json_object_get_string(e))
			 : message(USMCTL_ENOTUSM, err, cap,
				   "%s answered %u for %s without usm's error document: not usm's "
				   "API",
				   a->where, status, target);
	json_object_put(*doc);
	*doc = NULL;
	return rc;
}

static int exchange(struct api *a, const char *target, int also_ok, nng_http_req *req,
		    nng_http_res *res, nng_aio *aio, json_object **out, char *err, size_t cap)
{
	int64_t deadline = now_ms() + API_TIMEOUT_MS;
	nng_http_conn *conn = NULL;
	char *body = NULL;
	size_t len = 0;
	int rc = connect_to(a, aio, deadline, &conn, err, cap);
	if (rc != USMCTL_OK)
		return rc;
	nng_http_conn_write_req(conn, req, aio);
	int rv = step(aio, deadline);
	if (rv != 0) {
		rc = message(USMCTL_ENOTUSM, err, cap,
			     "%s closed the connection before the request: %s", a->where,
			     nng_strerror(rv));
		goto out;
	}
	nng_http_conn_read_res(conn, res, aio);
	rv = step(aio, deadline);
	if (rv == NNG_EPROTO || rv == NNG_EMSGSIZE)
		rc = message(USMCTL_ENOTUSM, err, cap, "%s does not answer in HTTP: not usm's API",
			     a->where);
	else if (rv == NNG_ETIMEDOUT)
		rc = message(USMCTL_ENOTUSM, err, cap,
			     "%s accepted the connection but sent no HTTP answer within %d s",
			     a->where, API_TIMEOUT_MS / 1000);
	else if (rv != 0)
		rc = message(USMCTL_ENOTUSM, err, cap, "%s sent no HTTP answer: %s", a->where,
			     nng_strerror(rv));
	if (rv != 0)
		goto out;
	if ((rc = read_body(a, conn, res, aio, deadline, &body, &len, err, cap)) != USMCTL_OK)
		goto out;
	unsigned status = nng_http_res_get_status(res);
	const char *type = nng_http_res_get_header(res, "Content-Type");
	if (!type || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] && type[16] != ';')) {
		rc = message(USMCTL_ENOTUSM, err, cap,
			     "%s answered %u for %s with Content-Type %s, not JSON: not usm's API",
			     a->where, status, target, type ? type : "(none)");
		goto out;
	}
	if ((rc = parse_json(a->where, target, body, len, out, err, cap)) == USMCTL_OK)
		rc = judge(a, target, status, also_ok, out, err, cap);
out:
	free(body);
	nng_http_conn_close(conn);
	return rc;
}

int api_get(struct api *a, const char *target, int also_ok, json_object **out, char *err,
	    size_t cap)
{
	*out = NULL;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_aio *aio = NULL;
	int rc = USMCTL_EFAIL;
	if (nng_http_req_alloc(&req, a->url) != 0 || nng_http_res_alloc(&res) != 0 ||
	    nng_aio_alloc(&aio, NULL, NULL) != 0 || nng_http_req_set_uri(req, target) != 0 ||
	    nng_http_req_set_header(req, "Accept", "application/json") != 0 ||
	    nng_http_req_set_header(req, "Connection", "close") != 0)
		message(USMCTL_EFAIL, err, cap, "out of memory");
	else
		rc = exchange(a, target, also_ok, req, res, aio, out, err, cap);
	if (aio)
		nng_aio_free(aio);
	if (res)
		nng_http_res_free(res);
	if (req)
		nng_http_req_free(req);
	return rc;
}

int api_http_stats_target(const char *path, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char base[] = "/usm/http_stats";
	size_t n = strlen(base);
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(out, base, n + 1);
	if (!path)
		return 0;
	const char *q = "?path=";
	for (const char *p = q; *p; p++) {
		if (n + 2 > cap)
			return -ENAMETOOLONG;
		out[n++] = *p;
	}
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
		if (n + (plain ? 1 : 3) + 1 > cap)
			return -ENAMETOOLONG;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}
