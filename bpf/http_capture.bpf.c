// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/* HTTP capture: the plaintext of TLS library calls (uprobes) and of socket
 * syscalls (clear text), as struct usm_data_event records on one ring
 * buffer the collector reads.
 *
 * TLS (uprobes, attached per file by privd; uprobe_multi links carry a
 * cookie = set_id * USM_MAX_FUNCS + function index, and the rodata table
 * tls_role[] says what each function means, from the attach policy):
 * - read / read_ex: entry saves (session, buf) per thread; return reads
 *   the byte count and emits the first bytes. The data exists only then.
 * - write: emitted at entry (the data and its length are the arguments),
 *   so a write costs one probe hit, not two (DESIGN.md: hits are the cost).
 * - set_fd: binds the session to its socket; close: the session ends.
 * - Go's crypto/tls (go_read, go_write, go_close; go_tls below): the
 *   same, with Go's register ABI, the call state keyed by goroutine, a
 *   Read's count read on each of its RET instructions (no return probes:
 *   they break Go's moving stacks), and the socket read from the
 *   tls.Conn itself at the offsets the probe's cookie carries.
 *
 * The connection tuple is read in the kernel from the session's socket.
 * A session learns its socket from set_fd, or, for libraries used with
 * their own BIO (curl), from the first socket syscall the thread makes
 * inside a TLS call of that session: thread_calls holds the call in
 * progress, and the syscall tracepoints below bind it. Such a socket is
 * marked in tls_socks and never reported as clear text; that binding is
 * reported (CONN_BIND) so the collector can key what came before it.
 *
 * Clear text (the BTF syscall tracepoints, no kprobes): read, write,
 * recvfrom, sendto, readv, writev, recvmsg, sendmsg on TCP sockets: enter saves
 * (socket, buffer), exit emits what the call returned (for vectors, the
 * bytes of up to USM_IOV_MAX iovecs in order, as one prefix: a server that
 * writes a frame header and its payload, or a head and its body, from
 * separate buffers is seen as the peer sees it; the length is the whole
 * call's);
 * sendfile's bytes count as a gap of uncaptured data, so the parser keeps
 * its framing. close() of a reported socket emits CONN_CLOSE. Each read
 * and write is seen once, in the process that made it: loopback traffic
 * is not seen twice, as a packet capture on lo would see it.
 *
 * usm's own processes (privd's tgid, the children's uids) and connections
 * to or from its API port are ignored. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sock_tuple.bpf.h"
#include "usm_events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by privd before load. */
const volatile __u8 tls_role[USM_MAX_SETS * USM_MAX_FUNCS] = {};
const volatile __u32 capture_bytes = 512; /* http_capture_bytes, 64..USM_CAPTURE_MAX */
const volatile __u8 capture_plaintext = 0; /* enable_http_monitoring */
const volatile __u32 ignored_tgid = 0;     /* privd */
const volatile __u32 ignored_uid[2] = {};  /* collector, apid (0: none) */
const volatile __u16 ignored_port = 0;     /* the API's port */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* privd sets http_ring_buffer_mb */
} http_events SEC(".maps");

/* Records that did not fit the ring buffer, for STATUS. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} http_events_lost SEC(".maps");

/* Probe hits per cookie slot and kind, for STATUS and the benchmarks. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, USM_PROBE_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} probe_hits SEC(".maps");

/* A TLS call in progress on a thread. */
struct tls_call {
	__u64 session;
	__u64 buf;
	__u64 readbytes; /* read_ex: where the count is written */
	__u64 ts_ns;
	__u8 role;       /* USM_TLS_ROLE_NONE: no call in progress */
	__u8 bound;      /* tuple below is the session's */
	__u8 pad[6];
	struct usm_conn_tuple tuple;
};

/* A clear-text syscall in progress on a thread. */
struct plain_call {
	__u64 sk;      /* 0: none in progress */
	__u64 buf;     /* 0: nothing to capture (sendfile) */
	__u32 buf_max; /* bytes of buf that belong to this call's first iovec */
	__u8 dir;
	__u8 pad[3];
	__u64 iov;     /* a vector call's iovec array (user memory); 0: buf alone */
	__u64 iovcnt;
	struct usm_conn_tuple tuple;
};

/* Iovecs of one vector call read, at most (a power of two): servers
 * write a head and a body, or an HTTP/2 frame header and its payload, in
 * a few; gRPC's core writes every frame header and payload from a slice
 * of its own, a dozen to a few hundred per call. Frames past the last one
 * read cannot be walked: the collector counts that framing lost. */
#define USM_IOV_MAX 128

/* Ranges of one call captured beyond its first record (a power of two). */
#define USM_RANGES_MAX 32

/* A record of a range this short (a frame header) is this small. */
#define USM_SMALL_RECORD 16

/* Ranges this close are joined: the bytes between (a small DATA payload)
 * cost less than another record. */
#define USM_H2_JOIN_GAP 128

struct call_range {
	__u32 start;
	__u32 end;
};

/* Where a call's bytes are: one buffer, of which max bytes belong to the
 * call, or (niov > 0) a vector call's iovecs, read once into the per-CPU
 * call_scratch. len: the bytes the call read or wrote. */
struct call_src {
	__u64 buf;
	__u64 max;
	__u64 len;
	__u32 niov;
	__u32 pad;
};

/* A frame walk, and then the emission of its plan, in progress. Kept in
 * the scratch map rather than on the stack: the verifier tracks a stack
 * value exactly, and an offset that grows with each bpf_loop iteration
 * never let it see two iterations as the same state. */
struct walk_ctx {
	struct call_src src;
	__u64 floor;    /* the first record's end: ranges start after it */
	__u64 off;      /* the walk: the next frame header; the emission: the
			 * call's bytes before it are emitted */
	__u32 nranges;
	__u32 lost;     /* a header could not be read */
	__u32 r;        /* the emission: the range off is in or before */
	__u32 seq;      /* the call's walk_seq (0: not walked) */
	__u32 gen;      /* the capture this is for (emit_from's s->gen) */
};

/* gather_at's progress (in the scratch, as walk_ctx below). */
struct gather_state {
	__u64 off;  /* the call's bytes wanted from off ... */
	__u64 n;    /* ... n of them */
	__u64 done; /* put together so far */
	__u64 pos;  /* where iovec i starts in the call */
	__u32 i;
	__u32 niov;
};

/* Per-CPU working space of one call's capture: a vector call's iovecs,
 * read once; bytes put together from them (twice the largest capture, so
 * that every copy's offset and size, each at most USM_CAPTURE_MAX, fit:
 * the verifier cannot relate the two); the ranges planned beyond the
 * first record; the first record's header, which the others repeat. */
