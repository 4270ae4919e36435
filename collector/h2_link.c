/* Segments -> HTTP/2 frames -> h2_conn. The contract is in h2_link.h. */
#include "h2_link.h"

#include <stdlib.h>
#include <string.h>

struct framer {
	bool started;           /* bytes came */
	uint8_t preface_left;   /* client preface bytes still to come */
	bool lost;              /* framing broken: nothing more is read */
	uint8_t hdr[H2_FRAME_HEADER_LEN];
	uint8_t have;           /* header bytes gathered */
	bool in_frame;          /* header read, payload still coming */
	struct h2_frame_header cur;
	uint32_t remaining;     /* payload bytes still to come */
	bool keep;              /* a header block frame: its payload is kept */
	bool cut;               /* payload bytes were not captured */
	size_t kept;
	uint8_t *payload;       /* H2_LINK_PAYLOAD_MAX, on first use */
};

struct h2_link {
	struct h2_conn conn;
	struct framer dir[2];
	struct h2_link_counters counters;
};

enum h2_detect h2_link_detect(const uint8_t *data, size_t captured)
{
	if (captured >= H2_PREFACE_LEN && h2_is_preface(data, H2_PREFACE_LEN))
		return H2_CLIENT_PREFACE;
	if (captured < H2_FRAME_HEADER_LEN)
		return H2_NOT;
	struct h2_frame_header h;
	h2_frame_header_read(data, &h);
	if (h.type == H2_SETTINGS && h.flags == 0 && h.stream == 0 && h.length % 6 == 0 &&
	    h.length <= 6 * 64)
		return H2_SERVER_PREFACE;
	/* A frame of a connection that started before usm: a known type, on
	 * a stream where that type belongs, no longer than the default frame
	 * size; no HTTP/1 message starts with a zero byte. */
	bool on_stream = h.type == H2_DATA || h.type == H2_HEADERS || h.type == H2_PRIORITY ||
			 h.type == H2_RST_STREAM || h.type == H2_PUSH_PROMISE ||
			 h.type == H2_CONTINUATION;
	bool on_conn = (h.type == H2_SETTINGS && h.length % 6 == 0) || h.type == H2_PING ||
		       h.type == H2_GOAWAY;
	bool reserved = data[5] & 0x80;
	return data[0] == 0 && !reserved && h.length <= 16384 &&
			       ((on_stream && h.stream != 0) || (on_conn && h.stream == 0) ||
				h.type == H2_WINDOW_UPDATE)
		       ? H2_MIDSTREAM
		       : H2_NOT;
}

struct h2_link *h2_link_new(enum http_role role, const struct h2_limits *lim)
{
	struct h2_link *l = calloc(1, sizeof(*l));
	if (l && h2_conn_init(&l->conn, role, lim) != 0) {
		free(l);
		l = NULL;
	}
	return l;
}

void h2_link_free(struct h2_link *l)
{
	if (!l)
		return;
	h2_conn_free(&l->conn);
	free(l->dir[0].payload);
	free(l->dir[1].payload);
	free(l);
}

enum http_role h2_link_role(const struct h2_link *l)
{
	return l->conn.role;
}

void h2_link_counters(const struct h2_link *l, struct h2_link_counters *out)
{
	*out = l->counters;
	out->conn = l->conn.counters;
}

static bool keeps_payload(uint8_t type)
{
	return type == H2_HEADERS || type == H2_CONTINUATION || type == H2_PUSH_PROMISE;
}

static void lose(struct h2_link *l, enum http_dir dir)
{
	struct framer *f = &l->dir[dir];
	if (!f->lost)
		l->counters.framing_lost++;
	f->lost = true;
	h2_conn_lost(&l->conn, dir);
}

void h2_link_upgraded(struct h2_link *l, enum usm_http_method method, const char *path,
		      size_t path_len, bool path_cut, uint64_t ts_ns, uint64_t bytes)
{
	h2_conn_upgraded(&l->conn, method, path, path_len, path_cut, ts_ns, bytes);
}

void h2_link_lose(struct h2_link *l, enum http_dir dir)
{
	lose(l, dir);
}

static void frame_done(struct h2_link *l, enum http_dir dir, uint64_t ts_ns,
		       const struct h2_sink *sink, void *ctx)
{
	struct framer *f = &l->dir[dir];
	/* a cut payload is passed with what was kept: h2_conn sees the gap */
	h2_conn_frame(&l->conn, dir, &f->cur, f->payload, f->cut ? 0 : f->kept, ts_ns, sink, ctx);
	f->in_frame = false;
	f->have = 0;
	f->kept = 0;
	f->cut = false;
}

/* The frame header just completed: start its payload. */
static void frame_start(struct h2_link *l, enum http_dir dir)
{
	struct framer *f = &l->dir[dir];
	h2_frame_header_read(f->hdr, &f->cur);
	f->in_frame = true;
	f->remaining = f->cur.length;
	f->keep = keeps_payload(f->cur.type);
	f->kept = 0;
	f->cut = f->keep && f->cur.length > H2_LINK_PAYLOAD_MAX;
	if (f->keep && !f->payload && !(f->payload = malloc(H2_LINK_PAYLOAD_MAX)))
		f->cut = true;
}

void h2_link_feed(struct h2_link *l, enum http_dir dir, const uint8_t *data, size_t captured,
		  size_t total, uint64_t ts_ns, const struct h2_sink *sink, void *ctx)
{
	struct framer *f = &l->dir[dir];
	if (captured > total)
		total = captured;
	size_t pos = 0;
	/* the client preface, which a reader may get in pieces */
	if (!f->started && captured > 0 && h2_is_preface(data, captured))
		f->preface_left = H2_PREFACE_LEN;
	f->started |= total > 0;
	if (f->preface_left) {
		size_t n = f->preface_left < captured ? f->preface_left : captured;
		if (n < f->preface_left && captured < total) {
			lose(l, dir); /* its end was not captured */
			return;
		}
		f->preface_left -= (uint8_t)n;
		pos = n;
		if (!f->preface_left)
			h2_conn_preface(&l->conn, dir);
	}
	while (pos < total && !f->lost) {
		size_t known = pos < captured ? captured - pos : 0;
		if (!f->in_frame) {
			if (!known) { /* a frame starts where nothing was captured */
				lose(l, dir);
				break;
			}
			size_t n = H2_FRAME_HEADER_LEN - f->have;
			n = n < known ? n : known;
			memcpy(f->hdr + f->have, data + pos, n);
			f->have += (uint8_t)n;
			pos += n;
			if (f->have == H2_FRAME_HEADER_LEN)
				frame_start(l, dir);
		} else {
			size_t avail = known ? known : total - pos;
			size_t n = f->remaining < avail ? f->remaining : avail;
			if (!known)
				f->cut |= f->keep;
			else if (f->keep && !f->cut) {
				memcpy(f->payload + f->kept, data + pos, n);
				f->kept += n;
			}
			f->remaining -= (uint32_t)n;
			pos += n;
		}
		if (f->in_frame && f->remaining == 0)
			frame_done(l, dir, ts_ns, sink, ctx);
	}
}
