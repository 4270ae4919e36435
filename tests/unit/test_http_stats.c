/* The HTTP aggregation table: identical keys aggregate, every key field
 * splits rows, keys are made canonical (IPv4 in IPv6, comm, long paths),
 * the table is bounded with an overflow row, pages read every row exactly
 * once, the generation tells readers when to restart, reset empties, and
 * the rows' sketches answer latency quantiles. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "http_stats.h"
#include "ipc_proto.h"

static struct http_stats *table_new(uint32_t max_entries, uint32_t max_path_len)
{
	struct http_stats_limits limits = {.max_entries = max_entries, .max_path_len = max_path_len};
	struct http_stats *t = http_stats_new(&limits);
	assert_non_null(t);
	return t;
}

/* GET /api/users -> 200 from 10.0.0.1:8080, pid 42 "nginx". */
static struct http_stats_key key_v4(const char *path)
{
	struct http_stats_key k = {
		.family = AF_INET,
		.method = USM_HTTP_METHOD_GET,
		.port = 8080,
		.status = 200,
		.pid = 42,
		.comm = "nginx",
		.path = path,
		.path_len = strlen(path),
	};
	assert_int_equal(inet_pton(AF_INET, "10.0.0.1", k.addr), 1);
	return k;
}

static struct http_stats_key key_v6(const char *addr, const char *path)
{
	struct http_stats_key k = key_v4(path);
	memset(k.addr, 0, sizeof(k.addr));
	k.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, addr, k.addr), 1);
	return k;
}

static void add(struct http_stats *t, const struct http_stats_key *k, uint64_t bytes,
		uint64_t latency_ns)
{
	assert_int_equal(http_stats_add(t, k, bytes, latency_ns), 0);
}

static uint64_t row_count(const struct http_stats *t, const struct http_stats_key *k)
{
	struct http_stats_row row;
	if (http_stats_lookup(t, k, &row) != 0)
		return 0;
	return row.count;
}

static void test_identical_keys_aggregate_into_one_row(void **state)
{
	(void)state;
	struct http_stats *t = table_new(100, 255);
	struct http_stats_key k = key_v4("/api/users");
	for (int i = 1; i <= 10; i++)
		add(t, &k, 100, (uint64_t)i * 1000000);
	/* the same key from another buffer */
	char other[] = "/api/users";
	struct http_stats_key k2 = key_v4(other);
	add(t, &k2, 50, 11000000);
	assert_int_equal(http_stats_count(t), 1);

	struct http_stats_row row;
	assert_int_equal(http_stats_lookup(t, &k, &row), 0);
	assert_int_equal(row.count, 11);
	assert_int_equal(row.bytes, 1050);
	assert_int_equal(sketch_count(row.latency), 11);
	assert_true(sketch_min(row.latency) == 1e6 && sketch_max(row.latency) == 11e6);
	assert_int_equal(row.key.family, AF_INET);
	assert_int_equal(row.key.port, 8080);
	assert_int_equal(row.key.status, 200);
	assert_int_equal(row.key.method, USM_HTTP_METHOD_GET);
	assert_int_equal(row.key.pid, 42);
	assert_string_equal(row.key.comm, "nginx");
	assert_int_equal(row.key.path_len, 10);
	assert_string_equal(row.key.path, "/api/users");
	assert_ptr_not_equal(row.key.path, k.path); /* the table's copy */
	const struct http_stats_counters *c = http_stats_counters(t);
	assert_int_equal(c->exchanges, 11);
	assert_int_equal(c->rows_created, 1);
	http_stats_free(t);
}

static void test_every_key_field_makes_its_own_row(void **state)
{
	(void)state;
	struct http_stats *t = table_new(100, 255);
	struct http_stats_key base = key_v4("/a");
	struct http_stats_key k[9];
	for (int i = 0; i < 9; i++)
		k[i] = base;
	k[1].status = 404;
	k[2].method = USM_HTTP_METHOD_POST;
	k[3].path = "/b";
	k[4].port = 8081;
	k[5].pid = 43;
	strcpy(k[6].comm, "envoy");
	k[7].addr[3] = 2; /* 10.0.0.2 */
	k[8].path = "/a/";
	k[8].path_len = 3;
	for (int i = 0; i < 9; i++)
		add(t, &k[i], 10, 1000);
	assert_int_equal(http_stats_count(t), 9);
	for (int i = 0; i < 9; i++)
		assert_int_equal(row_count(t, &k[i]), 1);
	/* a path is bytes: "/a" and "/a\0" differ */
	struct http_stats_key nul = base;
	nul.path = "/a\0";
	nul.path_len = 3;
	add(t, &nul, 10, 1000);
	assert_int_equal(http_stats_count(t), 10);
	assert_int_equal(row_count(t, &base), 1);
	http_stats_free(t);
}

