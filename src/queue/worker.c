#include "queue/worker.h"
#include "queue/curl_loop.h"
#include "queue/aside.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/priority.h"
#include "core/timeutil.h"
#include "domain/retry.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct ml_worker {
	struct ml_worker_config cfg;
	char name[ML_ID_MAX];
	CURLM *multi;
	struct ml_curl_loop *loop;
	struct ml_aside *aside; /* transfers during which libcurl blocks its thread (aside.h) */
	pthread_t thread;
	atomic_bool stop;
	atomic_bool notified;
	int inflight; /* runs alive (claimed .. freed) */
	int active;   /* runs started and not finished: what max_inflight bounds. A finished run
		       * waiting for its outcome to commit holds no provider call, so it does
		       * not hold a slot either. */
	struct ml_job_run *done_head; /* finished, not yet handed to the store */
	/* Claimed ahead, not started yet: while the committer claims the next batch, the curl
	 * thread keeps starting these as slots free up, so the calls in flight do not drain to
	 * zero at every store cycle. */
	struct ml_job_run *ready_head, *ready_tail;
	int nready;
	struct http_ctx *transfers;
	bool claim_outstanding;       /* a claim was asked for and has not come back */
	/* the committer (committer_main) and what it shares with the curl thread, under mu */
	pthread_t committer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int c_want;                   /* jobs to claim (0: none) */
	bool c_stop;
	struct ml_job_run *b_committed, *b_claimed; /* back to the curl thread */
	bool b_claim_answered, b_claim_full;
	/* Jobs handed over by the store as the transactions that wrote them commit (store.h,
	 * struct ml_job_taker), claimed already: delivered on the writer thread (b_handed,
	 * under mu), prepared on the curl thread on a read snapshot; a prepare that has
	 * something to write goes to the committer (c_prep) and comes back with the claims. */
	struct ml_job_taker taker;
	struct ml_job_run *b_handed;
	struct ml_job_run *c_prep;
	int npreparing;         /* curl thread: sent to the committer to prepare */
	atomic_int handed;      /* reserved by the store, not yet back on the curl thread */
	atomic_bool taking;     /* the store hands jobs over: notifications are not needed */
	atomic_int held_pub;    /* active + nready + npreparing, as the curl thread last saw */
	/* Outcomes go straight to the store's writer (ml_store_write_async), not through the
	 * committer: one write queued at a time, which takes every outcome pending when it runs
	 * (under mu). */
	struct ml_job_run *o_pending; /* finished, for the queued write to take */
	bool o_queued;                /* a write is queued and has not taken them yet */
	int o_writes;                 /* writes not yet done (ml_worker_stop waits for 0) */
	pthread_cond_t o_cv;          /* o_writes went down */
	/* Calls other threads wait on (ml_worker_http_wait), under x_mu: submitted (x_new),
	 * then in flight among the transfers (http_ctx.wait) until done. */
	pthread_mutex_t x_mu;
	pthread_cond_t x_cv;          /* a call is done; a waiter left */
	struct http_wait *x_new;
	bool x_closed;                /* the loop has ended: no more calls */
	int x_waiters;                /* threads in ml_worker_http_wait (ml_worker_stop waits) */
};

/* A call made for another thread; lives on that thread's stack. */
struct http_wait {
	CURL *easy;
	bool done;
	CURLcode code;
	long status;
	char *body;
	struct http_wait *next;
};

/* Per easy handle: where the response goes. */
struct http_ctx {
	struct ml_job_run *run;       /* a job's call, or */
	struct http_wait *wait;       /* another thread's (run NULL) */
	CURL *easy;
	struct ml_buf body, headers;
	curl_socket_t sock;           /* the connection's socket while curl watches it */
	bool aside;                   /* on the aside loop (aside.h), not on w->multi */
	bool cancelling;              /* aside: asked to be cut */
	struct http_ctx *prev, *next; /* every transfer in flight, for shutdown */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx *h = arg;
	if (h->body.len + size * n > (8u << 20))
		return 0; /* refuse absurd bodies: the transfer fails */
	ml_buf_append(&h->body, p, size * n);
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx *h = arg;
	if (h->headers.len + size * n <= (64u << 10))
		ml_buf_append(&h->headers, p, size * n);
	return size * n;
}

