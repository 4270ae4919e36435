#include "api_server.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include "api_counters.h"
#include "api_response.h"
#include "request_reader.h"
#include "route_worker.h"
#include "log.h"
#include "routes.h"

#define FD_RESERVE 64 /* apid's own: the collector, the signalfd, nng's poller and pipes */

static const struct request_limits limits = {
	.request_line_max = API_REQUEST_LINE_MAX,
	.fields_max = API_FIELDS_MAX,
	.field_lines_max = API_FIELD_LINES_MAX,
	.body_max = API_BODY_MAX,
};

/* One connection. Its steps run one after another: read (rx), route (the
 * route aio, its handler on the route worker), write (tx). Whichever
 * callback ends it frees it, so a step touches c no more once it has
 * started the next, which may end the connection on another thread
 * (dispatch hands c's route aio to the worker and returns). */
struct conn {
	struct conn *prev, *next;
	nng_stream *stream;
	nng_aio *rx, *tx, *route;
	struct request_reader reader;
	size_t accounted;  /* of reader's buffers, in srv.memory */
	size_t rpos, rlen; /* rbuf[rpos, rlen) arrived and not yet read */
	bool served;       /* answered a request already */
	bool close_after;  /* close once the answer is sent */
	bool refusing;     /* only here to be told 503 */
	bool head_only;    /* the request was HEAD: the answer's head, no body */
	nng_time deadline; /* for the request being read, then for its answer's sending */
	nng_http_req *req;
	nng_http_res *res;
	char *head; /* of the answer being sent */
	size_t head_len, sent;
	char rbuf[API_RECV_BUF];
};