static void test_ipv6_keys_and_ipv4_mapped_addresses(void **state)
{
	(void)state;
	struct http_stats *t = table_new(100, 255);
	struct http_stats_key a = key_v6("2001:db8::1", "/x");
	struct http_stats_key b = key_v6("2001:db8::2", "/x");
	add(t, &a, 1, 1);
	add(t, &a, 1, 1);
	add(t, &b, 1, 1);
	assert_int_equal(http_stats_count(t), 2);
	assert_int_equal(row_count(t, &a), 2);
	struct http_stats_row row;
	assert_int_equal(http_stats_lookup(t, &b, &row), 0);
	assert_int_equal(row.key.family, AF_INET6);
	assert_memory_equal(row.key.addr, b.addr, 16);

	/* ::ffff:10.0.0.1 (a dual-stack socket) is 10.0.0.1 */
	struct http_stats_key mapped = key_v6("::ffff:10.0.0.1", "/x");
	struct http_stats_key v4 = key_v4("/x");
	add(t, &mapped, 1, 1);
	add(t, &v4, 1, 1);
	assert_int_equal(http_stats_count(t), 3);
	assert_int_equal(http_stats_lookup(t, &mapped, &row), 0);
	assert_int_equal(row.count, 2);
	assert_int_equal(row.key.family, AF_INET);
	assert_memory_equal(row.key.addr, v4.addr, 4);
	static const uint8_t zero[12];
	assert_memory_equal(row.key.addr + 4, zero, 12);

	/* AF_INET ignores the bytes after the first four */
	struct http_stats_key junk = v4;
	memset(junk.addr + 4, 0xaa, 12);
	add(t, &junk, 1, 1);
	assert_int_equal(row_count(t, &v4), 3);
	/* ::10.0.0.1 is not IPv4-mapped: its own IPv6 row */
	struct http_stats_key compat = key_v6("::10.0.0.1", "/x");
	add(t, &compat, 1, 1);
	assert_int_equal(http_stats_count(t), 4);
	http_stats_free(t);
}

static void test_comm_is_read_up_to_its_nul_and_15_characters(void **state)
{
	(void)state;
	struct http_stats *t = table_new(100, 255);
	struct http_stats_key a = key_v4("/");
	struct http_stats_key b = a;
	memcpy(b.comm, "nginx\0garbage!!", 16); /* bytes after the NUL ignored */
	add(t, &a, 1, 1);
	add(t, &b, 1, 1);
	assert_int_equal(http_stats_count(t), 1);

	struct http_stats_key long_comm = a, long_comm2 = a;
	memcpy(long_comm.comm, "0123456789abcdeX", 16); /* no NUL at all */
	memcpy(long_comm2.comm, "0123456789abcdeY", 16);
	add(t, &long_comm, 1, 1);
	add(t, &long_comm2, 1, 1);
	assert_int_equal(http_stats_count(t), 2);
	struct http_stats_row row;
	assert_int_equal(http_stats_lookup(t, &long_comm, &row), 0);
	assert_string_equal(row.key.comm, "0123456789abcde");
	assert_int_equal(row.count, 2);

	struct http_stats_key unknown = a;
	unknown.pid = 0;
	memset(unknown.comm, 0, sizeof(unknown.comm));
	add(t, &unknown, 1, 1);
	assert_int_equal(http_stats_count(t), 3);
	http_stats_free(t);
}

