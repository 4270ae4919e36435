/* The latency sketch: quantiles within 1 % of the exact ones on large
 * samples of several shapes, merge equal to adding everything, the zero
 * and single-value cases, collapsing at the bucket limit, counters that
 * widen, and count_le as Prometheus buckets need it. Random samples come
 * from a fixed seed, so every run sees the same values. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sketch.h"

#define N_LARGE 1000000u
/* Floating-point rounding at a bucket edge may add about 1e-15. */
#define TOLERANCE (SKETCH_ALPHA * (1 + 1e-9))

/* ---- a reproducible sample ---- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double rng_unit(void)
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_unit())) * cos(2 * M_PI * rng_unit());
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double *sample_new(size_t n)
{
	double *v = malloc(n * sizeof(*v));
	assert_non_null(v);
	return v;
}

static void fill(struct sketch *s, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sketch_add(s, v[i]), 0);
}

static double exact_quantile(const double *sorted, size_t n, double q)
{
	double rank = q * (double)(n - 1);
	return sorted[(size_t)rank];
}

static size_t exact_count_le(const double *sorted, size_t n, double bound)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sorted[mid] <= bound)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void assert_close(double got, double exact, const char *what, double q)
{
	if (exact == 0) {
		if (got != 0)
			fail_msg("%s q=%g: got %.17g, exact 0", what, q, got);
		return;
	}
	double err = fabs(got - exact) / exact;
	if (err > TOLERANCE)
		fail_msg("%s q=%g: got %.17g, exact %.17g, relative error %.6f", what, q, got, exact,
			 err);
}

static const double quantiles[] = {0,   0.001, 0.01, 0.1,  0.25,  0.5,   0.75,
				   0.9, 0.95,  0.99, 0.999, 0.9999, 1};

/* Sketches v, sorts it, and checks every quantile above against the
 * sorted array, plus the exact aggregates. */
static void check_sample(double *v, size_t n, const char *what)
{
	struct sketch s;
	sketch_init(&s);
	fill(&s, v, n);
	qsort(v, n, sizeof(*v), compare_double);
	assert_int_equal(sketch_count(&s), n);
	assert_true(sketch_min(&s) == v[0]);
	assert_true(sketch_max(&s) == v[n - 1]);
	assert_false(sketch_collapsed(&s));
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		assert_close(sketch_quantile(&s, quantiles[i]), exact_quantile(v, n, quantiles[i]),
			     what, quantiles[i]);
	sketch_free(&s);
}

/* ---- tests ---- */

static void test_constants_match_alpha(void **state)
{
	(void)state;
	double gamma = (1 + SKETCH_ALPHA) / (1 - SKETCH_ALPHA);
	assert_true(fabs(sketch_bucket_upper(1) - gamma) < 1e-15);
	assert_true(fabs(sketch_bucket_upper(1000) / pow(gamma, 1000) - 1) < 1e-12);
	/* representative = 2 gamma^i / (gamma + 1) */
	for (int32_t i = -50; i <= 2300; i += 7)
		assert_true(fabs(sketch_bucket_value(i) / (2 * pow(gamma, i) / (gamma + 1)) - 1) <
			    1e-12);
	/* bucket i holds (gamma^(i-1), gamma^i] */
	for (int32_t i = -1000; i <= 2300; i++) {
		assert_int_equal(sketch_index(sketch_bucket_upper(i) * (1 - 1e-12)), i);
		assert_int_equal(sketch_index(sketch_bucket_upper(i) * (1 + 1e-12)), i + 1);
	}
	assert_int_equal(sketch_index(1), 0);
}

static void test_empty_sketch_is_free_and_zero(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	assert_int_equal(sketch_count(&s), 0);
	assert_true(sketch_quantile(&s, 0.5) == 0);
	assert_true(sketch_min(&s) == 0 && sketch_max(&s) == 0 && sketch_sum(&s) == 0);
	assert_int_equal(sketch_count_le(&s, INFINITY), 0);
	assert_int_equal(sketch_bytes(&s), 0);
	assert_true(sizeof(struct sketch) <= 64 || sizeof(void *) > 8);
	sketch_free(&s);
}

