/* apid/route_worker.c: routes run one at a time on the worker's thread,
 * in order; its queue is bounded; stopping waits for the running route and
 * finishes what is still queued (NNG_ECLOSED) without running it; after
 * the stop nothing runs. Real nng aios. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>
#include <cmocka.h>

#include "route_worker.h"

static sem_t started, release;
static int routes_run;

/* The first route: tells the test it runs, then waits to be released. */
static void blocking_route(nng_aio *aio)
{
	__atomic_add_fetch(&routes_run, 1, __ATOMIC_SEQ_CST);
	sem_post(&started);
	sem_wait(&release);
	nng_aio_finish(aio, 0);
}

static void quick_route(nng_aio *aio)
{
	__atomic_add_fetch(&routes_run, 1, __ATOMIC_SEQ_CST);
	nng_aio_finish(aio, 0);
}

static void *stopper(void *arg)
{
	(void)arg;
	route_worker_stop();
	return NULL;
}

static nng_aio *begun_aio(void)
{
	nng_aio *aio;
	assert_int_equal(nng_aio_alloc(&aio, NULL, NULL), 0);
	assert_true(nng_aio_begin(aio));
	return aio;
}

static void test_bounded_queue_and_stop(void **state)
{
	(void)state;
	sem_init(&started, 0, 0);
	sem_init(&release, 0, 0);
	nng_aio *first = begun_aio();
	assert_false(route_worker_submit(quick_route, first)); /* not started */
	assert_int_equal(route_worker_start(), 0);

	assert_true(route_worker_submit(blocking_route, first));
	sem_wait(&started); /* the worker holds it: the queue is empty */
	nng_aio *queued[ROUTE_QUEUE_MAX];
	for (int i = 0; i < ROUTE_QUEUE_MAX; i++) {
		queued[i] = begun_aio();
		assert_true(route_worker_submit(quick_route, queued[i]));
	}
	nng_aio *extra = begun_aio();
	assert_false(route_worker_submit(quick_route, extra)); /* full */

	/* Stop while a route runs: it waits for that route; the routes still
	 * queued when the worker sees the stop are finished, not run (those
	 * it took before are run: the stop and the release race). */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, stopper, NULL), 0);
	sem_post(&release);
	pthread_join(t, NULL);

	nng_aio_wait(first);
	assert_int_equal(nng_aio_result(first), 0);
	int ran = 1, closed = 0;
	for (int i = 0; i < ROUTE_QUEUE_MAX; i++) {
		nng_aio_wait(queued[i]);
		int rv = nng_aio_result(queued[i]);
		assert_true(rv == 0 || rv == NNG_ECLOSED);
		/* In order: once one was closed, all after it were. */
		if (closed)
			assert_int_equal(rv, NNG_ECLOSED);
		ran += rv == 0;
		closed += rv == NNG_ECLOSED;
		nng_aio_free(queued[i]);
	}
	assert_int_equal(ran + closed, 1 + ROUTE_QUEUE_MAX);
	assert_int_equal(__atomic_load_n(&routes_run, __ATOMIC_SEQ_CST), ran);
	assert_false(route_worker_submit(quick_route, extra)); /* stopped */
	nng_aio_finish(extra, NNG_ECANCELED);
	nng_aio_free(extra);
	nng_aio_free(first);
}

/* Routes run one after another, in the order they came. */
static int order[8], order_n;

static void ordered_route(nng_aio *aio)
{
	order[order_n++] = (int)(intptr_t)nng_aio_get_input(aio, 0);
	nng_aio_finish(aio, 0);
}

static void test_in_order(void **state)
{
	(void)state;
	assert_int_equal(route_worker_start(), 0);
	nng_aio *aios[8];
	for (int i = 0; i < 8; i++) {
		aios[i] = begun_aio();
		nng_aio_set_input(aios[i], 0, (void *)(intptr_t)i);
		assert_true(route_worker_submit(ordered_route, aios[i]));
	}
	for (int i = 0; i < 8; i++) {
		nng_aio_wait(aios[i]);
		assert_int_equal(nng_aio_result(aios[i]), 0);
		nng_aio_free(aios[i]);
	}
	route_worker_stop();
	assert_int_equal(order_n, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(order[i], i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounded_queue_and_stop),
		cmocka_unit_test(test_in_order),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	nng_fini(); /* frees what nng reaps on its own threads, for the leak check */
	return failed;
}
