/* HTTP/2 frames -> exchanges, HPACK through libnghttp2. The contract is
 * in h2_conn.h. */
#include "h2_conn.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_codec.h" /* usm_http_method_name */

/* The largest dynamic table an encoder may switch to with a size update:
 * the inflater follows the encoder's updates, and the peer's
 * SETTINGS_HEADER_TABLE_SIZE (not read here) bounds them for real. */
#define H2_TABLE_SIZE_MAX (1u << 20)
#define GRPC_STATUS_MAX 16

/* What one header block said, as far as an exchange needs it. */
struct h2_block {
	enum usm_http_method method;
	bool has_method;
	bool malformed; /* a :path with a control character (RFC 9113 §8.2.1, §8.3.1) */
	uint16_t status; /* 0: no :status */
	bool grpc;
	int16_t grpc_status;
	bool path_cut;
	size_t path_len;
	char path[HTTP_PATH_MAX + 1];
};

struct h2_stream {
	uint32_t id;
	enum usm_http_method method;
	bool grpc, path_cut;
	uint16_t status;     /* final; 0 until then */
	bool responded;      /* a response HEADERS came: latency known */
	int16_t grpc_status;
	uint64_t request_ts_ns, latency_ns, bytes;
	size_t path_len;
	char *path;
};

/* Does dir carry requests? A server reads them, a client writes them. */
static bool requests_in(const struct h2_conn *c, enum http_dir dir)
{
	return c->role != HTTP_ROLE_UNKNOWN &&
	       (c->role == HTTP_ROLE_SERVER) == (dir == HTTP_DIR_READ);
}

int h2_conn_init(struct h2_conn *c, enum http_role role, const struct h2_limits *lim)
{
	memset(c, 0, sizeof(*c));
	if (!lim || lim->max_path_len < 1 || lim->max_path_len > HTTP_PATH_MAX ||
	    lim->max_streams < 1 || lim->max_streams > H2_MAX_STREAMS_LIMIT)
		return -EINVAL;
	c->lim = *lim;
	c->role = role;
	for (int d = 0; d < 2; d++) {
		nghttp2_hd_inflater *hd;
		c->dir[d].block = calloc(1, sizeof(*c->dir[d].block));
		if (!c->dir[d].block || nghttp2_hd_inflate_new(&hd) != 0) {
			h2_conn_free(c);
			return -ENOMEM;
		}
		c->dir[d].inflater = hd;
		if (nghttp2_hd_inflate_change_table_size(hd, H2_TABLE_SIZE_MAX) != 0) {
			h2_conn_free(c);
			return -ENOMEM;
		}
	}
	c->streams = calloc(lim->max_streams, sizeof(*c->streams));
	if (!c->streams) {
		h2_conn_free(c);
		return -ENOMEM;
	}
	return 0;
}

void h2_conn_free(struct h2_conn *c)
{
	for (int d = 0; d < 2; d++) {
		if (c->dir[d].inflater)
			nghttp2_hd_inflate_del(c->dir[d].inflater);
		free(c->dir[d].block);
		c->dir[d].inflater = NULL;
		c->dir[d].block = NULL;
	}
	for (unsigned i = 0; i < c->nstreams; i++)
		free(c->streams[i].path);
	free(c->streams);
	c->streams = NULL;
	c->nstreams = 0;
}

/* ---- trust ---- */

/* ---- streams ---- */

static struct h2_stream *find_stream(struct h2_conn *c, uint32_t id)
{
	for (unsigned i = 0; i < c->nstreams; i++)
		if (c->streams[i].id == id)
			return &c->streams[i];
	return NULL;
}

static void drop_stream(struct h2_conn *c, struct h2_stream *s)
{
	free(s->path);
	*s = c->streams[--c->nstreams];
}

