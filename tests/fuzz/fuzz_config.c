/* libFuzzer target: the configuration (common/config.c) from a file and
 * from -o options, the two ways it arrives. Byte 0 picks the way; the
 * rest is the file's text, or options one a line. Any refusal must say
 * why ("ORIGIN:LINE: message"); an accepted configuration must render
 * (usm_config_to_args, what privd hands its children) to options that,
 * applied to a fresh one, render the same again. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 256

static int apply_options(struct usm_config *cfg, const char *text, size_t len,
			 struct usm_config_error *err)
{
	unsigned index = 0;
	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;
		char *opt = strndup(text, n);
		if (!opt)
			abort();
		int rc = usm_config_set_option(cfg, opt, ++index, err);
		free(opt);
		if (rc != 0)
			return rc;
		text += n + (nl ? 1 : 0);
		len -= n + (nl ? 1 : 0);
	}
	return 0;
}

static size_t render(const struct usm_config *cfg, char **args)
{
	size_t n = 0;
	if (usm_config_to_args(cfg, args, MAX_ARGS, &n) != 0)
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct usm_config cfg, again;
	usm_log_set_level(USM_LOG_ERROR); /* no warnings per input */
	if (size < 1 || memchr(data + 1, '\0', size - 1))
		return 0; /* text: options and file lines are C strings */
	struct usm_config_error err = {{0}};
	usm_config_defaults(&cfg);
	int rc;
	if (data[0] & 1) {
		rc = apply_options(&cfg, (const char *)data + 1, size - 1, &err);
	} else {
		int fd = memfd_create("usm.conf", MFD_CLOEXEC);
		if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
			abort();
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		rc = usm_config_load_file(&cfg, path, &err);
		close(fd);
	}
	if (rc != 0) {
		if (!memchr(err.msg, '\0', sizeof(err.msg)) || !strchr(err.msg, ':'))
			abort(); /* every refusal says where and why */
		return 0;
	}
	char *a[MAX_ARGS], *b[MAX_ARGS];
	size_t na = render(&cfg, a);
	usm_config_defaults(&again);
	for (size_t i = 0; i < na; i++)
		if (usm_config_set_option(&again, a[i], (unsigned)i + 1, &err) != 0)
			abort(); /* what privd would hand a child, refused by it */
	size_t nb = render(&again, b);
	if (na != nb)
		abort();
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]) != 0)
			abort();
		free(a[i]);
		free(b[i]);
	}
	return 0;
}
