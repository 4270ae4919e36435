/* Logging to stderr with level and process name.
 *
 * Every line reads "usm-collector[1234] warn: message". Daemons log once at
 * the boundary that decides what to do with an error (DESIGN.md). Safe to
 * call from any thread; one write(2) per line so lines never interleave. */
#ifndef USM_LOG_H
#define USM_LOG_H

enum usm_log_level {
	USM_LOG_ERROR = 0,
	USM_LOG_WARN = 1,
	USM_LOG_INFO = 2,
	USM_LOG_DEBUG = 3,
};

/* name is kept by pointer: pass a string literal. */
void usm_log_init(const char *process_name, enum usm_log_level level);
void usm_log_set_level(enum usm_log_level level);
enum usm_log_level usm_log_get_level(void);

/* "error", "warn", "info", "debug" -> level; returns 0 or -EINVAL. */
int usm_log_level_parse(const char *name, enum usm_log_level *out);
const char *usm_log_level_name(enum usm_log_level level);

void usm_log(enum usm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) usm_log(USM_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) usm_log(USM_LOG_WARN, __VA_ARGS__)
#define log_info(...) usm_log(USM_LOG_INFO, __VA_ARGS__)
#define log_debug(...) usm_log(USM_LOG_DEBUG, __VA_ARGS__)

#endif
