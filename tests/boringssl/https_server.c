/* A small HTTPS server linked against BoringSSL (Debian's
 * android-libboringssl), standing in for envoy in the end-to-end tests:
 * envoy carries BoringSSL and feeds it through a BIO of its own that
 * reads and writes the socket, so this server does the same (a custom
 * BIO_METHOD over the connection's fd) rather than SSL_set_fd.
 *
 *   https_server PORT CERT KEY [ACCESS_LOG]
 *
 * Listens on 127.0.0.1:PORT, prints "ready" once listening, serves each
 * connection on its own thread with keep-alive: "/missing" answers 404,
 * any other path 200 with a short body. Requests carry no body (the tests
 * send GETs). With ACCESS_LOG, appends "PATH STATUS" for each answered
 * request (what the tests compare usm's counts with). Stops on SIGTERM. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_MAX 8192

static SSL_CTX *ctx;
static BIO_METHOD *fd_method;
static int access_log = -1;

/* The custom BIO: its data pointer is the connection's fd. */
static int fd_bio_read(BIO *b, char *out, int len)
{
	BIO_clear_retry_flags(b);
	ssize_t n;
	do
		n = recv((int)(intptr_t)BIO_get_data(b), out, (size_t)len, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : (int)n;
}

static int fd_bio_write(BIO *b, const char *in, int len)
{
	BIO_clear_retry_flags(b);
	ssize_t n;
	do
		n = send((int)(intptr_t)BIO_get_data(b), in, (size_t)len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : (int)n;
}

static long fd_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int fd_bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* One request's head (up to the blank line), or -1 at the end of the
 * connection; the path is copied into path. */
static int read_request(SSL *ssl, char *path, size_t path_len)
{
	char buf[REQUEST_MAX];
	size_t have = 0;
	while (!memmem(buf, have, "\r\n\r\n", 4)) {
		if (have == sizeof(buf))
			return -1;
		int n = SSL_read(ssl, buf + have, (int)(sizeof(buf) - have));
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	char method[16];
	if (sscanf(buf, "%15s %1023s", method, path) != 2 || path_len < 1024)
		return -1;
	return 0;
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	BIO *bio = BIO_new(fd_method);
	SSL *ssl = SSL_new(ctx);
	if (!bio || !ssl)
		goto out;
	BIO_set_data(bio, (void *)(intptr_t)fd);
	SSL_set_bio(ssl, bio, bio); /* ssl owns bio now */
	bio = NULL;
	if (SSL_accept(ssl) != 1)
		goto out;
	char path[1024];
	while (read_request(ssl, path, sizeof(path)) == 0) {
		int missing = strcmp(path, "/missing") == 0;
		const char *body = missing ? "not found\n" : "boringssl\n";
		char resp[256];
		int n = snprintf(resp, sizeof(resp),
				 "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
				 missing ? "404 Not Found" : "200 OK", strlen(body), body);
		if (access_log >= 0) {
			/* before the answer, which a client that has gone (wrk
			 * at its end) makes fail; one write of one short line to
			 * an O_APPEND file stays whole with several threads */
			char line[1100];
			int len = snprintf(line, sizeof(line), "%s %d\n", path, missing ? 404 : 200);
			if (write(access_log, line, (size_t)len) != len)
				break;
		}
		if (SSL_write(ssl, resp, n) != n)
			break;
	}
	SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	BIO_free(bio);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s PORT CERT KEY [ACCESS_LOG]\n", argv[0]);
		return 2;
	}
	if (argc == 5 &&
	    (access_log = open(argv[4], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		perror("https_server: access log");
		return 1;
	}
	ctx = SSL_CTX_new(TLS_method());
	fd_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "usm-test-fd");
	if (!ctx || !fd_method || !BIO_meth_set_read(fd_method, fd_bio_read) ||
	    !BIO_meth_set_write(fd_method, fd_bio_write) ||
	    !BIO_meth_set_ctrl(fd_method, fd_bio_ctrl) ||
	    !BIO_meth_set_create(fd_method, fd_bio_create) ||
	    SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "https_server: cannot set up TLS\n");
		return 1;
	}
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 128) != 0) {
		perror("https_server: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("https_server: accept");
			return 1;
		}
		pthread_t t;
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)c) != 0)
			close(c);
		else
			pthread_detach(t);
	}
}
