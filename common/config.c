/* The configuration table and its parser. See config.h for the contract.
 *
 * One table row per key: its name, how to parse it, where it lives in
 * struct usm_config and its default. Parsing, defaults and rendering for
 * the children (to_args) all walk the same table, so a key cannot be
 * parsed one way and passed on another. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type {
	KEY_STRING, /* copied into a char[size] */
	KEY_PATH,   /* a string that must be an absolute path */
	KEY_LISTEN, /* host:port */
	KEY_PATH_LIST, /* ':'-separated absolute paths, or empty */
	KEY_BOOL,
	KEY_UINT,   /* unsigned within [min, max] */
	KEY_USER,   /* struct usm_user */
	KEY_LOG_LEVEL,
	KEY_SECCOMP,
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size; /* strings: capacity of the field */
	unsigned min, max;
	const char *def;
};

#define FIELD(f) offsetof(struct usm_config, f), sizeof(((struct usm_config *)0)->f)

static const struct key_def keys[] = {
	{"api_listen", KEY_LISTEN, FIELD(api_listen), 0, 0, "127.0.0.1:5050"},
	{"runtime_dir", KEY_PATH, FIELD(runtime_dir), 0, 0, "/run/usm"},
	{"collector_user", KEY_USER, FIELD(collector_user), 0, 0, "usm-collector"},
	{"api_user", KEY_USER, FIELD(api_user), 0, 0, "usm-api"},
	{"bpf_user", KEY_USER, FIELD(bpf_user), 0, 0, "usm-bpf"},
	{"inspector_user", KEY_USER, FIELD(inspector_user), 0, 0, "usm-inspect"},
	{"enable_http_monitoring", KEY_BOOL, FIELD(enable_http_monitoring), 0, 0, "true"},
	{"enable_native_tls_monitoring", KEY_BOOL, FIELD(enable_native_tls_monitoring), 0, 0, "true"},
	{"enable_go_tls_support", KEY_BOOL, FIELD(enable_go_tls_support), 0, 0, "false"},
	{"enable_istio_monitoring", KEY_BOOL, FIELD(enable_istio_monitoring), 0, 0, "false"},
	{"enable_nodejs_monitoring", KEY_BOOL, FIELD(enable_nodejs_monitoring), 0, 0, "false"},
	{"enable_java_tls_support", KEY_BOOL, FIELD(enable_java_tls_support), 0, 0, "false"},
	{"envoy_path", KEY_PATH, FIELD(envoy_path), 0, 0, "/bin/envoy"},
	{"api_control", KEY_BOOL, FIELD(api_control), 0, 0, "false"},
	{"log_level", KEY_LOG_LEVEL, FIELD(log_level), 0, 0, "info"},
	{"seccomp", KEY_SECCOMP, FIELD(seccomp), 0, 0, "kill"},
	{"child_max_restarts", KEY_UINT, FIELD(child_max_restarts), 0, USM_MAX_CHILD_RESTARTS, "5"},
	{"child_restart_window", KEY_UINT, FIELD(child_restart_window_s), 1, 86400, "60"},
	{"check_interval", KEY_UINT, FIELD(check_interval_s), 1, 3600, "30"},
	{"ipc_timeout_ms", KEY_UINT, FIELD(ipc_timeout_ms), 10, 60000, "2000"},
	{"max_traced_files", KEY_UINT, FIELD(max_traced_files), 1, 65536, "4096"},
	{"max_blocked_files", KEY_UINT, FIELD(max_blocked_files), 1, 100000, "2000"},
	{"resident_libraries", KEY_PATH_LIST, FIELD(resident_libraries), 0, 0,
	 USM_DEFAULT_RESIDENT_LIBRARIES},
	{"inspect_timeout_ms", KEY_UINT, FIELD(inspect_timeout_ms), 100, 60000, "2000"},
	{"attach_linger_ms", KEY_UINT, FIELD(attach_linger_ms), 0, 600000, "2000"},
	{"uprobe_multi", KEY_BOOL, FIELD(uprobe_multi), 0, 0, "true"},
	{"detach_threads", KEY_UINT, FIELD(detach_threads), 1, 64, "32"},
	{"collector_memory_mb", KEY_UINT, FIELD(collector_memory_mb), 64, 65536, "2048"},
	{"http_capture_bytes", KEY_UINT, FIELD(http_capture_bytes), 64, 4096, "512"},
	{"http_ring_buffer_mb", KEY_UINT, FIELD(http_ring_buffer_mb), 1, 1024, "8"},
	{"http_max_path_len", KEY_UINT, FIELD(http_max_path_len), 1, 255, "128"},
	{"max_http_stats_entries", KEY_UINT, FIELD(max_http_stats_entries), 1, 4194304, "10000"},
	{"max_tracked_connections", KEY_UINT, FIELD(max_tracked_connections), 1, 1048576, "16384"},
	{"http_request_timeout_ms", KEY_UINT, FIELD(http_request_timeout_ms), 100, 3600000, "30000"},
	{"http_idle_timeout_s", KEY_UINT, FIELD(http_idle_timeout_s), 1, 86400, "300"},
};