struct call_scratch {
	__u8 buf[2 * USM_CAPTURE_MAX];
	struct iovec iov[USM_IOV_MAX];
	struct call_range ranges[USM_RANGES_MAX];
	struct walk_ctx w;
	/* Counts captures on this CPU. A uprobe program can be preempted (it
	 * runs with migration, not preemption, disabled), and another
	 * capture on the CPU meanwhile overwrites this scratch: the walk and
	 * the emission stop when the count is not theirs. */
	__u32 gen;
	struct gather_state g;
	__u32 hint_i;   /* gather_at: the iovec where the last gather began ... */
	__u64 hint_pos; /* ... and its offset in the call */
	__u8 first[24]; /* the call's first bytes, as the first record holds them */
	struct usm_data_event head; /* its data[] unused */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct call_scratch);
} call_scratch SEC(".maps");

/* An HTTP/2 connection's frame walk, per process, connection and
 * direction: where the next frame header starts in the next call (skip),
 * or the first `have` bytes of a header the last call ended inside. */
struct h2_walk_key {
	__u64 conn;
	__u32 tgid;
	__u32 dir;
};

struct h2_walk {
	__u32 skip;
	__u32 have;
	__u8 hdr[16];
	__u64 tuple_id; /* the connection's, once known: a key reused by another is not it */
	__u32 seq;      /* calls walked (the records' walk_seq) */
	__u32 pad;
};

/* LRU: connections whose end was not seen age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct h2_walk_key);
	__type(value, struct h2_walk);
} h2_walks SEC(".maps");

/* A connection's identity within the struct sock it lives in: its ports
 * and a fold of its addresses. A connected TCP socket keeps its tuple for
 * life; the next connection to get the same struct sock has another. */
static __always_inline __u64 tuple_id(const struct usm_conn_tuple *t)
{
	__u32 w[8];
	__builtin_memcpy(w, t->laddr, 16);
	__builtin_memcpy(w + 4, t->raddr, 16);
	__u32 h = 2166136261u ^ t->family; /* FNV-1a, by words */
	for (int i = 0; i < 8; i++)
		h = (h ^ w[i]) * 16777619u;
	return (__u64)t->lport << 48 | (__u64)t->rport << 32 | h;
}

/* A direction's walk cannot go on (its call was not captured). */
static __always_inline void forget_walk(__u64 conn, __u8 dir)
{
	struct h2_walk_key k = {.conn = conn,
				.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32),
				.dir = dir};
	bpf_map_delete_elem(&h2_walks, &k);
}

/* A connection ended: its walks too. */
static __always_inline void forget_walks(__u64 conn)
{
	struct h2_walk_key k = {.conn = conn, .tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
	k.dir = USM_DIR_READ;
	bpf_map_delete_elem(&h2_walks, &k);
	k.dir = USM_DIR_WRITE;
	bpf_map_delete_elem(&h2_walks, &k);
}

/* A TLS write whose session has no socket yet: the thread's next socket
 * write, within BIND_WINDOW_NS, carries its records. Apart from the read
 * call state: node calls SSL_read between its SSL_write and the socket
 * write that flushes it, and a shared slot lost the pending binding. */
struct write_bind {
	__u64 session;	/* 0: none pending */
	__u64 ts_ns;
};

struct thread_calls {
	struct tls_call tls;
	struct plain_call plain;
	struct write_bind wbind;
};

/* Per-thread call state in task local storage rather than a hash keyed by
 * thread: no global lock on the hot path (an LRU hash update took a good
 * part of each probe's time), nothing left behind when a thread dies, and
 * a write call's pending binding is simply overwritten by the next call. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_calls);
} thread_calls SEC(".maps");

static __always_inline struct thread_calls *calls(bool create)
{
	return bpf_task_storage_get(&thread_calls, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

struct session_key {
	__u64 session;
	__u32 tgid;
	__u32 pad;
};

/* A session's connection, once known. LRU: sessions freed unseen age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct session_key);
	__type(value, struct usm_conn_tuple);
} tls_sessions SEC(".maps");

/* Sockets that carry TLS (struct sock *): not clear text. The value is
 * the connection's tuple_id: close() deletes an entry, but a socket
 * released without one (the process exited with it open, as wget does
 * with its kept-alive connection; dup2, close_range) leaves it behind,
 * and the kernel soon hands its struct sock to a new connection, often a
 * clear-text one (a server's next accepted socket). An entry whose id is
 * not the socket's own is such a leftover: dropped, not obeyed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} tls_socks SEC(".maps");

/* Sockets reported as clear text, so that their close is reported. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} plain_socks SEC(".maps");


/* Only the threads of a TLS call bind a socket to its session, and only
 * for this long after the call began: a write call with a memory BIO
 * (node) makes no syscall itself, and its caller's next socket write is
 * the one that carries the records. */
#define BIND_WINDOW_NS (100ull * 1000 * 1000)

/* Records waiting before the collector is woken (see emit). */
#define WAKEUP_BYTES (64 * 1024)

static __always_inline void count_hit(__u64 cookie, __u32 ret)
{
	__u32 slot = (__u32)(cookie % (USM_MAX_SETS * USM_MAX_FUNCS)) * 2 + ret;
	__u64 *hits = bpf_map_lookup_elem(&probe_hits, &slot);
	if (hits)
		*hits += 1;
}

static __always_inline void count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&http_events_lost, &zero);
	if (lost)
		*lost += 1;
}


static __always_inline __u32 load_iovs(struct call_scratch *s, __u64 uiov, __u64 iovcnt)
{
	__u64 n = iovcnt < USM_IOV_MAX ? iovcnt : USM_IOV_MAX;
	if (n == 0 || bpf_probe_read_user(s->iov, n * sizeof(struct iovec), (const void *)uiov) != 0)
		return 0;
	s->hint_i = 0;
	s->hint_pos = 0;
	return (__u32)n;
}

static long gather_step(__u64 j, void *ctx)
{
	__u32 zero = 0;
	struct call_scratch *s = bpf_map_lookup_elem(&call_scratch, &zero);
	if (!s)
		return 1;
	struct gather_state *g = &s->g;
	__u32 i = g->i;
	__u64 done = g->done, n = g->n, off = g->off, pos = g->pos;
	if (i >= g->niov || i >= USM_IOV_MAX || done >= n || n > USM_CAPTURE_MAX)
		return 1;
	struct iovec iov = s->iov[i & (USM_IOV_MAX - 1)];
	if (done == 0 && off < pos + iov.iov_len) {
		s->hint_i = i;
		s->hint_pos = pos;
	}
	if (off + done < pos + iov.iov_len) {
		__u64 within = off + done - pos;
		__u64 take = iov.iov_len - within;
		if (take > n - done)
			take = n - done;
		/* no-ops (done < n <= USM_CAPTURE_MAX) that give the verifier
		 * its bounds: done + take < sizeof(s->buf) */
		done &= USM_CAPTURE_MAX - 1;
		if (take > USM_CAPTURE_MAX)
			take = USM_CAPTURE_MAX;
		if (bpf_probe_read_user(s->buf + done, take, (const __u8 *)iov.iov_base + within) != 0)
			return 1;
		g->done = done + take;
	}
	g->pos = pos + iov.iov_len;
	g->i = i + 1;
	return 0;
}