static void test_long_paths_are_cut_at_max_path_len_and_counted(void **state)
{
	(void)state;
	struct http_stats *t = table_new(100, 8);
	struct http_stats_key a = key_v4("/0123456789");
	struct http_stats_key b = key_v4("/0123456xyz");
	struct http_stats_key exact = key_v4("/0123456");
	add(t, &a, 1, 1);
	add(t, &b, 1, 1);
	add(t, &exact, 1, 1);
	assert_int_equal(http_stats_count(t), 1);
	struct http_stats_row row;
	assert_int_equal(http_stats_lookup(t, &exact, &row), 0);
	assert_int_equal(row.count, 3);
	assert_int_equal(row.key.path_len, 8);
	assert_string_equal(row.key.path, "/0123456");
	assert_int_equal(http_stats_counters(t)->paths_truncated, 2);

	/* an empty path (and a NULL one) is a path */
	struct http_stats_key empty = key_v4("");
	struct http_stats_key null_path = empty;
	null_path.path = NULL;
	add(t, &empty, 1, 1);
	add(t, &null_path, 1, 1);
	assert_int_equal(row_count(t, &empty), 2);
	http_stats_free(t);
}

static void test_invalid_keys_are_refused_and_counted(void **state)
{
	(void)state;
	struct http_stats *t = table_new(100, 255);
	struct http_stats_key k[6];
	for (int i = 0; i < 6; i++)
		k[i] = key_v4("/");
	k[0].family = AF_UNIX;
	k[1].method = USM_HTTP_METHOD_COUNT;
	k[2].status = 99;
	k[3].status = 600;
	k[4].status = 0;
	k[5].path = NULL; /* with path_len 1 */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(http_stats_add(t, &k[i], 1, 1), -EINVAL);
		struct http_stats_row row;
		assert_int_equal(http_stats_lookup(t, &k[i], &row), -EINVAL);
	}
	assert_int_equal(http_stats_counters(t)->rejected, 6);
	assert_int_equal(http_stats_counters(t)->exchanges, 0);
	assert_int_equal(http_stats_count(t), 0);
	/* an unknown server address is one row, whatever its bytes say */
	struct http_stats_key unknown[2] = {key_v4("/"), key_v4("/")};
	unknown[0].family = unknown[1].family = AF_UNSPEC;
	unknown[1].addr[0] = 99;
	assert_int_equal(http_stats_add(t, &unknown[0], 1, 1), 0);
	assert_int_equal(http_stats_add(t, &unknown[1], 1, 1), 0);
	assert_int_equal(http_stats_count(t), 1);
	struct http_stats_row urow;
	assert_int_equal(http_stats_lookup(t, &unknown[1], &urow), 0);
	assert_int_equal(urow.key.family, AF_UNSPEC);
	assert_int_equal(urow.count, 2);
	assert_int_equal(urow.key.addr[0], 0);
	http_stats_reset(t);
	/* the edges are valid */
	struct http_stats_key edge = key_v4("/");
	edge.status = 100;
	edge.method = USM_HTTP_METHOD_UNKNOWN;
	add(t, &edge, 1, 1);
	edge.status = 599;
	edge.method = USM_HTTP_METHOD_TRACE;
	add(t, &edge, 1, 1);
	assert_int_equal(http_stats_count(t), 2);
	http_stats_free(t);
}