static struct {
	pthread_mutex_t lock;
	nng_stream_listener *listener;
	nng_aio *accept;
	bool backoff; /* accept is sleeping after an error */
	bool stopping;
	struct conn *conns;
	unsigned open, refusing, max;
	size_t memory; /* bytes of readers' buffers, past each one's allowance */
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_rx(void *arg);
static void on_tx(void *arg);
static void on_routed(void *arg);
static void process(struct conn *c);
static bool account(struct conn *c);

static void conn_close(struct conn *c)
{
	pthread_mutex_lock(&srv.lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->refusing)
		srv.refusing--;
	else
		srv.open--;
	srv.memory -= c->accounted;
	pthread_mutex_unlock(&srv.lock);
	if (!c->refusing)
		api_connections_open(-1);
	nng_stream_close(c->stream);
	nng_stream_free(c->stream);
	if (c->req)
		nng_http_req_free(c->req);
	if (c->res)
		nng_http_res_free(c->res);
	free(c->head);
	request_reader_free(&c->reader);
	/* Reaped, not freed: this runs in one of their callbacks. */
	nng_aio_reap(c->rx);
	nng_aio_reap(c->tx);
	nng_aio_reap(c->route);
	free(c);
}

static void send_rest(struct conn *c);

/* Sends res (taken over), then closes or reads the next request. */
static void send_answer(struct conn *c, nng_http_res *res)
{
	if (!res || api_response_head(res, c->close_after, &c->head, &c->head_len) != 0) {
		if (res)
			nng_http_res_free(res);
		conn_close(c);
		return;
	}
	c->res = res;
	c->sent = 0;
	/* One deadline for the whole answer: a client that takes a few bytes
	 * now and then does not hold it longer. */
	c->deadline = nng_clock() + API_SEND_TIMEOUT_MS;
	send_rest(c);
}

/* Answers an error and closes: after a refused request nothing that follows
 * on the connection can be trusted to be a request. */
static void refuse(struct conn *c, enum api_counter counter, uint16_t status, const char *message)
{
	api_counter_add(counter);
	c->close_after = true;
	send_answer(c, api_response_error(status, message));
}

static void on_tx(void *arg)
{
	struct conn *c = arg;
	if (nng_aio_result(c->tx) != 0) {
		api_counter_add(API_SEND_FAILED);
		conn_close(c);
		return;
	}
	c->sent += nng_aio_count(c->tx);
	send_rest(c);
}

/* The answer's next bytes, or what follows it once all were sent. */
static void send_rest(struct conn *c)
{
	void *data;
	size_t size;
	nng_http_res_get_data(c->res, &data, &size);
	if (c->head_only)
		size = 0; /* RFC 9110 9.3.2; Content-Length still says the GET's */
	if (c->sent < c->head_len + size) {
		nng_iov iov[2];
		unsigned n = 0;
		if (c->sent < c->head_len)
			iov[n++] = (nng_iov){c->head + c->sent, c->head_len - c->sent};
		size_t body_off = c->sent > c->head_len ? c->sent - c->head_len : 0;
		if (size > body_off)
			iov[n++] = (nng_iov){(char *)data + body_off, size - body_off};
		nng_time now = nng_clock();
		nng_aio_set_iov(c->tx, n, iov);
		nng_aio_set_timeout(c->tx, c->deadline > now ? (nng_duration)(c->deadline - now)
							     : NNG_DURATION_ZERO);
		nng_stream_send(c->stream, c->tx);
		return;
	}
	free(c->head);
	c->head = NULL;
	nng_http_res_free(c->res);
	c->res = NULL;
	if (c->close_after) {
		conn_close(c);
		return;
	}
	/* Kept alive: what followed the request in rbuf is the next one's
	 * start. */
	request_reader_next(&c->reader);
	account(c);
	c->served = true;
	c->head_only = false;
	c->deadline = nng_clock() + API_HEAD_TIMEOUT_MS;
	process(c);
}

static void recv_more(struct conn *c)
{
	nng_time now = nng_clock();
	nng_duration left = c->deadline > now ? (nng_duration)(c->deadline - now) : 0;
	nng_iov iov = {c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen};
	nng_aio_set_iov(c->rx, 1, &iov);
	/* A zero timeout fails at once with NNG_ETIMEDOUT: the deadline
	 * passed while the bytes trickled in. */
	nng_aio_set_timeout(c->rx, left > 0 ? left : NNG_DURATION_ZERO);
	nng_stream_recv(c->stream, c->rx);
}

/* Brings srv.memory up to date with what c's reader holds now beyond
 * API_REQUEST_MEMORY_FREE, which every connection may hold without
 * counting: so clients holding the budget with long requests cannot get
 * ordinary ones refused. False if all readers together hold more than
 * API_REQUEST_MEMORY_MAX beyond that. */
static bool account(struct conn *c)
{
	size_t held = request_reader_memory(&c->reader);
	size_t now = held > API_REQUEST_MEMORY_FREE ? held - API_REQUEST_MEMORY_FREE : 0;
	pthread_mutex_lock(&srv.lock);
	srv.memory = srv.memory - c->accounted + now;
	bool ok = srv.memory <= API_REQUEST_MEMORY_MAX;
	pthread_mutex_unlock(&srv.lock);
	c->accounted = now;
	return ok;
}

static void on_rx(void *arg)
{
	struct conn *c = arg;
	int rv = nng_aio_result(c->rx);
	if (rv == NNG_ETIMEDOUT && c->served && !c->reader.begun) {
		api_counter_add(API_IDLE_CLOSED);
		conn_close(c);
	} else if (rv == NNG_ETIMEDOUT) {
		refuse(c, API_HEAD_TIMEOUT, 408, "the request was not complete in time");
	} else if (rv != 0) {
		conn_close(c);
	} else {
		c->rlen += nng_aio_count(c->rx);
		process(c);
	}
}

/* Hands the complete request to its route, on the route worker. */
static void dispatch(struct conn *c)
{
	struct request_reader *r = &c->reader;
	/* HTTP/1.0 is answered and closed: a 1.0 client that asked to keep
	 * the connection would need Connection: keep-alive in the answer. */
	c->close_after = !r->keep_alive || request_reader_minor(r) == 0;
	c->head_only = strcmp(request_reader_method(r), "HEAD") == 0;
	if (nng_http_req_alloc(&c->req, NULL) != 0 ||
	    nng_http_req_set_method(c->req, request_reader_method(r)) != 0 ||
	    nng_http_req_set_uri(c->req, r->target) != 0 ||
	    nng_http_req_set_version(c->req, request_reader_minor(r) ? "HTTP/1.1" : "HTTP/1.0") != 0 ||
	    (r->body_len > 0 && nng_http_req_copy_data(c->req, r->body, r->body_len) != 0)) {
		refuse(c, API_REFUSED_MEMORY, 503, "out of memory");
		return;
	}
	route_handler handler = routes_find(r->target);
	nng_aio_set_input(c->route, 0, c->req);
	nng_aio_set_output(c->route, 0, NULL);
	/* The route finishes the aio itself, as nng's server had it do. */
	if (!nng_aio_begin(c->route)) {
		conn_close(c);
		return;
	}
	if (handler && !route_worker_submit(handler, c->route)) {
		nng_aio_finish(c->route, NNG_EBUSY); /* on_routed answers 503 */
		return;
	}
	api_counter_add(API_REQUESTS);
	if (!handler)
		nng_aio_finish(c->route, NNG_ENOENT);
}

static void on_routed(void *arg)
{
	struct conn *c = arg;
	int rv = nng_aio_result(c->route);
	nng_http_res *res = rv == 0 ? nng_aio_get_output(c->route, 0) : NULL;
	nng_http_req_free(c->req);
	c->req = NULL;
	if (rv == NNG_EBUSY) {
		refuse(c, API_ROUTES_BUSY, 503, "the API is busy");
		return;
	}
	send_answer(c, res ? res : api_response_error(500, "the route failed"));
}

/* The answer to each verdict of the reader's that refuses, and its
 * counter; REQUEST_BAD's row answers whatever is not listed. */
static const struct {
	enum request_verdict verdict;
	enum api_counter counter;
	uint16_t status;
	const char *message;
} refusals[] = {
	{REQUEST_URI_TOO_LONG, API_URI_TOO_LONG, 414, "the request target is too long"},
	{REQUEST_FIELDS_TOO_LARGE, API_HEADERS_TOO_LARGE, 431, "the header section is too large"},
	{REQUEST_BODY_TOO_LARGE, API_BODY_TOO_LARGE, 413, "the body is too large"},
	{REQUEST_NOT_IMPLEMENTED, API_NOT_IMPLEMENTED, 501, "method or transfer coding not implemented"},
	{REQUEST_VERSION, API_VERSION_NOT_SUPPORTED, 505, "only HTTP/1.0 and HTTP/1.1 are served"},
	{REQUEST_NO_MEMORY, API_REFUSED_MEMORY, 503, "out of memory"},
	{REQUEST_BAD, API_BAD_REQUEST, 400, "malformed request"},
};

static void refuse_request(struct conn *c, enum request_verdict v)
{
	size_t i = 0, last = sizeof(refusals) / sizeof(refusals[0]) - 1;
	while (i < last && refusals[i].verdict != v)
		i++;
	refuse(c, refusals[i].counter, refusals[i].status, refusals[i].message);
}

/* Reads what arrived: refuse, route a complete request, or read more. */
static void process(struct conn *c)
{
	while (c->rpos < c->rlen) {
		size_t used;
		enum request_verdict v =
			request_reader_feed(&c->reader, c->rbuf + c->rpos, c->rlen - c->rpos, &used);
		c->rpos += used;
		if (!account(c)) {
			refuse(c, API_REFUSED_MEMORY, 503, "too many requests being read");
			return;
		}
		if (v == REQUEST_COMPLETE) {
			dispatch(c);
			return;
		}
		if (v != REQUEST_MORE) {
			refuse_request(c, v);
			return;
		}
	}
	c->rpos = c->rlen = 0;
	recv_more(c);
}

static struct conn *conn_new(nng_stream *s, bool refusing)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->stream = s;
	c->refusing = refusing;
	request_reader_init(&c->reader, &limits);
	if (nng_aio_alloc(&c->rx, on_rx, c) != 0 || nng_aio_alloc(&c->tx, on_tx, c) != 0 ||
	    nng_aio_alloc(&c->route, on_routed, c) != 0) {
		nng_aio_free(c->rx);
		nng_aio_free(c->tx);
		free(c);
		return NULL;
	}
	c->deadline = nng_clock() + API_HEAD_TIMEOUT_MS;
	return c;
}

