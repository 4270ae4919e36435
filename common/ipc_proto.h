/* The messages usm's daemons exchange over nng IPC.
 *
 * Every message is a struct usm_msg_hdr followed by `length` bytes of
 * payload. Payloads are plain structs of fixed-width fields (both ends run
 * on one host from one build, so native byte order), either fixed-size or
 * a fixed part followed by `count` fixed-size elements with count bounded.
 * Strings are fixed char arrays that must end in NUL. ipc_codec.c holds the
 * table of every type with its size bounds and field checks; nothing reads
 * a payload before usm_msg_decode() accepted it.
 *
 * Who sends what:
 *   collector -> privd     USM_MSG_PRIVD_*_REQ      (privd/requests.c)
 *   apid -> collector      USM_MSG_COLL_*_REQ       (collector/queries.c)
 * Each request is answered by its _REP or by USM_MSG_ERROR. */
#ifndef USM_IPC_PROTO_H
#define USM_IPC_PROTO_H

#include <stdint.h>

#define USM_IPC_MAGIC 0x314d5355u /* "USM1" in memory order */
#define USM_IPC_VERSION 1
#define USM_IPC_MAX_MSG (64u * 1024u) /* NNG_OPT_RECVMAXSZ on every socket */
#define USM_IPC_PATH_MAX 256          /* paths carried in messages, NUL included */

struct usm_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;     /* enum usm_msg_type */
	uint32_t length;   /* payload bytes after the header */
	uint32_t reserved; /* must be 0 */
};
_Static_assert(sizeof(struct usm_msg_hdr) == 16, "header layout");

#define USM_IPC_MAX_PAYLOAD (USM_IPC_MAX_MSG - sizeof(struct usm_msg_hdr))

enum usm_msg_type {
	USM_MSG_ERROR = 1, /* struct usm_msg_error, any reply */

	/* collector -> privd */
	USM_MSG_PRIVD_HEALTH_REQ = 16, /* empty */
	USM_MSG_PRIVD_HEALTH_REP = 17, /* struct usm_health */
	USM_MSG_PRIVD_STATUS_REQ = 18, /* empty */
	USM_MSG_PRIVD_STATUS_REP = 19, /* struct usm_privd_status */
	USM_MSG_PRIVD_ATTACH_REQ = 20, /* struct usm_attach_req */
	USM_MSG_PRIVD_ATTACH_REP = 21, /* struct usm_attach_rep */
	USM_MSG_PRIVD_DETACH_REQ = 22, /* struct usm_detach_req */
	USM_MSG_PRIVD_DETACH_REP = 23, /* empty */
	USM_MSG_PRIVD_LIST_REQ = 24,   /* struct usm_page_req */
	USM_MSG_PRIVD_LIST_REP = 25,   /* struct usm_attachment_page + records */
	USM_MSG_PRIVD_SCAN_REQ = 26,   /* struct usm_page_req: cursor = first pid to scan */
	USM_MSG_PRIVD_SCAN_REP = 27,   /* struct usm_scan_page + records */

	/* apid -> collector */
	USM_MSG_COLL_STATS_REQ = 32,   /* empty */
	USM_MSG_COLL_STATS_REP = 33,   /* struct usm_stats */
	USM_MSG_COLL_TRACED_REQ = 34,  /* struct usm_page_req */
	USM_MSG_COLL_TRACED_REP = 35,  /* struct usm_traced_page + entries */
	USM_MSG_COLL_BLOCKED_REQ = 36, /* struct usm_page_req */
	USM_MSG_COLL_BLOCKED_REP = 37, /* struct usm_blocked_page + entries */
	USM_MSG_COLL_HEALTH_REQ = 38,  /* empty */
	USM_MSG_COLL_HEALTH_REP = 39,  /* struct usm_health, relayed from privd */
	USM_MSG_COLL_CONTROL_REQ = 40, /* struct usm_control_req */
	USM_MSG_COLL_CONTROL_REP = 41, /* struct usm_control_rep */
	USM_MSG_COLL_HTTP_STATS_REQ = 42, /* struct usm_http_stats_req */
	USM_MSG_COLL_HTTP_STATS_REP = 43, /* struct usm_http_stats_page + records */
};

/* ---- the vocabulary records carry ---- */

