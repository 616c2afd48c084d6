/* Streamed answers on libmicrohttpd: a response whose body comes from a content-reader
 * callback (MHD_create_response_from_callback, chunked), fed by ops->read.
 *
 * A stream with nothing to send costs no CPU and, in the pool, no thread: the reader
 * suspends its connection (MHD_suspend_connection, allowed from a content reader) and
 * ml_http_stream_wake resumes it. With a thread per connection (libmicrohttpd cannot suspend
 * there) the connection's thread sleeps on the stream's condition variable instead. Either
 * way nothing polls: the only timer is the keep-alive thread, which wakes the streams that
 * have been quiet for half the idle time or more (so each sends a comment every 1/2 to 1
 * idle time), once per half idle time, and sleeps without a timeout while no stream exists.
 *
 * Locking: a stream's lock is taken before libmicrohttpd's own (suspend and resume), never
 * the other way round; the registry's lock before a stream's. A suspended connection does
 * not notice its client leaving: the next keep-alive's write does.
 */
#include "http/stream.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct ml_http_stream {
	struct ml_http_streams *ss;
	struct MHD_Connection *conn;
	const struct ml_http_stream_ops *ops;
	void *arg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool woken, idle_due, suspended, stopping;
	bool shed; /* thread per connection: shed_thread_memory() done */
	int64_t last_ms; /* the last bytes sent */
	struct ml_http_stream *prev, *next;
};

struct ml_http_streams {
	bool pool;
	int idle_ms;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	pthread_t thread;
	bool stopping;
	size_t n;
	struct ml_http_stream *head;
};

/* With s->mu held. */
static void wake_locked(struct ml_http_stream *s)
{
	s->woken = true;
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	} else {
		pthread_cond_signal(&s->cv);
	}
}

void ml_http_stream_wake(struct ml_http_stream *s)
{
	pthread_mutex_lock(&s->mu);
	wake_locked(s);
	pthread_mutex_unlock(&s->mu);
}

static void *keepalive_main(void *arg)
{
	struct ml_http_streams *ss = arg;
	pthread_mutex_lock(&ss->mu);
	while (!ss->stopping) {
		if (!ss->head) {
			pthread_cond_wait(&ss->cv, &ss->mu);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t half = ss->idle_ms / 2;
		ts.tv_sec += half / 1000;
		ts.tv_nsec += (half % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&ss->cv, &ss->mu, &ts) == 0)
			continue; /* a stream came or stopping began */
		int64_t now = ml_mono_ms();
		for (struct ml_http_stream *s = ss->head; s; s = s->next) {
			pthread_mutex_lock(&s->mu);
			if (now - s->last_ms >= half) {
				s->idle_due = true;
				wake_locked(s);
			}
			pthread_mutex_unlock(&s->mu);
		}
	}
	pthread_mutex_unlock(&ss->mu);
	return NULL;
}

struct ml_http_streams *ml_http_streams_start(bool pool, int idle_ms)
{
	struct ml_http_streams *ss = ml_calloc(1, sizeof *ss);
	pthread_condattr_t ca;
	ss->pool = pool;
	ss->idle_ms = idle_ms > 0 ? idle_ms : 15000;
	pthread_mutex_init(&ss->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ss->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ss->thread, NULL, keepalive_main, ss) != 0)
		abort(); /* like allocation failure */
	return ss;
}

/* Before a connection's own thread sleeps for a long time (a waiting guest): give back what
 * answering its request left it holding. The allocator's per-thread cache (jemalloc keeps
 * freed blocks per thread: found at run time, nothing to do with another allocator), and the
 * pages of its stack below this frame (the request's handling, SQLite's included, touched
 * them; nothing lives below the stack pointer, and a page used again comes back zeroed).
 * Measured: ~160 KB of RSS per sleeping stream without, bench/README.md. */
static int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
static pthread_once_t mallctl_once = PTHREAD_ONCE_INIT;

static void mallctl_find(void)
{
	void *f = dlsym(RTLD_DEFAULT, "mallctl");
	memcpy(&mallctl_fn, &f, sizeof f); /* an object pointer to a function pointer */
}