/* Takes the new stream s in: serve it, refuse it with 503, or close it. */
static void admit(nng_stream *s)
{
	pthread_mutex_lock(&srv.lock);
	bool serve = !srv.stopping && srv.open < srv.max;
	bool answer = !srv.stopping && !serve && srv.refusing < API_REFUSING_MAX;
	struct conn *c = serve || answer ? conn_new(s, !serve) : NULL;
	if (c) {
		c->next = srv.conns;
		if (srv.conns)
			srv.conns->prev = c;
		srv.conns = c;
		if (serve)
			srv.open++;
		else
			srv.refusing++;
	}
	pthread_mutex_unlock(&srv.lock);
	api_counter_add(API_CONNECTIONS_ACCEPTED);
	if (!c) {
		api_counter_add(serve ? API_REFUSED_MEMORY : API_REFUSED_UNANSWERED);
		nng_stream_close(s);
		nng_stream_free(s);
	} else if (serve) {
		api_connections_open(1);
		recv_more(c);
	} else {
		refuse(c, API_REFUSED_BUSY, 503, "too many connections");
	}
}

static void on_accept(void *arg)
{
	(void)arg;
	int rv = nng_aio_result(srv.accept);
	if (srv.backoff) {
		srv.backoff = false;
	} else if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
		return;
	} else if (rv != 0) {
		/* Out of descriptors or memory: try again in a moment rather
		 * than spin. */
		log_warn("API accept: %s", nng_strerror(rv));
		srv.backoff = true;
		nng_sleep_aio(100, srv.accept);
		return;
	} else {
		admit(nng_aio_get_output(srv.accept, 0));
	}
	nng_stream_listener_accept(srv.listener, srv.accept);
}