static void test_limits_are_validated(void **state)
{
	(void)state;
	struct http_stats_limits bad[] = {
		{.max_entries = 0, .max_path_len = 100},
		{.max_entries = HTTP_STATS_MAX_ENTRIES + 1, .max_path_len = 100},
		{.max_entries = 100, .max_path_len = 0},
		{.max_entries = 100, .max_path_len = HTTP_STATS_PATH_MAX + 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(http_stats_new(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	assert_null(http_stats_new(NULL));
	http_stats_free(table_new(HTTP_STATS_MAX_ENTRIES, HTTP_STATS_PATH_MAX));
	http_stats_free(NULL);
}

static void test_full_table_sends_new_keys_to_the_overflow_row(void **state)
{
	(void)state;
	struct http_stats *t = table_new(3, 255);
	struct http_stats_key k[5] = {key_v4("/1"), key_v4("/2"), key_v4("/3"), key_v4("/4"),
				      key_v4("/5")};
	for (int i = 0; i < 5; i++)
		add(t, &k[i], 100, 1000000 * (uint64_t)(i + 1));
	assert_int_equal(http_stats_count(t), 3);
	uint64_t gen = http_stats_generation(t);
	/* known keys still aggregate when full; new ones overflow */
	add(t, &k[0], 100, 1000000);
	add(t, &k[4], 100, 5000000);
	assert_int_equal(http_stats_generation(t), gen);
	assert_int_equal(row_count(t, &k[0]), 2);
	assert_int_equal(row_count(t, &k[3]), 0);

	const struct http_stats_counters *c = http_stats_counters(t);
	assert_int_equal(c->overflow_exchanges, 3);
	assert_int_equal(c->exchanges, 7);
	struct http_stats_row of;
	http_stats_overflow(t, &of);
	assert_int_equal(of.count, 3);
	assert_int_equal(of.bytes, 300);
	assert_int_equal(sketch_count(of.latency), 3);
	assert_true(sketch_min(of.latency) == 4e6 && sketch_max(of.latency) == 5e6);
	assert_int_equal(of.key.family, 0);
	assert_string_equal(of.key.path, "");

	/* nothing lost: rows + overflow = exchanges */
	uint64_t total = of.count;
	for (int i = 0; i < 3; i++)
		total += row_count(t, &k[i]);
	assert_int_equal(total, c->exchanges);
	http_stats_free(t);
}

/* Reads the whole table page by page; seen[i] counts rows with path
 * "/item/<i>". Returns the number of pages. */
static unsigned read_all(const struct http_stats *t, unsigned *seen, unsigned n,
			 void (*between_pages)(unsigned page))
{
	struct http_stats_row rows[USM_PAGE_MAX_RECORDS];
	uint64_t cursor = 0;
	unsigned pages = 0;
	do {
		uint32_t count;
		assert_int_equal(http_stats_page(t, cursor, rows, USM_PAGE_MAX_RECORDS, &count,
						 &cursor),
				 0);
		assert_true(count <= USM_PAGE_MAX_RECORDS);
		assert_true(cursor == 0 || count == USM_PAGE_MAX_RECORDS);
		for (uint32_t i = 0; i < count; i++) {
			unsigned id;
			assert_int_equal(sscanf(rows[i].key.path, "/item/%u", &id), 1);
			assert_true(id < n);
			seen[id]++;
		}
		pages++;
		if (between_pages)
			between_pages(pages);
	} while (cursor);
	return pages;
}

static char paths[20000][24];

static void make_paths(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(paths[i], sizeof(paths[i]), "/item/%u", i);
}

static void test_paging_10k_rows_48_per_page_reads_each_once(void **state)
{
	(void)state;
	enum { N = 10000 };
	struct http_stats *t = table_new(N, 255);
	make_paths(N);
	for (unsigned i = 0; i < N; i++) {
		struct http_stats_key k = key_v4(paths[i]);
		add(t, &k, 1, 1000 + i);
	}
	assert_int_equal(http_stats_count(t), N);
	static unsigned seen[N];
	memset(seen, 0, sizeof(seen));
	uint64_t gen = http_stats_generation(t);
	unsigned pages = read_all(t, seen, N, NULL);
	assert_int_equal(pages, (N + USM_PAGE_MAX_RECORDS - 1) / USM_PAGE_MAX_RECORDS);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(http_stats_generation(t), gen); /* reading changes nothing */

	/* an empty table is one empty page */
	struct http_stats *empty = table_new(10, 255);
	struct http_stats_row row;
	uint32_t count = 99;
	uint64_t next = 99;
	assert_int_equal(http_stats_page(empty, 0, &row, 1, &count, &next), 0);
	assert_int_equal(count, 0);
	assert_int_equal(next, 0);
	http_stats_free(empty);
	http_stats_free(t);
}

static struct http_stats *paged_table;
static unsigned next_new_path;

static void add_rows_and_values(unsigned page)
{
	/* between pages: new rows, and more exchanges on old ones */
	for (unsigned i = 0; i < 30; i++) {
		struct http_stats_key k = key_v4(paths[next_new_path++]);
		add(paged_table, &k, 1, 1);
	}
	struct http_stats_key old = key_v4(paths[page % 100]);
	add(paged_table, &old, 1, 1);
}

static void test_paging_while_adding_reads_every_old_row_once(void **state)
{
	(void)state;
	enum { OLD = 5000, MAX = 20000 };
	paged_table = table_new(MAX, 255);
	make_paths(MAX);
	for (unsigned i = 0; i < OLD; i++) {
		struct http_stats_key k = key_v4(paths[i]);
		add(paged_table, &k, 1, 1);
	}
	next_new_path = OLD;
	uint64_t gen = http_stats_generation(paged_table);
	static unsigned seen[MAX];
	memset(seen, 0, sizeof(seen));
	read_all(paged_table, seen, MAX, add_rows_and_values);
	assert_true(http_stats_generation(paged_table) != gen);
	for (unsigned i = 0; i < next_new_path; i++)
		assert_true(i < OLD ? seen[i] == 1 : seen[i] <= 1);
	http_stats_free(paged_table);
}

static void test_generation_changes_on_new_rows_and_reset_only(void **state)
{
	(void)state;
	struct http_stats *t = table_new(10, 255);
	struct http_stats_key a = key_v4("/a"), b = key_v4("/b");
	uint64_t g0 = http_stats_generation(t);
	add(t, &a, 1, 1);
	uint64_t g1 = http_stats_generation(t);
	assert_true(g1 != g0);
	add(t, &a, 1, 1); /* values only */
	assert_int_equal(http_stats_generation(t), g1);
	add(t, &b, 1, 1);
	uint64_t g2 = http_stats_generation(t);
	assert_true(g2 != g1);
	struct http_stats_row row;
	assert_int_equal(http_stats_lookup(t, &a, &row), 0); /* reading */
	assert_int_equal(http_stats_generation(t), g2);
	http_stats_reset(t);
	uint64_t g3 = http_stats_generation(t);
	assert_true(g3 != g2);
	http_stats_reset(t); /* even an empty table's reset */
	assert_true(http_stats_generation(t) != g3);
	http_stats_free(t);
}

static void test_reset_clears_rows_and_overflow_and_keeps_counters(void **state)
{
	(void)state;
	enum { N = 100 };
	struct http_stats *t = table_new(N, 255);
	make_paths(N + 1);
	for (unsigned i = 0; i <= N; i++) {
		struct http_stats_key k = key_v4(paths[i]);
		add(t, &k, 10, 1000);
	}
	struct http_stats_row rows[USM_PAGE_MAX_RECORDS];
	uint32_t count;
	uint64_t stale;
	assert_int_equal(http_stats_page(t, 0, rows, USM_PAGE_MAX_RECORDS, &count, &stale), 0);
	assert_true(stale != 0);
	size_t full_bytes = http_stats_bytes(t);

	http_stats_reset(t);
	assert_int_equal(http_stats_count(t), 0);
	struct http_stats_key k0 = key_v4(paths[0]);
	assert_int_equal(row_count(t, &k0), 0);
	struct http_stats_row of;
	http_stats_overflow(t, &of);
	assert_int_equal(of.count, 0);
	assert_int_equal(sketch_count(of.latency), 0);
	const struct http_stats_counters *c = http_stats_counters(t);
	assert_int_equal(c->exchanges, N + 1);
	assert_int_equal(c->overflow_exchanges, 1);
	assert_int_equal(c->resets, 1);
	assert_true(http_stats_bytes(t) < full_bytes);
	assert_int_equal(http_stats_bytes(t), http_stats_bytes(t)); /* stable */

	/* the table fills again from empty; a cursor from before the reset
	 * restarts from the first row */
	for (unsigned i = 0; i < 60; i++) {
		struct http_stats_key k = key_v4(paths[i]);
		add(t, &k, 10, 1000);
	}
	uint64_t next;
	assert_int_equal(http_stats_page(t, stale, rows, USM_PAGE_MAX_RECORDS, &count, &next), 0);
	assert_int_equal(count, USM_PAGE_MAX_RECORDS);
	assert_string_equal(rows[0].key.path, "/item/0");
	assert_int_equal(rows[0].count, 1);
	assert_true(next != 0 && next != stale);
	assert_int_equal(http_stats_page(t, next, rows, USM_PAGE_MAX_RECORDS, &count, &next), 0);
	assert_int_equal(count, 12);
	assert_int_equal(next, 0);
	http_stats_free(t);
}

static void test_latency_quantiles_from_row_sketches(void **state)
{
	(void)state;
	struct http_stats *t = table_new(10, 255);
	struct http_stats_key fast = key_v4("/fast"), slow = key_v4("/slow");
	/* /fast: 1..1000 us; /slow: 1..1000 ms, plus one exchange with no
	 * measurable latency */
	for (uint64_t i = 1; i <= 1000; i++) {
		add(t, &fast, 200, i * 1000);
		add(t, &slow, 2000, i * 1000000);
	}
	add(t, &slow, 2000, 0);
	struct http_stats_row row;
	assert_int_equal(http_stats_lookup(t, &fast, &row), 0);
	assert_int_equal(row.count, 1000);
	assert_int_equal(row.bytes, 200000);
	double p50 = sketch_quantile(row.latency, 0.5), p99 = sketch_quantile(row.latency, 0.99);
	/* exact: ranks 499 and 989 of 1..1000 us */
	assert_true(fabs(p50 - 500e3) <= 0.01 * 500e3);
	assert_true(fabs(p99 - 990e3) <= 0.01 * 990e3);
	assert_true(sketch_max(row.latency) == 1e6);

	assert_int_equal(http_stats_lookup(t, &slow, &row), 0);
	assert_int_equal(row.count, 1001);
	assert_int_equal(sketch_count(row.latency), 1001);
	assert_true(sketch_min(row.latency) == 0);
	p50 = sketch_quantile(row.latency, 0.5);
	assert_true(fabs(p50 - 500e6) <= 0.01 * 500e6); /* rank 500 of 0, 1..1000 ms */
	/* Prometheus-style: exchanges of at most 0.25 s */
	uint64_t le = sketch_count_le(row.latency, 0.25e9);
	assert_true(le >= 1 + 247 && le <= 1 + 252);
	assert_int_equal(http_stats_counters(t)->latency_dropped, 0);
	http_stats_free(t);
}

/* The name a process chose and its container are part of the key, read
 * up to their bounds; NULL and "" are the same (none). */
static void test_service_and_container_id_make_their_own_rows(void **state)
{
	(void)state;
	struct http_stats *t = table_new(16, 255);
	struct http_stats_key plain = key_v4("/a"), named = key_v4("/a"), boxed = key_v4("/a");
	named.service = "checkout";
	boxed.service = "checkout";
	char id[USM_CONTAINER_ID_MAX + 8];
	memset(id, 'a', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0'; /* longer than an id: read up to USM_CONTAINER_ID_LEN */
	boxed.container_id = id;
	add(t, &plain, 1, 1000);
	add(t, &named, 1, 1000);
	add(t, &boxed, 1, 1000);
	plain.service = "";
	add(t, &plain, 1, 1000);
	assert_int_equal(http_stats_count(t), 3);
	struct http_stats_row r;
	assert_int_equal(http_stats_lookup(t, &boxed, &r), 0);
	assert_string_equal(r.key.service, "checkout");
	assert_int_equal(strlen(r.key.container_id), USM_CONTAINER_ID_LEN);
	assert_int_equal(r.count, 1);
	assert_int_equal(http_stats_lookup(t, &plain, &r), 0);
	assert_string_equal(r.key.service, "");
	assert_int_equal(r.count, 2);
	http_stats_free(t);
}

static void test_memory_per_row_is_small_until_latencies_spread(void **state)
{
	(void)state;
	enum { N = 1000 };
	struct http_stats *t = table_new(N, 255);
	make_paths(N);
	size_t empty = http_stats_bytes(t);
	for (unsigned i = 0; i < N; i++) {
		struct http_stats_key k = key_v4(paths[i]);
		add(t, &k, 1, 1000000);
	}
	size_t per_row = (http_stats_bytes(t) - empty) / N;
	/* row (with its service name and container id) + path + 16 one-byte
	 * sketch counters + order + slots */
	assert_true(per_row <= 380);
	http_stats_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_keys_aggregate_into_one_row),
		cmocka_unit_test(test_every_key_field_makes_its_own_row),
		cmocka_unit_test(test_ipv6_keys_and_ipv4_mapped_addresses),
		cmocka_unit_test(test_comm_is_read_up_to_its_nul_and_15_characters),
		cmocka_unit_test(test_long_paths_are_cut_at_max_path_len_and_counted),
		cmocka_unit_test(test_invalid_keys_are_refused_and_counted),
		cmocka_unit_test(test_limits_are_validated),
		cmocka_unit_test(test_full_table_sends_new_keys_to_the_overflow_row),
		cmocka_unit_test(test_paging_10k_rows_48_per_page_reads_each_once),
		cmocka_unit_test(test_paging_while_adding_reads_every_old_row_once),
		cmocka_unit_test(test_generation_changes_on_new_rows_and_reset_only),
		cmocka_unit_test(test_reset_clears_rows_and_overflow_and_keeps_counters),
		cmocka_unit_test(test_latency_quantiles_from_row_sketches),
		cmocka_unit_test(test_service_and_container_id_make_their_own_rows),
		cmocka_unit_test(test_memory_per_row_is_small_until_latencies_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
