/* Clear-text HTTP at a chosen rate from one thread, for driving usm's
 * kernel side harder than a real server and load generator can on a small
 * machine: both ends of each keep-alive connection live in this process,
 * so an exchange costs four system calls (client write, server read,
 * server write, client read) and nothing else, and every one of them is a
 * capture record.
 *
 * usage: syscall-flood SECONDS RATE CONNECTIONS PATH
 *   RATE         exchanges per second; 0 runs as fast as the CPU allows
 *   CONNECTIONS  keep-alive connections, used round-robin (1-1024)
 *   PATH         the request path, so the driver can find its row in
 *                /usm/http_stats
 * Prints one JSON object: exchanges, seconds, exchanges_per_s, pid.
 *
 * Sockets are blocking: on loopback a write has queued its bytes at the
 * peer by the time it returns, so each read finds a whole message. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 1024
#define PACE_EVERY 32 /* exchanges between clock reads when paced */

struct pair {
	int client, server;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A whole argument as a number, or NaN: "10x" and "" are refused. */
static double number(const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	return (errno || end == arg || *end) ? NAN : v;
}

static int fail(const char *what)
{
	fprintf(stderr, "syscall-flood: %s: %s\n", what, strerror(errno));
	return 1;
}

/* Reads exactly n bytes (a whole message the peer has just written). */
static int read_all(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int open_pairs(struct pair *pairs, unsigned n)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	int one = 1;
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) < 0 ||
	    listen(listener, (int)n) < 0 || getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
		return fail("listen on 127.0.0.1");
	for (unsigned i = 0; i < n; i++) {
		pairs[i].client = socket(AF_INET, SOCK_STREAM, 0);
		if (pairs[i].client < 0 ||
		    connect(pairs[i].client, (struct sockaddr *)&addr, sizeof(addr)) < 0)
			return fail("connect");
		pairs[i].server = accept(listener, NULL, NULL);
		if (pairs[i].server < 0)
			return fail("accept");
		/* Small messages one after another: do not let Nagle hold them. */
		setsockopt(pairs[i].client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(pairs[i].server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	close(listener);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: syscall-flood SECONDS RATE CONNECTIONS PATH\n");
		return 2;
	}
	double seconds = number(argv[1]), rate = number(argv[2]), conns_arg = number(argv[3]);
	const char *path = argv[4];
	if (!(seconds > 0 && seconds <= 3600) || !(rate >= 0) || !(conns_arg >= 1) ||
	    conns_arg > MAX_CONNECTIONS || conns_arg != (unsigned)conns_arg) {
		fprintf(stderr, "syscall-flood: SECONDS must be in (0, 3600], RATE >= 0, "
				"CONNECTIONS a whole number from 1 to %d\n", MAX_CONNECTIONS);
		return 2;
	}
	if (path[0] != '/' || strlen(path) > 200 || strpbrk(path, " \r\n")) {
		fprintf(stderr, "syscall-flood: PATH must start with / and have no spaces or line "
				"breaks (200 bytes at most)\n");
		return 2;
	}
	unsigned conns = (unsigned)conns_arg;
	static struct pair pairs[MAX_CONNECTIONS];
	if (open_pairs(pairs, conns) != 0)
		return 1;
	char request[256], buf[256];
	static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	size_t request_len = (size_t)snprintf(request, sizeof(request),
					      "GET %s HTTP/1.1\r\nHost: flood\r\n\r\n", path);
	size_t response_len = sizeof(response) - 1;

	uint64_t done = 0;
	double start = now_s(), end = start + seconds, now = start;
	while (now < end) {
		for (unsigned k = 0; k < PACE_EVERY; k++, done++) {
			struct pair *p = &pairs[done % conns];
			if (write(p->client, request, request_len) != (ssize_t)request_len ||
			    read_all(p->server, buf, request_len) < 0 ||
			    write(p->server, response, response_len) != (ssize_t)response_len ||
			    read_all(p->client, buf, response_len) < 0)
				return fail("exchange");
		}
		now = now_s();
		if (rate > 0) {
			double due = start + (double)done / rate; /* when the next batch may start */
			if (due > now) {
				struct timespec ts = {.tv_sec = (time_t)(due - now),
						      .tv_nsec = (long)((due - now - (time_t)(due - now)) * 1e9)};
				nanosleep(&ts, NULL);
				now = now_s();
			}
		}
	}
	double secs = now - start;
	printf("{\"exchanges\": %llu, \"seconds\": %.6f, \"exchanges_per_s\": %.0f, \"pid\": %d}\n",
	       (unsigned long long)done, secs, (double)done / secs, (int)getpid());
	return 0;
}
