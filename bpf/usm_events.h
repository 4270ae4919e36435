/* Event records shared by the BPF programs and the collector.
 * Plain fixed-width types only (compiled by both sides); the collector
 * checks every record's size and type before reading it. */
#ifndef USM_EVENTS_H
#define USM_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define USM_EXE_PATH_MAX 256
#define USM_COMM_LEN 16

/* The names a process chose, read by the kernel at exec (EXEC only):
 * - service: the value of OTEL_SERVICE_NAME, else of DD_SERVICE, from the
 *   new image's environment; at most USM_SERVICE_READ - 1 bytes are read,
 *   more than the collector accepts, so that a value too long is seen as
 *   too long rather than silently cut. Only the first USM_ENV_SCAN_BYTES
 *   of the environment are looked at, in at most USM_ENV_SCAN_READS reads
 *   of USM_ENV_CHUNK bytes (a variable set beyond is not seen).
 * - cgroup: the names of the process's cgroup (v2, the default hierarchy)
 *   and of its parents, leaf first, USM_CGROUP_LEVELS of them; "" above
 *   the root. A container runtime's cgroup names hold the container id
 *   (docker-<id>.scope, <id>, cri-containerd-<id>.scope, crio-<id>.scope,
 *   libpod-<id>.scope); the collector finds it. A name longer than
 *   USM_CGROUP_NAME_MAX - 1 bytes is cut (no container id is that long). */
#define USM_SERVICE_READ 72
#define USM_ENV_SCAN_BYTES (32 * 1024)
#define USM_ENV_SCAN_READS 512
#define USM_ENV_CHUNK 256
#define USM_CGROUP_LEVELS 3
#define USM_CGROUP_NAME_MAX 96

enum usm_service_source {
	USM_SERVICE_NONE = 0,
	USM_SERVICE_OTEL = 1, /* OTEL_SERVICE_NAME */
	USM_SERVICE_DD = 2,   /* DD_SERVICE */
};

enum usm_event_type {
	USM_EVENT_EXEC = 1,
	USM_EVENT_EXIT = 2,
	USM_EVENT_LIB_OPEN = 3,
	USM_EVENT_FORK = 4, /* struct usm_fork_event, not usm_proc_event */
};

/* The kernel-side library filter: file name prefixes (from the attach
 * policy's `library` rules) privd writes into rodata before load. */
#define USM_MAX_LIB_RULES 8
#define USM_LIB_PREFIX_MAX 16

/* One stream for process discovery, so that a process's exec, its
 * library opens and its exit arrive in order:
 * - EXEC, EXIT from the sched_process_exec / sched_process_exit BTF
 *   tracepoints (no tracefs needed); EXIT for thread-group leaders only.
 * - LIB_OPEN from the openat/openat2 syscall tracepoints: a successful
 *   open of a file whose name matches a library rule; set_id is that
 *   rule's probe set; dev/ino are the opened file's, read from the new fd.
 * - FORK (struct usm_fork_event below) from sched_process_fork.
 * dev is the kernel's encoding (MAJOR << 20 | MINOR); the collector
 * converts it to the st_dev form stat(2) returns. */
struct usm_proc_event {
	__u32 type; /* enum usm_event_type */
	__u32 pid;  /* tgid */
	__u32 ppid; /* EXEC only */
	__u16 path_len; /* bytes of path used, NUL included; 0 for exit */
	__u8 set_id;    /* LIB_OPEN only */
	__u8 pad;
	__u64 dev;  /* the executable's (EXEC) or the library's (LIB_OPEN) */
	__u64 ino;
	__u64 ktime_ns;
	char comm[USM_COMM_LEN];
	char path[USM_EXE_PATH_MAX];
	/* EXEC only (see above); NUL-terminated when read */
	__u8 service_from; /* enum usm_service_source */
	__u8 pad2[7];
	char service[USM_SERVICE_READ];
	char cgroup[USM_CGROUP_LEVELS][USM_CGROUP_NAME_MAX];
};