static void report(struct h2_conn *c, struct h2_stream *s, bool reset, const struct h2_sink *sink,
		   void *ctx)
{
	if (s->status >= 200 || (s->status && reset)) {
		c->counters.exchanges++;
		struct h2_exchange e = {
			.stream = s->id, .method = s->method, .path = s->path, .path_len = s->path_len,
			.path_cut = s->path_cut, .status = s->status, .grpc = s->grpc,
			.grpc_status = s->grpc_status, .reset = reset, .latency_ns = s->latency_ns,
			.bytes = s->bytes};
		if (sink && sink->on_exchange)
			sink->on_exchange(ctx, &e);
	}
	drop_stream(c, s);
}

/* A request block of a trusted direction opens its stream. */
static void open_stream(struct h2_conn *c, uint32_t id, const struct h2_block *b, uint64_t ts_ns,
			uint64_t bytes)
{
	if (!b->has_method || id == 0 || find_stream(c, id))
		return; /* request trailers, or a block without a request */
	if (b->malformed) {
		c->counters.malformed_requests++; /* a server refuses it: no row */
		return;
	}
	if (c->nstreams == c->lim.max_streams) {
		c->counters.streams_overflow++;
		return;
	}
	char *path = malloc(b->path_len + 1);
	if (!path) {
		c->counters.streams_overflow++;
		return;
	}
	memcpy(path, b->path, b->path_len);
	path[b->path_len] = '\0';
	c->streams[c->nstreams++] = (struct h2_stream){
		.id = id, .method = b->method, .grpc = b->grpc, .path_cut = b->path_cut,
		.grpc_status = -1, .request_ts_ns = ts_ns, .bytes = bytes, .path_len = b->path_len,
		.path = path};
}

void h2_conn_upgraded(struct h2_conn *c, enum usm_http_method method, const char *path,
		      size_t path_len, bool path_cut, uint64_t ts_ns, uint64_t bytes)
{
	struct h2_block b = {.method = method, .has_method = true, .grpc_status = -1};
	b.path_len = path_len < c->lim.max_path_len ? path_len : c->lim.max_path_len;
	b.path_cut = path_cut || b.path_len < path_len;
	memcpy(b.path, path, b.path_len);
	open_stream(c, 1, &b, ts_ns, bytes);
}

/* A response block: informational, the final head, or trailers. */
static void respond(struct h2_stream *s, const struct h2_block *b, uint64_t ts_ns)
{
	if (!s->responded) {
		s->responded = true;
		s->latency_ns = ts_ns > s->request_ts_ns ? ts_ns - s->request_ts_ns : 0;
	}
	if (b->status >= 200 || (b->status && !s->status))
		s->status = b->status; /* a 1xx stands until a final one */
	if (b->grpc_status >= 0)
		s->grpc_status = b->grpc_status;
}

/* ---- trust ---- */

/* Direction dir can no longer be decoded. Streams still waiting for a
 * response there never get one that can be read: dropped. */
static void distrust(struct h2_conn *c, enum http_dir dir)
{
	struct h2_direction *d = &c->dir[dir];
	d->seen = true;
	if (d->trusted)
		c->counters.hpack_desync++;
	d->trusted = false;
	d->in_block = false;
	for (unsigned i = 0; !requests_in(c, dir) && i < c->nstreams;)
		if (!c->streams[i].status)
			drop_stream(c, &c->streams[i]);
		else
			i++;
}

/* The first thing seen in a direction decides whether it can be trusted:
 * only the start of the connection can. */
static void first_seen(struct h2_conn *c, enum http_dir dir, bool start)
{
	struct h2_direction *d = &c->dir[dir];
	if (d->seen)
		return;
	d->seen = true;
	d->trusted = start;
	d->started = start;
	if (!start)
		c->counters.started_unseen = 1; /* once per connection */
}

void h2_conn_preface(struct h2_conn *c, enum http_dir dir)
{
	if (c->role == HTTP_ROLE_UNKNOWN) /* the client sends it */
		c->role = dir == HTTP_DIR_WRITE ? HTTP_ROLE_CLIENT : HTTP_ROLE_SERVER;
	first_seen(c, dir, requests_in(c, dir));
}