static void shed_thread_memory(void)
{
	pthread_once(&mallctl_once, mallctl_find);
	if (mallctl_fn) {
		/* What it cached goes back to the thread's arena, and the arena's free pages
		 * back to the system (else they stay resident until jemalloc's decay). */
		unsigned arena;
		size_t len = sizeof arena;
		char name[64];
		bool off = false;
		/* Its cache is also its structure (a stack of slots per size class, tens of
		 * KB): turned off, not only flushed; this thread allocates little from now on. */
		mallctl_fn("thread.tcache.enabled", NULL, NULL, &off, sizeof off);
		if (mallctl_fn("thread.arena", &arena, &len, NULL, 0) == 0) {
			snprintf(name, sizeof name, "arena.%u.purge", arena);
			mallctl_fn(name, NULL, NULL, NULL, 0);
		}
	}
	pthread_attr_t a;
	void *lo;
	size_t size;
	if (pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	int rc = pthread_attr_getstack(&a, &lo, &size);
	pthread_attr_destroy(&a);
	if (rc != 0)
		return;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	char here;
	/* A page kept below this frame for the calls that follow (the wait); deeper calls
	 * fault fresh pages in. */
	uintptr_t top = ((uintptr_t)&here - page) & ~(page - 1);
	uintptr_t low = ((uintptr_t)lo + page - 1) & ~(page - 1);
	if (top > low)
		madvise((void *)low, top - low, MADV_DONTNEED);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ml_http_stream *s = cls;
	(void)pos;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->stopping) {
			pthread_mutex_unlock(&s->mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		bool idle = s->idle_due;
		s->idle_due = false;
		s->woken = false;
		pthread_mutex_unlock(&s->mu);
		long n = s->ops->read(s->arg, buf, max, idle);
		pthread_mutex_lock(&s->mu);
		if (n != 0) {
			s->last_ms = ml_mono_ms();
			pthread_mutex_unlock(&s->mu);
			return n > 0 ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (s->woken || s->idle_due || s->stopping)
			continue; /* woken while reading: read again */
		if (s->ss->pool) {
			s->suspended = true;
			MHD_suspend_connection(s->conn);
			pthread_mutex_unlock(&s->mu);
			return 0; /* called again once resumed */
		}
		if (!s->shed) {
			s->shed = true;
			pthread_mutex_unlock(&s->mu);
			shed_thread_memory();
			pthread_mutex_lock(&s->mu);
			continue; /* a wake may have come meanwhile */
		}
		pthread_cond_wait(&s->cv, &s->mu);
	}
}

static void stream_free(void *cls)
{
	struct ml_http_stream *s = cls;
	struct ml_http_streams *ss = s->ss;
	/* First the owner, which stops anything that could still wake it. */
	s->ops->close(s->arg);
	pthread_mutex_lock(&ss->mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		ss->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ss->n--;
	pthread_mutex_unlock(&ss->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct MHD_Response *ml_http_stream_response(struct ml_http_streams *ss,
					     struct MHD_Connection *conn,
					     const struct ml_http_stream_ops *ops, void *arg)
{
	struct ml_http_stream *s = ml_calloc(1, sizeof *s);
	s->ss = ss;
	s->conn = conn;
	s->ops = ops;
	s->arg = arg;
	s->last_ms = ml_mono_ms();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_lock(&ss->mu);
	if (ss->stopping) {
		pthread_mutex_unlock(&ss->mu);
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		free(s);
		ops->close(arg);
		return NULL;
	}
	s->next = ss->head;
	if (ss->head)
		ss->head->prev = s;
	ss->head = s;
	ss->n++;
	pthread_cond_signal(&ss->cv); /* the keep-alive thread may have been idle */
	pthread_mutex_unlock(&ss->mu);
	if (ops->attach)
		ops->attach(arg, s);
	/* Small blocks: an event is a few hundred bytes, and the buffer comes from the
	 * connection's own memory pool. */
	return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, reader, s, stream_free);
}

void ml_http_streams_stop(struct ml_http_streams *ss)
{
	if (!ss)
		return;
	pthread_mutex_lock(&ss->mu);
	ss->stopping = true;
	for (struct ml_http_stream *s = ss->head; s; s = s->next) {
		pthread_mutex_lock(&s->mu);
		s->stopping = true;
		wake_locked(s);
		pthread_mutex_unlock(&s->mu);
	}
	pthread_cond_signal(&ss->cv);
	pthread_mutex_unlock(&ss->mu);
	pthread_join(ss->thread, NULL);
}

void ml_http_streams_free(struct ml_http_streams *ss)
{
	if (!ss)
		return;
	pthread_cond_destroy(&ss->cv);
	pthread_mutex_destroy(&ss->mu);
	free(ss);
}

size_t ml_http_streams_count(struct ml_http_streams *ss)
{
	pthread_mutex_lock(&ss->mu);
	size_t n = ss->n;
	pthread_mutex_unlock(&ss->mu);
	return n;
}