_Static_assert(sizeof(keys) / sizeof(keys[0]) <= USM_CONFIG_MAX_KEYS, "raise USM_CONFIG_MAX_KEYS");

static int fail(struct usm_config_error *err, const char *origin, unsigned line, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static int fail(struct usm_config_error *err, const char *origin, unsigned line, const char *fmt,
		...)
{
	if (err) {
		int n = snprintf(err->msg, sizeof(err->msg), "%s:%u: ", origin, line);
		if (n < 0 || (size_t)n >= sizeof(err->msg))
			n = 0;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	if (*v == '\0')
		return -EINVAL;
	unsigned long n = 0;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned long d = (unsigned long)(*p - '0');
		if (n > (max - d) / 10) /* n * 10 + d would exceed max (or wrap) */
			return -ERANGE;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/* host:port with a non-empty host and a port in 1-65535. IPv6 hosts are
 * written in brackets: [::1]:5050. */
static int check_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v)
		return -EINVAL;
	if (v[0] == '[' && colon[-1] != ']')
		return -EINVAL;
	unsigned long port;
	if (parse_uint(colon + 1, 65535, &port) != 0 || port == 0)
		return -EINVAL;
	return 0;
}

/* "uid" or "uid:gid" numerically; anything else is a name to look up. */
static int parse_numeric_user(const char *spec, uid_t *uid, gid_t *gid, bool *has_gid)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	unsigned long u, g = 0;
	if (parse_uint(buf, 0xfffffffeUL, &u) != 0)
		return -EINVAL;
	if (colon && parse_uint(colon + 1, 0xfffffffeUL, &g) != 0)
		return -EINVAL;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	*has_gid = colon != NULL;
	return 0;
}

/* "" or "/a:/b": every item absolute and short enough to name in an IPC
 * request, no empty items. */
static int check_path_list(const char *v)
{
	unsigned n = 0;
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ":");
		if (p[0] != '/' || len >= USM_CONFIG_LIST_PATH_MAX || ++n > USM_CONFIG_PATH_LIST_MAX)
			return -EINVAL;
		p += len;
		if (*p == ':' && *++p == '\0')
			return -EINVAL; /* trailing ':' */
	}
	return 0;
}