unsigned api_server_fit_fds(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + API_REFUSING_MAX + FD_RESERVE;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return want;
	if (rl.rlim_cur < need) {
		rl.rlim_cur = need < rl.rlim_max ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur >= need)
		return want;
	rlim_t fit = rl.rlim_cur > API_REFUSING_MAX + FD_RESERVE + 16
			     ? rl.rlim_cur - API_REFUSING_MAX - FD_RESERVE
			     : 16;
	log_warn("RLIMIT_NOFILE %llu fits %llu API connections, not %u: raise the hard limit of "
		 "usm-privd (LimitNOFILE) for more", (unsigned long long)rl.rlim_cur,
		 (unsigned long long)fit, want);
	return (unsigned)fit;
}

int api_server_start(const char *listen, unsigned max_connections)
{
	char url[128];
	snprintf(url, sizeof(url), "tcp://%s", listen);
	srv.max = max_connections;
	request_reader_setup(&limits);
	int rv = nng_stream_listener_alloc(&srv.listener, url);
	if (rv == 0)
		rv = nng_stream_listener_listen(srv.listener);
	if (rv == 0)
		rv = nng_aio_alloc(&srv.accept, on_accept, NULL);
	if (rv != 0) {
		log_error("cannot listen on %s: %s", listen, nng_strerror(rv));
		return rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
	}
	int rc = route_worker_start();
	if (rc != 0) {
		log_error("cannot start the route worker: %s", strerror(-rc));
		return rc;
	}
	nng_stream_listener_accept(srv.listener, srv.accept);
	return 0;
}

void api_server_stop(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.stopping = true;
	for (struct conn *c = srv.conns; c; c = c->next)
		nng_stream_close(c->stream);
	pthread_mutex_unlock(&srv.lock);
	nng_stream_listener_close(srv.listener);
	nng_aio_stop(srv.accept);
	/* A route waiting for the collector ends within ipc_timeout_ms; after
	 * this no route runs, so the caller may close the collector's
	 * client. */
	route_worker_stop();
	/* The connections end in their callbacks, on nng's threads, once
	 * their closed streams fail them. */
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&srv.lock);
		bool empty = srv.conns == NULL;
		pthread_mutex_unlock(&srv.lock);
		if (empty)
			break;
		nng_msleep(10);
	}
}