char *ml_http_result_header(const struct ml_http_result *res, const char *name)
{
	size_t nl = strlen(name);
	const char *p = res->headers;
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = len - (size_t)(v - p);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			return ml_strndup(v, vl);
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

static struct http_ctx *transfer_track(struct ml_worker *w, CURL *easy)
{
	struct http_ctx *h = ml_calloc(1, sizeof *h);
	h->easy = easy;
	h->sock = CURL_SOCKET_BAD;
	h->next = w->transfers;
	if (w->transfers)
		w->transfers->prev = h;
	w->transfers = h;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, h);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	return h;
}

static struct http_ctx *transfer_new(struct ml_job_run *run, CURL *easy)
{
	struct http_ctx *h = transfer_track(run->worker, easy);
	h->run = run;
	run->inflight_http++;
	return h;
}

void ml_job_run_http(struct ml_job_run *run, CURL *easy)
{
	transfer_new(run, easy);
	curl_multi_add_handle(run->worker->multi, easy);
}

void ml_job_run_http_aside(struct ml_job_run *run, CURL *easy)
{
	struct ml_worker *w = run->worker;
	if (!w->aside) {
		ml_job_run_http(run, easy);
		return;
	}
	transfer_new(run, easy)->aside = true;
	ml_aside_add(w->aside, easy);
}

/* Which socket each transfer's connection uses (curl_loop.h): what ml_worker_stop shuts
 * down before it abandons the transfer. */
static void note_socket(CURL *easy, curl_socket_t s, void *arg)
{
	(void)arg;
	struct http_ctx *h = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
	if (h && h->easy == easy)
		h->sock = s;
}

static void wake_loop(void *loop)
{
	ml_curl_loop_wake(loop);
}

static void transfer_free(struct ml_worker *w, struct http_ctx *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		w->transfers = h->next;
	if (h->next)
		h->next->prev = h->prev;
	/* (An aside transfer comes back removed from its multi, or is removed by its stop.) */
	if (!h->aside)
		curl_multi_remove_handle(w->multi, h->easy);
	curl_easy_cleanup(h->easy);
	ml_buf_free(&h->body);
	ml_buf_free(&h->headers);
	free(h);
}

/* --- calls other threads wait on --- */

/* Hands a call's end to the thread waiting on it. */
static void wait_done(struct ml_worker *w, struct http_wait *x, CURLcode code, long status,
		      const char *body)
{
	pthread_mutex_lock(&w->x_mu);
	x->code = code;
	x->status = status;
	x->body = ml_strdup(body ? body : "");
	x->done = true;
	pthread_cond_broadcast(&w->x_cv);
	pthread_mutex_unlock(&w->x_mu);
}

/* Curl thread: starts the calls submitted since the last turn. */
static void start_waits(struct ml_worker *w)
{
	pthread_mutex_lock(&w->x_mu);
	struct http_wait *x = w->x_new;
	w->x_new = NULL;
	pthread_mutex_unlock(&w->x_mu);
	while (x) {
		struct http_wait *next = x->next;
		transfer_track(w, x->easy)->wait = x;
		curl_multi_add_handle(w->multi, x->easy);
		x = next;
	}
}

/* Curl thread, as the loop ends (after the drain): no call waits for it any more. */
static void close_waits(struct ml_worker *w)
{
	pthread_mutex_lock(&w->x_mu);
	w->x_closed = true;
	struct http_wait *x = w->x_new;
	w->x_new = NULL;
	pthread_mutex_unlock(&w->x_mu);
	while (x) {
		struct http_wait *next = x->next;
		curl_easy_cleanup(x->easy);
		wait_done(w, x, CURLE_ABORTED_BY_CALLBACK, 0, "");
		x = next;
	}
	for (struct http_ctx *h = w->transfers, *next; h; h = next) {
		next = h->next;
		if (!h->wait)
			continue;
		struct http_wait *hw = h->wait;
		if (h->sock != CURL_SOCKET_BAD)
			shutdown(h->sock, SHUT_RDWR);
		transfer_free(w, h);
		wait_done(w, hw, CURLE_ABORTED_BY_CALLBACK, 0, "");
	}
}

