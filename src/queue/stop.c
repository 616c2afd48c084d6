/* Stopping the worker: the calls in flight get their grace to finish (ml_wk_drain); what is
 * left is abandoned as a crash would leave it. */
#include "queue/worker_internal.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <sys/socket.h>

struct release {
	const char *worker;
	int *n;
};

static int release_fn(struct ml_tx *tx, void *arg)
{
	struct release *r = arg;
	int n = ml_tx_job_release(tx, r->worker);
	if (n > 0)
		*r->n = n;
	return n < 0 ? n : 0;
}

/* Stopping: nothing new starts (no claim, no run started), but the transfers in flight get
 * up to stop_grace_ms to finish, and their outcomes are written like any other: a mail the
 * server is accepting is recorded as sent, not sent again after the restart. What is still
 * in flight after the grace is cut by ml_worker_stop (see there). */
void ml_wk_drain(struct ml_worker *w)
{
	int64_t until = ml_mono_ms() + w->cfg.stop_grace_ms;
	for (;;) {
		ml_wk_complete_transfers(w);
		ml_wk_write_outcomes(w);
		int64_t left = until - ml_mono_ms();
		if (!w->transfers || left <= 0)
			break;
		ml_curl_loop_run(w->loop, left < 100 ? (int)left : 100);
	}
	if (w->transfers)
		ml_info("worker: stopping with calls still in flight after %lld ms; their jobs run "
		        "again at the next start",
		        (long long)w->cfg.stop_grace_ms);
}

void ml_worker_stop(struct ml_worker *w)
{
	if (!w)
		return;
	atomic_store(&w->stop, true);
	ml_curl_loop_wake(w->loop);
	pthread_join(w->thread, NULL);
	/* Every waiting thread has its answer (close_waits): let them leave before freeing. */
	pthread_mutex_lock(&w->x_mu);
	while (w->x_waiters > 0)
		pthread_cond_wait(&w->x_cv, &w->x_mu);
	pthread_mutex_unlock(&w->x_mu);
	/* No job is handed over any more once this returns. */
	ml_store_set_job_taker(w->cfg.store, NULL);
	atomic_store(&w->taking, false);
	/* The last outcomes are written; the committer stops. */
	pthread_mutex_lock(&w->mu);
	while (w->o_writes > 0)
		pthread_cond_wait(&w->o_cv, &w->mu);
	w->c_stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->committer, NULL);
	bool full;
	struct ml_job_run *claimed = w->b_claimed;
	w->b_claimed = NULL;
	ml_wk_append(&claimed, w->b_handed); /* handed over, never prepared: the same */
	w->b_handed = NULL;
	/* Claimed but never started: abandoned as a crash would leave them (recovered at the
	 * next start, or when their lease expires). */
	while (claimed) {
		struct ml_job_run *next = claimed->next;
		ml_wk_run_free(claimed);
		claimed = next;
	}
	ml_wk_take_back(w, &full);
	while (w->ready_head) {
		struct ml_job_run *next = w->ready_head->next;
		ml_wk_run_free(w->ready_head);
		w->ready_head = next;
	}
	/* Whatever is still in flight is abandoned as a crash would be: the jobs stay running in
	 * the store and are recovered at the next start (or when their lease expires). Each
	 * connection is shut down first, so that removing its transfer cannot write to it:
	 * libcurl ends an SMTP transfer removed mid-session as if the message were complete —
	 * it writes the end-of-data "." and waits for the answer — so the server took a cut or
	 * empty message (then sent again after the restart) or read "." as a command. A
	 * connection that ends mid-transaction is discarded by the server (RFC 5321 3.8), and
	 * idle ones still get their QUIT from curl_multi_cleanup below. */
	/* Outcomes whose write failed and was not tried again: their jobs are released below
	 * (or recovered), as the crash's would be. */
	while (w->o_retry) {
		struct ml_job_run *run = w->o_retry, *next = run->next;
		run->committed = true; /* (freed here, or with its last transfer below) */
		if (run->inflight_http == 0) {
			w->inflight--;
			ml_wk_run_free(run);
		}
		w->o_retry = next;
	}
	ml_aside_stop(w->aside); /* cuts its own the same way (aside.h) */
	w->aside = NULL;
	for (struct http_ctx *h = w->transfers; h; h = h->next)
		if (!h->aside && h->sock != CURL_SOCKET_BAD)
			shutdown(h->sock, SHUT_RDWR);
	while (w->transfers) {
		struct ml_job_run *run = w->transfers->run;
		ml_wk_transfer_free(w, w->transfers);
		if (--run->inflight_http == 0 && (!run->finished || run->committed))
			ml_wk_run_free(run);
	}
	curl_multi_cleanup(w->multi); /* may still tell the loop to forget sockets */
	ml_wk_lease_stop(w); /* every run is freed: no lease is held any more */
	ml_curl_loop_free(w->loop);
	/* Nothing of this worker runs any more: on a shared store its jobs go back to the
	 * queue now, for any node, rather than when their leases run out. */
	int released = 0;
	if (ml_store_write(w->cfg.store, release_fn, &(struct release){w->name, &released}) == 0 &&
	    released > 0)
		ml_info("worker: %d job(s) cut by the stop are queued again", released);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->o_cv);
	pthread_mutex_destroy(&w->x_mu);
	pthread_cond_destroy(&w->x_cv);
	free(w);
}
