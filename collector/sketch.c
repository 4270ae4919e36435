/* The latency sketch (contract in sketch.h).
 *
 * Layout: one array of counters for the bucket indexes [base, base + cap);
 * slots lo..hi are the used range and every slot outside it is zero. A
 * value whose bucket falls inside the array and whose counter has room is
 * the fast path: one log(), one increment. Anything else (a bucket outside
 * the array, a counter at the top of its width, a merge that does not fit)
 * goes through rebuild(): one new array with the final range and width,
 * filled from the old one, so a failed allocation leaves the sketch as it
 * was. */
#include "sketch.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GAMMA ((1.0 + SKETCH_ALPHA) / (1.0 - SKETCH_ALPHA))
/* ln(gamma) and 1 / ln(gamma) for alpha = 0.01, to 17 digits; test_sketch
 * checks them against log() so that a change of SKETCH_ALPHA cannot
 * leave them behind. */
#define LN_GAMMA 0.020000666706669524
#define INV_LN_GAMMA 49.998333288886561
/* The representative value of bucket i is 2 gamma^i / (gamma + 1), which
 * is (1 - alpha) gamma^i: log of that factor. */
#define LN_ONE_MINUS_ALPHA (log1p(-SKETCH_ALPHA))

#define FIRST_CAP 16u
#define FLAG_COLLAPSED 1u

_Static_assert(SKETCH_MAX_BUCKETS >= FIRST_CAP && SKETCH_MAX_BUCKETS <= UINT16_MAX,
	       "slot numbers fit uint16_t");

/* ---- counters of 1, 2, 4 or 8 bytes ---- */

static uint64_t width_max(uint8_t width)
{
	return width >= 3 ? UINT64_MAX : (UINT64_C(1) << (8u << width)) - 1;
}

static uint8_t width_for(uint64_t c)
{
	return c <= UINT8_MAX ? 0 : c <= UINT16_MAX ? 1 : c <= UINT32_MAX ? 2 : 3;
}

static uint64_t raw_get(const void *a, uint8_t width, uint32_t j)
{
	switch (width) {
	case 0:
		return ((const uint8_t *)a)[j];
	case 1:
		return ((const uint16_t *)a)[j];
	case 2:
		return ((const uint32_t *)a)[j];
	default:
		return ((const uint64_t *)a)[j];
	}
}

