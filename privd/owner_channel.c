#include "owner_channel.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Room for the descriptors a message may carry, aligned as a cmsghdr. */
union owner_control {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int) * OWNER_MAX_FDS)];
};

int owner_send(int sock, const struct owner_msg *m, const int *fds, unsigned nfds)
{
	union owner_control control;
	struct iovec iov = {(void *)m, sizeof(*m)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds > OWNER_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT); /* never wait on the other */
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(*m) ? 0 : -EIO;
}

/* How many descriptors a type carries: exactly these, or the message is bad. */
static int fds_expected(const struct owner_msg *m)
{
	switch (m->type) {
	case OWNER_READY:
		return m->arg >= 0 && m->arg <= OWNER_MAX_FDS ? m->arg : -1;
	case OWNER_INSPECT:
		return 2;
	case OWNER_RESTART_COLLECTOR:
	case OWNER_HEALTH:
		return 0;
	default:
		return -1;
	}
}

int owner_recv(int sock, struct owner_msg *m, int *fds, unsigned *nfds)
{
	union owner_control control;
	struct iovec iov = {m, sizeof(*m)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			     .msg_controllen = sizeof(control.buf)};
	*nfds = 0;
	ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0)
		return -EPIPE;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg); /* one SCM_RIGHTS at most: the buffer holds no more */
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
		*nfds = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		/* CMSG_SPACE rounds up: the buffer may hold more than fds[] does */
		*nfds = *nfds > OWNER_MAX_FDS ? OWNER_MAX_FDS : *nfds;
		memcpy(fds, CMSG_DATA(c), *nfds * sizeof(int));
	}
	int want = n == (ssize_t)sizeof(*m) ? fds_expected(m) : -1;
	if (want < 0 || (unsigned)want != *nfds || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (unsigned i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		return -EBADMSG;
	}
	return 0;
}