/* Puts bytes [off, off + n) of a vector call (n <= USM_CAPTURE_MAX,
 * niov iovecs in the scratch) together at the start of the scratch's
 * buf; returns how many it holds. A walk reads forward, so the search
 * starts at the iovec the last gather began in when off is past it. A
 * global function, and its loop a bpf_loop over state in the scratch:
 * inlined, or as a plain loop, it multiplied the verifier's states past
 * its limit. */
__noinline int gather_at(__u32 niov, __u64 off, __u64 n)
{
	__u32 zero = 0;
	struct call_scratch *s = bpf_map_lookup_elem(&call_scratch, &zero);
	if (!s || n > USM_CAPTURE_MAX)
		return 0;
	struct gather_state *g = &s->g;
	bool hinted = off >= s->hint_pos && s->hint_i < niov;
	g->i = hinted ? s->hint_i : 0;
	g->pos = hinted ? s->hint_pos : 0;
	g->niov = niov;
	g->off = off;
	g->n = n;
	g->done = 0;
	bpf_loop(USM_IOV_MAX, gather_step, NULL, 0);
	return (int)g->done;
}

/* Bytes [off, off + n) of the call at the start of s->buf (n <= 16). */
static __always_inline __u64 fetch_small(const struct call_src *src, struct call_scratch *s,
					 __u64 off, __u64 n)
{
	barrier_var(n); /* the check below must bound the register used */
	if (n > 16)
		return 0;
	if (src->niov)
		return (__u64)gather_at(src->niov, off, n);
	if (!src->buf || off + n > src->max || bpf_probe_read_user(s->buf, n, (const void *)(src->buf + off)) != 0)
		return 0;
	return n;
}

/* Copies bytes [off, off + n) of the call, at most the capture cap, into
 * a record's data; returns how many. */
static __always_inline __u64 copy_range(const struct call_src *src, struct call_scratch *s,
					__u64 off, __u64 n, __u8 *dst)
{
	if (off >= src->len)
		return 0;
	if (n > src->len - off)
		n = src->len - off;
	if (n > capture_bytes)
		n = capture_bytes;
	if (n > USM_CAPTURE_MAX)
		n = USM_CAPTURE_MAX;
	if (src->niov) {
		__u64 got = s ? (__u64)gather_at(src->niov, off, n) : 0;
		barrier_var(got); /* the verifier's bound on what fits dst */
		if (got > capture_bytes)
			got = capture_bytes;
		if (got > USM_CAPTURE_MAX)
			got = USM_CAPTURE_MAX;
		return got && bpf_probe_read_kernel(dst, got, s->buf) == 0 ? got : 0;
	}
	if (!src->buf || off >= src->max)
		return 0;
	if (n > src->max - off)
		n = src->max - off;
	return n && bpf_probe_read_user(dst, n, (const void *)(src->buf + off)) == 0 ? n : 0;
}

/* ---- more of a call (usm_events.h, USM_REQUEST_CAPTURE_MAX, USM_H2_*) ---- */

/* A request line of a method that carries no body: what follows its head
 * in the same call is the next pipelined request. */
static __always_inline bool bodiless_request(const __u8 *d)
{
	return (d[0] == 'G' && d[1] == 'E' && d[2] == 'T' && d[3] == ' ') ||
	       (d[0] == 'H' && d[1] == 'E' && d[2] == 'A' && d[3] == 'D' && d[4] == ' ') ||
	       (d[0] == 'D' && d[1] == 'E' && d[2] == 'L' && d[3] == 'E' && d[4] == 'T' &&
		d[5] == 'E' && d[6] == ' ') ||
	       (d[0] == 'O' && d[1] == 'P' && d[2] == 'T' && d[3] == 'I' && d[4] == 'O' &&
		d[5] == 'N' && d[6] == 'S' && d[7] == ' ');
}

/* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", the client's connection preface. */
static __always_inline bool h2_preface(const __u8 *d)
{
	static const char p[24] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	for (int i = 0; i < 24; i++)
		if (d[i] != (__u8)p[i])
			return false;
	return true;
}

/* A SETTINGS frame on stream 0 without flags, the server's preface (or
 * the client's after its magic): no HTTP/1 message starts with a zero. */
static __always_inline bool h2_settings(const __u8 *d)
{
	__u32 len = (__u32)d[1] << 8 | d[2]; /* at most 64 settings, as the collector accepts */
	return d[0] == 0 && len % 6 == 0 && len <= 6 * 64 && d[3] == 4 && d[4] == 0 && d[5] == 0 &&
	       d[6] == 0 && d[7] == 0 && d[8] == 0;
}

/* Frames whose payload the collector reads (collector/h2_link.c,
 * keeps_payload): header blocks. Of the others it needs the header alone. */
static __always_inline bool h2_payload_kept(__u8 type)
{
	return type == 1 /* HEADERS */ || type == 9 /* CONTINUATION */ ||
	       type == 5 /* PUSH_PROMISE */;
}

/* Adds [start, end) to the plan, past the first record and joined to the
 * last range it touches: the plan stays sorted and its ranges apart. */
static __always_inline void add_range(struct call_scratch *s, struct walk_ctx *w, __u64 start,
				      __u64 end)
{
	if (end > w->src.len)
		end = w->src.len;
	if (start < w->floor)
		start = w->floor;
	if (end <= start)
		return;
	__u32 k = w->nranges;
	if (k > 0 && k <= USM_RANGES_MAX) {
		/* a small gap costs less copied than another record; out of
		 * ranges, the last one grows to take the rest of the call's
		 * frames whole (bounded by the records a call may have) */
		struct call_range *last = &s->ranges[(k - 1) & (USM_RANGES_MAX - 1)];
		if (start <= last->end + USM_H2_JOIN_GAP || k >= USM_RANGES_MAX) {
			if (end > last->end)
				last->end = (__u32)end;
			return;
		}
	}
	if (k >= USM_RANGES_MAX)
		return;
	s->ranges[k & (USM_RANGES_MAX - 1)] = (struct call_range){(__u32)start, (__u32)end};
	w->nranges = k + 1;
}