void h2_conn_lost(struct h2_conn *c, enum http_dir dir)
{
	distrust(c, dir);
}

/* ---- header blocks ---- */

static enum usm_http_method method_of(const uint8_t *v, size_t n)
{
	for (uint8_t m = 1; m < USM_HTTP_METHOD_COUNT; m++) {
		const char *name = usm_http_method_name(m);
		if (name && strlen(name) == n && memcmp(name, v, n) == 0)
			return (enum usm_http_method)m;
	}
	return USM_HTTP_METHOD_UNKNOWN;
}

/* v[0..n) as a decimal number of 1..max_digits digits, or -1. */
static int decimal(const uint8_t *v, size_t n, size_t max_digits)
{
	if (n < 1 || n > max_digits)
		return -1;
	int s = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		s = s * 10 + (v[i] - '0');
	}
	return s;
}

static bool prefix(const uint8_t *v, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && memcmp(v, p, k) == 0;
}

/* One decoded header field into the block's summary. */
static void take_field(struct h2_conn *c, struct h2_block *b, const nghttp2_nv *nv)
{
	const uint8_t *v = nv->value;
	size_t n = nv->valuelen;
	if (nv->namelen == 7 && memcmp(nv->name, ":method", 7) == 0) {
		b->has_method = true;
		b->method = method_of(v, n);
	} else if (nv->namelen == 5 && memcmp(nv->name, ":path", 5) == 0) {
		for (size_t i = 0; i < n; i++)
			b->malformed |= v[i] < 0x20 || v[i] == 0x7f;
		size_t end = 0;
		while (end < n && v[end] != '?' && v[end] != '#')
			end++;
		b->path_cut = end > c->lim.max_path_len;
		b->path_len = b->path_cut ? c->lim.max_path_len : end;
		memcpy(b->path, v, b->path_len);
		b->path[b->path_len] = '\0';
		c->counters.paths_cut += b->path_cut;
	} else if (nv->namelen == 7 && memcmp(nv->name, ":status", 7) == 0) {
		int s = decimal(v, n, 3);
		b->status = s >= 100 && s <= 599 ? (uint16_t)s : 0;
	} else if (nv->namelen == 12 && memcmp(nv->name, "content-type", 12) == 0) {
		b->grpc = prefix(v, n, "application/grpc");
	} else if (nv->namelen == 11 && memcmp(nv->name, "grpc-status", 11) == 0) {
		int s = decimal(v, n, 2);
		if (s >= 0 && s <= GRPC_STATUS_MAX)
			b->grpc_status = (int16_t)s;
		else
			c->counters.grpc_status_invalid++;
	}
}

/* Feeds one fragment to the direction's inflater: 0, or -1 (the table can
 * no longer be trusted). */
static int inflate(struct h2_conn *c, struct h2_direction *d, const uint8_t *in, size_t len,
		   bool final)
{
	nghttp2_hd_inflater *hd = d->inflater;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(hd, &nv, &flags, in, len, final);
		if (rv < 0)
			return -1;
		in += rv;
		len -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			take_field(c, d->block, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(hd);
			return 0;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0)
			return 0;
	}
}

/* A whole block was decoded in direction dir: what it means. */
static void block_done(struct h2_conn *c, enum http_dir dir, const struct h2_sink *sink,
		       void *ctx)
{
	struct h2_direction *d = &c->dir[dir];
	c->counters.header_blocks++;
	if (d->block_type == H2_PUSH_PROMISE) {
		c->counters.pushes_ignored++;
		return;
	}
	if (requests_in(c, dir)) {
		open_stream(c, d->block_stream, d->block, d->block_ts_ns, d->block_bytes);
		return;
	}
	struct h2_stream *s = find_stream(c, d->block_stream);
	if (!s) {
		c->counters.orphan_responses++;
		return;
	}
	respond(s, d->block, d->block_ts_ns);
	if (d->block_flags & H2_FLAG_END_STREAM)
		report(c, s, false, sink, ctx);
}