/* c fits the width (the caller widened first). */
static void raw_set(void *a, uint8_t width, uint32_t j, uint64_t c)
{
	switch (width) {
	case 0:
		((uint8_t *)a)[j] = (uint8_t)c;
		break;
	case 1:
		((uint16_t *)a)[j] = (uint16_t)c;
		break;
	case 2:
		((uint32_t *)a)[j] = (uint32_t)c;
		break;
	default:
		((uint64_t *)a)[j] = c;
		break;
	}
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- index space ---- */

int32_t sketch_index(double v)
{
	/* v > 0 and finite: log(v) is within [-745, 710], the index within
	 * +-37300. */
	return (int32_t)ceil(log(v) * INV_LN_GAMMA);
}

double sketch_bucket_upper(int32_t index)
{
	return exp((double)index * LN_GAMMA);
}

double sketch_bucket_value(int32_t index)
{
	return exp((double)index * LN_GAMMA + LN_ONE_MINUS_ALPHA);
}

static int32_t used_lo(const struct sketch *s)
{
	return s->base + s->lo;
}

static int32_t used_hi(const struct sketch *s)
{
	return s->base + s->hi;
}

/* Count in bucket `index`, 0 outside the used range. */
static uint64_t count_at(const struct sketch *s, int32_t index)
{
	if (!s->buckets || index < used_lo(s) || index > used_hi(s))
		return 0;
	return raw_get(s->buckets, s->width, (uint32_t)(index - s->base));
}

/* Sum of the buckets at or below `index` (what folding into it gathers). */
static uint64_t count_through(const struct sketch *s, int32_t index)
{
	uint64_t n = 0;
	if (!s->buckets)
		return 0;
	for (int32_t i = used_lo(s); i <= index && i <= used_hi(s); i++)
		n = sat_add(n, raw_get(s->buckets, s->width, (uint32_t)(i - s->base)));
	return n;
}

/* The used range once [want_lo, want_hi] is added, cut to the highest
 * SKETCH_MAX_BUCKETS indexes. */
static void plan_range(const struct sketch *s, int32_t want_lo, int32_t want_hi, int32_t *lo,
		       int32_t *hi)
{
	*lo = want_lo;
	*hi = want_hi;
	if (s->buckets) {
		if (used_lo(s) < *lo)
			*lo = used_lo(s);
		if (used_hi(s) > *hi)
			*hi = used_hi(s);
	}
	if ((int64_t)*hi - *lo + 1 > SKETCH_MAX_BUCKETS)
		*lo = *hi - (SKETCH_MAX_BUCKETS - 1);
}

static bool array_covers(const struct sketch *s, int32_t lo, int32_t hi)
{
	return s->buckets && lo >= s->base && (int64_t)hi < (int64_t)s->base + s->cap;
}

/* Moves the counters to a new array that covers [lo, hi] (hi - lo + 1 <=
 * SKETCH_MAX_BUCKETS, hi >= the used hi) with counters of `width`; the
 * buckets below lo are folded into lo. The used range becomes [lo, hi].
 * The caller has checked that every resulting count fits `width`.
 * -ENOMEM leaves the sketch unchanged. */
static int rebuild(struct sketch *s, int32_t lo, int32_t hi, uint8_t width)
{
	uint32_t span = (uint32_t)(hi - lo + 1);
	uint32_t cap;
	int32_t base;
	if (array_covers(s, lo, hi)) {
		cap = s->cap; /* only widening */
		base = s->base;
	} else {
		cap = s->cap + s->cap / 2u;
		if (cap < FIRST_CAP)
			cap = FIRST_CAP;
		if (cap < span)
			cap = span;
		if (cap > SKETCH_MAX_BUCKETS)
			cap = SKETCH_MAX_BUCKETS;
		/* Slack on both sides: latencies drift either way. */
		base = lo - (int32_t)((cap - span) / 2u);
	}
	void *a = calloc(cap, (size_t)1 << width);
	if (!a)
		return -ENOMEM;
	if (s->buckets) {
		for (int32_t i = used_lo(s); i <= used_hi(s); i++) {
			uint64_t c = raw_get(s->buckets, s->width, (uint32_t)(i - s->base));
			if (!c)
				continue;
			uint32_t j = (uint32_t)((i < lo ? lo : i) - base);
			raw_set(a, width, j, sat_add(raw_get(a, width, j), c));
		}
		if (used_lo(s) < lo)
			s->flags |= FLAG_COLLAPSED;
		free(s->buckets);
	}
	s->buckets = a;
	s->cap = (uint16_t)cap;
	s->base = base;
	s->width = width;
	s->lo = (uint16_t)(lo - base);
	s->hi = (uint16_t)(hi - base);
	return 0;
}

/* Adds n to bucket `index` (within the used range, the counter has room). */
static void bump(struct sketch *s, int32_t index, uint64_t n)
{
	uint32_t j = (uint32_t)(index - s->base);
	raw_set(s->buckets, s->width, j, sat_add(raw_get(s->buckets, s->width, j), n));
}

static int add_positive(struct sketch *s, int32_t index)
{
	if (s->buckets && index >= s->base && (int64_t)index < (int64_t)s->base + s->cap) {
		uint32_t j = (uint32_t)(index - s->base);
		uint64_t c = raw_get(s->buckets, s->width, j);
		if (c < width_max(s->width)) {
			raw_set(s->buckets, s->width, j, c + 1);
			if (j < s->lo)
				s->lo = (uint16_t)j;
			if (j > s->hi)
				s->hi = (uint16_t)j;
			return 0;
		}
	}
	int32_t lo, hi;
	plan_range(s, index, index, &lo, &hi);
	if (index < lo) {
		index = lo;
		s->flags |= FLAG_COLLAPSED;
	}
	uint64_t c = index == lo ? count_through(s, lo) : count_at(s, index);
	uint8_t width = width_for(sat_add(c, 1));
	if (width < s->width)
		width = s->width;
	uint64_t folded = count_through(s, lo);
	if (width_for(folded) > width)
		width = width_for(folded);
	int rc = rebuild(s, lo, hi, width);
	if (rc)
		return rc;
	bump(s, index, 1);
	return 0;
}

/* ---- API ---- */

void sketch_init(struct sketch *s)
{
	memset(s, 0, sizeof(*s));
}

void sketch_free(struct sketch *s)
{
	free(s->buckets);
	sketch_init(s);
}

static void account(struct sketch *s, double v)
{
	if (s->count == 0 || v < s->min)
		s->min = v;
	if (s->count == 0 || v > s->max)
		s->max = v;
	s->count++;
	s->sum += v;
}

int sketch_add(struct sketch *s, double v)
{
	if (!(v >= 0) || isinf(v))
		return -EINVAL;
	if (v == 0) {
		s->zero_count++;
	} else {
		int rc = add_positive(s, sketch_index(v));
		if (rc)
			return rc;
	}
	account(s, v);
	return 0;
}

int sketch_merge(struct sketch *dst, const struct sketch *src)
{
	if (dst == src)
		return -EINVAL;
	if (src->count == 0)
		return 0;
	if (src->buckets) {
		int32_t lo, hi;
		plan_range(dst, used_lo(src), used_hi(src), &lo, &hi);
		/* Width of the largest resulting counter; the lowest one
		 * gathers whatever is folded into it from both sides. */
		uint8_t width = dst->width > src->width ? dst->width : src->width;
		for (int32_t i = lo; i <= hi; i++) {
			uint64_t c = i == lo ? sat_add(count_through(dst, lo), count_through(src, lo))
					     : sat_add(count_at(dst, i), count_at(src, i));
			if (width_for(c) > width)
				width = width_for(c);
		}
		bool fold = dst->buckets && used_lo(dst) < lo;
		if (!array_covers(dst, lo, hi) || fold || width != dst->width) {
			int rc = rebuild(dst, lo, hi, width);
			if (rc)
				return rc;
		} else {
			if (lo < used_lo(dst))
				dst->lo = (uint16_t)(lo - dst->base);
			if (hi > used_hi(dst))
				dst->hi = (uint16_t)(hi - dst->base);
		}
		for (int32_t i = used_lo(src); i <= used_hi(src); i++) {
			uint64_t c = raw_get(src->buckets, src->width, (uint32_t)(i - src->base));
			if (c)
				bump(dst, i < lo ? lo : i, c);
		}
		if (used_lo(src) < lo)
			dst->flags |= FLAG_COLLAPSED;
	}
	dst->flags |= src->flags & FLAG_COLLAPSED;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (dst->count == 0 || src->max > dst->max)
		dst->max = src->max;
	dst->count = sat_add(dst->count, src->count);
	dst->zero_count = sat_add(dst->zero_count, src->zero_count);
	dst->sum += src->sum;
	return 0;
}

uint64_t sketch_count(const struct sketch *s)
{
	return s->count;
}

double sketch_sum(const struct sketch *s)
{
	return s->sum;
}

double sketch_min(const struct sketch *s)
{
	return s->count ? s->min : 0;
}

double sketch_max(const struct sketch *s)
{
	return s->count ? s->max : 0;
}

double sketch_quantile(const struct sketch *s, double q)
{
	if (isnan(q))
		return NAN;
	if (s->count == 0)
		return 0;
	if (q <= 0)
		return s->min;
	if (q >= 1)
		return s->max;
	/* The element of rank floor(q (n - 1)): the first bucket whose
	 * cumulative count exceeds that rank. */
	double rank = q * (double)(s->count - 1);
	uint64_t cum = s->zero_count;
	if ((double)cum > rank)
		return 0;
	if (s->buckets) {
		for (uint32_t j = s->lo; j <= s->hi; j++) {
			cum += raw_get(s->buckets, s->width, j);
			if ((double)cum > rank) {
				double v = sketch_bucket_value(s->base + (int32_t)j);
				return v < s->min ? s->min : v > s->max ? s->max : v;
			}
		}
	}
	return s->max; /* only if the counts were saturated */
}

uint64_t sketch_count_le(const struct sketch *s, double bound)
{
	if (!(bound >= 0) || s->count == 0)
		return 0;
	if (bound >= s->max)
		return s->count;
	if (bound < s->min)
		return 0;
	uint64_t n = s->zero_count;
	if (bound == 0 || !s->buckets)
		return n;
	/* Buckets whose representative (1 - alpha) gamma^i is <= bound. */
	double last = floor((log(bound) - LN_ONE_MINUS_ALPHA) * INV_LN_GAMMA);
	for (uint32_t j = s->lo; j <= s->hi; j++) {
		if ((double)(s->base + (int32_t)j) > last)
			break;
		n = sat_add(n, raw_get(s->buckets, s->width, j));
	}
	return n;
}

bool sketch_collapsed(const struct sketch *s)
{
	return s->flags & FLAG_COLLAPSED;
}

size_t sketch_bytes(const struct sketch *s)
{
	return s->buckets ? (size_t)s->cap << s->width : 0;
}
