/* Claims: the committer thread claims jobs (with their leases) and runs each claimed job's
 * prepare in the same transaction; jobs the store hands over at their enqueue's commit are
 * reserved, delivered and prepared here too. */
#include "queue/worker_internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/priority.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

/* --- claiming --- */

struct claim {
	struct ml_worker *w;
	int want;
	struct ml_job *jobs;
	int n;
	struct ml_job_run **runs;
};

static int prepare_one(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	const struct ml_job_handler *h = ml_wk_handler_for(run->worker, run->job.kind);
	return h->prepare(tx, run);
}

static void claim_drop_runs(struct claim *c)
{
	for (int i = 0; i < c->n && c->runs; i++)
		if (c->runs[i])
			ml_wk_run_free(c->runs[i]);
	free(c->runs);
	c->runs = NULL;
}

static int claim_fn(struct ml_tx *tx, void *arg)
{
	struct claim *c = arg;
	/* The writer may run this again after a failed batch: start from nothing each time. */
	claim_drop_runs(c);
	free(c->jobs);
	c->jobs = NULL;
	c->n = 0;
	int rc = ml_tx_job_claim(tx, c->w->name, ml_now_ms(), c->w->cfg.lease_ms, c->want, &c->jobs,
	                         &c->n);
	if (rc < 0 || c->n == 0)
		return rc;
	/* Each claimed job prepares in the claim's transaction: its reads and writes (a token,
	 * the mark that an attempt began) are durable before any of its calls go out. */
	c->runs = ml_calloc((size_t)c->n, sizeof *c->runs);
	for (int i = 0; i < c->n; i++) {
		struct ml_job_run *run = ml_calloc(1, sizeof *run);
		run->job = c->jobs[i];
		memset(&c->jobs[i], 0, sizeof c->jobs[i]);
		run->env = c->w->cfg.env;
		run->worker = c->w;
		c->runs[i] = run;
		const struct ml_job_handler *h = ml_wk_handler_for(c->w, run->job.kind);
		if (h && h->prepare) {
			ml_job_load(&run->job);
			run->prepare_rc = ml_tx_nested(tx, prepare_one, run);
		}
	}
	return 0;
}

/* --- the committer: the worker's other store writes, off the curl thread ---
 *
 * The curl thread never waits for the store: it hands its wish for more jobs (and handed-over
 * jobs whose prepare writes) to the committer thread, which claims (with each claimed job's
 * prepare) in ONE transaction, then hands them back and wakes the curl thread. */

struct cycle {
	struct ml_worker *w;
	struct claim claim;      /* want = 0: no claim this time */
	struct ml_job_run *prep; /* handed-over jobs whose prepare writes */
};

static int cycle_fn(struct ml_tx *tx, void *arg)
{
	struct cycle *c = arg;
	for (struct ml_job_run *run = c->prep; run; run = run->next) {
		/* (Run again from nothing if the writer runs the batch again.) */
		const struct ml_job_handler *h = ml_wk_handler_for(c->w, run->job.kind);
		if (h->release)
			h->release(run);
		run->prepare_rc = ml_tx_nested(tx, prepare_one, run);
	}
	if (c->claim.want > 0)
		return claim_fn(tx, &c->claim);
	return 0;
}

void *ml_wk_committer_main(void *arg)
{
	struct ml_worker *w = arg;
	ml_thread_prioritize(ML_WORKER_NICE, "worker: the committer thread");
	int st_cycles = 0, st_claimed = 0;
	int64_t st_ms = 0, st_since = ml_mono_ms();
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->c_prep && w->c_want <= 0 && !w->c_stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->c_prep && w->c_want <= 0 && w->c_stop)
			break;
		struct cycle c = {w, {w, w->c_stop ? 0 : w->c_want, NULL, 0, NULL}, w->c_prep};
		w->c_prep = NULL;
		w->c_want = 0;
		pthread_mutex_unlock(&w->mu);

		int64_t t0 = ml_mono_ms();
		int rcw = ml_store_write(w->cfg.store, cycle_fn, &c);
		st_cycles++;
		st_ms += ml_mono_ms() - t0;
		st_claimed += c.claim.n;
		if (ml_mono_ms() - st_since >= 1000) {
			ml_debug(
			    "worker: %d claims in %lld ms (%lld ms writing): %d claimed, %d in "
			    "flight",
			    st_cycles, (long long)(ml_mono_ms() - st_since), (long long)st_ms,
			    st_claimed, w->active);
			st_cycles = st_claimed = 0;
			st_ms = 0;
			st_since = ml_mono_ms();
		}
		if (rcw < 0) {
			ml_warn("worker: store write failed (%s); claims are dropped",
			        ml_error_message());
			claim_drop_runs(&c.claim);
			c.claim.n = 0;
			/* What their prepare wrote is not durable: they must not call anyone. */
			for (struct ml_job_run *r = c.prep; r; r = r->next)
				r->prepare_rc = ML_ESTORE;
		}
		free(c.claim.jobs);
		pthread_mutex_lock(&w->mu);
		/* Prepared (or failed to: prepare_rc tells start()); as claimed ones from here. */
		ml_wk_append(&w->b_claimed, c.prep);
		for (int i = 0; i < c.claim.n; i++) {
			c.claim.runs[i]->next = w->b_claimed;
			w->b_claimed = c.claim.runs[i];
			ml_wk_held_add(w, c.claim.runs[i], t0); /* leased since the cycle began */
		}
		free(c.claim.runs);
		if (c.claim.want > 0) {
			/* Only a cycle that claimed answers the claim: a prepare-only cycle must
			 * not read as "nothing more is due". */
			w->b_claim_answered = true;
			w->b_claim_full = c.claim.n == c.claim.want;
		}
		ml_curl_loop_wake(w->loop);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* --- jobs handed over at their enqueue's commit (store.h, struct ml_job_taker) ---
 * reserve, deliver and release run on the store's writer thread. Handed-over jobs take the
 * room of max_inflight, not twice it like claims ahead: the regular claim fills the rest. */

