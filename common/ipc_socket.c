#include "ipc_socket.h"

#include <errno.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/transport/ipc/ipc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "log.h"

/* How long a server waits for a peer to take its reply. A peer that sends
 * requests one at a time and reads each answer never waits at all. */
#define SERVER_SEND_TIMEOUT_MS 200

/* nng error codes are not errnos; map the ones callers act on. */
static int nng_to_errno(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ETIMEDOUT:
		return -ETIMEDOUT;
	case NNG_ECONNREFUSED:
		return -ECONNREFUSED;
	case NNG_ENOMEM:
		return -ENOMEM;
	case NNG_EAGAIN:
		return -EAGAIN;
	case NNG_ECLOSED:
		return -EBADF;
	case NNG_EPERM:
		return -EPERM;
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_EMSGSIZE:
		return -EMSGSIZE;
	case NNG_ESTATE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

int usm_ipc_url(char *url, size_t cap, const char *path)
{
	struct sockaddr_un sun;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	int n = snprintf(url, cap, "ipc://%s", path);
	return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

/* Runs on nng's thread before a new pipe can deliver anything. */
static void check_peer(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct usm_ipc_server *srv = arg;
	uint64_t uid = UINT64_MAX;
	(void)ev;
	int rv = nng_pipe_get_uint64(pipe, NNG_OPT_IPC_PEER_UID, &uid);
	if (rv == 0 && uid == (uint64_t)srv->allowed_uid)
		return;
	atomic_fetch_add(&srv->rejected_peers, 1);
	if (rv != 0)
		log_warn("%s: refused a connection whose peer uid is unknown (%s)", srv->name,
			 nng_strerror(rv));
	else
		log_warn("%s: refused a connection from uid %llu (only uid %u may connect)",
			 srv->name, (unsigned long long)uid, (unsigned)srv->allowed_uid);
	nng_pipe_close(pipe);
}

int usm_ipc_server_listen(struct usm_ipc_server *srv, const char *name, const char *path,
			  uid_t allowed_uid, mode_t perms)
{
	char url[128];
	nng_listener listener;
	int rv, err = usm_ipc_url(url, sizeof(url), path);
	if (err)
		return err;
	memset(srv, 0, sizeof(*srv));
	srv->name = name;
	srv->allowed_uid = allowed_uid;
	atomic_init(&srv->rejected_peers, 0);
	if ((rv = nng_rep0_open(&srv->sock)) != 0)
		return nng_to_errno(rv);
	/* nng drops the connection of a peer that sends more than RECVMAXSZ;
	 * twice our limit lets the codec see, count and answer a message that
	 * is merely too long, and keeps the connection. */
	if ((rv = nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ, 2 * USM_IPC_MAX_MSG)) != 0 ||
	    (rv = nng_socket_set_ms(srv->sock, NNG_OPT_SENDTIMEO, SERVER_SEND_TIMEOUT_MS)) != 0 ||
	    (rv = nng_pipe_notify(srv->sock, NNG_PIPE_EV_ADD_PRE, check_peer, srv)) != 0 ||
	    (rv = nng_listener_create(&listener, srv->sock, url)) != 0 ||
	    (rv = nng_listener_set_int(listener, NNG_OPT_IPC_PERMISSIONS, (int)perms)) != 0 ||
	    (rv = nng_listener_start(listener, 0)) != 0) {
		log_error("%s: cannot listen on %s: %s", name, url, nng_strerror(rv));
		nng_close(srv->sock);
		return nng_to_errno(rv);
	}
	return 0;
}

int usm_ipc_server_pollfd(struct usm_ipc_server *srv, int *fd)
{
	return nng_to_errno(nng_socket_get_int(srv->sock, NNG_OPT_RECVFD, fd));
}

void usm_ipc_reply_error(struct usm_ipc_reply *rep, int code, const char *fmt, ...)
{
	struct usm_msg_error e = {.code = code < 0 ? code : -EINVAL};
	char text[sizeof(e.message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	usm_copy_printable(e.message, sizeof(e.message), text);
	usm_ipc_reply_set(rep, USM_MSG_ERROR, &e, sizeof(e));
}

void usm_ipc_reply_set(struct usm_ipc_reply *rep, uint16_t type, const void *payload,
		       size_t length)
{
	rep->type = type;
	rep->length = (uint32_t)length;
	if (payload != rep->payload && length)
		memcpy(rep->payload, payload, length);
}

static const struct usm_ipc_route *find_route(const struct usm_ipc_route *routes, size_t n,
					      uint16_t type)
{
	for (size_t i = 0; i < n; i++)
		if (routes[i].request == type)
			return &routes[i];
	return NULL;
}

/* Large buffers, static rather than on the stack; a server is served by
 * one thread at a time (see the header). */
static struct usm_ipc_reply reply_buf;
static alignas(max_align_t) unsigned char msg_buf[USM_IPC_MAX_MSG];
/* Shared by server and client code paths only in separate processes. */

static void handle_one(struct usm_ipc_server *srv, nng_msg *msg, const struct usm_ipc_route *routes,
		       size_t nroutes, void *ctx)
{
	struct usm_ipc_reply *rep = &reply_buf;
	size_t len = nng_msg_len(msg);
	struct usm_msg_view view;
	enum usm_decode_error derr = USM_DECODE_OVERSIZED;

	if (len <= sizeof(msg_buf)) {
		memcpy(msg_buf, nng_msg_body(msg), len);
		derr = usm_msg_decode(msg_buf, len, &view);
	}
	const char *violation = NULL;
	if (derr != USM_DECODE_OK) {
		srv->bad_messages++;
		srv->decode_errors[derr]++;
		violation = usm_decode_error_name(derr);
		log_warn("%s: rejected a %zu-byte request: %s", srv->name, len, violation);
		usm_ipc_reply_error(rep, -EBADMSG, "rejected: %s", violation);
	} else {
		const struct usm_ipc_route *route = find_route(routes, nroutes, view.type);
		if (!route) {
			srv->bad_messages++;
			srv->unroutable++;
			violation = "not a request this peer serves";
			log_warn("%s: rejected a %s message: %s", srv->name,
				 usm_msg_type_name(view.type), violation);
			usm_ipc_reply_error(rep, -EOPNOTSUPP, "%s is not a request this peer serves",
					    usm_msg_type_name(view.type));
		} else if (route->reply &&
			   (view.length < route->min_len || view.length > route->max_len)) {
			srv->bad_messages++;
			srv->decode_errors[USM_DECODE_BAD_LENGTH]++;
			violation = "payload size outside the route's bounds";
			log_warn("%s: rejected a %s: %s", srv->name, usm_msg_type_name(view.type),
				 violation);
			usm_ipc_reply_error(rep, -EBADMSG, "rejected: %s", violation);
		} else if (route->allowed_states && !(route->allowed_states & srv->state)) {
			srv->bad_messages++;
			srv->out_of_state++;
			violation = "not allowed in this state";
			log_warn("%s: rejected a %s: %s", srv->name, usm_msg_type_name(view.type),
				 violation);
			usm_ipc_reply_error(rep, -EPROTO, "%s is %s", usm_msg_type_name(view.type),
					    violation);
		} else {
			srv->requests++;
			int rc = route->handler(ctx, &view, rep);
			if (rc < 0 && rep->type != USM_MSG_ERROR)
				usm_ipc_reply_error(rep, rc, "%s failed: %s",
						    usm_msg_type_name(view.type), strerror(-rc));
			else if (rc == 0 && route->reply && rep->type != route->reply) {
				log_error("%s: internal: %s answered with %s", srv->name,
					  usm_msg_type_name(view.type), usm_msg_type_name(rep->type));
				usm_ipc_reply_error(rep, -EPROTO, "internal error");
			}
		}
	}

	long n = usm_msg_encode(rep->type, rep->payload, rep->length, msg_buf, sizeof(msg_buf));
	if (n < 0) {
		/* Our own reply failed our own checks: a bug, answered as one. */
		log_error("%s: internal: reply %s does not encode (%ld)", srv->name,
			  usm_msg_type_name(rep->type), n);
		usm_ipc_reply_error(rep, -EPROTO, "internal error");
		n = usm_msg_encode(rep->type, rep->payload, rep->length, msg_buf, sizeof(msg_buf));
	}
	nng_msg_clear(msg);
	int rv = nng_msg_append(msg, msg_buf, (size_t)n);
	/* Wait for a peer to read at most SERVER_SEND_TIMEOUT_MS (set on the
	 * socket): one that stops reading must not stop this server's loop
	 * (and its signals) with it. */
	if (rv == 0)
		rv = nng_sendmsg(srv->sock, msg, 0);
	if (rv != 0) {
		log_warn("%s: could not send a reply: %s", srv->name, nng_strerror(rv));
		nng_msg_free(msg);
		srv->unsent++;
		if (!violation)
			violation = "it does not read its replies";
	}
	/* After the answer, so the peer hears why before any consequence. */
	if (violation && srv->on_violation)
		srv->on_violation(ctx, violation);
}

int usm_ipc_server_serve(struct usm_ipc_server *srv, const struct usm_ipc_route *routes,
			 size_t nroutes, void *ctx, unsigned max_batch)
{
	int handled = 0;
	while (max_batch == 0 || (unsigned)handled < max_batch) {
		nng_msg *msg;
		int rv = nng_recvmsg(srv->sock, &msg, NNG_FLAG_NONBLOCK);
		if (rv == NNG_EAGAIN)
			return handled;
		if (rv != 0)
			return nng_to_errno(rv);
		handle_one(srv, msg, routes, nroutes, ctx);
		handled++;
	}
	return handled;
}

void usm_ipc_server_close(struct usm_ipc_server *srv) { nng_close(srv->sock); }

int usm_ipc_client_dial(struct usm_ipc_client *cl, const char *path, int timeout_ms)
{
	char url[128];
	int rv, err = usm_ipc_url(url, sizeof(url), path);
	if (err)
		return err;
	cl->timeout_ms = timeout_ms;
	pthread_mutex_init(&cl->lock, NULL);
	if ((rv = nng_req0_open(&cl->sock)) != 0)
		return nng_to_errno(rv);
	if ((rv = nng_socket_set_size(cl->sock, NNG_OPT_RECVMAXSZ, USM_IPC_MAX_MSG)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_SENDTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECVTIMEO, timeout_ms)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMINT, 20)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMAXT, 500)) != 0 ||
	    /* Nonblocking dial: connect in the background and keep retrying,
	     * so a peer that restarts is found again without our help. */
	    (rv = nng_dial(cl->sock, url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
		nng_close(cl->sock);
		return nng_to_errno(rv);
	}
	return 0;
}

static int call_locked(struct usm_ipc_client *cl, uint16_t req_type, const void *req,
		       size_t req_len, uint16_t rep_type, struct usm_ipc_reply *rep);

int usm_ipc_call(struct usm_ipc_client *cl, uint16_t req_type, const void *req, size_t req_len,
		 uint16_t rep_type, struct usm_ipc_reply *rep)
{
	pthread_mutex_lock(&cl->lock);
	int rc = call_locked(cl, req_type, req, req_len, rep_type, rep);
	pthread_mutex_unlock(&cl->lock);
	return rc;
}

static int call_locked(struct usm_ipc_client *cl, uint16_t req_type, const void *req,
		       size_t req_len, uint16_t rep_type, struct usm_ipc_reply *rep)
{
	unsigned char *buf = cl->buf;
	long n = usm_msg_encode(req_type, req, req_len, buf, sizeof(cl->buf));
	if (n < 0)
		return (int)n;
	nng_msg *msg;
	int rv = nng_msg_alloc(&msg, 0);
	if (rv == 0 && (rv = nng_msg_append(msg, buf, (size_t)n)) != 0)
		nng_msg_free(msg);
	if (rv == 0 && (rv = nng_sendmsg(cl->sock, msg, 0)) != 0)
		nng_msg_free(msg);
	if (rv == 0)
		rv = nng_recvmsg(cl->sock, &msg, 0);
	if (rv != 0)
		return nng_to_errno(rv);

	size_t len = nng_msg_len(msg);
	struct usm_msg_view view;
	enum usm_decode_error derr = USM_DECODE_OVERSIZED;
	if (len <= sizeof(cl->buf)) {
		memcpy(buf, nng_msg_body(msg), len);
		derr = usm_msg_decode(buf, len, &view);
	}
	nng_msg_free(msg);
	if (derr != USM_DECODE_OK) {
		log_warn("rejected a %zu-byte reply to %s: %s", len, usm_msg_type_name(req_type),
			 usm_decode_error_name(derr));
		return -EBADMSG;
	}
	if (view.type != rep_type && view.type != USM_MSG_ERROR) {
		log_warn("reply to %s has type %s, expected %s", usm_msg_type_name(req_type),
			 usm_msg_type_name(view.type), usm_msg_type_name(rep_type));
		return -EBADMSG;
	}
	usm_ipc_reply_set(rep, view.type, view.payload, view.length);
	if (view.type == USM_MSG_ERROR) {
		const struct usm_msg_error *e = (const void *)rep->payload;
		return e->code < 0 ? e->code : -EIO;
	}
	return 0;
}

void usm_ipc_client_close(struct usm_ipc_client *cl)
{
	nng_close(cl->sock);
	pthread_mutex_destroy(&cl->lock);
}
