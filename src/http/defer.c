/* Deferred requests for the epoll pool: a connection whose answer must wait (a sandbox fault's
 * latency) is suspended, and one timer thread resumes it when its time is up, so no pool
 * thread sleeps through the wait and a few threads serve any number of waiting requests.
 *
 * Suspend and resume are libmicrohttpd's; the daemon must have been started with
 * MHD_ALLOW_SUSPEND_RESUME, and every suspended connection must be resumed before
 * MHD_stop_daemon (an API rule): ml_http_defer_stop does that, and refuses later deferrals.
 */
#include "http/defer.h"

#include "core/mem.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct waiting {
	int64_t due_ns;
	uint64_t seq; /* equal due times resume in the order they were deferred */
	struct MHD_Connection *conn;
};

struct ml_http_defer {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC: a wall-clock step must not move the deadlines */
	pthread_t thread;
	bool stopping;
	uint64_t seq;
	struct waiting *heap; /* a binary min-heap on (due_ns, seq) */
	size_t n, cap;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool before(const struct waiting *a, const struct waiting *b)
{
	return a->due_ns != b->due_ns ? a->due_ns < b->due_ns : a->seq < b->seq;
}

static void heap_push(struct ml_http_defer *d, struct waiting w)
{
	d->heap = ml_grow(d->heap, d->n, &d->cap, sizeof *d->heap, 64);
	size_t i = d->n++;
	while (i > 0 && before(&w, &d->heap[(i - 1) / 2])) {
		d->heap[i] = d->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	d->heap[i] = w;
}

static struct waiting heap_pop(struct ml_http_defer *d)
{
	struct waiting top = d->heap[0], last = d->heap[--d->n];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= d->n)
			break;
		if (c + 1 < d->n && before(&d->heap[c + 1], &d->heap[c]))
			c++;
		if (!before(&d->heap[c], &last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n)
		d->heap[i] = last;
	return top;
}

static void *timer_main(void *arg)
{
	struct ml_http_defer *d = arg;
	pthread_mutex_lock(&d->mu);
	while (!d->stopping) {
		if (!d->n) {
			pthread_cond_wait(&d->cv, &d->mu);
			continue;
		}
		int64_t now = mono_ns();
		if (d->heap[0].due_ns > now) {
			struct timespec ts = {(time_t)(d->heap[0].due_ns / 1000000000),
			                      (long)(d->heap[0].due_ns % 1000000000)};
			pthread_cond_timedwait(&d->cv, &d->mu, &ts);
			continue;
		}
		/* Resumed under the lock: ml_http_defer_stop must find every connection either
		 * still in the heap or already resumed. MHD only flags it and wakes its thread. */
		while (d->n && d->heap[0].due_ns <= now)
			MHD_resume_connection(heap_pop(d).conn);
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

struct ml_http_defer *ml_http_defer_start(void)
{
	struct ml_http_defer *d = ml_calloc(1, sizeof *d);
	pthread_condattr_t ca;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&d->thread, NULL, timer_main, d) != 0)
		abort(); /* like allocation failure: nothing sensible to do without threads */
	return d;
}

bool ml_http_defer_add(struct ml_http_defer *d, struct MHD_Connection *conn, int64_t ms)
{
	pthread_mutex_lock(&d->mu);
	if (d->stopping) {
		pthread_mutex_unlock(&d->mu);
		return false;
	}
	/* Suspended before it is queued, so the timer can never resume it first. */
	MHD_suspend_connection(conn);
	struct waiting w = {mono_ns() + ms * 1000000, d->seq++, conn};
	heap_push(d, w);
	if (d->heap[0].conn == conn)
		pthread_cond_signal(&d->cv); /* the new earliest deadline */
	pthread_mutex_unlock(&d->mu);
	return true;
}

void ml_http_defer_stop(struct ml_http_defer *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->mu);
	d->stopping = true;
	while (d->n)
		MHD_resume_connection(heap_pop(d).conn);
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d->heap);
	free(d);
}
