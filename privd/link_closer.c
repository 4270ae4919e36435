#include "link_closer.h"

#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

#define CLOSER_MAX_THREADS 256
#define CLOSER_STACK_SIZE (128 * 1024)

struct handle {
	struct handle *next;
	int fd;                 /* >= 0: a raw link fd */
	struct bpf_link *link;  /* else a libbpf link */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static struct handle *queue;
static size_t pending; /* queued + being closed */
static bool stopping;
static pthread_t threads[CLOSER_MAX_THREADS];
static unsigned nthreads;

static void *link_closer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!queue && !stopping)
			pthread_cond_wait(&work, &lock);
		if (!queue)
			break;
		struct handle *h = queue;
		queue = h->next;
		pthread_mutex_unlock(&lock);
		if (h->fd >= 0)
			close(h->fd); /* waits for a grace period: not under the lock */
		else
			bpf_link__destroy(h->link);
		free(h);
		pthread_mutex_lock(&lock);
		if (--pending == 0)
			pthread_cond_broadcast(&idle);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* Grows the pool to n threads (at most CLOSER_MAX_THREADS). */
static void add_threads(unsigned n)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, CLOSER_STACK_SIZE);
	if (n > CLOSER_MAX_THREADS)
		n = CLOSER_MAX_THREADS;
	for (; nthreads < n; nthreads++)
		if (pthread_create(&threads[nthreads], &attr, link_closer_main, NULL) != 0)
			break;
	pthread_attr_destroy(&attr);
}

int link_closer_start(unsigned n)
{
	add_threads(n > 64 ? 64 : n);
	return nthreads > 0 ? 0 : -1;
}

static void push(int fd, struct bpf_link *link)
{
	struct handle *h = malloc(sizeof(*h));
	if (!h) { /* out of memory: close inline rather than leak the probe */
		fd >= 0 ? close(fd) : bpf_link__destroy(link);
		return;
	}
	*h = (struct handle){.fd = fd, .link = link};
	pthread_mutex_lock(&lock);
	h->next = queue;
	queue = h;
	pending++;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
}

void link_closer_push_fd(int fd) { push(fd, NULL); }

void link_closer_push_link(struct bpf_link *link) { push(-1, link); }

size_t link_closer_pending(void)
{
	pthread_mutex_lock(&lock);
	size_t n = pending;
	pthread_mutex_unlock(&lock);
	return n;
}

void link_closer_push_skeleton_links(struct bpf_object_skeleton *s)
{
	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_link **link = s->progs[i].link;
		if (link && *link) {
			link_closer_push_link(*link);
			*link = NULL;
		}
	}
}

void link_closer_drain_and_stop(void)
{
	add_threads(nthreads + (unsigned)link_closer_pending());
	pthread_mutex_lock(&lock);
	while (pending > 0)
		pthread_cond_wait(&idle, &lock);
	stopping = true;
	pthread_cond_broadcast(&work);
	pthread_mutex_unlock(&lock);
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	nthreads = 0;
}