/* The range one frame whose header is at off needs (h[] its header). */
static __always_inline void frame_range(struct call_scratch *s, struct walk_ctx *w, __u64 at,
					__u64 hdr_end, const __u8 *h)
{
	__u64 flen = (__u64)h[0] << 16 | (__u64)h[1] << 8 | h[2];
	__u64 keep = h2_payload_kept(h[3]) ? (flen < USM_H2_PAYLOAD_MAX ? flen : USM_H2_PAYLOAD_MAX)
					   : 0;
	add_range(s, w, at, hdr_end + keep);
	w->off = hdr_end + flen;
}

static long walk_frame(__u64 i, void *ctx)
{
	__u32 zero = 0, *gen = ctx;
	struct call_scratch *s = bpf_map_lookup_elem(&call_scratch, &zero);
	if (!s || !gen)
		return 1;
	struct walk_ctx *w = &s->w;
	if (s->gen != *gen) {
		w->lost = 1; /* another capture took the scratch */
		return 1;
	}
	if (w->lost || w->off + 9 > w->src.len)
		return 1;
	if (fetch_small(&w->src, s, w->off, 9) != 9) {
		w->lost = 1;
		return 1;
	}
	frame_range(s, w, w->off, w->off + 9, s->buf);
	return 0;
}

/* Plans the ranges of an HTTP/2 connection's call beyond its first
 * `captured` bytes (e: the call's first record, filled): every frame
 * header, and the payloads h2_payload_kept names. A connection is walked
 * from its preface on; its state, where the next header falls, carries
 * from call to call. Returns the number of ranges in s->ranges; 0 also
 * for a call that is not HTTP/2. */
static __always_inline __u32 h2_plan(const struct call_src *src, struct call_scratch *s,
				     __u64 captured, __u32 *gen)
{
	struct h2_walk_key k = {.conn = s->head.conn, .tgid = s->head.pid, .dir = s->head.dir};
	struct h2_walk *st = bpf_map_lookup_elem(&h2_walks, &k);
	__u64 tid = s->head.tuple.family ? tuple_id(&s->head.tuple) : 0;
	/* A preface begins a connection: a walk left under the same key (a
	 * session or socket address reused after an end not seen) is over;
	 * so is one whose connection had another tuple. */
	bool preface = captured >= 24 && h2_preface(s->first);
	if (st && tid && st->tuple_id && st->tuple_id != tid)
		st = NULL;
	if (!st || preface) {
		__u32 start;
		if (preface)
			start = 24;
		else if (captured >= 9 && h2_settings(s->first))
			start = 0;
		else
			return 0;
		struct h2_walk fresh = {.skip = start, .tuple_id = tid};
		bpf_map_update_elem(&h2_walks, &k, &fresh, BPF_ANY);
		if (!(st = bpf_map_lookup_elem(&h2_walks, &k)))
			return 0;
	}
	if (!st->tuple_id)
		st->tuple_id = tid;
	if (++st->seq == 0)
		st->seq = 1;
	__u64 len = src->len;
	struct walk_ctx *w = &s->w;
	w->src = *src;
	w->floor = captured;
	w->off = st->skip;
	w->nranges = 0;
	w->lost = 0;
	w->seq = st->seq;
	__u32 have = st->have;
	if (have > 0 && have < 9) {
		/* the call begins with the rest of a header the last one cut */
		__u64 need = 9 - have;
		__u64 got = fetch_small(src, s, 0, need < len ? need : len);
		for (int j = 0; j < 9; j++) {
			__u32 at = (__u32)j - have;
			barrier_var(at); /* keep the mask below for the verifier */
			if ((__u32)j >= have && (__u64)j < have + got)
				st->hdr[j] = s->buf[at & 15];
		}
		if (got < (need < len ? need : len)) {
			bpf_map_delete_elem(&h2_walks, &k); /* unreadable: the walk is lost */
			return 0;
		}
		add_range(s, w, 0, got);
		if (got < need) {
			st->have = have + (__u32)got;
			return w->nranges;
		}
		st->have = 0;
		frame_range(s, w, 0, need, st->hdr);
	}
	bpf_loop(USM_H2_FRAMES_MAX, walk_frame, gen, 0);
	if (s->gen != *gen) {
		bpf_map_delete_elem(&h2_walks, &k); /* its plan was overwritten */
		return 0;
	}
	if (w->lost || w->off + 9 <= len) {
		/* a header that could not be read, or more frames than one walk
		 * covers: the walk ends, and the collector, finding a header
		 * where nothing was captured, counts that direction's framing
		 * lost for the rest of the connection */
		bpf_map_delete_elem(&h2_walks, &k);
		return w->nranges;
	}
	if (w->off < len) {
		/* a header cut by the call's end: keep its first bytes */
		__u64 got = fetch_small(src, s, w->off, len - w->off);
		if (got != len - w->off) {
			bpf_map_delete_elem(&h2_walks, &k);
			return w->nranges;
		}
		add_range(s, w, w->off, len);
		for (int j = 0; j < 9; j++)
			if ((__u64)j < got)
				st->hdr[j] = s->buf[j];
		st->have = (__u32)got;
		st->skip = 0;
	} else {
		st->skip = (__u32)(w->off - len);
		st->have = 0;
	}
	return w->nranges;
}

/* A call's plan beyond its first record (s->head and s->first hold it;
 * captured: its bytes): an HTTP/2 connection's frames, else the
 * pipelined requests after a bodiless request head. Returns the number of
 * ranges in s->ranges. A global function: the verifier checks it once,
 * not at each of the many places the capture is inlined. */
__noinline int plan_call(const struct call_src *src, __u64 captured, __u32 gen)
{
	__u32 zero = 0;
	struct call_scratch *s = bpf_map_lookup_elem(&call_scratch, &zero);
	if (!src || !s || captured == 0 || captured > USM_CAPTURE_MAX)
		return 0;
	struct call_src c = *src;
	s->w.seq = 0;
	__u32 n = h2_plan(&c, s, captured, &gen);
	if (n || captured < 8 || c.len <= captured || !bodiless_request(s->first))
		return (int)n;
	s->ranges[0].start = (__u32)captured;
	s->ranges[0].end = c.len < USM_REQUEST_CAPTURE_MAX ? (__u32)c.len : USM_REQUEST_CAPTURE_MAX;
	return 1;
}

static __always_inline void submit(struct usm_data_event *e)
{
	/* Wake the collector only once a batch waits: a wakeup per record
	 * costs more than the record. It also polls the ring every 100 ms. */
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&http_events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES
				      ? BPF_RB_FORCE_WAKEUP
				      : BPF_RB_NO_WAKEUP);
}

