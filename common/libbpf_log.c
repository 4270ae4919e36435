#include "libbpf_log.h"

#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

__attribute__((format(printf, 2, 0))) static int libbpf_log(enum libbpf_print_level level,
							    const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && usm_log_get_level() < USM_LOG_DEBUG)
		return 0;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (line[0])
		usm_log(level == LIBBPF_WARN ? USM_LOG_WARN : USM_LOG_DEBUG, "libbpf: %s", line);
	return 0;
}

void usm_libbpf_log_init(void)
{
	libbpf_set_print(libbpf_log);
}
