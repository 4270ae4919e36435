/* A bounded window of latencies (microseconds) and its quantiles: how
 * long after a kernel event (exec, library open) a new file's probes were
 * live. Keeps the last LATENCY_WINDOW samples; the maximum and the count
 * are over all samples. */
#ifndef USM_COLLECTOR_LATENCY_H
#define USM_COLLECTOR_LATENCY_H

#include <stdint.h>

#define LATENCY_WINDOW 1024

struct latency_window {
	uint32_t us[LATENCY_WINDOW];
	uint32_t n;    /* samples held, <= LATENCY_WINDOW */
	uint32_t next; /* where the next sample goes */
	uint64_t count;
	uint64_t max;
};

void latency_add(struct latency_window *w, uint64_t us);

/* Nearest-rank quantiles over the window; all 0 when empty. */
void latency_quantiles(const struct latency_window *w, uint64_t *p50, uint64_t *p99);

#endif