/* A request's method (usm_http_stats_record.method); the collector's parser
 * recognises exactly these. Names: usm_http_method_name(). */
enum usm_http_method {
	USM_HTTP_METHOD_UNKNOWN = 0, /* not known */
	USM_HTTP_METHOD_GET = 1,
	USM_HTTP_METHOD_HEAD = 2,
	USM_HTTP_METHOD_POST = 3,
	USM_HTTP_METHOD_PUT = 4,
	USM_HTTP_METHOD_DELETE = 5,
	USM_HTTP_METHOD_PATCH = 6,
	USM_HTTP_METHOD_OPTIONS = 7,
	USM_HTTP_METHOD_CONNECT = 8,
	USM_HTTP_METHOD_TRACE = 9,
	USM_HTTP_METHOD_COUNT = 10,
};

/* A server address's family (usm_http_stats_record.family): Linux's
 * AF_UNSPEC, AF_INET and AF_INET6, as the kernel reports them; ipc_codec.c
 * asserts that <sys/socket.h> agrees. No other value is accepted. */
enum usm_addr_family {
	USM_AF_UNSPEC = 0, /* address not known */
	USM_AF_INET = 2,
	USM_AF_INET6 = 10,
};

/* Probe sets of the attach policy (set_id fields): ids 0..USM_MAX_PROBE_SETS-1.
 * The collector asserts that the attach policy's ATTACH_MAX_SETS is this. */
#define USM_MAX_PROBE_SETS 8

/* ---- errors ---- */

struct usm_msg_error {
	int32_t code;       /* negative errno */
	char message[200];  /* NUL-terminated, printable */
};

/* ---- health (privd's supervisor, relayed to apid by the collector) ---- */

enum usm_role {
	USM_ROLE_PRIVD = 0,
	USM_ROLE_COLLECTOR = 1,
	USM_ROLE_APID = 2,
	USM_ROLE_COUNT = 3,
};

enum usm_proc_state {
	USM_PROC_RUNNING = 0,
	USM_PROC_RESTARTING = 1, /* died, waiting out its backoff */
	USM_PROC_FAILED = 2,     /* died too often: no longer restarted */
	USM_PROC_STATE_COUNT = 3,
};

struct usm_proc_health {
	uint32_t pid;      /* 0 while not running */
	uint8_t role;      /* enum usm_role, equal to its index */
	uint8_t state;     /* enum usm_proc_state */
	uint16_t pad;      /* must be 0 */
	int64_t up_since;  /* Unix seconds of the current (or last) start */
	uint32_t restarts; /* restarts since privd started */
	int32_t last_exit; /* last wait status as exit code, or 128+signal; -1 never */
};

struct usm_health {
	struct usm_proc_health proc[USM_ROLE_COUNT];
	uint64_t ipc_rejected_peers; /* privd: connections refused by uid */
	uint64_t ipc_bad_messages;   /* privd: requests rejected by the codec */
};

/* ---- statistics and registry views (collector -> apid) ---- */

enum usm_monitor_state {
	USM_STATE_DISABLED = 0,
	USM_STATE_RUNNING = 1,
	USM_STATE_NOT_RUNNING = 2, /* start failed; see error */
	USM_STATE_STOPPED = 3,
	USM_STATE_COUNT = 4,
};