static void test_zeros_are_exact_and_allocate_nothing(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sketch_add(&s, 0), 0);
	assert_int_equal(sketch_count(&s), 1000);
	assert_int_equal(sketch_bytes(&s), 0);
	assert_true(sketch_quantile(&s, 0) == 0 && sketch_quantile(&s, 0.5) == 0 &&
		    sketch_quantile(&s, 1) == 0);
	assert_int_equal(sketch_count_le(&s, 0), 1000);
	assert_int_equal(sketch_count_le(&s, -1), 0);

	/* zeros below positive values: the low ranks are exactly 0 */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sketch_add(&s, 5000), 0);
	assert_true(sketch_quantile(&s, 0.4) == 0);
	assert_close(sketch_quantile(&s, 0.6), 5000, "zeros and 5000", 0.6);
	assert_int_equal(sketch_count_le(&s, 0), 1000);
	assert_int_equal(sketch_count_le(&s, 4900), 1000);
	assert_int_equal(sketch_count_le(&s, 5000), 2000);
	sketch_free(&s);
}

static void test_single_value_is_exact(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	assert_int_equal(sketch_add(&s, 1234567), 0);
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++)
		assert_true(sketch_quantile(&s, quantiles[i]) == 1234567);
	assert_true(sketch_min(&s) == 1234567 && sketch_max(&s) == 1234567);
	assert_true(sketch_sum(&s) == 1234567);
	assert_int_equal(sketch_count_le(&s, 1234566), 0);
	assert_int_equal(sketch_count_le(&s, 1234567), 1);
	assert_int_equal(sketch_bytes(&s), 16); /* 16 one-byte counters */
	sketch_free(&s);
	assert_int_equal(sketch_bytes(&s), 0);
	assert_int_equal(sketch_count(&s), 0);
}

static void test_bad_values_are_refused_and_not_recorded(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	assert_int_equal(sketch_add(&s, -1), -EINVAL);
	assert_int_equal(sketch_add(&s, NAN), -EINVAL);
	assert_int_equal(sketch_add(&s, INFINITY), -EINVAL);
	assert_int_equal(sketch_add(&s, -INFINITY), -EINVAL);
	assert_int_equal(sketch_count(&s), 0);
	assert_int_equal(sketch_bytes(&s), 0);
	/* the extremes of double are fine */
	assert_int_equal(sketch_add(&s, 4.9e-324), 0);
	assert_int_equal(sketch_add(&s, 1.7e308), 0);
	assert_int_equal(sketch_count(&s), 2);
	assert_true(sketch_collapsed(&s)); /* 70000 buckets apart */
	assert_true(sketch_quantile(&s, 1) == 1.7e308);
	assert_true(isnan(sketch_quantile(&s, NAN)));
	assert_int_equal(sketch_count_le(&s, NAN), 0);
	sketch_free(&s);
}

static void test_uniform_quantiles_within_1pct(void **state)
{
	(void)state;
	rng_seed(1);
	double *v = sample_new(N_LARGE);
	for (size_t i = 0; i < N_LARGE; i++)
		v[i] = ceil(1e3 + rng_unit() * (1e9 - 1e3)); /* whole ns, 1 us .. 1 s */
	check_sample(v, N_LARGE, "uniform");
	free(v);
}

static void test_exponential_quantiles_within_1pct(void **state)
{
	(void)state;
	rng_seed(2);
	double *v = sample_new(N_LARGE);
	for (size_t i = 0; i < N_LARGE; i++)
		v[i] = -log(rng_unit()) * 2e6; /* mean 2 ms */
	check_sample(v, N_LARGE, "exponential");
	free(v);
}

static void test_lognormal_heavy_tail_quantiles_within_1pct(void **state)
{
	(void)state;
	rng_seed(3);
	double *v = sample_new(N_LARGE);
	for (size_t i = 0; i < N_LARGE; i++)
		v[i] = floor(exp(log(1e6) + 2.5 * rng_normal())); /* median 1 ms, ~1 ns .. hours */
	check_sample(v, N_LARGE, "lognormal");
	free(v);
}

static void test_constant_quantiles_are_exact(void **state)
{
	(void)state;
	double *v = sample_new(N_LARGE);
	for (size_t i = 0; i < N_LARGE; i++)
		v[i] = 314159;
	check_sample(v, N_LARGE, "constant");
	struct sketch s;
	sketch_init(&s);
	fill(&s, v, N_LARGE);
	assert_true(sketch_quantile(&s, 0.5) == 314159); /* clamped to min = max */
	assert_int_equal(sketch_bytes(&s), 16 * 4);      /* widened to 4-byte counters */
	sketch_free(&s);
	free(v);
}

static void test_two_spikes_quantiles_within_1pct(void **state)
{
	(void)state;
	rng_seed(5);
	double *v = sample_new(N_LARGE);
	for (size_t i = 0; i < N_LARGE; i++)
		v[i] = rng_unit() < 0.9 ? 100000 + (double)(rng_next() % 100) : 250000000;
	check_sample(v, N_LARGE, "two spikes");
	free(v);
}

