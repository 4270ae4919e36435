/* nng sockets for usm's IPC: a checked request server and a client.
 *
 * Server (rep0): listens on ipc://PATH with NNG_OPT_RECVMAXSZ set, refuses
 * before any message every peer whose uid (NNG_OPT_IPC_PEER_UID) is not the
 * one allowed, decodes each request with usm_msg_decode(), dispatches it
 * through a route table, and always answers: the handler's reply, or
 * USM_MSG_ERROR for a message that failed decoding or has no route (counted
 * by reason; the connection is kept). A server is served by one thread.
 *
 * Client (req0): dials in the background (nng reconnects by itself), never
 * resends a request (resend time infinite: requests such as attach are not
 * safe to repeat), and checks the reply's type against the one expected. */
#ifndef USM_IPC_SOCKET_H
#define USM_IPC_SOCKET_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_codec.h"

struct usm_ipc_reply {
	uint16_t type;
	uint32_t length;
	alignas(max_align_t) unsigned char payload[USM_IPC_MAX_PAYLOAD];
};

/* A handler fills rep (type, length, payload) and returns 0, or returns a
 * negative errno after usm_ipc_reply_error() to answer USM_MSG_ERROR. */
typedef int (*usm_ipc_handler_fn)(void *ctx, const struct usm_msg_view *req,
				  struct usm_ipc_reply *rep);

/* One request a server takes. Beyond the type and handler, a row may
 * state (0: not stated) the reply type a success must carry, the payload
 * bounds (checked again after the codec's own, so the table a reviewer
 * reads is the one enforced), and the server states in which the request
 * is allowed (a bit per state; 0: always). */
struct usm_ipc_route {
	uint16_t request;  /* message type accepted */
	usm_ipc_handler_fn handler;
	uint16_t reply;    /* a successful answer's type */
	uint32_t min_len, max_len; /* payload bytes, checked when reply is stated */
	uint32_t allowed_states;   /* bits of usm_ipc_server.state */
};

struct usm_ipc_server {
	nng_socket sock;
	uid_t allowed_uid;
	const char *name; /* for logs: "privd", "collector" */
	atomic_uint_fast64_t rejected_peers;
	uint64_t requests;
	uint64_t bad_messages; /* sum of the two below */
	uint64_t decode_errors[USM_DECODE_ERROR_COUNT];
	uint64_t unroutable;   /* valid message, but not a request this server takes */
	uint64_t out_of_state; /* a request not allowed in the server's state */
	uint64_t unsent;       /* replies dropped: the peer did not read them (a violation) */
	uint32_t state;        /* one bit: the state routes' allowed_states are tested against */
	/* Called after answering a message that broke the protocol (failed
	 * decoding, no route, wrong state or length, its reply left unread
	 * by the peer), or NULL. */
	void (*on_violation)(void *ctx, const char *what);
};

/* Listens on ipc://path; the socket file gets mode `perms`. */
int usm_ipc_server_listen(struct usm_ipc_server *srv, const char *name, const char *path,
			  uid_t allowed_uid, mode_t perms);

/* A file descriptor that polls readable when a request is waiting. */
int usm_ipc_server_pollfd(struct usm_ipc_server *srv, int *fd);

/* Handles the requests already waiting, at most max_batch (0: no bound),
 * without blocking, so that a busy peer cannot starve the caller's other
 * work. Returns the number handled or a negative errno for a socket
 * failure. */
int usm_ipc_server_serve(struct usm_ipc_server *srv, const struct usm_ipc_route *routes,
			 size_t nroutes, void *ctx, unsigned max_batch);

void usm_ipc_server_close(struct usm_ipc_server *srv);

void usm_ipc_reply_error(struct usm_ipc_reply *rep, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sets a fixed-size reply payload. */
void usm_ipc_reply_set(struct usm_ipc_reply *rep, uint16_t type, const void *payload,
		       size_t length);

/* A client may be shared by threads: calls are serialized on its lock. */
struct usm_ipc_client {
	nng_socket sock;
	int timeout_ms;
	pthread_mutex_t lock;
	alignas(max_align_t) unsigned char buf[USM_IPC_MAX_MSG];
};

int usm_ipc_client_dial(struct usm_ipc_client *cl, const char *path, int timeout_ms);

/* One round trip. On success rep holds a decoded reply of type rep_type
 * and 0 is returned. An USM_MSG_ERROR answer returns its (negative) code
 * with rep holding the error; -ETIMEDOUT, -ECONNREFUSED etc. for transport
 * failures; -EBADMSG for a reply that fails decoding or has another type. */
int usm_ipc_call(struct usm_ipc_client *cl, uint16_t req_type, const void *req, size_t req_len,
		 uint16_t rep_type, struct usm_ipc_reply *rep);

void usm_ipc_client_close(struct usm_ipc_client *cl);

/* Builds "ipc://" + path into url (capacity cap); -ENAMETOOLONG if it
 * does not fit or path is longer than a Unix socket address allows. */
int usm_ipc_url(char *url, size_t cap, const char *path);

#endif