/* Counters the collector reports; names in usm_counter_names[]. */
enum usm_counter {
	USM_CTR_IPC_REQUESTS = 0,      /* requests from apid answered */
	USM_CTR_IPC_BAD_MESSAGES,      /* requests from apid rejected by the codec */
	USM_CTR_IPC_REJECTED_PEERS,    /* connections to the collector refused by uid */
	USM_CTR_PRIVD_CALL_FAILURES,   /* requests to privd that failed or timed out */
	USM_CTR_PROC_EVENTS,           /* process discovery events consumed */
	USM_CTR_PROC_EVENTS_LOST,      /* ... the kernel could not queue (ring buffer full) */
	USM_CTR_PROC_EVENTS_MALFORMED, /* ... rejected by the collector (size, type, path) */
	USM_CTR_REG_REGISTERED,        /* registry: files attached */
	USM_CTR_REG_ALREADY_REGISTERED,/* registry: pids added to a traced file */
	USM_CTR_REG_HOOK_FAILED,       /* registry: attach failed, not the file's fault */
	USM_CTR_REG_BLOCKED,           /* registry: files blocklisted */
	USM_CTR_REG_BLOCKED_HITS,      /* registry: registers refused, file blocked */
	USM_CTR_REG_UNREGISTERED,      /* registry: pid removals */
	USM_CTR_REG_DETACHED,          /* registry: files detached after the last pid left */
	USM_CTR_REG_FULL,              /* registry: registers refused at the entry limit */
	USM_CTR_SCAN_PROCESSES,        /* start-up scan: records received */
	USM_CTR_PROBE_HITS,            /* TLS probe hits in the kernel (privd's STATUS) */
	USM_CTR_ATTACHMENTS,           /* files with probes in the kernel (privd's STATUS) */
	USM_CTR_DETACH_PENDING,        /* links privd is still closing */
	USM_CTR_HTTP_EVENTS,           /* HTTP capture records consumed */
	USM_CTR_HTTP_EVENTS_LOST,      /* ... the kernel could not queue (privd's STATUS) */
	USM_CTR_HTTP_EVENTS_MALFORMED, /* ... rejected by the collector's decoder */
	USM_CTR_HTTP_EXCHANGES,        /* request/response pairs aggregated */
	USM_CTR_HTTP_UNANSWERED,       /* requests expired or left at close without a response */
	USM_CTR_HTTP_ORPHAN_RESPONSES, /* responses with no request to answer */
	USM_CTR_HTTP_PIPELINE_OVERFLOW, /* requests past the pipelining depth, not tracked */
	USM_CTR_HTTP_PARSE_ERRORS,     /* garbage, desync and oversized heads in the parser;
					* HTTP/2 requests with a malformed :path */
	USM_CTR_HTTP_NOT_HTTP,         /* connections that turned out not to carry HTTP/1.x */
	USM_CTR_HTTP_CLIENT_DUPLICATES,/* client-side exchanges dropped: the server side is seen */
	USM_CTR_HTTP_CONNECTIONS,      /* connections tracked now (a gauge) */
	USM_CTR_HTTP_CONNECTIONS_EVICTED, /* dropped at max_tracked_connections */
	USM_CTR_HTTP_STATS_OVERFLOW,   /* exchanges counted in the overflow row (table full) */
	USM_CTR_HTTP_PATHS_TRUNCATED,  /* exchanges whose path was cut at http_max_path_len */
	USM_CTR_HTTP_STATS_ROWS,       /* rows in the statistics table now (a gauge) */
	USM_CTR_TRACED_FILES,          /* files in the registry now (a gauge) */
	USM_CTR_BLOCKED_FILES,         /* files on the blocklist now (a gauge) */
	USM_CTR_INSPECTIONS,           /* files inspected by an inspector (privd's STATUS) */
	USM_CTR_INSPECT_FAILURES,      /* ... that answered nothing usable */
	USM_CTR_INSPECT_TIMEOUTS,      /* ... that did not answer in time */
	USM_CTR_INSPECT_CACHE_HITS,    /* attaches answered from privd's inspection cache */
	USM_CTR_HTTP_WITHOUT_TUPLE,    /* exchanges aggregated without their connection's tuple */
	USM_CTR_HTTP2_CONNECTIONS,     /* connections found to be HTTP/2 */
	USM_CTR_HTTP2_HPACK_DESYNC,    /* HTTP/2 directions whose header tables are not trusted */
	USM_CTR_HTTP2_STARTED_UNSEEN,  /* HTTP/2 connections first seen after their start */
	USM_CTR_HTTP2_FRAMING_LOST,    /* HTTP/2 directions whose frames a capture gap broke */
	USM_CTR_HTTP2_STREAMS_RESET,   /* RST_STREAM on tracked streams */
	USM_CTR_HTTP2_PUSHES_IGNORED,  /* server pushes (decoded, not counted as exchanges) */
	USM_CTR_HTTP2_GOAWAY,          /* GOAWAY frames */
	USM_CTR_SERVICE_NAMES_REJECTED, /* exec events whose service name or cgroup was refused */
	USM_CTR_PROCESS_NAMES_DROPPED, /* named processes not kept: the process_names table full */
	USM_CTR_FORKS_PARENT_UNNAMED,  /* fork events whose parent's names were not kept */
	USM_CTR_COUNT,
};