static void test_insertion_order_does_not_matter(void **state)
{
	(void)state;
	enum { N = 200000 };
	rng_seed(6);
	double *v = sample_new(N);
	for (size_t i = 0; i < N; i++)
		v[i] = exp(log(1e5) + 3 * rng_normal());
	struct sketch shuffled, up, down;
	sketch_init(&shuffled);
	sketch_init(&up);
	sketch_init(&down);
	fill(&shuffled, v, N);
	qsort(v, N, sizeof(*v), compare_double);
	fill(&up, v, N);
	for (size_t i = N; i-- > 0;)
		assert_int_equal(sketch_add(&down, v[i]), 0);
	for (size_t i = 0; i < sizeof(quantiles) / sizeof(quantiles[0]); i++) {
		double q = quantiles[i];
		assert_true(sketch_quantile(&up, q) == sketch_quantile(&shuffled, q));
		assert_true(sketch_quantile(&down, q) == sketch_quantile(&shuffled, q));
		assert_close(sketch_quantile(&down, q), exact_quantile(v, N, q), "descending", q);
	}
	sketch_free(&shuffled);
	sketch_free(&up);
	sketch_free(&down);
	free(v);
}

static void assert_same_sketch(const struct sketch *a, const struct sketch *b)
{
	assert_int_equal(sketch_count(a), sketch_count(b));
	assert_true(sketch_min(a) == sketch_min(b));
	assert_true(sketch_max(a) == sketch_max(b));
	assert_true(fabs(sketch_sum(a) - sketch_sum(b)) <= 1e-9 * fabs(sketch_sum(b)));
	assert_int_equal(sketch_collapsed(a), sketch_collapsed(b));
	for (int i = 0; i <= 1000; i++)
		assert_true(sketch_quantile(a, i / 1000.0) == sketch_quantile(b, i / 1000.0));
	for (double bound = 0.5; bound < 1e13; bound *= 1.003)
		assert_int_equal(sketch_count_le(a, bound), sketch_count_le(b, bound));
}

static void test_merge_equals_adding_all(void **state)
{
	(void)state;
	enum { N = 300000, PARTS = 3 };
	rng_seed(7);
	struct sketch all, part[PARTS], merged;
	sketch_init(&all);
	sketch_init(&merged);
	for (int p = 0; p < PARTS; p++)
		sketch_init(&part[p]);
	for (size_t i = 0; i < N; i++) {
		/* each part has its own range, overlapping the others */
		unsigned p = (unsigned)(rng_next() % PARTS);
		double v = rng_unit() < 0.01 ? 0 : exp(log(1e4) + 2 * (double)p + 1.5 * rng_normal());
		assert_int_equal(sketch_add(&all, v), 0);
		assert_int_equal(sketch_add(&part[p], v), 0);
	}
	for (int p = 0; p < PARTS; p++)
		assert_int_equal(sketch_merge(&merged, &part[p]), 0);
	assert_same_sketch(&merged, &all);

	/* the other order, into a sketch that already has data */
	struct sketch again;
	sketch_init(&again);
	assert_int_equal(sketch_merge(&again, &part[2]), 0);
	assert_int_equal(sketch_merge(&again, &part[0]), 0);
	assert_int_equal(sketch_merge(&again, &part[1]), 0);
	assert_same_sketch(&again, &all);

	/* merging an empty sketch changes nothing; merging into itself is refused */
	struct sketch empty;
	sketch_init(&empty);
	assert_int_equal(sketch_merge(&again, &empty), 0);
	assert_same_sketch(&again, &all);
	assert_int_equal(sketch_merge(&again, &again), -EINVAL);
	assert_same_sketch(&again, &all);

	sketch_free(&all);
	sketch_free(&merged);
	sketch_free(&again);
	for (int p = 0; p < PARTS; p++)
		sketch_free(&part[p]);
}

