#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *log_name = "usm";
static enum usm_log_level log_level = USM_LOG_INFO;

static const char *const level_names[] = {
	[USM_LOG_ERROR] = "error",
	[USM_LOG_WARN] = "warn",
	[USM_LOG_INFO] = "info",
	[USM_LOG_DEBUG] = "debug",
};

void usm_log_init(const char *process_name, enum usm_log_level level)
{
	log_name = process_name;
	log_level = level;
}

void usm_log_set_level(enum usm_log_level level) { log_level = level; }

enum usm_log_level usm_log_get_level(void) { return log_level; }

int usm_log_level_parse(const char *name, enum usm_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum usm_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *usm_log_level_name(enum usm_log_level level)
{
	return (unsigned)level <= USM_LOG_DEBUG ? level_names[level] : "?";
}

void usm_log(enum usm_log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	int saved_errno = errno;
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s[%d] %s: ", log_name, (int)getpid(),
			 usm_log_level_name(level));
	if (n < 0)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2; /* truncated: keep the newline */
	line[len++] = '\n';
	/* A single write keeps lines whole when several threads log. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
	errno = saved_errno;
}