static int set_value(struct usm_config *cfg, const struct key_def *k, const char *value,
		     const char *origin, unsigned line, struct usm_config_error *err)
{
	void *field = (char *)cfg + k->offset;

	switch (k->type) {
	case KEY_PATH_LIST:
		if (check_path_list(value) != 0)
			return fail(err, origin, line,
				    "%s must be absolute paths separated by ':' (at most %d, each under "
				    "%d characters), got '%s'",
				    k->name, USM_CONFIG_PATH_LIST_MAX, USM_CONFIG_LIST_PATH_MAX, value);
		/* fall through */
	case KEY_PATH:
		if (k->type == KEY_PATH && value[0] != '/')
			return fail(err, origin, line, "%s must be an absolute path, got '%s'", k->name,
				    value);
		/* fall through */
	case KEY_STRING:
	case KEY_LISTEN:
		if (strlen(value) >= k->size)
			return fail(err, origin, line, "%s is too long (at most %zu characters)", k->name,
				    k->size - 1);
		if (k->type == KEY_LISTEN && check_listen(value) != 0)
			return fail(err, origin, line,
				    "%s must be host:port with a port from 1 to 65535, got '%s'", k->name,
				    value);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case KEY_BOOL: {
		bool b;
		if (parse_bool(value, &b) != 0)
			return fail(err, origin, line, "%s must be true or false, got '%s'", k->name,
				    value);
		if (b && strcmp(k->name, "enable_java_tls_support") == 0)
			return fail(err, origin, line,
				    "enable_java_tls_support: Java TLS monitoring is not supported by usm; "
				    "remove the key or set it to false");
		*(bool *)field = b;
		return 0;
	}
	case KEY_UINT: {
		unsigned long n;
		if (parse_uint(value, k->max, &n) != 0 || n < k->min)
			return fail(err, origin, line, "%s must be a whole number from %u to %u, got '%s'",
				    k->name, k->min, k->max, value);
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case KEY_USER: {
		struct usm_user *u = field;
		if (value[0] == '\0' || strlen(value) >= sizeof(u->spec))
			return fail(err, origin, line, "%s must be a user name, uid or uid:gid", k->name);
		memset(u, 0, sizeof(*u));
		memcpy(u->spec, value, strlen(value) + 1);
		/* "uid:gid" needs no user database: resolved at once, which is
		 * how the children receive their users (see to_args). */
		bool has_gid;
		if (parse_numeric_user(value, &u->uid, &u->gid, &has_gid) == 0 && has_gid)
			u->resolved = true;
		return 0;
	}
	case KEY_LOG_LEVEL:
		if (usm_log_level_parse(value, field) != 0)
			return fail(err, origin, line,
				    "%s must be one of error, warn, info, debug; got '%s'", k->name, value);
		return 0;
	case KEY_SECCOMP:
		if (strcmp(value, "kill") == 0)
			*(enum usm_seccomp_mode *)field = USM_SECCOMP_KILL;
		else if (strcmp(value, "log") == 0)
			*(enum usm_seccomp_mode *)field = USM_SECCOMP_LOG;
		else
			return fail(err, origin, line, "%s must be kill or log, got '%s'", k->name, value);
		return 0;
	}
	return fail(err, origin, line, "internal: bad key type for %s", k->name);
}

void usm_config_defaults(struct usm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int rc = set_value(cfg, &keys[i], keys[i].def, "default", 0, NULL);
		(void)rc; /* defaults are valid by construction (tested) */
	}
}

int usm_config_set(struct usm_config *cfg, const char *key, const char *value, const char *origin,
		   unsigned line, struct usm_config_error *err)
{
	if (key[0] == '\0')
		return fail(err, origin, line, "missing key before '='");
	const struct key_def *k = find_key(key);
	if (!k)
		return fail(err, origin, line, "unknown key '%s'", key);
	return set_value(cfg, k, value, origin, line, err);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Splits "key = value" in place. In a file a '#' starts a comment anywhere;
 * an -o value is taken as it is. */
static int split_assignment(char *text, bool strip_comment, const char *origin, unsigned line,
			    char **key, char **value, struct usm_config_error *err)
{
	char *hash = strip_comment ? strchr(text, '#') : NULL;
	if (hash)
		*hash = '\0';
	char *eq = strchr(text, '=');
	if (!eq)
		return fail(err, origin, line, "expected 'key = value', got '%s'", trim(text));
	*eq = '\0';
	*key = trim(text);
	*value = trim(eq + 1);
	return 0;
}

int usm_config_set_option(struct usm_config *cfg, const char *option, unsigned index,
			  struct usm_config_error *err)
{
	char buf[USM_CONFIG_LINE_MAX];
	if (strlen(option) >= sizeof(buf))
		return fail(err, "-o", index, "option is too long");
	memcpy(buf, option, strlen(option) + 1);
	char *key, *value;
	int rc = split_assignment(buf, false, "-o", index, &key, &value, err);
	if (rc == 0)
		rc = usm_config_set(cfg, key, value, "-o", index, err);
	return rc;
}

int usm_config_load_file(struct usm_config *cfg, const char *path, struct usm_config_error *err)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err->msg, sizeof(err->msg), "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned line = 0;
	int rc = 0;
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		line++;
		if ((size_t)n != strlen(buf)) {
			rc = fail(err, path, line, "line contains a NUL byte");
			break;
		}
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		if (n > USM_CONFIG_LINE_MAX - 1) {
			rc = fail(err, path, line, "line is longer than %d characters",
				  USM_CONFIG_LINE_MAX - 1);
			break;
		}
		char *s = trim(buf);
		if (*s == '\0' || *s == '#')
			continue;
		char *key, *value;
		rc = split_assignment(s, true, path, line, &key, &value, err);
		if (rc == 0)
			rc = usm_config_set(cfg, key, value, path, line, err);
	}
	if (rc == 0 && ferror(f))
		rc = fail(err, path, line, "read error");
	free(buf);
	fclose(f);
	return rc;
}

