/* The monotonic clock in milliseconds (timers, backoffs, lingers). */
#ifndef USM_MONOTONIC_H
#define USM_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t usm_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