static void test_collapse_folds_lowest_buckets_and_keeps_high_quantiles(void **state)
{
	(void)state;
	enum { SPAN = 3000 };
	struct sketch s;
	sketch_init(&s);
	/* one value in each of SPAN consecutive buckets, 1 ns upwards: wider
	 * than SKETCH_MAX_BUCKETS */
	double *v = sample_new(SPAN);
	for (int i = 0; i < SPAN; i++) {
		v[i] = sketch_bucket_value(i);
		assert_int_equal(sketch_add(&s, v[i]), 0);
		assert_int_equal(sketch_collapsed(&s), i >= SKETCH_MAX_BUCKETS);
	}
	assert_int_equal(sketch_count(&s), SPAN);
	assert_true(sketch_bytes(&s) <= (size_t)SKETCH_MAX_BUCKETS * 2);
	assert_true(sketch_min(&s) == v[0]); /* still exact */

	/* the kept buckets are the highest SKETCH_MAX_BUCKETS: quantiles
	 * whose rank lies there keep their accuracy ... */
	int32_t lowest_kept = SPAN - SKETCH_MAX_BUCKETS;
	for (double q = 0.5; q < 1; q += 0.01)
		assert_close(sketch_quantile(&s, q), exact_quantile(v, SPAN, q), "collapsed", q);
	/* ... and every rank in the folded part reads as the lowest kept
	 * bucket, an overestimate */
	double folded = sketch_bucket_value(lowest_kept);
	assert_true(sketch_quantile(&s, 0.01) == folded);
	assert_true(sketch_quantile(&s, 0.3) == folded);
	assert_true(folded > exact_quantile(v, SPAN, 0.3));
	/* count_le below the lowest kept bucket undercounts (0 of them) */
	assert_int_equal(sketch_count_le(&s, v[10]), 0);
	assert_int_equal(sketch_count_le(&s, folded * 1.001), (uint64_t)lowest_kept + 1);

	/* a new low value lands in the lowest kept bucket too */
	assert_int_equal(sketch_add(&s, 0.5), 0);
	assert_true(sketch_quantile(&s, 0.001) == folded);
	assert_true(sketch_min(&s) == 0.5);
	/* and a new high one moves the window up */
	assert_int_equal(sketch_add(&s, sketch_bucket_value(SPAN + 100)), 0);
	assert_true(sketch_quantile(&s, 0.3) == sketch_bucket_value(lowest_kept + 101));
	assert_true(sketch_bytes(&s) <= (size_t)SKETCH_MAX_BUCKETS * 2);
	sketch_free(&s);
	free(v);
}

static void test_exactly_max_buckets_does_not_collapse(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	for (int i = 0; i < SKETCH_MAX_BUCKETS; i++)
		assert_int_equal(sketch_add(&s, sketch_bucket_value(-i)), 0); /* descending */
	assert_false(sketch_collapsed(&s));
	assert_int_equal(sketch_bytes(&s), SKETCH_MAX_BUCKETS);
	for (int i = 0; i < SKETCH_MAX_BUCKETS; i++)
		assert_int_equal(sketch_count_le(&s, sketch_bucket_value(-i) * 1.001),
				 (uint64_t)SKETCH_MAX_BUCKETS - (uint64_t)i);
	sketch_free(&s);
}

static void test_merge_collapses_when_ranges_are_too_far_apart(void **state)
{
	(void)state;
	struct sketch low, high;
	sketch_init(&low);
	sketch_init(&high);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(sketch_add(&low, sketch_bucket_value(i)), 0);
		assert_int_equal(sketch_add(&high, sketch_bucket_value(3000 + i)), 0);
	}
	assert_int_equal(sketch_merge(&low, &high), 0);
	assert_true(sketch_collapsed(&low));
	assert_int_equal(sketch_count(&low), 200);
	assert_true(sketch_min(&low) == sketch_bucket_value(0));
	assert_true(sketch_quantile(&low, 0.75) == sketch_bucket_value(3049));
	/* all 100 low values now sit in the lowest kept bucket */
	int32_t lowest_kept = 3099 - (SKETCH_MAX_BUCKETS - 1);
	assert_true(sketch_quantile(&low, 0.2) == sketch_bucket_value(lowest_kept));

	/* the other way round gives the same sketch */
	struct sketch low2;
	sketch_init(&low2);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sketch_add(&low2, sketch_bucket_value(i)), 0);
	assert_int_equal(sketch_merge(&high, &low2), 0);
	assert_same_sketch(&high, &low);
	sketch_free(&low);
	sketch_free(&low2);
	sketch_free(&high);
}

static void test_counters_widen_without_losing_counts(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	for (int i = 0; i < 255; i++)
		assert_int_equal(sketch_add(&s, 1000), 0);
	assert_int_equal(sketch_bytes(&s), 16);
	assert_int_equal(sketch_add(&s, 1000), 0); /* the 256th outgrows a byte */
	assert_int_equal(sketch_bytes(&s), 32);
	assert_int_equal(sketch_add(&s, 2000), 0);
	assert_int_equal(sketch_count_le(&s, 1500), 256);

	/* past 2^32 in one bucket by merging a sketch with itself, doubled */
	struct sketch big, tmp;
	sketch_init(&big);
	assert_int_equal(sketch_add(&big, 1000), 0);
	for (int i = 0; i < 33; i++) {
		sketch_init(&tmp);
		assert_int_equal(sketch_merge(&tmp, &big), 0);
		assert_int_equal(sketch_merge(&big, &tmp), 0);
		sketch_free(&tmp);
	}
	assert_int_equal(sketch_count(&big), UINT64_C(1) << 33);
	assert_int_equal(sketch_bytes(&big), 16 * 8);
	assert_int_equal(sketch_merge(&big, &s), 0);
	assert_int_equal(sketch_count_le(&big, 1500), (UINT64_C(1) << 33) + 256);
	assert_close(sketch_quantile(&big, 0.999999), 1000, "widened", 0.999999);
	assert_true(sketch_quantile(&big, 1) == 2000);
	sketch_free(&big);
	sketch_free(&s);
}

