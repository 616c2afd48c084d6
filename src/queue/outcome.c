/* A run's end: its outcome (done, retry with backoff, failed, waiting), recorded with its
 * commit callback in the store's next batch, without the curl thread waiting for it. */
#include "queue/worker_internal.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "domain/retry.h"

#include <stdlib.h>

void ml_job_run_finish(struct ml_job_run *run, const struct ml_job_finish *f, ml_tx_fn commit,
                       void *commit_arg)
{
	if (run->finished)
		return;
	run->finished = true;
	run->worker->active--;
	run->fin = *f;
	run->fin_error = f->error ? ml_strdup(f->error) : NULL;
	run->fin_wait_key = f->wait_key ? ml_strdup(f->wait_key) : NULL;
	run->fin_result = f->result ? json_incref(f->result) : NULL;
	run->fin.error = run->fin_error;
	run->fin.wait_key = run->fin_wait_key;
	run->fin.result = run->fin_result;
	run->commit = commit;
	run->commit_arg = commit_arg;
	run->next = run->worker->done_head;
	run->worker->done_head = run;
}

int64_t ml_job_run_backoff_ms(struct ml_job_run *run, int64_t retry_after_ms)
{
	uint32_t rnd;
	ml_random(&rnd, sizeof rnd);
	struct ml_worker_config *c = &run->worker->cfg;
	return ml_retry_delay_ms(run->job.attempts, c->backoff_base_ms, c->backoff_cap_ms,
	                         retry_after_ms, rnd);
}

void ml_job_run_retry(struct ml_job_run *run, int64_t retry_after_ms, const char *error)
{
	int64_t delay = ml_job_run_backoff_ms(run, retry_after_ms);
	struct ml_job_finish f = {ML_JOB_RETRY, ml_now_ms() + delay, NULL, error, NULL};
	ml_job_run_finish(run, &f, NULL, NULL);
}

/* A run's own writes (its commit callback), without its job's row. */
static int one_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	return run->commit ? run->commit(tx, run->commit_arg) : 0;
}

/* Its job's new state: refused (ML_ECONFLICT) if another claim holds the job now. */
static int one_finish(struct ml_tx *tx, struct ml_job_run *run)
{
	run->fin.lease = run->job.lease;
	return ml_tx_job_finish(tx, run->job.id, run->worker->name, &run->fin, run->job.attempts,
	                        run->job.max_attempts);
}

static int one_outcome(struct ml_tx *tx, void *arg)
{
	int rc = one_commit(tx, arg);
	return rc < 0 ? rc : one_finish(tx, arg);
}

/* Every commit callback first, then every job row: the rows are locked only for the last
 * moments of the transaction. A callback may wait long (a lock on a table it writes, held
 * by someone else): meanwhile the heartbeat, which passes over locked rows (lease.c), keeps
 * renewing these jobs' leases. With each row locked as its outcome went in, the rows of the
 * runs ahead of a waiting callback stayed locked, unrenewed, until their leases ran out;
 * once the wait ended in a rollback (a deadlock between nodes' outcome writes, retried;
 * a savepoint rolled back releases its row locks too), other nodes claimed them in the gap
 * and ran them a second time (test_many_nodes test_5: 3 to 6 of its 12 webhooks sent
 * twice in one run of five). */
static int all_outcomes(struct ml_tx *tx, void *arg)
{
	int rc;
	for (struct ml_job_run *run = arg; run; run = run->next)
		if ((rc = one_commit(tx, run)) < 0)
			return rc;
	for (struct ml_job_run *run = arg; run; run = run->next)
		if ((rc = one_finish(tx, run)) < 0)
			return rc;
	return 0;
}

/* The outcomes go in together first, in one savepoint: with a savepoint each, SQLite copied
 * every page each outcome touched into its statement journal (most of the pages a cycle
 * touches, once per outcome). If one fails, none of them is kept, and they go again one by
 * one, each in its own savepoint, so that one failure does not hold back the rest. Commit
 * callbacks may run twice that way: they only write through the transaction. */