int ml_worker_http_wait(struct ml_worker *w, CURL *easy, long *status, char **body)
{
	struct http_wait x = {.easy = easy};
	pthread_mutex_lock(&w->x_mu);
	if (w->x_closed) {
		pthread_mutex_unlock(&w->x_mu);
		curl_easy_cleanup(easy);
		*status = 0;
		*body = ml_strdup("");
		return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
				    "No call can be made: the worker is stopping.");
	}
	x.next = w->x_new;
	w->x_new = &x;
	w->x_waiters++;
	pthread_mutex_unlock(&w->x_mu);
	ml_curl_loop_wake(w->loop);
	pthread_mutex_lock(&w->x_mu);
	while (!x.done)
		pthread_cond_wait(&w->x_cv, &w->x_mu);
	w->x_waiters--;
	pthread_cond_broadcast(&w->x_cv);
	pthread_mutex_unlock(&w->x_mu);
	*status = x.code == CURLE_OK ? x.status : 0;
	*body = x.body;
	if (x.code != CURLE_OK)
		return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
				    "The provider could not be reached (%s).",
				    curl_easy_strerror(x.code));
	return 0;
}

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

static const struct ml_job_handler *handler_for(struct ml_worker *w, const char *kind)
{
	for (const struct ml_job_handler *const *h = w->cfg.handlers; h && *h; h++)
		if (strcmp((*h)->kind, kind) == 0)
			return *h;
	return NULL;
}

/* --- claiming --- */

struct claim {
	struct ml_worker *w;
	int want;
	struct ml_job *jobs;
	int n;
	struct ml_job_run **runs;
};

static void run_free(struct ml_job_run *run);

static int prepare_one(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	const struct ml_job_handler *h = handler_for(run->worker, run->job.kind);
	return h->prepare(tx, run);
}

static void claim_drop_runs(struct claim *c)
{
	for (int i = 0; i < c->n && c->runs; i++)
		if (c->runs[i])
			run_free(c->runs[i]);
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
	int rc = ml_tx_job_claim(tx, c->w->name, ml_now_ms(), c->w->cfg.lease_ms, c->want,
				 &c->jobs, &c->n);
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
		const struct ml_job_handler *h = handler_for(c->w, run->job.kind);
		if (h && h->prepare) {
			ml_job_load(&run->job);
			run->prepare_rc = ml_tx_nested(tx, prepare_one, run);
		}
	}
	return 0;
}

static int one_outcome(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	int rc = 0;
	if (run->commit && (rc = run->commit(tx, run->commit_arg)) < 0)
		return rc;
	return ml_tx_job_finish(tx, run->job.id, run->worker->name, &run->fin, run->job.attempts,
				run->job.max_attempts);
}

static int all_outcomes(struct ml_tx *tx, void *arg)
{
	int rc;
	for (struct ml_job_run *run = arg; run; run = run->next)
		if ((rc = one_outcome(tx, run)) < 0)
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
		if (ml_error_last() == ML_ECONFLICT)
			continue; /* lease lost: another worker owns the job now */
		/* The commit callback failed: keep the job, try it again later. */
		ml_warn("worker: job %s (%s) outcome not recorded: %s", run->job.id, run->job.kind,
			ml_error_message());
		struct ml_job_finish f = {ML_JOB_RETRY, ml_now_ms() + 5000, NULL,
					  "could not record the outcome", NULL};
		ml_tx_job_finish(tx, run->job.id, w->name, &f, run->job.attempts,
				 run->job.max_attempts);
	}
	return 0;
}

static void run_free(struct ml_job_run *run)
{
	const struct ml_job_handler *h = handler_for(run->worker, run->job.kind);
	if (h && h->release)
		h->release(run);
	ml_job_free(&run->job);
	free(run->fin_error);
	free(run->fin_wait_key);
	json_decref(run->fin_result);
	free(run);
}

/* The curl thread and the committer run at a higher priority than request threads: during
 * a burst of API requests (the bench's 256 confirms at once) they got a small share of the
 * CPU, answers waited in socket buffers, calls seemed to take 230-310 ms instead of 155, and
 * links/s fell to 60% of what 512 calls in flight allow (the provider's side, the sandbox,
 * was starved likewise: bench/README.md). */
#define WORKER_NICE (-10)

static void append(struct ml_job_run **head, struct ml_job_run *list)
{
	while (list) {
		struct ml_job_run *next = list->next;
		list->next = *head;
		*head = list;
		list = next;
	}
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
	if (rc < 0)
		/* Outcomes not recorded: their leases expire and the jobs run again. */
		ml_warn("worker: store write failed; outcomes will be retried by lease");
	pthread_mutex_lock(&w->mu);
	append(&w->b_committed, ow->list);
	ml_curl_loop_wake(w->loop);
	w->o_writes--;
	pthread_cond_broadcast(&w->o_cv);
	pthread_mutex_unlock(&w->mu);
	free(ow);
}