/* Emits the next record of a planned call, up to the capture cap of the
 * range at pos, its header the first record's; or moves past a range
 * done. The ranges are sorted and apart, so the next record starts where
 * this one ends, or at the next range. */
static long emit_chunk(__u64 i, void *ctx)
{
	__u32 zero = 0, *gen = ctx;
	struct call_scratch *s = bpf_map_lookup_elem(&call_scratch, &zero);
	if (!s || !gen || s->gen != *gen) /* another capture took the scratch */
		return 1;
	struct walk_ctx *c = &s->w;
	if (c->r >= c->nranges || c->r >= USM_RANGES_MAX)
		return 1;
	struct call_range g = s->ranges[c->r & (USM_RANGES_MAX - 1)];
	__u64 start = g.start > c->off ? g.start : c->off;
	if (start >= g.end) {
		c->r++;
		return 0;
	}
	__u64 n = g.end - start < capture_bytes ? g.end - start : capture_bytes;
	__u64 next = start + n < g.end		? start + n
		     : c->r + 1 < c->nranges ? s->ranges[(c->r + 1) & (USM_RANGES_MAX - 1)].start
					       : c->src.len;
	/* a frame header alone (a DATA frame's) goes in a small record */
	bool small = n <= USM_SMALL_RECORD;
	struct usm_data_event *e =
		small ? bpf_ringbuf_reserve(&http_events, sizeof(*e) + USM_SMALL_RECORD, 0)
		      : bpf_ringbuf_reserve(&http_events, sizeof(*e) + capture_bytes, 0);
	if (!e) {
		count_lost();
		return 1;
	}
	__builtin_memcpy(e, &s->head, sizeof(*e));
	e->offset = (__u32)start;
	e->next = (__u32)next;
	if (small) {
		__u64 got = fetch_small(&c->src, s, start, n);
		barrier_var(got);
		if (got > USM_SMALL_RECORD)
			got = 0;
		if (got && bpf_probe_read_kernel(e->data, got, s->buf) != 0)
			got = 0;
		e->captured = (__u16)got;
	} else {
		e->captured = (__u16)copy_range(&c->src, s, start, n, e->data);
	}
	submit(e);
	c->off = start + n;
	if (c->off >= g.end)
		c->r++;
	return 0;
}

/* Emits the records after a call's first, as planned (nranges ranges in
 * the per-CPU scratch, the first record's header there too). Global, as
 * plan_call. */
__noinline int emit_rest(const struct call_src *src, __u64 captured, __u32 nranges, __u32 gen)
{
	__u32 zero = 0;
	struct call_scratch *s = bpf_map_lookup_elem(&call_scratch, &zero);
	if (!src || !s || s->gen != gen)
		return 0;
	s->w.src = *src;
	s->w.off = captured;
	s->w.r = 0;
	s->w.nranges = nranges;
	bpf_loop(2 * USM_RANGES_MAX + USM_REQUEST_CAPTURE_MAX / 64, emit_chunk, &gen, 0);
	return 0;
}

/* Emits one record, or, for a call planned beyond its first record
 * (plan_call), several. len bytes were read or written: at ubuf (0: none
 * captured), of which at most max belong to the call; or, with uiov, at
 * the iovcnt iovecs there. */
static __always_inline void emit_from(__u32 type, __u8 dir, __u8 tls, __u64 conn, __u64 len,
				      __u64 ubuf, __u64 max, __u64 uiov, __u64 iovcnt,
				      const struct usm_conn_tuple *t)
{
	/* A close or a bind carries no bytes: its record is the header alone. */
	struct usm_data_event *e =
		type == USM_EVENT_DATA
			? bpf_ringbuf_reserve(&http_events, sizeof(*e) + capture_bytes, 0)
			: bpf_ringbuf_reserve(&http_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		/* a walked connection's call lost whole: its walk cannot follow */
		if (type == USM_EVENT_DATA)
			forget_walk(conn, dir);
		return;
	}
	__u64 id = bpf_get_current_pid_tgid();
	e->type = type;
	e->pid = (__u32)(id >> 32);
	e->tid = (__u32)id;
	e->dir = dir;
	e->tls = tls;
	e->len = len > 0xffffffffull ? 0xffffffffu : (__u32)len;
	e->offset = 0;
	e->next = e->len;
	e->walk_seq = 0;
	e->conn = conn;
	e->ts_ns = bpf_ktime_get_ns();
	if (t)
		e->tuple = *t;
	else
		__builtin_memset(&e->tuple, 0, sizeof(e->tuple));
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->captured = 0;
	__u32 zero = 0;
	struct call_scratch *s = type == USM_EVENT_DATA ? bpf_map_lookup_elem(&call_scratch, &zero)
						       : NULL;
	if (!s) {
		submit(e);
		return;
	}
	__u32 gen = ++s->gen;
	struct call_src src = {.buf = ubuf, .max = max, .len = e->len};
	if (uiov && !(src.niov = load_iovs(s, uiov, iovcnt)))
		src.buf = 0;
	__u64 n = ubuf || src.niov ? copy_range(&src, s, 0, src.len, e->data) : 0;
	if (s->gen != gen)
		n = 0; /* a vector call's bytes came through a scratch another capture took */
	e->captured = (__u16)n;
	int nranges = 0;
	if (n > 0) {
		__builtin_memcpy(&s->head, e, sizeof(*e));
		__builtin_memcpy(s->first, e->data, sizeof(s->first)); /* capture_bytes >= 64 */
		nranges = plan_call(&src, n, gen);
		e->walk_seq = s->w.seq;
		s->head.walk_seq = s->w.seq;
		if (nranges > 0 && nranges <= USM_RANGES_MAX)
			e->next = s->ranges[0].start;
	} else {
		forget_walk(conn, dir); /* nothing read: a walk would lose its place */
	}
	submit(e);
	if (nranges > 0 && nranges <= USM_RANGES_MAX)
		emit_rest(&src, n, (__u32)nranges, gen);
}

static __always_inline void emit(__u32 type, __u8 dir, __u8 tls, __u64 conn, __u64 len,
				 __u64 ubuf, __u64 max, const struct usm_conn_tuple *t)
{
	emit_from(type, dir, tls, conn, len, ubuf, max, 0, 0, t);
}

static __always_inline bool ignored_process(void)
{
	__u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	return (ignored_tgid && tgid == ignored_tgid) || (ignored_uid[0] && uid == ignored_uid[0]) ||
	       (ignored_uid[1] && uid == ignored_uid[1]);
}

