/* The leases a worker holds, and its heartbeat. A claimed job's lease is renewed while the job
 * is in flight and until its outcome is durable, so a run whose outcome is slow to commit (a
 * write queued behind others on a busy store) is not taken over by another node and done
 * twice. Its calls still end 3/4 of a lease after the claim (ml_wk_deadline_of). A lease the
 * store says is no longer this run's (it expired while the heartbeat could not reach the
 * store, and another claim took it) ends the run's calls at once and starts none; its outcome
 * is refused by the store (the lease token, ml_job.lease). docs/many-nodes.md, "Exactly
 * once". */
#include "queue/worker_internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Under w->mu. */
void ml_wk_held_add(struct ml_worker *w, struct ml_job_run *run, int64_t since)
{
	run->leased_at = since;
	run->held = true;
	run->held_prev = NULL;
	run->held_next = w->held;
	if (w->held)
		w->held->held_prev = run;
	w->held = run;
}

/* Any thread; the run is its own (being freed). */
void ml_wk_held_remove(struct ml_worker *w, struct ml_job_run *run)
{
	if (!run->held)
		return;
	pthread_mutex_lock(&w->mu);
	if (run->held_prev)
		run->held_prev->held_next = run->held_next;
	else
		w->held = run->held_next;
	if (run->held_next)
		run->held_next->held_prev = run->held_prev;
	run->held = false;
	pthread_mutex_unlock(&w->mu);
}

struct beat {
	const char *worker;
	int64_t until_ms;
	struct ml_job_lease *l;
	int n;
};

static int beat_fn(struct ml_tx *tx, void *arg)
{
	struct beat *b = arg;
	int rc = ml_tx_job_renew(tx, b->worker, b->until_ms, b->l, b->n);
	return rc < 0 ? rc : 0;
}

static int by_id(const void *a, const void *b)
{
	const struct ml_job_lease *x = a, *y = b;
	return strcmp(x->id, y->id);
}

/* Under w->mu: what the store said of each lease still held. */
static void apply(struct ml_worker *w, struct ml_job_lease *l, int n)
{
	int lost = 0;
	for (struct ml_job_run *run = w->held; run; run = run->held_next) {
		struct ml_job_lease key = {run->job.id, 0, ML_LEASE_BUSY};
		struct ml_job_lease *e = bsearch(&key, l, (size_t)n, sizeof *l, by_id);
		if (!e || e->lease != run->job.lease)
			continue; /* claimed after the snapshot */
		/* A run whose outcome is with the writer has no calls left to end, and its job
		 * reads as no longer held as soon as that outcome commits, which may be between
		 * this beat's snapshot and its read: not a lost lease (a lease really lost is
		 * refused at the outcome's write, by its token). */
		if (run->outcome_queued)
			continue;
		if (e->state == ML_LEASE_LOST && !atomic_exchange(&run->lease_lost, true)) {
			ml_warn("worker: job %s (%s): its lease is no longer this node's; its "
			        "calls end", run->job.id, run->job.kind);
			lost++;
		}
	}
	if (lost) {
		atomic_store(&w->lease_news, true);
		ml_curl_loop_wake(w->loop);
	}
}

/* A run held this long without its outcome written is renewed no more (something is stuck):
 * its lease runs out and another claim takes the job, as before the heartbeat. */
#define HELD_MAX_LEASES 10

/* One heartbeat: every lease held, renewed for lease_ms from now. */
static void beat(struct ml_worker *w)
{
	int n = 0, cap = 0;
	struct ml_job_lease *l = NULL;
	int64_t too_old = ml_mono_ms() - HELD_MAX_LEASES * w->cfg.lease_ms;
	for (struct ml_job_run *run = w->held; run; run = run->held_next) {
		if (atomic_load(&run->lease_lost))
			continue;
		if (run->leased_at < too_old) {
			ml_warn("worker: job %s (%s) held for %d leases: its lease is renewed no more",
			        run->job.id, run->job.kind, HELD_MAX_LEASES);
			atomic_store(&run->lease_lost, true);
			atomic_store(&w->lease_news, true);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			l = ml_realloc(l, (size_t)cap * sizeof *l);
		}
		l[n++] = (struct ml_job_lease){ml_strdup(run->job.id), run->job.lease,
		                               ML_LEASE_BUSY};
	}
	if (n == 0)
		return;
	pthread_mutex_unlock(&w->mu);
	struct beat b = {w->name, ml_now_ms() + w->cfg.lease_ms, l, n};
	int rc = ml_store_write(w->cfg.store, beat_fn, &b);
	if (rc < 0)
		ml_warn("worker: could not renew %d lease(s): %s", n, ml_error_message());
	qsort(l, (size_t)n, sizeof *l, by_id);
	pthread_mutex_lock(&w->mu);
	if (rc == 0)
		apply(w, l, n);
	for (int i = 0; i < n; i++)
		free((char *)l[i].id);
	free(l);
}

static void *lease_main(void *arg)
{
	struct ml_worker *w = arg;
	pthread_setname_np(pthread_self(), "ml-lease");
	/* Four beats a lease: two may fail before a run's calls are cut (at 3/4 of it). */
	int64_t every = w->cfg.lease_ms / 4 > 10 ? w->cfg.lease_ms / 4 : 10;
	pthread_mutex_lock(&w->mu);
	while (!w->l_stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += every / 1000;
		until.tv_nsec += (every % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!w->l_stop && pthread_cond_timedwait(&w->l_cv, &w->mu, &until) == 0)
			;
		if (!w->l_stop)
			beat(w);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int ml_wk_lease_start(struct ml_worker *w)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->l_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&w->lease_thread, NULL, lease_main, w) != 0)
		return ml_error_set(ML_EINTERNAL, "worker_failed", NULL,
		                    "cannot start the worker's lease thread");
	w->lease_started = true;
	return 0;
}

void ml_wk_lease_stop(struct ml_worker *w)
{
	if (w->lease_started) {
		pthread_mutex_lock(&w->mu);
		w->l_stop = true;
		pthread_cond_broadcast(&w->l_cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->lease_thread, NULL);
		w->lease_started = false;
	}
	pthread_cond_destroy(&w->l_cv);
}
