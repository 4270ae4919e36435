/* The aggregation table of HTTP exchanges (contract in http_stats.h).
 *
 * Layout: rows are allocated one by one (with their path) and never move;
 * `order` lists them in insertion order, which is the paging order, and
 * `slots` is an open-addressing hash (linear probing, at most half full)
 * holding positions in `order` + 1 (0: free). Rows are only ever appended
 * or all removed at once (reset), so the row at position i has sequence
 * number first_seq + i, and a cursor is a sequence number: found again in
 * O(1), never reused after a reset. */
#include "http_stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#define SLOTS_MIN 16u
#define ORDER_MIN 16u

struct row {
	uint64_t hash;
	uint64_t count;
	uint64_t bytes;
	struct sketch latency;
	uint8_t addr[16];
	uint32_t pid;
	uint16_t port;
	uint16_t status;
	uint16_t path_len;
	uint8_t family;
	uint8_t method;
	uint8_t protocol;
	int8_t grpc_status;
	char comm[HTTP_STATS_COMM_LEN];
	char service[USM_SERVICE_MAX];
	char container_id[USM_CONTAINER_ID_MAX];
	char path[]; /* path_len bytes + NUL */
};

/* A key made canonical (see the header), ready to hash and compare. */
struct canon {
	uint8_t addr[16];
	uint32_t pid;
	uint16_t port;
	uint16_t status;
	uint16_t path_len;
	uint8_t family;
	uint8_t method;
	uint8_t protocol;
	int8_t grpc_status;
	char comm[HTTP_STATS_COMM_LEN];
	char service[USM_SERVICE_MAX];
	char container_id[USM_CONTAINER_ID_MAX];
	const char *path;
	bool cut;
};

struct overflow {
	uint64_t count;
	uint64_t bytes;
	struct sketch latency;
};

struct http_stats {
	struct http_stats_limits limits;
	uint64_t hash_key[2];
	uint32_t *slots;
	uint32_t nslots; /* 0 or a power of two */
	struct row **order;
	uint32_t count;
	uint32_t order_cap;
	uint64_t first_seq; /* sequence number (cursor) of order[0] */
	uint64_t generation;
	struct overflow overflow;
	struct http_stats_counters counters;
};

/* ---- SipHash-1-3 (Aumasson, Bernstein), as Rust's HashMap uses it ---- */

static uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t siphash13(const uint64_t key[2], const uint8_t *in, size_t len)
{
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ key[0];
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ key[1];
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ key[0];
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ key[1];
	size_t whole = len - len % 8;
	for (size_t i = 0; i < whole; i += 8) {
		uint64_t m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < len % 8; i++)
		b |= (uint64_t)in[whole + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* A secret per table. getrandom() is in the collector's seccomp policy; if
 * it fails anyway, the kernel's AT_RANDOM bytes (never a syscall) mixed
 * with the time and the table's address are still unknown to a client. */
static void hash_key_init(struct http_stats *t)
{
	if (getrandom(t->hash_key, sizeof(t->hash_key), GRND_NONBLOCK) ==
	    (ssize_t)sizeof(t->hash_key))
		return;
	uint64_t secret[2] = {0, 0};
	const void *at_random = (const void *)getauxval(AT_RANDOM);
	if (at_random)
		memcpy(secret, at_random, sizeof(secret));
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t mix[3] = {(uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)(uintptr_t)t};
	t->hash_key[0] = siphash13(secret, (const uint8_t *)mix, sizeof(mix));
	mix[0] ^= 1;
	t->hash_key[1] = siphash13(secret, (const uint8_t *)mix, sizeof(mix));
}

/* ---- keys ---- */

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int canonicalize(const struct http_stats *t, const struct http_stats_key *k,
			struct canon *c)
{
	if ((k->family != AF_UNSPEC && k->family != AF_INET && k->family != AF_INET6) ||
	    k->method >= USM_HTTP_METHOD_COUNT || k->status < 100 || k->status > 599 ||
	    (!k->path && k->path_len > 0) || k->protocol >= USM_HTTP_PROTO_COUNT ||
	    k->grpc_status < USM_GRPC_STATUS_NONE || k->grpc_status > USM_GRPC_STATUS_MAX)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	if (k->family == AF_UNSPEC) {
		/* server not known (a TLS client whose socket was not seen):
		 * one row per (port, method, path, status), address all zero */
	} else if (k->family == AF_INET6 && memcmp(k->addr, v4_mapped_prefix, 12) != 0) {
		c->family = AF_INET6;
		memcpy(c->addr, k->addr, 16);
	} else {
		c->family = AF_INET;
		memcpy(c->addr, k->family == AF_INET ? k->addr : k->addr + 12, 4);
	}
	c->pid = k->pid;
	c->port = k->port;
	c->status = k->status;
	c->method = k->method;
	c->protocol = k->protocol == USM_HTTP_PROTO_H2 ? USM_HTTP_PROTO_H2 : USM_HTTP_PROTO_HTTP1;
	c->grpc_status = c->protocol == USM_HTTP_PROTO_H2 ? k->grpc_status : USM_GRPC_STATUS_NONE;
	for (size_t i = 0; i < HTTP_STATS_COMM_LEN - 1 && k->comm[i]; i++)
		c->comm[i] = k->comm[i];
	for (size_t i = 0; k->service && i < USM_SERVICE_MAX - 1 && k->service[i]; i++)
		c->service[i] = k->service[i];
	for (size_t i = 0; k->container_id && i < USM_CONTAINER_ID_LEN && k->container_id[i]; i++)
		c->container_id[i] = k->container_id[i];
	c->path = k->path ? k->path : "";
	c->cut = k->path_len > t->limits.max_path_len;
	c->path_len = (uint16_t)(c->cut ? t->limits.max_path_len : k->path_len);
	return 0;
}

/* Fixed fields in a fixed byte order (no padding), then the path. */
#define FIXED_BYTES                                                                                \
	(16 + 4 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + HTTP_STATS_COMM_LEN + USM_SERVICE_MAX +              \
	 USM_CONTAINER_ID_MAX)

static uint64_t canon_hash(const struct http_stats *t, const struct canon *c)
{
	uint8_t buf[FIXED_BYTES + HTTP_STATS_PATH_MAX];
	uint8_t *p = buf;
	memcpy(p, c->addr, 16);
	p += 16;
	for (unsigned i = 0; i < 4; i++)
		*p++ = (uint8_t)(c->pid >> (8 * i));
	*p++ = (uint8_t)c->port;
	*p++ = (uint8_t)(c->port >> 8);
	*p++ = (uint8_t)c->status;
	*p++ = (uint8_t)(c->status >> 8);
	*p++ = (uint8_t)c->path_len;
	*p++ = (uint8_t)(c->path_len >> 8);
	*p++ = c->family;
	*p++ = c->method;
	*p++ = c->protocol;
	*p++ = (uint8_t)c->grpc_status;
	memcpy(p, c->comm, HTTP_STATS_COMM_LEN);
	p += HTTP_STATS_COMM_LEN;
	memcpy(p, c->service, USM_SERVICE_MAX);
	p += USM_SERVICE_MAX;
	memcpy(p, c->container_id, USM_CONTAINER_ID_MAX);
	p += USM_CONTAINER_ID_MAX;
	memcpy(p, c->path, c->path_len);
	return siphash13(t->hash_key, buf, FIXED_BYTES + (size_t)c->path_len);
}

static bool row_matches(const struct row *r, uint64_t hash, const struct canon *c)
{
	return r->hash == hash && r->path_len == c->path_len && r->port == c->port &&
	       r->status == c->status && r->method == c->method && r->pid == c->pid &&
	       r->family == c->family && r->protocol == c->protocol &&
	       r->grpc_status == c->grpc_status && memcmp(r->addr, c->addr, 16) == 0 &&
	       memcmp(r->comm, c->comm, HTTP_STATS_COMM_LEN) == 0 &&
	       memcmp(r->service, c->service, USM_SERVICE_MAX) == 0 &&
	       memcmp(r->container_id, c->container_id, USM_CONTAINER_ID_MAX) == 0 &&
	       memcmp(r->path, c->path, c->path_len) == 0;
}

/* The slot holding the key's row, or the free slot where it would go. */
static uint32_t find_slot(const struct http_stats *t, uint64_t hash, const struct canon *c)
{
	uint32_t mask = t->nslots - 1;
	for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
		uint32_t s = t->slots[i];
		if (s == 0 || row_matches(t->order[s - 1], hash, c))
			return i;
	}
}

static struct row *find_row(const struct http_stats *t, uint64_t hash, const struct canon *c)
{
	if (t->nslots == 0)
		return NULL;
	uint32_t s = t->slots[find_slot(t, hash, c)];
	return s ? t->order[s - 1] : NULL;
}

/* Room for one more row: the order array and a hash at most half full. */
static int reserve_one(struct http_stats *t)
{
	if (t->count == t->order_cap) {
		uint32_t cap = t->order_cap ? t->order_cap * 2 : ORDER_MIN;
		if (cap > t->limits.max_entries)
			cap = t->limits.max_entries;
		struct row **o = realloc(t->order, (size_t)cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		t->order = o;
		t->order_cap = cap;
	}
	if ((uint64_t)(t->count + 1) * 2 > t->nslots) {
		uint32_t n = t->nslots ? t->nslots * 2 : SLOTS_MIN;
		uint32_t *slots = calloc(n, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		for (uint32_t i = 0; i < t->count; i++) {
			uint32_t j = (uint32_t)t->order[i]->hash & (n - 1);
			while (slots[j])
				j = (j + 1) & (n - 1);
			slots[j] = i + 1;
		}
		free(t->slots);
		t->slots = slots;
		t->nslots = n;
	}
	return 0;
}

static struct row *row_new(const struct canon *c, uint64_t hash)
{
	struct row *r = malloc(sizeof(*r) + (size_t)c->path_len + 1);
	if (!r)
		return NULL;
	r->hash = hash;
	r->count = 0;
	r->bytes = 0;
	sketch_init(&r->latency);
	memcpy(r->addr, c->addr, 16);
	r->pid = c->pid;
	r->port = c->port;
	r->status = c->status;
	r->path_len = c->path_len;
	r->family = c->family;
	r->method = c->method;
	r->protocol = c->protocol;
	r->grpc_status = c->grpc_status;
	memcpy(r->comm, c->comm, HTTP_STATS_COMM_LEN);
	memcpy(r->service, c->service, USM_SERVICE_MAX);
	memcpy(r->container_id, c->container_id, USM_CONTAINER_ID_MAX);
	memcpy(r->path, c->path, c->path_len);
	r->path[c->path_len] = '\0';
	return r;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- API ---- */

struct http_stats *http_stats_new(const struct http_stats_limits *limits)
{
	if (!limits || limits->max_entries == 0 || limits->max_entries > HTTP_STATS_MAX_ENTRIES ||
	    limits->max_path_len == 0 || limits->max_path_len > HTTP_STATS_PATH_MAX) {
		errno = EINVAL;
		return NULL;
	}
	struct http_stats *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->limits = *limits;
	t->first_seq = 1;
	t->generation = 1;
	sketch_init(&t->overflow.latency);
	hash_key_init(t);
	return t;
}

static void clear_rows(struct http_stats *t)
{
	for (uint32_t i = 0; i < t->count; i++) {
		sketch_free(&t->order[i]->latency);
		free(t->order[i]);
	}
	free(t->order);
	free(t->slots);
	t->order = NULL;
	t->slots = NULL;
	t->order_cap = 0;
	t->nslots = 0;
	t->first_seq += t->count;
	t->count = 0;
	sketch_free(&t->overflow.latency);
	t->overflow.count = 0;
	t->overflow.bytes = 0;
}

void http_stats_free(struct http_stats *t)
{
	if (!t)
		return;
	clear_rows(t);
	free(t);
}

void http_stats_reset(struct http_stats *t)
{
	clear_rows(t);
	t->generation++;
	t->counters.resets++;
}

int http_stats_add(struct http_stats *t, const struct http_stats_key *k, uint64_t bytes,
		   uint64_t latency_ns)
{
	struct canon c;
	if (canonicalize(t, k, &c) < 0) {
		t->counters.rejected++;
		return -EINVAL;
	}
	uint64_t hash = canon_hash(t, &c);
	struct row *r = find_row(t, hash, &c);
	uint64_t *count, *total_bytes;
	struct sketch *latency;
	if (r) {
		count = &r->count;
		total_bytes = &r->bytes;
		latency = &r->latency;
	} else if (t->count >= t->limits.max_entries) {
		t->counters.overflow_exchanges++;
		count = &t->overflow.count;
		total_bytes = &t->overflow.bytes;
		latency = &t->overflow.latency;
	} else {
		if (reserve_one(t) < 0 || !(r = row_new(&c, hash))) {
			t->counters.alloc_failed++;
			return -ENOMEM;
		}
		/* find_slot again: reserve_one may have rehashed. */
		t->slots[find_slot(t, hash, &c)] = t->count + 1;
		t->order[t->count++] = r;
		t->generation++;
		t->counters.rows_created++;
		count = &r->count;
		total_bytes = &r->bytes;
		latency = &r->latency;
	}
	if (c.cut)
		t->counters.paths_truncated++;
	*count = sat_add(*count, 1);
	*total_bytes = sat_add(*total_bytes, bytes);
	if (sketch_add(latency, (double)latency_ns) < 0)
		t->counters.latency_dropped++;
	t->counters.exchanges++;
	return 0;
}

const struct http_stats_limits *http_stats_limits(const struct http_stats *t)
{
	return &t->limits;
}

uint32_t http_stats_count(const struct http_stats *t)
{
	return t->count;
}

uint64_t http_stats_generation(const struct http_stats *t)
{
	return t->generation;
}

const struct http_stats_counters *http_stats_counters(const struct http_stats *t)
{
	return &t->counters;
}

static void row_view(const struct row *r, struct http_stats_row *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->key.addr, r->addr, 16);
	out->key.family = r->family;
	out->key.method = r->method;
	out->key.protocol = r->protocol;
	out->key.grpc_status = r->grpc_status;
	out->key.port = r->port;
	out->key.status = r->status;
	out->key.pid = r->pid;
	memcpy(out->key.comm, r->comm, HTTP_STATS_COMM_LEN);
	out->key.service = r->service;
	out->key.container_id = r->container_id;
	out->key.path = r->path;
	out->key.path_len = r->path_len;
	out->count = r->count;
	out->bytes = r->bytes;
	out->latency = &r->latency;
}

int http_stats_lookup(const struct http_stats *t, const struct http_stats_key *k,
		      struct http_stats_row *out)
{
	struct canon c;
	if (canonicalize(t, k, &c) < 0)
		return -EINVAL;
	const struct row *r = find_row(t, canon_hash(t, &c), &c);
	if (!r)
		return -ENOENT;
	row_view(r, out);
	return 0;
}

void http_stats_overflow(const struct http_stats *t, struct http_stats_row *out)
{
	memset(out, 0, sizeof(*out));
	out->key.path = "";
	out->count = t->overflow.count;
	out->bytes = t->overflow.bytes;
	out->latency = &t->overflow.latency;
}

int http_stats_page(const struct http_stats *t, uint64_t cursor, struct http_stats_row *out,
		    uint32_t max, uint32_t *count, uint64_t *next_cursor)
{
	uint32_t i = 0;
	if (cursor >= t->first_seq && cursor - t->first_seq < t->count)
		i = (uint32_t)(cursor - t->first_seq);
	uint32_t n = 0;
	for (; i < t->count && n < max; i++)
		row_view(t->order[i], &out[n++]);
	*count = n;
	*next_cursor = i < t->count ? t->first_seq + i : 0;
	return 0;
}

size_t http_stats_bytes(const struct http_stats *t)
{
	size_t n = sizeof(*t) + (size_t)t->nslots * sizeof(t->slots[0]) +
		   (size_t)t->order_cap * sizeof(t->order[0]) + sketch_bytes(&t->overflow.latency);
	for (uint32_t i = 0; i < t->count; i++) {
		const struct row *r = t->order[i];
		n += sizeof(*r) + r->path_len + 1 + sketch_bytes(&r->latency);
	}
	return n;
}
