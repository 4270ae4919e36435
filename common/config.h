/* usm configuration: a `key = value` file with `#` comments, plus `-o
 * key=value` overrides, every key with a default so no file is needed.
 *
 * Contract:
 * - usm_config_defaults() fills every field with its documented default.
 * - usm_config_load_file() applies a file line by line; usm_config_set()
 *   applies one key (from a file line or an -o option). Any error (unknown
 *   key, bad value, value out of range, `enable_java_tls_support = true`)
 *   stops with -EINVAL and err->msg set to "ORIGIN:LINE: message", where
 *   ORIGIN is the file path or "-o" (LINE is then the option's 1-based
 *   index). Nothing after the first error is applied.
 * - usm_config_resolve_users() turns collector_user, api_user, bpf_user and
 *   inspector_user (a name,
 *   "uid" or "uid:gid") into numeric ids; a missing user is an error. Only
 *   privd calls it (the children receive numeric ids, see to_args).
 * - usm_config_to_args() renders the whole effective configuration as
 *   "key=value" strings such that feeding each to usm_config_set() on a
 *   fresh default config reproduces it exactly (users as "uid:gid").
 *   privd passes them to its children as -o options: children never read
 *   files or the user database to learn their configuration.
 *
 * Adding a key: one row in the table in config.c and one field here. */
#ifndef USM_CONFIG_H
#define USM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "log.h"

#define USM_CONFIG_STR_MAX 256  /* longest string value, NUL included */
#define USM_CONFIG_MAX_KEYS 64  /* upper bound on table rows (to_args) */
#define USM_CONFIG_LINE_MAX 1024 /* a config line: at most 1023 characters + newline */
#define USM_CONFIG_PATH_LIST_MAX 16  /* items in a path list */
#define USM_CONFIG_LIST_PATH_MAX 256 /* one item, NUL included (fits an IPC path) */
/* The supervisor remembers this many deaths per child (plus one), so a
 * larger child_max_restarts could never be reached within its window. */
#define USM_MAX_CHILD_RESTARTS 63

/* The system TLS libraries attached at start and kept attached
 * (resident_libraries): OpenSSL 3 and GnuTLS where Debian and Ubuntu
 * install them for the architecture usm is built for. */
#if defined(__x86_64__)
#define USM_MULTIARCH_LIBDIR "/usr/lib/x86_64-linux-gnu"
#elif defined(__aarch64__)
#define USM_MULTIARCH_LIBDIR "/usr/lib/aarch64-linux-gnu"
#endif
#ifdef USM_MULTIARCH_LIBDIR
#define USM_DEFAULT_RESIDENT_LIBRARIES \
	USM_MULTIARCH_LIBDIR "/libssl.so.3:" USM_MULTIARCH_LIBDIR "/libgnutls.so.30"
#else
#define USM_DEFAULT_RESIDENT_LIBRARIES ""
#endif

enum usm_seccomp_mode {
	USM_SECCOMP_KILL = 0, /* default: a syscall outside the policy kills */
	USM_SECCOMP_LOG = 1,  /* diagnose: allowed, but logged by the kernel */
};

struct usm_user {
	char spec[64]; /* as configured: "usm-collector", "998", "998:997" */
	uid_t uid;     /* valid after usm_config_resolve_users() */
	gid_t gid;
	bool resolved;
};

