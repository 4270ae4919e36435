/* libFuzzer target: the HTTP capture path of the collector on arbitrary
 * ring buffer records: the decoder (data_event_check) and, for records it
 * accepts, the connection table with parsing, pairing and aggregation,
 * exactly as the ring buffer callback runs them. Several records per input
 * (length-prefixed) so that connections see sequences. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connections.h"
#include "data_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_stats_limits sl = {.max_entries = 8, .max_path_len = 16};
	struct conn_limits cl = {.max_connections = 4,
				 .request_timeout_ns = 1000,
				 .idle_timeout_ns = 100000,
				 .http = HTTP_LIMITS_DEFAULT};
	struct http_stats *stats = http_stats_new(&sl);
	struct conn_table *t = stats ? conn_table_new(&cl, stats) : NULL;
	/* 8-byte aligned, like ring buffer records */
	static uint64_t rec[(sizeof(struct usm_data_event) + USM_CAPTURE_MAX) / 8 + 1];
	while (t && size >= 2) {
		size_t n = (size_t)data[0] | (size_t)data[1] << 8;
		data += 2, size -= 2;
		if (n > size)
			n = size;
		if (n > sizeof(rec))
			n = sizeof(rec);
		memcpy(rec, data, n);
		data += n, size -= n;
		const uint8_t *bytes;
		if (data_event_check(rec, n, &bytes) == DATA_EVENT_OK) {
			const struct usm_data_event *e = (const void *)rec;
			conn_table_event(t, e, bytes);
			if (e->tid % 7 == 0)
				conn_table_expire(t, e->ts_ns);
			if (e->tid % 11 == 0)
				conn_table_drop_pid(t, e->pid);
		}
	}
	conn_table_free(t);
	http_stats_free(stats);
	return 0;
}