/* A new process (not a thread) forked by one whose exec found a service
 * name or a cgroup name long enough to hold a container id: it runs the
 * same image with the same environment and cgroup until it execs, so it
 * is named as its parent. Pre-forking servers (nginx, gunicorn, Apache
 * prefork) serve from such children. Only processes in named_tgids (at
 * most USM_NAMED_TGIDS, least recently used evicted) send it, so that a
 * fork costs a hash lookup and the ring buffer sees no other fork. The
 * first three fields are laid out as usm_proc_event's; the collector
 * tells the two apart by type, then by size. */
#define USM_NAMED_TGIDS 32768
struct usm_fork_event {
	__u32 type; /* USM_EVENT_FORK */
	__u32 pid;  /* the child's tgid */
	__u32 ppid; /* the parent's tgid */
	__u32 pad;
	__u64 ktime_ns;
};

/* TLS probe hit counters (per CPU), indexed by the attach cookie:
 * set_id * USM_MAX_FUNCS + function index, doubled for return probes. */
#define USM_MAX_SETS 8
#define USM_MAX_FUNCS 16
#define USM_PROBE_SLOTS (USM_MAX_SETS * USM_MAX_FUNCS * 2)
/* A cookie's slot is its low 7 bits (cookie % 128); bit 7 and above are
 * Go's (USM_GO_COOKIE below). */
_Static_assert(USM_MAX_SETS * USM_MAX_FUNCS == 128, "the cookie's slot is its low 7 bits");

/* ---- HTTP capture (bpf/http_capture.bpf.c -> collector) ---- */

/* What a probed TLS function means to the capture programs; the attach
 * policy's `role=` keyword, written by privd into the programs' rodata
 * per cookie slot. Every role reads the session from the first argument. */
enum usm_tls_role {
	USM_TLS_ROLE_NONE = 0, /* counted only */
	USM_TLS_ROLE_READ,     /* (session, buf, num) -> bytes read, at return */
	USM_TLS_ROLE_READ_EX,  /* (session, buf, num, size_t *readbytes) -> 1 on success */
	USM_TLS_ROLE_WRITE,    /* (session, buf, num): captured at entry */
	USM_TLS_ROLE_SET_FD,   /* (session, fd, ...): the session's socket */
	USM_TLS_ROLE_CLOSE,    /* (session): the session ends */
	/* Go's crypto/tls.(*Conn) methods, register ABI (amd64: RAX the
	 * *Conn, RBX the buffer, RCX its length; R14 the goroutine). */
	USM_TLS_ROLE_GO_READ,  /* Read: entry saves (conn, buf) per goroutine; a probe on each
				* RET instruction reads the count (RAX) and the bytes */
	USM_TLS_ROLE_GO_WRITE, /* Write: captured at entry */
	USM_TLS_ROLE_GO_CLOSE, /* Close: the connection ends */
	USM_TLS_ROLE_COUNT,
};

/* A Go probe's cookie: its slot (set_id * USM_MAX_FUNCS + function index,
 * as every cookie), whether it sits on a RET instruction rather than the
 * entry, and the binary's offsets (common/inspect_proto.h, struct
 * usm_inspect_go) the programs need, which differ per Go version:
 *   bits 0-6 slot, 7 on a RET, 8-19 goid, 20-31 conn, 32-43 netfd,
 *   44-55 sysfd, 56-63 family / 8. Other sets' cookies are the slot alone. */
#define USM_GO_COOKIE_RET (1ull << 7)
#define USM_GO_COOKIE(goid, conn, netfd, sysfd, family)                                          \
	(((__u64)(goid) << 8) | ((__u64)(conn) << 20) | ((__u64)(netfd) << 32) |                    \
	 ((__u64)(sysfd) << 44) | ((__u64)(family) / 8 << 56))
