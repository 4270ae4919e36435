/* apid's routes run here, one at a time, on a thread of their own.
 *
 * Why not on nng's threads, where the front's callbacks run: a route waits
 * for the collector (fetch.c: usm_ipc_call blocks), and in nng 1.5 the
 * task threads that run aio callbacks (two per CPU, a number nng 1.5 does
 * not let a program set) are the ones that deliver the collector's answer.
 * Routes run on them could take every one and wait for an answer no
 * thread is left to deliver: measured, 8 concurrent GET /usm/stats left 5
 * answered 503 after the IPC timeout and stalled every other client for
 * 10 s (no accept, no read, no 408). The collector answers one question
 * at a time anyway (routes.c), so one thread loses nothing.
 *
 * The queue is bounded (ROUTE_QUEUE_MAX); a request that finds it full is
 * refused by the front (503). */
#ifndef USM_APID_ROUTE_WORKER_H
#define USM_APID_ROUTE_WORKER_H

#include <stdbool.h>
#include <nng/nng.h>

#include "routes.h"

#define ROUTE_QUEUE_MAX 64

/* Starts the thread. Before seccomp (it is a clone). 0 or -errno. */
int route_worker_start(void);

/* Queues handler(aio) (aio begun; the handler finishes it). false when
 * the queue is full or the worker is stopping: aio untouched. */
bool route_worker_submit(route_handler handler, nng_aio *aio);

/* Waits for the running route to return, joins the thread and finishes
 * every aio still queued with NNG_ECLOSED, unrun. After it, no route
 * runs. */
void route_worker_stop(void);

#endif