static void test_count_le_monotone_exact_at_ends_and_within_accuracy(void **state)
{
	(void)state;
	enum { N = 500000 };
	rng_seed(8);
	double *v = sample_new(N);
	for (size_t i = 0; i < N; i++)
		v[i] = rng_unit() < 0.001 ? 0 : exp(log(20e6) + 1.8 * rng_normal());
	struct sketch s;
	sketch_init(&s);
	fill(&s, v, N);
	qsort(v, N, sizeof(*v), compare_double);
	size_t zeros = exact_count_le(v, N, 0);
	assert_true(zeros > 0);

	assert_int_equal(sketch_count_le(&s, -1), 0);
	assert_int_equal(sketch_count_le(&s, -INFINITY), 0);
	assert_int_equal(sketch_count_le(&s, 0), zeros);
	assert_int_equal(sketch_count_le(&s, INFINITY), N);
	assert_int_equal(sketch_count_le(&s, v[N - 1]), N);

	uint64_t prev = 0;
	for (double b = 1e-3; b < 1e14; b *= 1.0007) {
		uint64_t c = sketch_count_le(&s, b);
		assert_true(c >= prev);
		prev = c;
	}
	/* Prometheus' default buckets, in seconds */
	static const double le_s[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
	for (size_t i = 0; i < sizeof(le_s) / sizeof(le_s[0]); i++) {
		double b = le_s[i] * 1e9;
		uint64_t c = sketch_count_le(&s, b);
		size_t at_least = exact_count_le(v, N, b / (1 + SKETCH_ALPHA));
		size_t at_most = exact_count_le(v, N, b / (1 - SKETCH_ALPHA));
		if (c < at_least || c > at_most)
			fail_msg("le %g s: %llu not in [%zu, %zu]", le_s[i], (unsigned long long)c,
				 at_least, at_most);
	}
	sketch_free(&s);
	free(v);
}

static void test_memory_grows_with_the_spread_not_the_count(void **state)
{
	(void)state;
	struct sketch s;
	sketch_init(&s);
	rng_seed(9);
	/* two decades (100 us .. 10 ms), 10000 values: ~230 buckets of
	 * 1-byte counters (fewer than 256 values each) */
	for (int i = 0; i < 10000; i++)
		assert_int_equal(sketch_add(&s, 1e5 * pow(100, rng_unit())), 0);
	size_t two_decades = sketch_bytes(&s);
	assert_true(two_decades <= 2 * 300);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(sketch_add(&s, 1e5 * pow(100, rng_unit())), 0);
	assert_int_equal(sketch_bytes(&s), two_decades);
	sketch_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants_match_alpha),
		cmocka_unit_test(test_empty_sketch_is_free_and_zero),
		cmocka_unit_test(test_zeros_are_exact_and_allocate_nothing),
		cmocka_unit_test(test_single_value_is_exact),
		cmocka_unit_test(test_bad_values_are_refused_and_not_recorded),
		cmocka_unit_test(test_uniform_quantiles_within_1pct),
		cmocka_unit_test(test_exponential_quantiles_within_1pct),
		cmocka_unit_test(test_lognormal_heavy_tail_quantiles_within_1pct),
		cmocka_unit_test(test_constant_quantiles_are_exact),
		cmocka_unit_test(test_two_spikes_quantiles_within_1pct),
		cmocka_unit_test(test_insertion_order_does_not_matter),
		cmocka_unit_test(test_merge_equals_adding_all),
		cmocka_unit_test(test_collapse_folds_lowest_buckets_and_keeps_high_quantiles),
		cmocka_unit_test(test_exactly_max_buckets_does_not_collapse),
		cmocka_unit_test(test_merge_collapses_when_ranges_are_too_far_apart),
		cmocka_unit_test(test_counters_widen_without_losing_counts),
		cmocka_unit_test(test_count_le_monotone_exact_at_ends_and_within_accuracy),
		cmocka_unit_test(test_memory_grows_with_the_spread_not_the_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