#define USM_GO_COOKIE_GOID(c) (((c) >> 8) & 0xfff)
#define USM_GO_COOKIE_CONN(c) (((c) >> 20) & 0xfff)
#define USM_GO_COOKIE_NETFD(c) (((c) >> 32) & 0xfff)
#define USM_GO_COOKIE_SYSFD(c) (((c) >> 44) & 0xfff)
#define USM_GO_COOKIE_FAMILY(c) (((c) >> 56) * 8)

enum usm_http_event_type {
	USM_EVENT_DATA = 16,       /* bytes read or written, with a prefix */
	USM_EVENT_CONN_CLOSE = 17, /* the connection (socket or TLS session) ended */
	USM_EVENT_CONN_BIND = 18,  /* a TLS session's socket is now known (tuple): its
				    * earlier records, emitted before, had none */
};

/* Capture cap: http_capture_bytes is 64..USM_CAPTURE_MAX. */
#define USM_CAPTURE_MAX 4096

/* More of a call than its first http_capture_bytes (bpf/README.md):
 * - a request head that begins a call of a method without a body (GET,
 *   HEAD, DELETE, OPTIONS) is followed up to USM_REQUEST_CAPTURE_MAX bytes
 *   of the call: pipelined requests are each seen;
 * - on an HTTP/2 connection the kernel walks the frames, and delivers
 *   every frame header, and the payload of HEADERS, CONTINUATION and
 *   PUSH_PROMISE frames up to USM_H2_PAYLOAD_MAX bytes each (frames close
 *   together in one record, the bytes between included), at most
 *   USM_H2_FRAMES_MAX frames per call; past that, or when a header cannot
 *   be read or a call was lost whole (walk_seq), the walk ends and the
 *   collector counts that direction's framing lost for the rest of the
 *   connection.
 * Every record of a call carries the call's ts_ns, len and walk_seq. */
#define USM_REQUEST_CAPTURE_MAX (64 * 1024)
#define USM_H2_PAYLOAD_MAX 16384 /* SETTINGS_MAX_FRAME_SIZE's default */
#define USM_H2_FRAMES_MAX 128

enum usm_data_dir {
	USM_DIR_READ = 0,  /* read by the process the event is from */
	USM_DIR_WRITE = 1, /* written by it */
};

/* A TCP connection as the process sees it; family 0 while not known
 * (a TLS session whose socket was not seen yet). Ports in host order,
 * addresses in network order (IPv4 in the first 4 bytes). */
struct usm_conn_tuple {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 family; /* 0, AF_INET (2) or AF_INET6 (10) */
	__u8 pad[3];
};

/* One read or write of a connection (DATA), or its end (CONN_CLOSE).
 * `conn` names the connection within the process: the TLS session
 * pointer when tls is 1, the kernel socket's address when tls is 0; a
 * socket that carries TLS is never reported as clear text. The record is
 * sizeof(struct usm_data_event) + the capture cap long; `captured` bytes
 * of data[] are valid: the call's bytes from `offset` on.
 *
 * A call is one record (offset 0) or, where more of it matters, several
 * in order (bpf/README.md, "More of a call"): each record's `next` says
 * where the call's next record starts, `len` when none follows; the
 * bytes between offset + captured and next were not captured (a gap).
 * So a record stands for the call's bytes [offset, next). */
struct usm_data_event {
	__u32 type; /* enum usm_http_event_type */
	__u32 pid;  /* tgid */
	__u32 tid;
	__u8 dir;   /* enum usm_data_dir */
	__u8 tls;   /* 1: TLS plaintext from the library probes; 0: socket syscalls */
	__u16 captured;
	__u32 len;    /* bytes the call read or wrote (DATA) */
	__u32 offset; /* where this record's bytes start in the call (DATA) */
	__u32 next;   /* where the call's next record starts; len: none (DATA) */
	__u32 walk_seq; /* an HTTP/2 connection the kernel walks: the call's number
			 * in its direction (1, 2, ...; 0: not walked); a number
			 * skipped is a call lost (DATA) */
	__u64 conn;
	__u64 ts_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	struct usm_conn_tuple tuple;
	char comm[USM_COMM_LEN];
	__u8 data[];
};

#endif