/* HEADERS, PUSH_PROMISE or CONTINUATION. */
static void header_frame(struct h2_conn *c, enum http_dir dir, const struct h2_frame_header *h,
			 const uint8_t *payload, size_t captured, uint64_t ts_ns,
			 const struct h2_sink *sink, void *ctx)
{
	struct h2_direction *d = &c->dir[dir];
	bool continuation = h->type == H2_CONTINUATION;
	if (continuation != d->in_block || (continuation && h->stream != d->block_stream)) {
		distrust(c, dir); /* a block interleaved, or a CONTINUATION of nothing seen */
		return;
	}
	if (!continuation) {
		d->in_block = true;
		d->block_stream = h->stream;
		d->block_type = h->type;
		d->block_flags = h->flags;
		d->block_ts_ns = ts_ns;
		d->block_bytes = 0;
		memset(d->block, 0, sizeof(*d->block));
		d->block->grpc_status = -1;
	}
	d->block_bytes += h->length;
	bool end = h->flags & H2_FLAG_END_HEADERS;
	if (end)
		d->in_block = false;
	enum http_dir other = dir == HTTP_DIR_READ ? HTTP_DIR_WRITE : HTTP_DIR_READ;
	if (d->trusted && !requests_in(c, dir) && !c->dir[other].started && c->nstreams == 0) {
		/* A header block before any request that could be read: what
		 * looked like the server's preface was a SETTINGS frame of a
		 * connection that started before usm (a new one's server
		 * answers requests only, read from the preface on) */
		c->counters.started_unseen = 1;
		d->trusted = false;
	}
	if (!d->trusted) {
		c->counters.undecoded_blocks += end;
		return;
	}
	size_t off, len;
	if (h2_header_fragment(h, payload, captured, &off, &len) != 0 || off + len > captured ||
	    inflate(c, d, payload + off, len, end) != 0) {
		distrust(c, dir); /* cut by the capture, malformed, or refused */
		return;
	}
	if (end)
		block_done(c, dir, sink, ctx);
}

void h2_conn_frame(struct h2_conn *c, enum http_dir dir, const struct h2_frame_header *h,
		   const uint8_t *payload, size_t captured, uint64_t ts_ns,
		   const struct h2_sink *sink, void *ctx)
{
	c->counters.frames++;
	if (captured > h->length)
		captured = h->length;
	/* the server's first frame is its SETTINGS; the client's direction
	 * starts with the preface (h2_conn_preface) */
	first_seen(c, dir, h->type == H2_SETTINGS && !(h->flags & H2_FLAG_ACK) &&
			       c->role != HTTP_ROLE_UNKNOWN && !requests_in(c, dir));
	if (c->dir[dir].in_block && h->type != H2_CONTINUATION) {
		distrust(c, dir); /* RFC 9113 §6.10: nothing may come between */
		return;
	}
	struct h2_stream *s = h->stream ? find_stream(c, h->stream) : NULL;
	if (s && (h->type == H2_HEADERS || h->type == H2_CONTINUATION || h->type == H2_DATA))
		s->bytes += h->length;
	switch (h->type) {
	case H2_HEADERS:
	case H2_PUSH_PROMISE:
	case H2_CONTINUATION:
		header_frame(c, dir, h, payload, captured, ts_ns, sink, ctx);
		break;
	case H2_DATA:
		if (s && !requests_in(c, dir) && (h->flags & H2_FLAG_END_STREAM) && s->status)
			report(c, s, false, sink, ctx);
		break;
	case H2_RST_STREAM:
		if (s) {
			c->counters.streams_reset++;
			report(c, s, true, sink, ctx);
		}
		break;
	case H2_GOAWAY:
		c->counters.goaway++;
		break;
	default: /* SETTINGS, PING, PRIORITY, WINDOW_UPDATE, extensions */
		break;
	}
}