static __always_inline struct usm_conn_tuple *session_tuple(__u64 session)
{
	struct session_key k = {.session = session,
				.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
	return bpf_map_lookup_elem(&tls_sessions, &k);
}


/* The session now uses socket sk: remember its tuple, and that the socket
 * is TLS. */
static __always_inline bool bind_session(__u64 session, struct sock *sk, struct usm_conn_tuple *t)
{
	if (!sock_tuple(sk, t))
		return false;
	struct session_key k = {.session = session,
				.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
	__u64 key = (__u64)sk, id = tuple_id(t);
	bpf_map_update_elem(&tls_sessions, &k, t, BPF_ANY);
	bpf_map_update_elem(&tls_socks, &key, &id, BPF_ANY);
	return true;
}

/* ---- Go's crypto/tls (register ABI; amd64 only) ---- */
#if defined(__TARGET_ARCH_x86)
/* A goroutine's Read in progress: keyed by goroutine, never by thread
 * (goroutines move between threads between entry and return). */
struct go_call_key {
	__u64 goid;
	__u32 tgid;
	__u32 pad;
};

struct go_read {
	__u64 conn;
	__u64 buf;
};

/* LRU: a Read whose RET was never seen (a panic unwinding through it)
 * ages out. Idle keep-alive connections each hold one entry while their
 * goroutine waits in Read. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct go_call_key);
	__type(value, struct go_read);
} go_reads SEC(".maps");

/* Not in vmlinux.h. */
#define USM_INT_MAX 0x7fffffff

/* The running goroutine's id: R14 holds its g (Go's register ABI).
 * False if it cannot be read: the call is then not tracked at all, rather
 * than keyed under an id other goroutines would share. */
static __always_inline bool go_key(struct pt_regs *ctx, __u64 cookie, struct go_call_key *k)
{
	*k = (struct go_call_key){.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
	return bpf_probe_read_user(&k->goid, sizeof(k->goid),
				   (const void *)(ctx->r14 + USM_GO_COOKIE_GOID(cookie))) == 0;
}

/* A *tls.Conn's tuple: known already, or learned from its socket through
 * tls.Conn.conn's data word (*net.TCPConn) -> *net.netFD, whose family
 * and sotype must say "IPv4/6 stream" before its Sysfd is trusted (a
 * tls.Conn over some other net.Conn reads as anything else: no tuple). */
static __always_inline struct usm_conn_tuple *go_tuple(__u64 conn, __u64 cookie,
							struct usm_conn_tuple *scratch)
{
	struct usm_conn_tuple *t = session_tuple(conn);
	if (t)
		return t;
	__u64 data = 0, netfd = 0;
	__s64 kind[2] = {0, 0}, sysfd = -1; /* family, sotype */
	if (bpf_probe_read_user(&data, 8, (const void *)(conn + USM_GO_COOKIE_CONN(cookie) + 8)) ||
	    bpf_probe_read_user(&netfd, 8, (const void *)(data + USM_GO_COOKIE_NETFD(cookie))) ||
	    bpf_probe_read_user(kind, 16, (const void *)(netfd + USM_GO_COOKIE_FAMILY(cookie))) ||
	    bpf_probe_read_user(&sysfd, 8, (const void *)(netfd + USM_GO_COOKIE_SYSFD(cookie))))
		return NULL;
	if ((kind[0] != USM_AF_INET && kind[0] != USM_AF_INET6) || kind[1] != USM_SOCK_STREAM ||
	    sysfd < 0 || sysfd > USM_INT_MAX)
		return NULL;
	return bind_session(conn, fd_to_sock((int)sysfd), scratch) ? scratch : NULL;
}

/* EFLAGS' carry and zero flags: a JBE is taken if either is set. */
#define USM_X86_CF 0x0001
#define USM_X86_ZF 0x0040

/* (*Conn).Read, Write, Close: RAX the *Conn, RBX and RCX the buffer and
 * its length at entry; RAX the count on a RET of Read. The "entry" probe
 * sits on the stack check's JBE (inspector/go_code.h): when it is taken,
 * Go grows the stack and runs the function again from its start, so that
 * pass is skipped (a Write would be captured twice). */
static __always_inline void go_tls(struct pt_regs *ctx, __u64 cookie, __u8 role)
{
	struct usm_conn_tuple scratch = {};
	__u64 conn = ctx->ax;
	if (!(cookie & USM_GO_COOKIE_RET) && (ctx->flags & (USM_X86_CF | USM_X86_ZF)))
		return;
	struct go_call_key k;
	if (role == USM_TLS_ROLE_GO_READ && (cookie & USM_GO_COOKIE_RET)) {
		struct go_read *r = go_key(ctx, cookie, &k) ? bpf_map_lookup_elem(&go_reads, &k) : NULL;
		if (!r)
			return;
		struct go_read call = *r;
		__s64 n = (__s64)ctx->ax; /* a count with io.EOF is data too */
		bpf_map_delete_elem(&go_reads, &k);
		if (n > 0)
			emit(USM_EVENT_DATA, USM_DIR_READ, 1, call.conn, (__u64)n, call.buf, (__u64)n,
			     go_tuple(call.conn, cookie, &scratch));
	} else if (role == USM_TLS_ROLE_GO_READ) {
		struct go_read call = {.conn = conn, .buf = ctx->bx};
		/* Bound before Read's own socket reads: they are not clear text. */
		go_tuple(conn, cookie, &scratch);
		if (go_key(ctx, cookie, &k))
			bpf_map_update_elem(&go_reads, &k, &call, BPF_ANY);
	} else if (role == USM_TLS_ROLE_GO_WRITE) {
		__s64 len = (__s64)ctx->cx;
		if (len > 0)
			emit(USM_EVENT_DATA, USM_DIR_WRITE, 1, conn, (__u64)len, ctx->bx, (__u64)len,
			     go_tuple(conn, cookie, &scratch));
	} else if (role == USM_TLS_ROLE_GO_CLOSE) {
		struct session_key k = {.session = conn,
					.tgid = (__u32)(bpf_get_current_pid_tgid() >> 32)};
		emit(USM_EVENT_CONN_CLOSE, 0, 1, conn, 0, 0, 0, bpf_map_lookup_elem(&tls_sessions, &k));
		bpf_map_delete_elem(&tls_sessions, &k);
		forget_walks(conn);
	}
}
#endif

SEC("uprobe")
int tls_entry(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	/* a probe on a RET instruction counts as a return hit */
	count_hit(cookie, (cookie & USM_GO_COOKIE_RET) != 0);
	__u8 role = tls_role[cookie % (USM_MAX_SETS * USM_MAX_FUNCS)];
	__u64 session = PT_REGS_PARM1(ctx);
	__u64 id = bpf_get_current_pid_tgid();
#if defined(__TARGET_ARCH_x86)
	if (role >= USM_TLS_ROLE_GO_READ) {
		go_tls(ctx, cookie, role);
		return 0;
	}
#endif
	if (role == USM_TLS_ROLE_READ || role == USM_TLS_ROLE_READ_EX) {
		struct thread_calls *tc = calls(true);
		if (!tc)
			return 0;
		struct tls_call *c = &tc->tls;
		c->session = session;
		c->buf = PT_REGS_PARM2(ctx);
		c->readbytes = role == USM_TLS_ROLE_READ_EX ? PT_REGS_PARM4(ctx) : 0;
		c->role = role;
		c->ts_ns = bpf_ktime_get_ns();
		/* A session already bound needs no binding from the syscalls. */
		struct usm_conn_tuple *t = session_tuple(session);
		c->bound = t != NULL;
		if (t)
			c->tuple = *t;
	} else if (role == USM_TLS_ROLE_WRITE) {
		struct usm_conn_tuple *t = session_tuple(session);
		/* SSL_write's num is an int (gnutls' size_t: far below 2 GiB) */
		int num = (int)PT_REGS_PARM3(ctx);
		if (num <= 0)
			return 0;
		__u64 len = (__u64)num;
		emit(USM_EVENT_DATA, USM_DIR_WRITE, 1, session, len, PT_REGS_PARM2(ctx), len, t);
		struct thread_calls *tc = t ? NULL : calls(true);
		if (tc) {
			/* Let the socket syscall this write makes bind it. */
			tc->wbind.session = session;
			tc->wbind.ts_ns = bpf_ktime_get_ns();
		}
	} else if (role == USM_TLS_ROLE_SET_FD) {
		struct usm_conn_tuple t = {};
		bind_session(session, fd_to_sock((int)PT_REGS_PARM2(ctx)), &t);
	} else if (role == USM_TLS_ROLE_CLOSE) {
		struct session_key k = {.session = session, .tgid = (__u32)(id >> 32)};
		struct usm_conn_tuple *t = bpf_map_lookup_elem(&tls_sessions, &k);
		emit(USM_EVENT_CONN_CLOSE, 0, 1, session, 0, 0, 0, t);
		bpf_map_delete_elem(&tls_sessions, &k);
		forget_walks(session);
	}
	return 0;
}

SEC("uretprobe")
int tls_return(struct pt_regs *ctx)
{
	__u64 cookie = bpf_get_attach_cookie(ctx);
	count_hit(cookie, 1);
	struct thread_calls *tc = calls(false);
	struct tls_call *c = tc ? &tc->tls : NULL;
	if (!c || (c->role != USM_TLS_ROLE_READ && c->role != USM_TLS_ROLE_READ_EX))
		return 0;
	/* SSL_read returns an int: the upper half of the register is not
	 * part of it (-1 would read as 4 GiB). gnutls_record_recv's ssize_t
	 * keeps its value: reads are far below 2 GiB. */
	int rc = (int)PT_REGS_RC(ctx);
	__u64 len = 0;
	if (c->role == USM_TLS_ROLE_READ && rc > 0) {
		len = (__u64)rc;
	} else if (c->role == USM_TLS_ROLE_READ_EX && rc == 1 && c->readbytes) {
		if (bpf_probe_read_user(&len, sizeof(len), (const void *)c->readbytes) != 0)
			len = 0;
	}
	if (len > 0) {
		struct usm_conn_tuple *t = c->bound ? &c->tuple : session_tuple(c->session);
		emit(USM_EVENT_DATA, USM_DIR_READ, 1, c->session, len, c->buf, len, t);
	}
	c->role = USM_TLS_ROLE_NONE;
	return 0;
}

/* ---- socket syscalls ---- */

/* Enter of a socket read or write: binds a TLS call's session, or saves a
 * clear-text call for its exit. buf/buf_max: the first buffer. */
static __always_inline void sock_enter(int fd, __u64 buf, __u64 buf_max, __u8 dir)
{
	struct thread_calls *tc = calls(false);
	struct tls_call *c = tc ? &tc->tls : NULL;
	/* Only a syscall in the call's own direction binds: a write's
	 * pending binding must not take the thread's next read of another
	 * socket. A bound socket is in tls_socks, which keeps the clear-text
	 * path below off it (also if a return probe was missed). */
	bool reading = c && (c->role == USM_TLS_ROLE_READ || c->role == USM_TLS_ROLE_READ_EX);
	if (reading && !c->bound && dir == USM_DIR_READ &&
	    bpf_ktime_get_ns() - c->ts_ns < BIND_WINDOW_NS &&
	    bind_session(c->session, fd_to_sock(fd), &c->tuple)) {
		c->bound = 1;
		/* The session's records so far went without a tuple: say it
		 * now, once. */
		emit(USM_EVENT_CONN_BIND, 0, 1, c->session, 0, 0, 0, &c->tuple);
		return;
	}
	struct write_bind *w = tc && dir == USM_DIR_WRITE ? &tc->wbind : NULL;
	struct usm_conn_tuple wt = {};
	if (w && w->session && bpf_ktime_get_ns() - w->ts_ns < BIND_WINDOW_NS &&
	    bind_session(w->session, fd_to_sock(fd), &wt)) {
		/* a write is emitted at entry, before this: its records and the
		 * session's earlier ones went without a tuple */
		emit(USM_EVENT_CONN_BIND, 0, 1, w->session, 0, 0, 0, &wt);
		w->session = 0; /* its only use was binding */
		return;
	}
	/* Inside a TLS read the socket carries records, not HTTP: skip the
	 * lookups below (unless the call is old: its return probe was missed). */
	if (c && (c->role == USM_TLS_ROLE_READ || c->role == USM_TLS_ROLE_READ_EX) &&
	    bpf_ktime_get_ns() - c->ts_ns < BIND_WINDOW_NS)
		return;
	if (!capture_plaintext || ignored_process())
		return;
	struct sock *sk = fd_to_sock(fd);
	__u64 key = (__u64)sk;
	struct usm_conn_tuple t = {};
	if (!sock_tuple(sk, &t))
		return;
	__u64 *tls_id = bpf_map_lookup_elem(&tls_socks, &key);
	if (tls_id && *tls_id == tuple_id(&t))
		return;
	if (tls_id) /* left by a connection this struct sock held before */
		bpf_map_delete_elem(&tls_socks, &key);
	if (ignored_port && (t.lport == ignored_port || t.rport == ignored_port))
		return;
	if (!tc && !(tc = calls(true)))
		return;
	struct plain_call *p = &tc->plain;
	p->sk = key;
	p->buf = buf;
	p->buf_max = (__u32)buf_max;
	p->dir = dir;
	p->iov = 0;
	p->iovcnt = 0;
	p->tuple = t;
}

static __always_inline void sock_exit(long ret)
{
	struct thread_calls *tc = calls(false);
	struct plain_call *p = tc ? &tc->plain : NULL;
	if (!p || !p->sk)
		return;
	if (ret > 0) {
		__u8 one = 1;
		if (!bpf_map_lookup_elem(&plain_socks, &p->sk))
			bpf_map_update_elem(&plain_socks, &p->sk, &one, BPF_ANY);
		emit_from(USM_EVENT_DATA, p->dir, 0, p->sk, (__u64)ret, p->buf, p->buf_max, p->iov,
			  p->iovcnt, &p->tuple);
	}
	p->sk = 0;
}

/* A vector call: its first iovec as the buffer and, when there are more,
 * the array, which the exit reads (load_iovs, gather). */
static __always_inline void iov_enter(int fd, __u64 uiov, __u64 iovcnt, __u8 dir)
{
	struct iovec iov = {};
	if (uiov && bpf_probe_read_user(&iov, sizeof(iov), (const void *)uiov) != 0)
		iov.iov_base = NULL;
	sock_enter(fd, (__u64)iov.iov_base, iov.iov_base ? iov.iov_len : 0, dir);
	struct thread_calls *tc = iov.iov_base && iovcnt > 1 ? calls(false) : NULL;
	if (tc && tc->plain.sk) {
		tc->plain.iov = uiov;
		tc->plain.iovcnt = iovcnt;
	}
}

static __always_inline void msg_enter(int fd, __u64 umsg, __u8 dir)
{
	struct user_msghdr msg = {};
	if (umsg && bpf_probe_read_user(&msg, sizeof(msg), (const void *)umsg) != 0)
		msg.msg_iov = NULL;
	iov_enter(fd, msg.msg_iovlen > 0 ? (__u64)msg.msg_iov : 0, msg.msg_iovlen, dir);
}

/* close() of a socket reported as clear text ends its connection. */
static __always_inline void close_enter(int fd)
{
	if (!capture_plaintext)
		return;
	struct sock *sk = fd_to_sock(fd);
	__u64 key = (__u64)sk;
	if (!sk)
		return;
	bpf_map_delete_elem(&tls_socks, &key);
	if (bpf_map_lookup_elem(&plain_socks, &key)) {
		bpf_map_delete_elem(&plain_socks, &key);
		emit(USM_EVENT_CONN_CLOSE, 0, 0, key, 0, 0, 0, NULL);
		forget_walks(key);
	}
}

/* recv flags (not in vmlinux.h) whose bytes are not the stream's next. */
#define USM_MSG_PEEK 0x2
#define USM_MSG_TRUNC 0x20

/* Syscall numbers (not in vmlinux.h). */
#if defined(__TARGET_ARCH_x86)
enum { NR_read = 0, NR_write = 1, NR_close = 3, NR_readv = 19, NR_writev = 20, NR_sendfile = 40,
       NR_sendto = 44, NR_recvfrom = 45, NR_sendmsg = 46, NR_recvmsg = 47 };
#define SYSCALL_NR(regs) ((regs)->orig_ax)
/* 32-bit processes' syscalls have their own numbers: only 64-bit ones
 * (code segment __USER_CS) are decoded here. */
#define NATIVE_SYSCALL(regs) ((regs)->cs == 0x33)
#elif defined(__TARGET_ARCH_arm64)
enum { NR_close = 57, NR_read = 63, NR_write = 64, NR_readv = 65, NR_writev = 66, NR_sendfile = 71,
       NR_sendto = 206, NR_recvfrom = 207, NR_sendmsg = 211, NR_recvmsg = 212 };
#define SYSCALL_NR(regs) ((regs)->syscallno)
#define NATIVE_SYSCALL(regs) (((regs)->pstate & 0x10) == 0) /* not AArch32 (PSR_MODE32_BIT) */
#else
#error "http_capture.bpf.c: give this architecture's syscall numbers"
#endif

/* One BTF tracepoint for every syscall entry and one for every exit,
 * rather than one classic tracepoint per syscall: two links instead of
 * nineteen, and BTF tracepoint links detach without waiting for a grace
 * period each, where the classic ones detach one after another, ~35 ms
 * apiece (privd's stop time). Both return at once for other syscalls. */
/* The data syscalls both programs look at (close only matters at entry). */
static __always_inline bool data_syscall(long nr)
{
	switch (nr) {
	case NR_read:
	case NR_recvfrom:
	case NR_write:
	case NR_sendto:
	case NR_readv:
	case NR_writev:
	case NR_recvmsg:
	case NR_sendmsg:
	case NR_sendfile:
		return true;
	}
	return false;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id)
{
	/* regs is a trusted BTF pointer: plain loads, no helper call */
	if ((!data_syscall(id) && id != NR_close) || !NATIVE_SYSCALL(regs))
		return 0;
	int fd = (int)PT_REGS_PARM1_SYSCALL(regs);
	__u64 arg2 = PT_REGS_PARM2_SYSCALL(regs);
	switch (id) {
	case NR_recvfrom:
		/* a peek is read again; MSG_TRUNC on TCP discards unread bytes */
		if (PT_REGS_PARM4_SYSCALL(regs) & (USM_MSG_PEEK | USM_MSG_TRUNC))
			break;
		sock_enter(fd, arg2, ~0ull, USM_DIR_READ);
		break;
	case NR_read:
		sock_enter(fd, arg2, ~0ull, USM_DIR_READ);
		break;
	case NR_write:
	case NR_sendto:
		sock_enter(fd, arg2, ~0ull, USM_DIR_WRITE);
		break;
	case NR_readv:
		iov_enter(fd, arg2, PT_REGS_PARM3_SYSCALL(regs), USM_DIR_READ);
		break;
	case NR_writev:
		iov_enter(fd, arg2, PT_REGS_PARM3_SYSCALL(regs), USM_DIR_WRITE);
		break;
	case NR_recvmsg:
		if (PT_REGS_PARM3_SYSCALL(regs) & (USM_MSG_PEEK | USM_MSG_TRUNC))
			break;
		msg_enter(fd, arg2, USM_DIR_READ);
		break;
	case NR_sendmsg:
		msg_enter(fd, arg2, USM_DIR_WRITE);
		break;
	case NR_sendfile: /* sendfile(out_fd, in_fd, ...): bytes the process never held */
		sock_enter(fd, 0, 0, USM_DIR_WRITE);
		break;
	case NR_close:
		close_enter(fd);
		break;
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret)
{
	if (data_syscall(SYSCALL_NR(regs)) && NATIVE_SYSCALL(regs))
		sock_exit(ret);
	return 0;
}