static int resolve_user(struct usm_user *u, const char *key, struct usm_config_error *err)
{
	bool has_gid;
	if (parse_numeric_user(u->spec, &u->uid, &u->gid, &has_gid) == 0) {
		if (!has_gid) {
			struct passwd *pw = getpwuid(u->uid);
			u->gid = pw ? pw->pw_gid : (gid_t)u->uid;
		}
	} else {
		struct passwd *pw = getpwnam(u->spec);
		if (!pw) {
			snprintf(err->msg, sizeof(err->msg),
				 "%s: no such user '%s' (create it, e.g. with scripts/setup.sh, or give "
				 "uid:gid)",
				 key, u->spec);
			return -ENOENT;
		}
		u->uid = pw->pw_uid;
		u->gid = pw->pw_gid;
	}
	u->resolved = true;
	return 0;
}

int usm_config_resolve_users(struct usm_config *cfg, struct usm_config_error *err)
{
	int rc = resolve_user(&cfg->collector_user, "collector_user", err);
	if (rc == 0)
		rc = resolve_user(&cfg->api_user, "api_user", err);
	if (rc == 0)
		rc = resolve_user(&cfg->bpf_user, "bpf_user", err);
	if (rc == 0)
		rc = resolve_user(&cfg->inspector_user, "inspector_user", err);
	return rc;
}

static int render_value(const struct usm_config *cfg, const struct key_def *k, char *buf,
			size_t len)
{
	const void *field = (const char *)cfg + k->offset;
	switch (k->type) {
	case KEY_STRING:
	case KEY_PATH:
	case KEY_PATH_LIST:
	case KEY_LISTEN:
		return snprintf(buf, len, "%s=%s", k->name, (const char *)field);
	case KEY_BOOL:
		return snprintf(buf, len, "%s=%s", k->name, *(const bool *)field ? "true" : "false");
	case KEY_UINT:
		return snprintf(buf, len, "%s=%u", k->name, *(const unsigned *)field);
	case KEY_USER: {
		const struct usm_user *u = field;
		if (u->resolved)
			return snprintf(buf, len, "%s=%u:%u", k->name, (unsigned)u->uid,
					(unsigned)u->gid);
		return snprintf(buf, len, "%s=%s", k->name, u->spec);
	}
	case KEY_LOG_LEVEL:
		return snprintf(buf, len, "%s=%s", k->name,
				usm_log_level_name(*(const enum usm_log_level *)field));
	case KEY_SECCOMP:
		return snprintf(buf, len, "%s=%s", k->name,
				*(const enum usm_seccomp_mode *)field == USM_SECCOMP_LOG ? "log"
											 : "kill");
	}
	return -1;
}

int usm_config_to_args(const struct usm_config *cfg, char **out, size_t max, size_t *n)
{
	size_t count = sizeof(keys) / sizeof(keys[0]);
	*n = 0;
	if (max < count)
		return -ENOSPC;
	for (size_t i = 0; i < count; i++) {
		char buf[USM_CONFIG_LINE_MAX];
		int len = render_value(cfg, &keys[i], buf, sizeof(buf));
		if (len < 0 || (size_t)len >= sizeof(buf) || !(out[i] = strdup(buf))) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			return -ENOMEM;
		}
	}
	*n = count;
	return 0;
}

bool usm_config_need_process_monitor(const struct usm_config *cfg)
{
	return cfg->enable_native_tls_monitoring || cfg->enable_go_tls_support ||
	       cfg->enable_java_tls_support || cfg->enable_istio_monitoring ||
	       cfg->enable_nodejs_monitoring;
}

bool usm_config_monitoring_disabled(const struct usm_config *cfg)
{
	return !cfg->enable_http_monitoring && !usm_config_need_process_monitor(cfg);
}
