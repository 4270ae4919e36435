/* Pipeline throughput: the collector's HTTP path on one core, fed records
 * in the capture ring's format (struct usm_data_event + captured bytes),
 * through the same functions the ring buffer callback runs: the record
 * check, the connection table, parsing, pairing and aggregation.
 *
 * usage: pipeline_throughput [EVENTS [CONNECTIONS [PATHS]]]
 * Prints one JSON object: events, seconds, events_per_s, ns_per_event,
 * exchanges, rows, and max_rss_kb.
 *
 * The records are generated up front (a keep-alive conversation per
 * connection: request read, response written, as a server sees it,
 * connections interleaved round-robin) so that only the pipeline is
 * timed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include "connections.h"
#include "data_event.h"

struct record {
	size_t size;
	uint64_t bytes[(sizeof(struct usm_data_event) + 256) / 8 + 1]; /* ring-aligned */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make(struct record *r, uint32_t conn, uint8_t dir, uint64_t ts, const char *text)
{
	struct usm_data_event *e = (struct usm_data_event *)r->bytes;
	size_t n = strlen(text);
	memset(e, 0, sizeof(*e));
	e->type = USM_EVENT_DATA;
	e->pid = 1000 + conn % 8; /* a few server processes */
	e->tid = e->pid;
	e->dir = dir;
	e->len = (uint32_t)n;
	e->next = (uint32_t)n;
	e->captured = (uint16_t)n;
	e->conn = 0x10000 + conn;
	e->ts_ns = ts;
	e->tuple.family = AF_INET;
	e->tuple.laddr[0] = e->tuple.raddr[0] = 127;
	e->tuple.laddr[3] = e->tuple.raddr[3] = 1;
	e->tuple.lport = 8080;
	e->tuple.rport = (uint16_t)(20000 + conn);
	memcpy(e->comm, "server", 7);
	memcpy(e->data, text, n);
	r->size = sizeof(*e) + n;
}

int main(int argc, char **argv)
{
	uint32_t events = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000000;
	uint32_t conns = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000;
	uint32_t paths = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 100;
	if (events < 2 || conns == 0 || paths == 0)
		return 2;
	struct record *recs = malloc(sizeof(*recs) * events);
	if (!recs)
		return 1;
	static const char response[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				       "Content-Length: 2\r\n\r\nok";
	for (uint32_t i = 0; i + 1 < events; i += 2) {
		uint32_t conn = (i / 2) % conns;
		char request[128];
		snprintf(request, sizeof(request),
			 "GET /api/v1/items/%u?id=%u HTTP/1.1\r\nHost: bench\r\nUser-Agent: b\r\n\r\n",
			 (i / 2) % paths, i);
		uint64_t ts = (uint64_t)i * 1000;
		make(&recs[i], conn, USM_DIR_READ, ts, request);
		make(&recs[i + 1], conn, USM_DIR_WRITE, ts + 250000, response);
	}
	events &= ~1u;

	struct http_stats_limits sl = {.max_entries = 100000, .max_path_len = 128};
	struct conn_limits cl = {.max_connections = conns + 16,
				 .request_timeout_ns = 30ull * 1000000000,
				 .idle_timeout_ns = 300ull * 1000000000,
				 .http = HTTP_LIMITS_DEFAULT};
	struct http_stats *stats = http_stats_new(&sl);
	struct conn_table *t = stats ? conn_table_new(&cl, stats) : NULL;
	if (!t)
		return 1;
	uint64_t malformed = 0;
	double start = now_s();
	for (uint32_t i = 0; i < events; i++) {
		const uint8_t *data;
		if (data_event_check(recs[i].bytes, recs[i].size, &data) != DATA_EVENT_OK) {
			malformed++;
			continue;
		}
		conn_table_event(t, (const struct usm_data_event *)recs[i].bytes, data);
	}
	double secs = now_s() - start;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"events\": %u, \"connections\": %u, \"paths\": %u, \"seconds\": %.6f, "
	       "\"events_per_s\": %.0f, \"ns_per_event\": %.1f, \"exchanges\": %llu, "
	       "\"rows\": %u, \"malformed\": %llu, \"max_rss_kb\": %ld}\n",
	       events, conns, paths, secs, events / secs, secs * 1e9 / events,
	       (unsigned long long)conn_table_counters(t)->exchanges, http_stats_count(stats),
	       (unsigned long long)malformed, ru.ru_maxrss);
	conn_table_free(t);
	http_stats_free(stats);
	free(recs);
	return 0;
}
