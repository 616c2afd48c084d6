/* The worker: one event-loop thread driving a libcurl multi handle, up to max_inflight jobs
 * in flight (worker.h). This file is its loop: start, the ready queue, starting runs and
 * taking back what the other threads hand it; the rest is listed in worker_internal.h. */
#include "queue/worker_internal.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/priority.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

const struct ml_job_handler *ml_wk_handler_for(struct ml_worker *w, const char *kind)
{
	for (const struct ml_job_handler *const *h = w->cfg.handlers; h && *h; h++)
		if (strcmp((*h)->kind, kind) == 0)
			return *h;
	return NULL;
}

void ml_wk_run_free(struct ml_job_run *run)
{
	ml_wk_held_remove(run->worker, run); /* its outcome is durable, or it is abandoned */
	const struct ml_job_handler *h = ml_wk_handler_for(run->worker, run->job.kind);
	if (h && h->release)
		h->release(run);
	ml_job_free(&run->job);
	free(run->fin_error);
	free(run->fin_wait_key);
	json_decref(run->fin_result);
	free(run);
}

/* Curl thread: a claimed (or handed-over, prepared) run joins the queue of runs to start. */
void ml_wk_enqueue_ready(struct ml_worker *w, struct ml_job_run *run)
{
	run->next = NULL;
	run->ready_since = ml_mono_ms();
	w->inflight++;
	if (w->ready_tail)
		w->ready_tail->next = run;
	else
		w->ready_head = run;
	w->ready_tail = run;
	w->nready++;
}

/* Curl thread: takes back committed runs (freed), claimed ones (queued to start) and handed-over
 * ones (prepared, then queued). Returns how many came back from an answered claim, -1 when
 * none was answered; *full: the claim came back full (more may be due at once). */
int ml_wk_take_back(struct ml_worker *w, bool *full)
{
	struct ml_job_run *committed, *claimed, *handed;
	bool answered;
	pthread_mutex_lock(&w->mu);
	committed = w->b_committed;
	claimed = w->b_claimed;
	handed = w->b_handed;
	answered = w->b_claim_answered;
	*full = w->b_claim_full;
	w->b_committed = w->b_claimed = w->b_handed = NULL;
	w->b_claim_answered = false;
	pthread_mutex_unlock(&w->mu);
	if (answered)
		w->claim_outstanding = false;
	while (committed) {
		struct ml_job_run *next = committed->next;
		committed->committed = true;
		/* A run that ended with a request still out is freed when that request ends. */
		if (committed->inflight_http == 0) {
			w->inflight--;
			ml_wk_run_free(committed);
		}
		committed = next;
	}
	int n = 0;
	while (claimed) {
		struct ml_job_run *run = claimed, *next = claimed->next;
		if (run->handed)
			w->npreparing--; /* prepared by the committer */
		else
			n++;
		ml_wk_enqueue_ready(w, run);
		claimed = next;
	}
	while (handed) {
		struct ml_job_run *run = handed, *next = handed->next;
		atomic_fetch_sub(&w->handed, 1);
		run->handed = true;
		if (ml_wk_prepare_handed(w, run))
			ml_wk_enqueue_ready(w, run);
		handed = next;
	}
	return answered ? n : -1;
}

/* Curl thread: starts claimed runs while calls in flight stay under max_inflight. */
static void start_ready(struct ml_worker *w)
{
	while (w->ready_head && w->active < w->cfg.max_inflight) {
		struct ml_job_run *run = w->ready_head;
		w->ready_head = run->next;
		if (!w->ready_head)
			w->ready_tail = NULL;
		run->next = NULL;
		w->nready--;
		w->active++;
		const struct ml_job_handler *h = ml_wk_handler_for(w, run->job.kind);
		if (!h) {
			struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL,
			                          "no handler for this job kind", NULL};
			ml_job_run_finish(run, &f, NULL, NULL);
		} else if (ml_mono_ms() >= ml_wk_deadline_of(w, run)) {
			/* Waited so long for a slot that its lease is running out: run it later. */
			ml_job_run_retry(run, 0, "claimed but not started in time");
		} else {
			ml_job_load(&run->job); /* here, on the curl thread, not on the writer */
			h->start(run);
		}
	}
}

static int recover_fn(struct ml_tx *tx, void *arg)
{
	int *n = arg;
	*n = ml_tx_job_recover(tx);
	return *n < 0 ? *n : 0;
}