/* A job written due now and not handed over must be claimed soon: no notification comes
 * for it (ml_worker_notify), and a claim in the same batch passed it over (ml_sq_job_claim). */
static void claim_soon(struct ml_worker *w)
{
	atomic_store(&w->notified, true);
	ml_curl_loop_wake(w->loop);
}

bool ml_wk_taker_reserve(void *arg, const char *kind)
{
	struct ml_worker *w = arg;
	if (atomic_load(&w->stop) || !ml_wk_handler_for(w, kind))
		return false;
	int n = atomic_fetch_add(&w->handed, 1);
	if (atomic_load(&w->held_pub) + n < w->cfg.max_inflight)
		return true;
	atomic_fetch_sub(&w->handed, 1);
	claim_soon(w);
	return false;
}

void ml_wk_taker_release(void *arg)
{
	struct ml_worker *w = arg;
	atomic_fetch_sub(&w->handed, 1);
	claim_soon(w);
}

void ml_wk_taker_deliver(void *arg, struct ml_job *job)
{
	struct ml_worker *w = arg;
	struct ml_job_run *run = ml_calloc(1, sizeof *run);
	run->job = *job;
	free(job);
	run->env = w->cfg.env;
	run->worker = w;
	pthread_mutex_lock(&w->mu);
	ml_wk_held_add(w, run, ml_mono_ms()); /* leased by the transaction that just committed */
	run->next = w->b_handed;
	w->b_handed = run;
	pthread_mutex_unlock(&w->mu);
	ml_curl_loop_wake(w->loop);
}

/* Curl thread: a handed-over job's prepare, on a read snapshot (no store cycle: the point of
 * the hand-over). One that has something to write (handler says ML_JOB_NEEDS_WRITE) is sent
 * to the committer to prepare again in a write transaction. Returns true when the run is
 * ready to start. */
bool ml_wk_prepare_handed(struct ml_worker *w, struct ml_job_run *run)
{
	const struct ml_job_handler *h = ml_wk_handler_for(w, run->job.kind);
	if (!h->prepare)
		return true;
	ml_job_load(&run->job);
	int rc = ml_store_read(w->cfg.store, prepare_one, run);
	if (rc != ML_JOB_NEEDS_WRITE) {
		run->prepare_rc = rc < 0 ? rc : 0;
		return true;
	}
	if (h->release)
		h->release(run);
	pthread_mutex_lock(&w->mu);
	run->next = w->c_prep;
	w->c_prep = run;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->npreparing++;
	return false;
}

/* Curl thread: how many more jobs may be claimed. Up to twice max_inflight are held (running
 * or claimed ahead); only up to max_inflight while the oldest claimed job has waited long
 * (slow calls hold every slot), since a claimed job must start well inside its lease. */
int ml_wk_claim_room(const struct ml_worker *w, int64_t now)
{
	int held = w->active + w->nready + w->npreparing + atomic_load(&w->handed);
	bool slow = w->ready_head && now - w->ready_head->ready_since >= w->cfg.lease_ms / 4;
	int limit = (slow ? 1 : 2) * w->cfg.max_inflight;
	return limit > held ? limit - held : 0;
}

/* Curl thread: asks the committer for `want` more jobs. */
void ml_wk_ask_claim(struct ml_worker *w, int want)
{
	pthread_mutex_lock(&w->mu);
	w->c_want = want;
	w->claim_outstanding = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}