struct usm_stats {
	uint8_t state;   /* enum usm_monitor_state */
	uint8_t pad[7];  /* must be 0 */
	int64_t last_check;  /* Unix seconds of the last consistency check, 0 never */
	int64_t started_at;  /* Unix seconds the collector started */
	char error[256];     /* start error, "" if none */
	uint64_t counters[USM_CTR_COUNT];
	/* From a kernel event (exec or library open) to the probes of a new
	 * file being live, over the last attachments (a bounded window). */
	uint64_t attach_latency_count;
	uint64_t attach_latency_p50_us;
	uint64_t attach_latency_p99_us;
	uint64_t attach_latency_max_us;
};

struct usm_page_req {
	uint64_t cursor; /* 0 for the first page, then the reply's next_cursor */
};

enum usm_program_type {
	USM_PROG_SHARED_LIBRARIES = 0,
	USM_PROG_ISTIO = 1,
	USM_PROG_NODEJS = 2,
	USM_PROG_GO_TLS = 3,
	USM_PROG_TYPE_COUNT = 4,
};

#define USM_PIDS_PER_RECORD 32
#define USM_PAGE_MAX_RECORDS 48

/* One traced file, or one slice of its pid list: a file traced for more
 * than USM_PIDS_PER_RECORD pids spans consecutive records with the same
 * (dev, inode, program_type), which the reader merges. */
#define USM_TRACED_RESIDENT 0x1 /* kept attached without pids (resident_libraries) */

struct usm_traced_record {
	uint64_t dev;
	uint64_t inode;
	uint8_t program_type; /* enum usm_program_type */
	uint8_t flags;        /* USM_TRACED_*, other bits 0 */
	uint8_t pad[2];       /* must be 0 */
	uint32_t npids;       /* pids used in this record, <= USM_PIDS_PER_RECORD */
	uint32_t pids[USM_PIDS_PER_RECORD];
	char path[USM_IPC_PATH_MAX];
};

struct usm_traced_page {
	uint64_t next_cursor; /* 0: this was the last page */
	uint64_t generation;  /* registry version; changes restart the listing */
	uint32_t count;       /* records that follow, <= USM_PAGE_MAX_RECORDS */
	uint32_t pad;         /* must be 0 */
	/* struct usm_traced_record records[count]; */
};

struct usm_blocked_record {
	uint64_t dev;
	uint64_t inode;
	uint8_t program_type; /* enum usm_program_type */
	uint8_t pad[7];       /* must be 0 */
	char reason[64];      /* "no-symbols" or the error */
	char sample_path[USM_IPC_PATH_MAX];
};

struct usm_blocked_page {
	uint64_t next_cursor;
	uint64_t generation;
	uint32_t count; /* <= USM_PAGE_MAX_RECORDS */
	uint32_t pad;
	/* struct usm_blocked_record records[count]; */
};

_Static_assert(sizeof(struct usm_traced_page) +
			       USM_PAGE_MAX_RECORDS * sizeof(struct usm_traced_record) <=
		       USM_IPC_MAX_PAYLOAD,
	       "a full traced page must fit one message");
_Static_assert(sizeof(struct usm_blocked_page) +
			       USM_PAGE_MAX_RECORDS * sizeof(struct usm_blocked_record) <=
		       USM_IPC_MAX_PAYLOAD,
	       "a full blocked page must fit one message");

/* ---- discovery and attachment (collector -> privd) ---- */

struct usm_privd_status {
	int32_t start_error;     /* 0, or -errno of the kernel side's start failure */
	uint8_t process_monitor; /* process events are flowing */
	uint8_t uprobe_multi;    /* attaching with uprobe_multi links (else classic) */
	uint8_t socket_filter;   /* start_error came from attaching a socket filter */
	uint8_t pad;             /* must be 0 */
	char error[200];         /* what failed, "" if nothing */
	uint64_t proc_events_lost; /* ring buffer reservations that failed in the kernel */
	uint32_t attachments;    /* files with probes attached now */
	uint32_t detach_pending; /* links still being closed */
	uint64_t probe_hits;     /* TLS probe hits since start (all functions) */
	uint64_t http_events_lost; /* HTTP capture records the ring buffer had no room for */
	uint64_t inspections;      /* inspectors started (files inspected, cache misses) */
	uint64_t inspect_failures; /* inspectors that answered nothing usable */
	uint64_t inspect_timeouts; /* inspectors that did not answer within inspect_timeout_ms */
	uint64_t inspect_cache_hits; /* attaches answered from the inspection cache */
};

