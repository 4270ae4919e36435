#include "http_record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int http_record_addr(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	/* The wire's families, mapped to what inet_ntop takes. */
	int af = r->family == USM_AF_INET ? AF_INET : r->family == USM_AF_INET6 ? AF_INET6 : -1;
	if (af < 0 || !inet_ntop(af, r->addr, out, (socklen_t)cap)) {
		if (cap > 0)
			out[0] = '\0';
		return -ENOENT;
	}
	return 0;
}

void http_record_server(const struct usm_http_stats_record *r, char *out, size_t cap)
{
	char addr[INET6_ADDRSTRLEN];
	if (http_record_addr(r, addr, sizeof(addr)) != 0)
		snprintf(out, cap, "unknown");
	else if (r->port == 0)
		snprintf(out, cap, "%s", addr);
	else if (r->family == USM_AF_INET6)
		snprintf(out, cap, "[%s]:%u", addr, (unsigned)r->port);
	else
		snprintf(out, cap, "%s:%u", addr, (unsigned)r->port);
}

void http_record_decimal(uint64_t value, uint64_t unit, char *out, size_t cap)
{
	int digits = 0;
	for (uint64_t u = unit; u > 1; u /= 10)
		digits++;
	if (digits == 0) {
		snprintf(out, cap, "%" PRIu64, value);
		return;
	}
	int n = snprintf(out, cap, "%" PRIu64 ".%0*" PRIu64, value / unit, digits, value % unit);
	if (n < 0 || (size_t)n >= cap)
		return; /* cut by snprintf; HTTP_RECORD_DECIMAL_MAX never is */
	while (out[n - 1] == '0')
		out[--n] = '\0';
	if (out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0.
 * s is NUL-terminated: a NUL fails the first check it meets, so nothing is
 * read past it. */
static size_t utf8_sequence(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	size_t n;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : lo; /* overlong */
		hi = s[0] == 0xed ? 0x9f : hi; /* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : lo; /* overlong */
		hi = s[0] == 0xf4 ? 0x8f : hi; /* above U+10FFFF */
	} else
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void http_record_utf8(const char *in, char *out, size_t cap)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;
	if (cap == 0)
		return;
	while (*s) {
		size_t n = utf8_sequence(s);
		const void *src = n ? (const void *)s : replacement;
		size_t len = n ? n : sizeof(replacement) - 1;
		if (o + len >= cap)
			break;
		memcpy(out + o, src, len);
		o += len;
		s += n ? n : 1;
	}
	out[o] = '\0';
}
