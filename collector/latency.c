#include "latency.h"

#include <stdlib.h>
#include <string.h>

void latency_add(struct latency_window *w, uint64_t us)
{
	w->us[w->next] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	w->next = (w->next + 1) % LATENCY_WINDOW;
	if (w->n < LATENCY_WINDOW)
		w->n++;
	w->count++;
	if (us > w->max)
		w->max = us;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void latency_quantiles(const struct latency_window *w, uint64_t *p50, uint64_t *p99)
{
	*p50 = *p99 = 0;
	if (w->n == 0)
		return;
	static uint32_t sorted[LATENCY_WINDOW];
	memcpy(sorted, w->us, w->n * sizeof(sorted[0]));
	qsort(sorted, w->n, sizeof(sorted[0]), compare_u32);
	/* nearest rank: ceil(q * n) - 1 */
	*p50 = sorted[(w->n * 50 + 99) / 100 - 1];
	*p99 = sorted[(w->n * 99 + 99) / 100 - 1];
}