struct usm_attach_req {
	uint32_t pid;          /* the file is the one this process sees at path;
				* 0: the one privd sees (resident_libraries) */
	uint8_t set_id;        /* probe set (attach policy), < USM_MAX_PROBE_SETS */
	uint8_t program_type;  /* enum usm_program_type */
	uint16_t pad;          /* must be 0 */
	uint64_t hint_dev;     /* identity the kernel reported, 0 if unknown */
	uint64_t hint_ino;
	char path[USM_IPC_PATH_MAX]; /* absolute */
};

struct usm_attach_rep {
	int32_t error;        /* 0: attached (created or already); else -errno */
	uint8_t created;      /* 1: new attachment; 0: it existed */
	uint8_t pad[3];       /* must be 0 */
	uint64_t attachment;  /* id, when error == 0 */
	uint64_t dev;         /* identity privd opened (when known) */
	uint64_t ino;
	char reason[64];      /* the file's fault ("no-symbols", ...), "" otherwise */
};

struct usm_detach_req {
	uint64_t attachment;
};

struct usm_attachment_record {
	uint64_t attachment;
	uint64_t dev;
	uint64_t ino;
	uint8_t set_id;       /* < USM_MAX_PROBE_SETS */
	uint8_t program_type; /* enum usm_program_type */
	uint8_t pad[6];       /* must be 0 */
	char path[USM_IPC_PATH_MAX];
};

struct usm_attachment_page {
	uint64_t next_cursor;
	uint32_t count; /* <= USM_PAGE_MAX_RECORDS */
	uint32_t pad;
};

enum usm_scan_kind {
	USM_SCAN_EXE = 0,     /* the process's executable */
	USM_SCAN_LIBRARY = 1, /* a mapped file matching a library rule */
	USM_SCAN_KIND_COUNT = 2,
};

struct usm_scan_record {
	uint32_t pid;
	uint8_t kind;   /* enum usm_scan_kind */
	uint8_t set_id; /* USM_SCAN_LIBRARY: the rule's probe set, < USM_MAX_PROBE_SETS */
	uint16_t pad;   /* must be 0 */
	uint64_t dev;
	uint64_t ino;
	char path[USM_IPC_PATH_MAX];
};

struct usm_scan_page {
	uint64_t next_cursor; /* next pid to scan; 0 when done */
	uint32_t count;       /* <= USM_PAGE_MAX_RECORDS */
	uint32_t pad;
};

/* ---- HTTP statistics (apid -> collector) ---- */

/* Upper bounds (seconds) of the Prometheus histogram buckets of
 * usm_http_request_duration_seconds, besides +Inf. */
#define USM_HTTP_BUCKETS 12
#define USM_HTTP_BUCKET_BOUNDS_NS                                                                  \
	{                                                                                          \
		1000000ull, 5000000ull, 10000000ull, 25000000ull, 50000000ull, 100000000ull,       \
			250000000ull, 500000000ull, 1000000000ull, 2500000000ull, 5000000000ull,   \
			10000000000ull                                                             \
	}
#define USM_HTTP_PATH_MAX 256 /* NUL included: http_max_path_len <= 255 */
/* A service name a process chose (OTEL_SERVICE_NAME, DD_SERVICE): at most
 * 63 bytes, NUL included 64. */
#define USM_SERVICE_MAX 64
/* A container id: 64 lowercase hex digits; the field holds them, the NUL,
 * and rounds up to keep records 8-byte aligned. */
#define USM_CONTAINER_ID_LEN 64
#define USM_CONTAINER_ID_MAX 72
#define USM_HTTP_PAGE_MAX_RECORDS 96

enum usm_http_stats_flags {
	/* Read and reset (api_control only): the first page (cursor 0) swaps
	 * the table for an empty one and pages through the old one; later
	 * pages carry the flag and the cursor they were given. */
	USM_HTTP_STATS_RESET = 1,
};