static void *worker_main(void *arg)
{
	struct ml_worker *w = arg;
	int64_t next_look = 0;
	bool more_due = false;
	int64_t next_sweep = 0;
	int refill = w->cfg.max_inflight / 8 > 0 ? w->cfg.max_inflight / 8 : 1;
	pthread_setname_np(pthread_self(), "ml-worker");
	ml_thread_prioritize(ML_WORKER_NICE, "worker: the event loop thread");
	int recovered = 0;

	if (ml_store_write(w->cfg.store, recover_fn, &recovered) == 0 && recovered > 0)
		ml_info("worker: %d job(s) left running by an earlier process are queued again",
		        recovered);
	/* Only now (a job handed over before the recovery would have been queued again and
	 * claimed a second time): jobs come straight from the transactions that enqueue them. */
	/* (PostgreSQL hands nothing over: its jobs are claimed, on whichever node, each worker
	 * woken by NOTIFY. Taken as handing over, it had the workers ignore every wake-up and
	 * find new jobs only at their next idle look, up to idle_poll_ms later.) */
	int taker = ml_store_set_job_taker(w->cfg.store, &w->taker);
	if (taker < 0)
		ml_warn("worker: jobs will only be claimed (%s)", ml_error_message());
	else if (taker == 0)
		atomic_store(&w->taking, true);
	while (!atomic_load(&w->stop)) {
		int64_t now = ml_mono_ms();
		bool full = false;
		/* What the last turn of the loop finished goes to the store first: an outcome then
		 * waits for nothing else on this thread (starting the runs below took up to a
		 * millisecond at 1,500 links/s). */
		ml_wk_complete_transfers(w);
		ml_wk_start_waits(w);
		ml_wk_write_outcomes(w);
		if (ml_wk_take_back(w, &full) >= 0) {
			/* A full claim means more is due: claim again as soon as there is room for
			 * a batch worth a store cycle. Otherwise look again after a pause (a new
			 * job notifies at once). */
			more_due = full;
			next_look = now + w->cfg.idle_poll_ms;
		}
		start_ready(w);
		/* (A lost lease: its calls end before the loop runs them any further.) */
		if (now >= next_sweep || atomic_exchange(&w->lease_news, false)) {
			ml_wk_abandon_overdue(w, now);
			next_sweep = now + 250;
		}
		start_ready(w);
		atomic_store(&w->held_pub, w->active + w->nready + w->npreparing);
		now = ml_mono_ms();
		int room = ml_wk_claim_room(w, now);
		bool look = !w->claim_outstanding && room > 0 &&
		            ((more_due && room >= refill) || now >= next_look ||
		             atomic_exchange(&w->notified, false));
		ml_wk_write_outcomes(w); /* runs that ended without a call, or abandoned */
		if (look)
			ml_wk_ask_claim(w, room);
		int64_t wait = next_look - ml_mono_ms();
		if (wait > w->cfg.idle_poll_ms)
			wait = w->cfg.idle_poll_ms;
		if (wait < 1)
			wait = 1;
		/* Runs that ended without a call (start_ready) are handed over at once. */
		ml_curl_loop_run(w->loop, w->done_head ? 0 : (int)wait);
	}
	ml_wk_drain(w);
	ml_wk_close_waits(w);
	/* What finished is written; ml_worker_stop waits for it. */
	ml_wk_write_outcomes(w);
	return NULL;
}

int ml_worker_start(struct ml_worker **out, const struct ml_worker_config *cfg)
{
	struct ml_worker *w = ml_calloc(1, sizeof *w);
	w->cfg = *cfg;
	if (!w->cfg.max_inflight)
		w->cfg.max_inflight = 512;
	if (!w->cfg.lease_ms)
		w->cfg.lease_ms = 60000;
	if (!w->cfg.idle_poll_ms)
		w->cfg.idle_poll_ms = 200;
	if (!w->cfg.backoff_base_ms)
		w->cfg.backoff_base_ms = 2000;
	if (!w->cfg.backoff_cap_ms)
		w->cfg.backoff_cap_ms = 3600 * 1000;
	ml_id_new(w->name, "wrk");
	w->taker = (struct ml_job_taker){
	    ml_wk_taker_reserve, ml_wk_taker_deliver, ml_wk_taker_release, w, "", w->cfg.lease_ms};
	snprintf(w->taker.worker, sizeof w->taker.worker, "%s", w->name);
	w->multi = curl_multi_init();
	w->loop = ml_curl_loop_new(w->multi);
	if (w->loop) {
		ml_curl_loop_on_socket(w->loop, ml_wk_note_socket, w);
		w->aside = ml_aside_start(ml_wk_wake_loop, w->loop);
		if (!w->aside)
			ml_warn("worker: no aside loop; mail runs on the event loop");
	}
	if (!w->loop) {
		curl_multi_cleanup(w->multi);
		free(w);
		return ml_error_set(ML_EINTERNAL, "worker_failed", NULL,
		                    "cannot start the worker's event loop");
	}
	/* Keep connections to each provider warm: a new TLS handshake costs ~1.8 ms of CPU. */
	curl_multi_setopt(w->multi, CURLMOPT_MAXCONNECTS, (long)w->cfg.max_inflight);
	curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->o_cv, NULL);
	pthread_mutex_init(&w->x_mu, NULL);
	pthread_cond_init(&w->x_cv, NULL);
	if (ml_wk_lease_start(w) < 0) {
		ml_aside_stop(w->aside);
		curl_multi_cleanup(w->multi);
		ml_curl_loop_free(w->loop);
		free(w);
		return ML_EINTERNAL;
	}
	if (pthread_create(&w->committer, NULL, ml_wk_committer_main, w) != 0) {
		ml_wk_lease_stop(w);
		ml_aside_stop(w->aside);
		curl_multi_cleanup(w->multi);
		ml_curl_loop_free(w->loop);
		free(w);
		return ml_error_set(ML_EINTERNAL, "worker_failed", NULL, "cannot start the worker");
	}
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		pthread_mutex_lock(&w->mu);
		w->c_stop = true;
		pthread_cond_signal(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->committer, NULL);
		ml_wk_lease_stop(w);
		ml_aside_stop(w->aside);
		curl_multi_cleanup(w->multi);
		ml_curl_loop_free(w->loop);
		free(w);
		return ml_error_set(ML_EINTERNAL, "worker_failed", NULL, "cannot start the worker");
	}
	*out = w;
	return 0;
}

void ml_worker_notify(struct ml_worker *w)
{
	/* With the store handing jobs over, a job due now that was written or requeued is
	 * handed over or reported (claim_soon) by the store itself: a claim now would find
	 * nothing (one store cycle for nothing after every booking change). */
	if (!w || atomic_load(&w->taking))
		return;
	atomic_store(&w->notified, true);
	ml_curl_loop_wake(w->loop);
}