static int outcomes_fn(struct ml_tx *tx, struct ml_worker *w, struct ml_job_run *list)
{
	if (ml_tx_nested(tx, all_outcomes, list) >= 0)
		return 0;
	ml_error_clear();
	for (struct ml_job_run *run = list; run; run = run->next) {
		if (ml_tx_nested(tx, one_outcome, run) >= 0)
			continue;
		if (ml_error_last() == ML_ECONFLICT) {
			/* Its lease ran out and another claim took the job: what it did is not
			 * kept (the other claim's will be). */
			ml_warn("worker: job %s (%s): its lease is no longer this node's; its "
			        "outcome is dropped", run->job.id, run->job.kind);
			continue;
		}
		/* The commit callback failed: keep the job, try it again later. */
		ml_warn("worker: job %s (%s) outcome not recorded: %s", run->job.id, run->job.kind,
		        ml_error_message());
		struct ml_job_finish f = {ML_JOB_RETRY, ml_now_ms() + 5000, NULL,
		                          "could not record the outcome", NULL, NULL,
		                          run->job.lease};
		ml_tx_job_finish(tx, run->job.id, w->name, &f, run->job.attempts,
		                 run->job.max_attempts);
	}
	return 0;
}

/* --- outcomes: written without waiting, straight from the curl thread ---
 *
 * A finished run's outcome joins o_pending; the first one queues a write with the store's
 * writer (ml_store_write_async), and the ones that finish before that write runs ride along
 * with it: each outcome waits at most for the writer's batch in progress, then goes in the
 * next one. Once that batch is durable, the runs come back to the curl thread to be freed. */

struct outcome_write {
	struct ml_worker *w;
	struct ml_job_run *list; /* taken from o_pending when the write first runs */
	bool taken;
};

static int outcome_write_fn(struct ml_tx *tx, void *arg)
{
	struct outcome_write *ow = arg;
	struct ml_worker *w = ow->w;
	if (!ow->taken) {
		pthread_mutex_lock(&w->mu);
		ow->list = w->o_pending;
		w->o_pending = NULL;
		w->o_queued = false; /* outcomes from now on queue a write of their own */
		pthread_mutex_unlock(&w->mu);
		ow->taken = true;
	}
	return outcomes_fn(tx, w, ow->list);
}

/* On the writer's thread, once the batch is durable or has failed. */
static void outcome_write_done(void *arg, int rc)
{
	struct outcome_write *ow = arg;
	struct ml_worker *w = ow->w;
	pthread_mutex_lock(&w->mu);
	if (!ow->taken) {
		/* The write failed before it took the pending outcomes (no connection): they
		 * wait for the next one, which must be queued anew. */
		ow->list = w->o_pending;
		w->o_pending = NULL;
		w->o_queued = false;
	}
	if (rc < 0 && ow->list) {
		/* Not recorded: written again in a second (the heartbeat holds their leases
		 * meanwhile); at a stop they are left to their leases (ml_worker_stop). */
		ml_warn("worker: store write failed (%s); the outcomes are written again",
		        ml_error_message());
		ml_wk_append(&w->o_retry, ow->list);
		w->o_retry_at = ml_mono_ms() + 1000;
		ow->list = NULL;
	}
	ml_wk_append(&w->b_committed, ow->list);
	ml_curl_loop_wake(w->loop);
	w->o_writes--;
	pthread_cond_broadcast(&w->o_cv);
	pthread_mutex_unlock(&w->mu);
	free(ow);
}

/* Curl thread: finished runs go to the store; a write is queued unless one is waiting. */
void ml_wk_write_outcomes(struct ml_worker *w)
{
	struct outcome_write *ow = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->o_retry && ml_mono_ms() >= w->o_retry_at) {
		ml_wk_append(&w->o_pending, w->o_retry);
		w->o_retry = NULL;
	} else if (!w->done_head) {
		pthread_mutex_unlock(&w->mu);
		return;
	}
	for (struct ml_job_run *run = w->done_head; run; run = run->next)
		run->outcome_queued = true; /* (the heartbeat reads it under mu: lease.c) */
	ml_wk_append(&w->o_pending, w->done_head);
	w->done_head = NULL;
	if (!w->o_queued) {
		w->o_queued = true;
		w->o_writes++;
		ow = ml_calloc(1, sizeof *ow);
		ow->w = w;
	}
	pthread_mutex_unlock(&w->mu);
	if (ow)
		ml_store_write_async(w->cfg.store, outcome_write_fn, ow, outcome_write_done, ow);
}