struct usm_http_stats_req {
	uint64_t cursor;  /* 0, then the reply's next_cursor */
	uint32_t pid;     /* filter: 0 any */
	uint16_t status;  /* filter: 0 any, else 100..599 */
	uint8_t flags;    /* enum usm_http_stats_flags */
	uint8_t protocol; /* filter: 0 any, else enum usm_http_protocol */
	char path[USM_HTTP_PATH_MAX]; /* filter: "" any, else this exact path */
};

/* The protocol of an exchange. Names: usm_http_protocol_name(). */
enum usm_http_protocol {
	USM_HTTP_PROTO_HTTP1 = 1, /* "http/1.1" (HTTP/1.0 too) */
	USM_HTTP_PROTO_H2 = 2,    /* "h2" (over TLS or clear text) */
	USM_HTTP_PROTO_COUNT,
};

#define USM_GRPC_STATUS_NONE (-1) /* not gRPC, or no grpc-status seen */
#define USM_GRPC_STATUS_MAX 16

/* One row: (server, protocol, method, path, status, gRPC status) with its
 * totals. */
struct usm_http_stats_record {
	uint8_t addr[16];  /* server address, network order; family 0: unknown */
	uint8_t family;    /* enum usm_addr_family */
	uint8_t method;    /* enum usm_http_method, < USM_HTTP_METHOD_COUNT */
	uint16_t port;     /* server port, 0 unknown */
	uint16_t status;   /* 100..599 */
	uint8_t protocol;  /* enum usm_http_protocol */
	int8_t grpc_status; /* 0..USM_GRPC_STATUS_MAX, or USM_GRPC_STATUS_NONE */
	uint32_t pid;      /* server pid, 0 unknown */
	char comm[16];     /* server command, "" unknown */
	char path[USM_HTTP_PATH_MAX]; /* without the query string */
	/* The server's service: the name its process chose, else its command;
	 * "" unknown. Its container id, "" when not in a container or not
	 * known. */
	char service[USM_SERVICE_MAX];
	char container_id[USM_CONTAINER_ID_MAX];
	uint64_t count;
	uint64_t bytes;    /* request + response */
	uint64_t latency_sum_ns;
	uint64_t p50_ns, p90_ns, p99_ns, max_ns; /* from the sketch: within 1 % */
	uint64_t buckets[USM_HTTP_BUCKETS]; /* exchanges with latency <= bound (cumulative) */
};

struct usm_http_stats_page {
	uint64_t next_cursor; /* 0: this was the last page */
	uint64_t generation;  /* table version; a change means restart */
	uint32_t count;       /* records that follow, <= USM_HTTP_PAGE_MAX_RECORDS */
	uint32_t pad;         /* must be 0 */
	/* struct usm_http_stats_record records[count]; */
};

_Static_assert(sizeof(struct usm_http_stats_page) +
			       USM_HTTP_PAGE_MAX_RECORDS * sizeof(struct usm_http_stats_record) <=
		       USM_IPC_MAX_PAYLOAD,
	       "a full HTTP statistics page must fit one message");

/* ---- control (apid -> collector), only with api_control = true ---- */

enum usm_control_action {
	USM_CONTROL_CLEAR_BLOCKED = 0,
	USM_CONTROL_ATTACH_PID = 1,
	USM_CONTROL_DETACH_PID = 2,
	USM_CONTROL_ACTION_COUNT = 3,
};

struct usm_control_req {
	uint8_t action;       /* enum usm_control_action */
	uint8_t program_type; /* enum usm_program_type (attach/detach) */
	uint16_t pad;         /* must be 0 */
	uint32_t pid;         /* attach/detach: > 0 */
};

struct usm_control_rep {
	int32_t error;     /* 0 or -errno */
	uint32_t affected; /* files attached / detached / unblocked */
	char message[120];
};

_Static_assert(sizeof(struct usm_attachment_page) +
			       USM_PAGE_MAX_RECORDS * sizeof(struct usm_attachment_record) <=
		       USM_IPC_MAX_PAYLOAD,
	       "a full attachment page must fit one message");
_Static_assert(sizeof(struct usm_scan_page) + USM_PAGE_MAX_RECORDS * sizeof(struct usm_scan_record) <=
		       USM_IPC_MAX_PAYLOAD,
	       "a full scan page must fit one message");

#endif
