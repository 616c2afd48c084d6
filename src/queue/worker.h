/* The worker: claims due jobs from the store with a lease and runs them, driving every
 * provider, SMTP and webhook call through one libcurl multi handle, so hundreds of calls are
 * in flight without a thread per call.
 *
 * A job kind is a handler: start() issues requests with ml_job_run_http() (or finishes at
 * once); on_http() gets each response and issues the next request or finishes. Finishing
 * records the outcome, and optionally runs a commit callback in the same durable transaction
 * as the job's new state (a meeting becoming ready and its create job becoming done commit
 * together, or not at all). Outcomes of many jobs commit in one batch.
 */
#ifndef ML_QUEUE_WORKER_H
#define ML_QUEUE_WORKER_H

#include "queue/env.h"
#include "store/store.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>

struct ml_worker;
struct ml_job_run;

struct ml_http_result {
	CURLcode code;   /* CURLE_OK when an HTTP answer came back */
	long status;     /* HTTP status, or 0 */
	char *body;      /* NUL-terminated, may be "" */
	size_t body_len;
	char *headers;   /* raw response header block */
	const char *error; /* curl's message when code != CURLE_OK */
};

/* A response header's value (first match, case-insensitive), or NULL; caller frees. */
char *ml_http_result_header(const struct ml_http_result *res, const char *name);

/* prepare() on a read snapshot: it has something to write (see below). */
#define ML_JOB_NEEDS_WRITE 1

struct ml_job_handler {
	const char *kind;
	void (*start)(struct ml_job_run *run);
	void (*on_http)(struct ml_job_run *run, const struct ml_http_result *res);
	/* Frees run->state; called once the outcome is durable. May be NULL. */
	void (*release)(struct ml_job_run *run);
	/* Runs inside the transaction that claims the job (on the store's writer, in a savepoint
	 * of its own), before start(): load what the job works on, take what it needs (a token,
	 * a refresh lease), record that the attempt began. Whatever it writes is durable before
	 * start() makes any call. Must not block; keeps its findings in run->state. A failure
	 * (< 0) rolls its writes back and leaves run->prepare_rc set for start(). May be NULL.
	 * A job handed over by the store (struct ml_job_taker) is prepared first on a read
	 * snapshot (ml_tx_writable() false): a prepare with something to write returns
	 * ML_JOB_NEEDS_WRITE there without writing, and runs again, after release(), in a write
	 * transaction. */
	int (*prepare)(struct ml_tx *tx, struct ml_job_run *run);
};

struct ml_job_run {
	struct ml_job job;  /* the claimed job (payload etc.) */
	const struct ml_env *env; /* what the handler may use (ml_worker_config.env) */
	void *state;        /* the handler's */
	struct ml_worker *worker;
	/* internal */
	bool finished;
	bool committed;
	struct ml_job_finish fin;
	char *fin_error;
	char *fin_wait_key;
	json_t *fin_result;
	ml_tx_fn commit;
	void *commit_arg;
	int inflight_http;
	int64_t ready_since; /* claimed: when it joined the worker's ready queue (mono ms) */
	struct ml_job_run *next;
	int prepare_rc; /* what prepare() returned (0 when there is none) */
	bool handed;    /* handed over by the store at its enqueue's commit (not claimed) */
	/* Its lease (lease.c): when it began (the claim, mono ms; its calls end 3/4 of a lease
	 * later however often it is renewed), and whether the store said it is no longer this
	 * run's. */
	int64_t leased_at;
	atomic_bool lease_lost;
	bool held; /* on the worker's list of held leases (under its mutex) */
	bool outcome_queued; /* handed to the outcome writer (under the worker's mutex) */
	struct ml_job_run *held_prev, *held_next;
};

/* Hands an easy handle (URL and options set; the worker owns it from now on and sets the
 * write/header callbacks) to the multi loop; on_http() is called when it completes. */
void ml_job_run_http(struct ml_job_run *run, CURL *easy);
/* The same, for a transfer during which libcurl blocks the thread driving it (SMTP waits
 * for the answer to the end of data): it runs on the worker's aside loop (aside.h), so it
 * holds up no other call. */
void ml_job_run_http_aside(struct ml_job_run *run, CURL *easy);

/* Ends the job with an outcome (strings copied). `commit` (may be NULL) runs in the same
 * transaction as the job's new state; if it fails the job is retried instead. The outcome
 * is recorded after commit ran: commit may still change run->fin.outcome/run_at_ms (e.g. a
 * wait that the store shows to be pointless becomes a retry), not its strings. `commit` may
 * run more than once for one outcome (a transaction rolled back and run again): it must act
 * only through tx, or do the same on every run. */
void ml_job_run_finish(struct ml_job_run *run, const struct ml_job_finish *f, ml_tx_fn commit,
		       void *commit_arg);
/* The delay the policy gives before this job's next attempt (backoff with jitter, or the
 * provider's retry_after_ms when it asks for longer). */
int64_t ml_job_run_backoff_ms(struct ml_job_run *run, int64_t retry_after_ms);
/* Shorthand: retry after the policy's backoff (or the provider's retry_after_ms). */
void ml_job_run_retry(struct ml_job_run *run, int64_t retry_after_ms, const char *error);

struct ml_worker_config {
	struct ml_store *store;
	const struct ml_env *env; /* handed to every run (run->env); may be NULL in tests */
	const struct ml_job_handler *const *handlers; /* NULL-terminated */
	int max_inflight;      /* jobs at once; 0: 512 */
	int64_t lease_ms;      /* 0: 60 s */
	int64_t idle_poll_ms;  /* how often to look for due jobs when idle; 0: 200 ms */
	int64_t backoff_base_ms, backoff_cap_ms; /* 0: 2 s and 1 h */
	int64_t stop_grace_ms; /* how long a stop lets the calls in flight finish; 0: none */
};

int ml_worker_start(struct ml_worker **out, const struct ml_worker_config *cfg);
/* From any thread but the worker's own (a request thread): makes `easy` (URL, options and
 * timeouts set; taken over: the worker sets the write callbacks and frees it) on the worker's
 * multi loop, with the jobs' calls, and waits for its end. 0 with *status (the HTTP status)
 * and *body (the answer, "" when none; caller frees); ML_EUNAVAIL (ml_error_set) when no
 * answer came back or the worker is stopping, *status 0 and *body "". */
int ml_worker_http_wait(struct ml_worker *w, CURL *easy, long *status, char **body);
/* Wakes the worker to look for jobs now (call after committing a change that enqueued or
 * requeued jobs). Nothing to do once the store hands jobs over to it (struct ml_job_taker). */
void ml_worker_notify(struct ml_worker *w);
/* Stops claiming and starting jobs, lets the calls in flight finish for up to stop_grace_ms
 * (their outcomes are written), then abandons the rest as a crash would (their jobs run again
 * at the next start), closing their connections without another byte, and frees. */
void ml_worker_stop(struct ml_worker *w);

#endif
