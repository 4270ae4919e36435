/* ipc_probe: the end-to-end tests' IPC peer. Connects to a usm socket like
 * the real peer would, sends one message (valid, or corrupted on purpose),
 * then a valid request on the same connection, and prints what came back:
 *
 *   ipc_probe PATH REQUEST_TYPE [CORRUPTION]
 *   CORRUPTION: none magic version truncated oversized unknown-type length
 *   ipc_probe PATH attach PID PROGRAM_TYPE SET_ID FILE
 *     one ATTACH request as the collector would send it; prints
 *     "attach ERROR CREATED DEV INODE REASON" or "error CODE MESSAGE"
 *   ipc_probe PATH flood
 *     HEALTH requests back to back until killed, answers read and dropped
 *
 * Output, one line per message sent: "reply TYPE", "error CODE MESSAGE",
 * or "no-answer" (connection refused by the peer check, or timeout). */
#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_codec.h"

static nng_socket sock;
static unsigned char buf[3 * USM_IPC_MAX_MSG];

static void exchange(const void *data, size_t len)
{
	nng_msg *msg;
	if (nng_msg_alloc(&msg, 0) != 0 || nng_msg_append(msg, data, len) != 0)
		exit(3);
	if (nng_sendmsg(sock, msg, 0) != 0) {
		nng_msg_free(msg);
		puts("no-answer");
		return;
	}
	if (nng_recvmsg(sock, &msg, 0) != 0) {
		puts("no-answer");
		return;
	}
	static unsigned char rbuf[USM_IPC_MAX_MSG] __attribute__((aligned(16)));
	size_t rlen = nng_msg_len(msg);
	struct usm_msg_view view;
	if (rlen > sizeof(rbuf)) {
		puts("bad-reply oversized");
	} else {
		memcpy(rbuf, nng_msg_body(msg), rlen);
		enum usm_decode_error e = usm_msg_decode(rbuf, rlen, &view);
		if (e != USM_DECODE_OK) {
			printf("bad-reply %s\n", usm_decode_error_name(e));
		} else if (view.type == USM_MSG_PRIVD_ATTACH_REP) {
			const struct usm_attach_rep *r = view.payload;
			printf("attach %d %u %llu %llu %s\n", r->error, r->created,
			       (unsigned long long)r->dev, (unsigned long long)r->ino,
			       r->reason[0] ? r->reason : "-");
		} else if (view.type == USM_MSG_ERROR) {
			const struct usm_msg_error *err = view.payload;
			printf("error %d %s\n", err->code, err->message);
		} else {
			printf("reply %s\n", usm_msg_type_name(view.type));
		}
	}
	nng_msg_free(msg);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ipc_probe PATH REQUEST_TYPE [CORRUPTION]\n");
		return 2;
	}
	char url[300];
	snprintf(url, sizeof(url), "ipc://%s", argv[1]);
	uint16_t type = (uint16_t)strtoul(argv[2], NULL, 0);
	const char *corruption = argc > 3 ? argv[3] : "none";

	if (nng_req0_open(&sock) != 0 ||
	    nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 2000) != 0 ||
	    nng_socket_set_ms(sock, NNG_OPT_SENDTIMEO, 2000) != 0 ||
	    nng_socket_set_ms(sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE) != 0 ||
	    nng_socket_set_size(sock, NNG_OPT_RECVMAXSZ, sizeof(buf)) != 0)
		return 3;
	int rv = nng_dial(sock, url, NULL, 0);
	if (rv != 0) {
		printf("dial-failed %s\n", nng_strerror(rv));
		return 0;
	}

	if (strcmp(argv[2], "flood") == 0) {
		long n = usm_msg_encode(USM_MSG_PRIVD_HEALTH_REQ, NULL, 0, buf, sizeof(buf));
		for (;;) {
			nng_msg *msg;
			if (nng_msg_alloc(&msg, 0) != 0 || nng_msg_append(msg, buf, (size_t)n) != 0)
				return 3;
			if (nng_sendmsg(sock, msg, 0) != 0) {
				nng_msg_free(msg);
				return 0;
			}
			if (nng_recvmsg(sock, &msg, 0) != 0)
				return 0;
			nng_msg_free(msg);
		}
	}
	if (strcmp(argv[2], "attach") == 0) {
		if (argc != 7) {
			fprintf(stderr, "usage: ipc_probe PATH attach PID PROGRAM_TYPE SET_ID FILE\n");
			return 2;
		}
		struct usm_attach_req req;
		memset(&req, 0, sizeof(req));
		req.pid = (uint32_t)strtoul(argv[3], NULL, 0);
		req.program_type = (uint8_t)strtoul(argv[4], NULL, 0);
		req.set_id = (uint8_t)strtoul(argv[5], NULL, 0);
		snprintf(req.path, sizeof(req.path), "%s", argv[6]);
		long n = usm_msg_encode(USM_MSG_PRIVD_ATTACH_REQ, &req, sizeof(req), buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "ipc_probe: the codec refuses this ATTACH\n");
			return 2;
		}
		exchange(buf, (size_t)n);
		nng_close(sock);
		return 0;
	}

	/* A valid request with an empty payload or an 8-byte page cursor. */
	size_t plen = usm_msg_payload_size(type, 0);
	unsigned char payload[64] = {0};
	long n = usm_msg_encode(type, payload, plen, buf, sizeof(buf));
	if (n < 0) {
		fprintf(stderr, "ipc_probe: %u is not a request type\n", type);
		return 2;
	}
	size_t len = (size_t)n;
	struct usm_msg_hdr *hdr = (struct usm_msg_hdr *)buf;
	if (strcmp(corruption, "magic") == 0) {
		hdr->magic ^= 0xffu;
	} else if (strcmp(corruption, "version") == 0) {
		hdr->version++;
	} else if (strcmp(corruption, "truncated") == 0) {
		len = sizeof(*hdr) - 4;
	} else if (strcmp(corruption, "oversized") == 0) {
		len = USM_IPC_MAX_MSG + 100;
		memset(buf + n, 0, len - (size_t)n);
		hdr->length = (uint32_t)(len - sizeof(*hdr));
	} else if (strcmp(corruption, "unknown-type") == 0) {
		hdr->type = 999;
	} else if (strcmp(corruption, "length") == 0) {
		hdr->length += 4;
		len += 4;
	} else if (strcmp(corruption, "none") != 0) {
		fprintf(stderr, "ipc_probe: unknown corruption %s\n", corruption);
		return 2;
	}
	exchange(buf, len);
	if (strcmp(corruption, "none") != 0) {
		/* The same connection must still be served. */
		n = usm_msg_encode(type, payload, plen, buf, sizeof(buf));
		exchange(buf, (size_t)n);
	}
	nng_close(sock);
	return 0;
}
