// SPDX-License-Identifier: Apache-2.0
/* A stand-in for libssl with the functions usm's attach policy probes and
 * nothing else: the benchmarks copy it to many files named libssl.so.3
 * and have one process load them all, to give usm a thousand distinct
 * TLS libraries (one attachment each) without a thousand processes.
 * Nothing calls these functions. */
#include <stddef.h>

int SSL_read(void *ssl, void *buf, int num);
int SSL_write(void *ssl, const void *buf, int num);
int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *readbytes);
int SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *written);
int SSL_set_fd(void *ssl, int fd);
int SSL_shutdown(void *ssl);
void SSL_free(void *ssl);

int SSL_read(void *ssl, void *buf, int num)
{
	return ssl && buf ? num : -1;
}

int SSL_write(void *ssl, const void *buf, int num)
{
	return ssl && buf ? num : -1;
}

int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *readbytes)
{
	*readbytes = ssl && buf ? num : 0;
	return ssl != NULL;
}

int SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *written)
{
	*written = ssl && buf ? num : 0;
	return ssl != NULL;
}

int SSL_set_fd(void *ssl, int fd)
{
	return ssl && fd >= 0;
}

int SSL_shutdown(void *ssl)
{
	return ssl != NULL;
}

void SSL_free(void *ssl)
{
	(void)ssl;
}
