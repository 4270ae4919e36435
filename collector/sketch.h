/* A latency sketch with bounded relative error, after DDSketch (Masson,
 * Rim, Lee: "DDSketch: a fast and fully-mergeable quantile sketch with
 * relative-error guarantees", VLDB 2019).
 *
 * Contract:
 * - Values are latencies in nanoseconds, as doubles (a uint64_t converts
 *   implicitly; above 2^53 ns, 104 days, the conversion rounds). Positive
 *   values go to bucket i = ceil(log_gamma(v)), which holds
 *   (gamma^(i-1), gamma^i], with gamma = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA).
 *   Zero is counted apart and is exact. Negative, NaN and infinite values
 *   are refused with -EINVAL and not recorded (the caller counts them).
 * - sketch_quantile(q) returns a value within SKETCH_ALPHA (1 %) relative
 *   error of the exact q-quantile, the element of rank floor(q * (n - 1))
 *   of the sorted values (up to floating-point rounding at a bucket edge,
 *   about 1e-15). It returns the bucket's representative value
 *   2 gamma^i / (gamma + 1), clamped to [min, max], which can only bring it
 *   closer; q = 0 and q = 1 return the exact min and max.
 * - sketch_count_le(b) counts the values whose representative value is
 *   <= b: every value <= b / (1 + SKETCH_ALPHA) is counted and no value
 *   > b / (1 - SKETCH_ALPHA) is, i.e. it is the exact cumulative count for
 *   some bound within about 1 % of b (the same accuracy as the quantiles;
 *   what Prometheus histogram buckets need). It is exact for b < 0 (0),
 *   b = 0 (the zeros), b < min (0), b >= max and b = +inf (everything),
 *   and monotone in b.
 * - min, max, count and sum are exact (sum as a double).
 * - Bounded: at most SKETCH_MAX_BUCKETS buckets between the lowest and the
 *   highest index. When a value (or a merge) would need more, the lowest
 *   buckets are folded into the lowest one kept, as DDSketch's collapsing
 *   store does: the high quantiles keep their guarantee, the values folded
 *   are reported at the lowest kept bucket, so low quantiles (and
 *   count_le for bounds below that bucket) are overestimated
 *   (resp. underestimated) without bound; min stays exact and
 *   sketch_collapsed() says it happened. 2048 buckets of 2 % each span
 *   gamma^2048 ~ 6e17: nanosecond latencies from 1 ns to 19 years never
 *   collapse; only values spanning more than that do.
 *
 * Memory: sizeof(struct sketch) (64 bytes on 64-bit) and nothing else
 * until the first positive value. Buckets are one contiguous array offset
 * by its lowest index, grown by half as needed (first 16 buckets) up to
 * SKETCH_MAX_BUCKETS, holding only the range between the lowest and the
 * highest index seen (plus slack). Counters start 1 byte wide and widen
 * the whole array to 2, 4 then 8 bytes when a bucket outgrows its width.
 * So: 64 bytes + the allocation when there is data: 16 bytes for one
 * distinct latency; for latencies spread over two decades (230 buckets)
 * about 64 + 271 bytes while buckets hold < 256 values, 64 + 542 below
 * 65536; at worst 64 + 8 * 2048 = 16448 bytes. sketch_bytes() tells the
 * actual heap use (malloc's own overhead, ~16 bytes, not included).
 *
 * Not thread-safe. A struct sketch is plain data owned by its container:
 * sketch_init() it, sketch_free() it; it must not be copied by assignment
 * (two sketches would share the bucket array). */
#ifndef USM_COLLECTOR_SKETCH_H
#define USM_COLLECTOR_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SKETCH_ALPHA 0.01
#define SKETCH_MAX_BUCKETS 2048

struct sketch {
	void *buckets;       /* NULL until the first positive value */
	uint64_t count;      /* every value, zeros included */
	uint64_t zero_count;
	double min, max;     /* exact; meaningful when count > 0 */
	double sum;
	int32_t base;        /* bucket index of buckets[0] */
	uint16_t cap;        /* buckets allocated */
	uint16_t lo, hi;     /* used slots: buckets[lo..hi], valid when buckets != NULL */
	uint8_t width;       /* log2 of the counter size in bytes: 0..3 */
	uint8_t flags;
};

void sketch_init(struct sketch *s);
/* Releases the buckets; the sketch is then empty (as after sketch_init). */
void sketch_free(struct sketch *s);

/* 0, -EINVAL (v < 0, NaN, infinite: not recorded), -ENOMEM (not recorded). */
int sketch_add(struct sketch *s, double v);

/* Adds every value of src to dst (dst != src: -EINVAL). The result is the
 * sketch that adding all of both values to one sketch would give (sum up
 * to rounding), collapsing if their combined range is too wide. 0,
 * -EINVAL or -ENOMEM (dst unchanged). */
int sketch_merge(struct sketch *dst, const struct sketch *src);

uint64_t sketch_count(const struct sketch *s);
double sketch_sum(const struct sketch *s);
/* Exact; 0 when empty. */
double sketch_min(const struct sketch *s);
double sketch_max(const struct sketch *s);

/* 0 <= q <= 1 (outside: clamped; NaN: NaN). 0 when empty. */
double sketch_quantile(const struct sketch *s, double q);

/* Values <= bound, within the accuracy above. NaN: 0. */
uint64_t sketch_count_le(const struct sketch *s, double bound);

/* True if some values were folded into the lowest bucket (see above). */
bool sketch_collapsed(const struct sketch *s);

/* Heap bytes held by the bucket array (not counting struct sketch itself). */
size_t sketch_bytes(const struct sketch *s);

/* The bucket a positive value goes to, and a bucket's representative value
 * and upper bound (tests, and anyone rendering buckets). */
int32_t sketch_index(double v);
double sketch_bucket_value(int32_t index);
double sketch_bucket_upper(int32_t index);

#endif