struct usm_config {
	char api_listen[64];            /* api_listen: "127.0.0.1:5050" (host:port, port 1-65535) */
	char runtime_dir[USM_CONFIG_STR_MAX]; /* runtime_dir: "/run/usm" (absolute path) */
	struct usm_user collector_user; /* collector_user: "usm-collector" */
	struct usm_user api_user;       /* api_user: "usm-api" */
	struct usm_user bpf_user;       /* bpf_user: "usm-bpf", privd's BPF-owning process */
	struct usm_user inspector_user; /* inspector_user: "usm-inspect", the file inspector */
	bool enable_http_monitoring;        /* default true */
	bool enable_native_tls_monitoring;  /* default true */
	bool enable_go_tls_support;         /* default false */
	bool enable_istio_monitoring;       /* default false */
	bool enable_nodejs_monitoring;      /* default false */
	bool enable_java_tls_support;       /* default false; true is refused */
	char envoy_path[USM_CONFIG_STR_MAX]; /* envoy_path: "/bin/envoy" */
	bool api_control;               /* api_control: false (control endpoints 403) */
	enum usm_log_level log_level;   /* log_level: info (error|warn|info|debug) */
	enum usm_seccomp_mode seccomp;  /* seccomp: kill (kill|log) */
	unsigned child_max_restarts;    /* child_max_restarts: 5 (0-USM_MAX_CHILD_RESTARTS) restarts within the window before giving up */
	unsigned child_restart_window_s; /* child_restart_window: 60 (1-86400) seconds */
	unsigned check_interval_s;      /* check_interval: 30 (1-3600) seconds between consistency checks */
	unsigned ipc_timeout_ms;        /* ipc_timeout_ms: 2000 (10-60000) per IPC round trip */
	unsigned max_traced_files;      /* max_traced_files: 4096 (1-65536) files with probes */
	unsigned max_blocked_files;     /* max_blocked_files: 2000 (1-100000) blocklist LRU size */
	char resident_libraries[960];   /* resident_libraries: the system libssl and libgnutls
					 * (see USM_DEFAULT_RESIDENT_LIBRARIES), ':'-separated,
					 * "" for none: attached at start, kept attached */
	unsigned inspect_timeout_ms;    /* inspect_timeout_ms: 2000 (100-60000) an inspector is killed after this */
	unsigned attach_linger_ms;      /* attach_linger_ms: 2000 (0-600000) probes kept after the last pid left */
	bool uprobe_multi;              /* uprobe_multi: true: use uprobe_multi links when the kernel has them; false: classic uprobes */
	unsigned detach_threads;        /* detach_threads: 32 (1-64) threads closing links in parallel */
	unsigned collector_memory_mb;   /* collector_memory_mb: 2048 (64-65536) RLIMIT_DATA of the collector */
	unsigned http_capture_bytes;    /* http_capture_bytes: 512 (64-4096) first bytes captured per read/write */
	unsigned http_ring_buffer_mb;   /* http_ring_buffer_mb: 8 (1-1024) capture ring buffer, rounded up to a power of two */
	unsigned http_max_path_len;     /* http_max_path_len: 128 (1-255) longer paths are cut */
	unsigned max_http_stats_entries; /* max_http_stats_entries: 10000 (1-4194304) rows; then the overflow row */
	unsigned max_tracked_connections; /* max_tracked_connections: 16384 (1-1048576) connections parsed at once */
	unsigned http_request_timeout_ms; /* http_request_timeout_ms: 30000 (100-3600000) unanswered after this */
	unsigned http_idle_timeout_s;   /* http_idle_timeout_s: 300 (1-86400) an idle connection is dropped */
};

struct usm_config_error {
	char msg[512];
};

void usm_config_defaults(struct usm_config *cfg);

int usm_config_load_file(struct usm_config *cfg, const char *path, struct usm_config_error *err);

/* origin and line only label the error message. */
int usm_config_set(struct usm_config *cfg, const char *key, const char *value, const char *origin,
		   unsigned line, struct usm_config_error *err);

/* Parses one "key=value" (-o form, spaces around '=' allowed). */
int usm_config_set_option(struct usm_config *cfg, const char *option, unsigned index,
			  struct usm_config_error *err);

int usm_config_resolve_users(struct usm_config *cfg, struct usm_config_error *err);

/* Fills out[0..*n) with malloc'd "key=value" strings (caller frees each);
 * max is the capacity of out. Returns 0 or -ENOMEM / -ENOSPC. */
int usm_config_to_args(const struct usm_config *cfg, char **out, size_t max, size_t *n);

/* NeedProcessMonitor (seed): any TLS/uprobe feature enabled. */
bool usm_config_need_process_monitor(const struct usm_config *cfg);

/* No monitoring feature enabled at all: the monitor state is "Disabled". */
bool usm_config_monitoring_disabled(const struct usm_config *cfg);

#endif
