/* The monotonic clock (timers, backoffs, lingers; in nanoseconds it is
 * the clock of the BPF events' timestamps, bpf_ktime_get_ns). */
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

static inline uint64_t usm_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
