#include "route_worker.h"

#include <errno.h>
#include <pthread.h>

static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;
	pthread_t thread;
	bool started, stopping;
	struct {
		route_handler handler;
		nng_aio *aio;
	} queue[ROUTE_QUEUE_MAX];
	unsigned head, count;
} w = {.lock = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER};

static void *run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&w.lock);
	for (;;) {
		while (w.count == 0 && !w.stopping)
			pthread_cond_wait(&w.more, &w.lock);
		if (w.stopping)
			break;
		route_handler handler = w.queue[w.head].handler;
		nng_aio *aio = w.queue[w.head].aio;
		w.head = (w.head + 1) % ROUTE_QUEUE_MAX;
		w.count--;
		pthread_mutex_unlock(&w.lock);
		handler(aio);
		pthread_mutex_lock(&w.lock);
	}
	pthread_mutex_unlock(&w.lock);
	return NULL;
}

int route_worker_start(void)
{
	w.stopping = false; /* no thread yet: nothing else reads it */
	int rc = pthread_create(&w.thread, NULL, run, NULL);
	if (rc != 0)
		return -rc;
	w.started = true;
	return 0;
}

bool route_worker_submit(route_handler handler, nng_aio *aio)
{
	pthread_mutex_lock(&w.lock);
	bool ok = w.started && !w.stopping && w.count < ROUTE_QUEUE_MAX;
	if (ok) {
		unsigned tail = (w.head + w.count) % ROUTE_QUEUE_MAX;
		w.queue[tail].handler = handler;
		w.queue[tail].aio = aio;
		w.count++;
		pthread_cond_signal(&w.more);
	}
	pthread_mutex_unlock(&w.lock);
	return ok;
}

void route_worker_stop(void)
{
	if (!w.started)
		return;
	pthread_mutex_lock(&w.lock);
	w.stopping = true;
	pthread_cond_signal(&w.more);
	pthread_mutex_unlock(&w.lock);
	pthread_join(w.thread, NULL);
	w.started = false;
	/* The thread is gone: what it left queued is finished here. */
	for (; w.count > 0; w.count--) {
		nng_aio_finish(w.queue[w.head].aio, NNG_ECLOSED);
		w.head = (w.head + 1) % ROUTE_QUEUE_MAX;
	}
}