/* Curl thread: finished runs go to the store; a write is queued unless one is waiting. */
static void write_outcomes(struct ml_worker *w)
{
	if (!w->done_head)
		return;
	struct outcome_write *ow = NULL;
	pthread_mutex_lock(&w->mu);
	append(&w->o_pending, w->done_head);
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
		const struct ml_job_handler *h = handler_for(c->w, run->job.kind);
		if (h->release)
			h->release(run);
		run->prepare_rc = ml_tx_nested(tx, prepare_one, run);
	}
	if (c->claim.want > 0)
		return claim_fn(tx, &c->claim);
	return 0;
}

static void *committer_main(void *arg)
{
	struct ml_worker *w = arg;
	ml_thread_prioritize(WORKER_NICE, "worker: the committer thread");
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
			ml_debug("worker: %d claims in %lld ms (%lld ms writing): %d claimed, %d in "
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
		append(&w->b_claimed, c.prep);
		for (int i = 0; i < c.claim.n; i++) {
			c.claim.runs[i]->next = w->b_claimed;
			w->b_claimed = c.claim.runs[i];
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

static bool taker_reserve(void *arg, const char *kind)
{
	struct ml_worker *w = arg;
	if (atomic_load(&w->stop) || !handler_for(w, kind))
		return false;
	int n = atomic_fetch_add(&w->handed, 1);
	if (atomic_load(&w->held_pub) + n < w->cfg.max_inflight)
		return true;
	atomic_fetch_sub(&w->handed, 1);
	claim_soon(w);
	return false;
}

static void taker_release(void *arg)
{
	struct ml_worker *w = arg;
	atomic_fetch_sub(&w->handed, 1);
	claim_soon(w);
}

static void taker_deliver(void *arg, struct ml_job *job)
{
	struct ml_worker *w = arg;
	struct ml_job_run *run = ml_calloc(1, sizeof *run);
	run->job = *job;
	free(job);
	run->env = w->cfg.env;
	run->worker = w;
	pthread_mutex_lock(&w->mu);
	run->next = w->b_handed;
	w->b_handed = run;
	pthread_mutex_unlock(&w->mu);
	ml_curl_loop_wake(w->loop);
}

/* Curl thread: a handed-over job's prepare, on a read snapshot (no store cycle: the point of
 * the hand-over). One that has something to write (handler says ML_JOB_NEEDS_WRITE) is sent
 * to the committer to prepare again in a write transaction. Returns true when the run is
 * ready to start. */
static bool prepare_handed(struct ml_worker *w, struct ml_job_run *run)
{
	const struct ml_job_handler *h = handler_for(w, run->job.kind);
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
static int claim_room(const struct ml_worker *w, int64_t now)
{
	int held = w->active + w->nready + w->npreparing + atomic_load(&w->handed);
	bool slow = w->ready_head && now - w->ready_head->ready_since >= w->cfg.lease_ms / 4;
	int limit = (slow ? 1 : 2) * w->cfg.max_inflight;
	return limit > held ? limit - held : 0;
}

/* Curl thread: asks the committer for `want` more jobs. */
static void ask_claim(struct ml_worker *w, int want)
{
	pthread_mutex_lock(&w->mu);
	w->c_want = want;
	w->claim_outstanding = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Curl thread: a claimed (or handed-over, prepared) run joins the queue of runs to start. */
static void enqueue_ready(struct ml_worker *w, struct ml_job_run *run)
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
static int take_back(struct ml_worker *w, bool *full)
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
			run_free(committed);
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
		enqueue_ready(w, run);
		claimed = next;
	}
	while (handed) {
		struct ml_job_run *run = handed, *next = handed->next;
		atomic_fetch_sub(&w->handed, 1);
		run->handed = true;
		if (prepare_handed(w, run))
			enqueue_ready(w, run);
		handed = next;
	}
	return answered ? n : -1;
}

/* When a run's calls must have ended: a quarter of its lease early (the lease began at the
 * claim, just before the run came back to this thread). */
static int64_t deadline_of(const struct ml_worker *w, const struct ml_job_run *run)
{
	return run->ready_since + w->cfg.lease_ms * 3 / 4;
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
		const struct ml_job_handler *h = handler_for(w, run->job.kind);
		if (!h) {
			struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, "no handler for this job kind",
						  NULL};
			ml_job_run_finish(run, &f, NULL, NULL);
		} else if (ml_mono_ms() >= deadline_of(w, run)) {
			/* Waited so long for a slot that its lease is running out: run it later. */
			ml_job_run_retry(run, 0, "claimed but not started in time");
		} else {
			ml_job_load(&run->job); /* here, on the curl thread, not on the writer */
			h->start(run);
		}
	}
}

/* A transfer is over (done, failed, or abandoned): its run hears of it. */
static void transfer_done(struct ml_worker *w, struct http_ctx *h, struct ml_http_result *res)
{
	struct ml_job_run *run = h->run;
	if (h->wait) {
		wait_done(w, h->wait, res->code, res->status, res->body);
		transfer_free(w, h);
		return;
	}
	run->inflight_http--;
	if (!run->finished) {
		const struct ml_job_handler *hd = handler_for(w, run->job.kind);
		hd->on_http(run, res);
		if (!run->finished && run->inflight_http == 0)
			/* A handler that neither asks again nor ends would hang: retry. */
			ml_job_run_retry(run, 0, "handler stopped without an outcome");
	}
	transfer_free(w, h);
	if (run->committed && run->inflight_http == 0) {
		w->inflight--;
		run_free(run);
	}
}

static void complete_one(struct ml_worker *w, CURL *easy, CURLcode result)
{
	struct http_ctx *h = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
	struct ml_http_result res = {result, 0, NULL, 0, NULL, NULL};
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
	res.body = h->body.data ? h->body.data : (char *)"";
	res.body_len = h->body.len;
	res.headers = h->headers.data ? h->headers.data : (char *)"";
	res.error = h->cancelling ? "the job's lease runs out: call abandoned"
				  : curl_easy_strerror(result);
	transfer_done(w, h, &res);
}

static void complete_transfers(struct ml_worker *w)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(w->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		complete_one(w, msg->easy_handle, msg->data.result);
	}
	struct ml_aside_done done[64];
	size_t n;
	while (w->aside && (n = ml_aside_take(w->aside, done, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			complete_one(w, done[i].easy, done[i].result);
}

/* A run whose lease is about to run out must not go on calling: another claim of its job
 * could run it a second time meanwhile. Its calls still out at its deadline are abandoned,
 * as a timeout (handlers retry), so the outcome commits while the lease holds, whatever
 * timeouts and how many calls in a row a handler uses. Looked at four times a second. */
static void abandon_overdue(struct ml_worker *w, int64_t now)
{
	for (struct http_ctx *h = w->transfers, *next; h; h = next) {
		next = h->next;
		struct ml_job_run *run = h->run;
		if (!run || deadline_of(w, run) > now)
			continue; /* another thread's call ends by its own timeout */
		if (h->aside) {
			/* Cut on its own thread; it comes back as a timeout (complete_transfers). */
			if (!h->cancelling)
				ml_aside_cancel(w->aside, h->easy);
			h->cancelling = true;
			continue;
		}
		/* Shut down first: removing it must send nothing more (see ml_worker_stop). */
		if (h->sock != CURL_SOCKET_BAD)
			shutdown(h->sock, SHUT_RDWR);
		struct ml_http_result res = {CURLE_OPERATION_TIMEDOUT, 0, "", 0, "",
					     "the job's lease runs out: call abandoned"};
		bool finished = run->finished; /* (a finished run may be freed below) */
		transfer_done(w, h, &res);
		/* A handler that answered with another call ends here all the same; that call
		 * is abandoned on the next turn of this loop. */
		if (!finished && !run->finished)
			ml_job_run_retry(run, 0, "the job's lease runs out");
		/* The handler may have added or ended other transfers: start over. */
		next = w->transfers;
	}
}

static int recover_fn(struct ml_tx *tx, void *arg)
{
	int *n = arg;
	*n = ml_tx_job_recover(tx);
	return *n < 0 ? *n : 0;
}

/* Stopping: nothing new starts (no claim, no run started), but the transfers in flight get
 * up to stop_grace_ms to finish, and their outcomes are written like any other: a mail the
 * server is accepting is recorded as sent, not sent again after the restart. What is still
 * in flight after the grace is cut by ml_worker_stop (see there). */
static void drain(struct ml_worker *w)
{
	int64_t until = ml_mono_ms() + w->cfg.stop_grace_ms;
	for (;;) {
		complete_transfers(w);
		write_outcomes(w);
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

static void *worker_main(void *arg)
{
	struct ml_worker *w = arg;
	int64_t next_look = 0;
	bool more_due = false;
	int64_t next_sweep = 0;
	int refill = w->cfg.max_inflight / 8 > 0 ? w->cfg.max_inflight / 8 : 1;
	pthread_setname_np(pthread_self(), "ml-worker");
	ml_thread_prioritize(WORKER_NICE, "worker: the event loop thread");
	int recovered = 0;

	if (ml_store_write(w->cfg.store, recover_fn, &recovered) == 0 && recovered > 0)
		ml_info("worker: %d job(s) left running by an earlier process are queued again",
			recovered);
	/* Only now (a job handed over before the recovery would have been queued again and
	 * claimed a second time): jobs come straight from the transactions that enqueue them. */
	if (ml_store_set_job_taker(w->cfg.store, &w->taker) < 0)
		ml_warn("worker: jobs will only be claimed (%s)", ml_error_message());
	else
		atomic_store(&w->taking, true);
	while (!atomic_load(&w->stop)) {
		int64_t now = ml_mono_ms();
		bool full = false;
		/* What the last turn of the loop finished goes to the store first: an outcome then
		 * waits for nothing else on this thread (starting the runs below took up to a
		 * millisecond at 1,500 links/s). */
		complete_transfers(w);
		start_waits(w);
		write_outcomes(w);
		if (take_back(w, &full) >= 0) {
			/* A full claim means more is due: claim again as soon as there is room for a
			 * batch worth a store cycle. Otherwise look again after a pause (a new job
			 * notifies at once). */
			more_due = full;
			next_look = now + w->cfg.idle_poll_ms;
		}
		start_ready(w);
		if (now >= next_sweep) {
			abandon_overdue(w, now);
			next_sweep = now + 250;
		}
		start_ready(w);
		atomic_store(&w->held_pub, w->active + w->nready + w->npreparing);
		now = ml_mono_ms();
		int room = claim_room(w, now);
		bool look = !w->claim_outstanding && room > 0 &&
			    ((more_due && room >= refill) || now >= next_look ||
			     atomic_exchange(&w->notified, false));
		write_outcomes(w); /* runs that ended without a call, or abandoned */
		if (look)
			ask_claim(w, room);
		int64_t wait = next_look - ml_mono_ms();
		if (wait > w->cfg.idle_poll_ms)
			wait = w->cfg.idle_poll_ms;
		if (wait < 1)
			wait = 1;
		/* Runs that ended without a call (start_ready) are handed over at once. */
		ml_curl_loop_run(w->loop, w->done_head ? 0 : (int)wait);
	}
	drain(w);
	close_waits(w);
	/* What finished is written; ml_worker_stop waits for it. */
	write_outcomes(w);
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
	w->taker = (struct ml_job_taker){taker_reserve, taker_deliver, taker_release, w, "",
					 w->cfg.lease_ms};
	snprintf(w->taker.worker, sizeof w->taker.worker, "%s", w->name);
	w->multi = curl_multi_init();
	w->loop = ml_curl_loop_new(w->multi);
	if (w->loop) {
		ml_curl_loop_on_socket(w->loop, note_socket, w);
		w->aside = ml_aside_start(wake_loop, w->loop);
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
	if (pthread_create(&w->committer, NULL, committer_main, w) != 0) {
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
	append(&claimed, w->b_handed); /* handed over, never prepared: the same */
	w->b_handed = NULL;
	/* Claimed but never started: abandoned as a crash would leave them (recovered at the
	 * next start, or when their lease expires). */
	while (claimed) {
		struct ml_job_run *next = claimed->next;
		run_free(claimed);
		claimed = next;
	}
	take_back(w, &full);
	while (w->ready_head) {
		struct ml_job_run *next = w->ready_head->next;
		run_free(w->ready_head);
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
	ml_aside_stop(w->aside); /* cuts its own the same way (aside.h) */
	w->aside = NULL;
	for (struct http_ctx *h = w->transfers; h; h = h->next)
		if (!h->aside && h->sock != CURL_SOCKET_BAD)
			shutdown(h->sock, SHUT_RDWR);
	while (w->transfers) {
		struct ml_job_run *run = w->transfers->run;
		transfer_free(w, w->transfers);
		if (--run->inflight_http == 0 && (!run->finished || run->committed))
			run_free(run);
	}
	curl_multi_cleanup(w->multi); /* may still tell the loop to forget sockets */
	ml_curl_loop_free(w->loop);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->o_cv);
	pthread_mutex_destroy(&w->x_mu);
	pthread_cond_destroy(&w->x_cv);
	free(w);
}
