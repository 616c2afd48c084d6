/* Shared by the worker's files (src/queue/). Internal: callers use worker.h.
 *
 * worker.c     the event loop thread: start, the loop, the ready queue, starting runs
 * claim.c      claims and their leases, the committer thread, jobs handed over by the store
 * transfer.c   calls on the curl multi loop: tracking, completion, lease deadlines
 * http_wait.c  calls other threads wait on (ml_worker_http_wait)
 * outcome.c    a run's end (finish, retry) and its outcome written to the store
 * lease.c      the leases held: renewed by a heartbeat until each outcome is written
 * stop.c       stopping: the drain, then what is abandoned as a crash would leave it
 */
#ifndef ML_QUEUE_WORKER_INTERNAL_H
#define ML_QUEUE_WORKER_INTERNAL_H

#include "queue/worker.h"
#include "queue/curl_loop.h"
#include "queue/aside.h"
#include "core/ids.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdatomic.h>

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
	bool claim_outstanding; /* a claim was asked for and has not come back */
	/* the committer (committer_main) and what it shares with the curl thread, under mu */
	pthread_t committer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int c_want; /* jobs to claim (0: none) */
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
	int npreparing;      /* curl thread: sent to the committer to prepare */
	atomic_int handed;   /* reserved by the store, not yet back on the curl thread */
	atomic_bool taking;  /* the store hands jobs over: notifications are not needed */
	atomic_int held_pub; /* active + nready + npreparing, as the curl thread last saw */
	/* Outcomes go straight to the store's writer (ml_store_write_async), not through the
	 * committer: one write queued at a time, which takes every outcome pending when it runs
	 * (under mu). */
	struct ml_job_run *o_pending; /* finished, for the queued write to take */
	bool o_queued;                /* a write is queued and has not taken them yet */
	int o_writes;                 /* writes not yet done (ml_worker_stop waits for 0) */
	/* Outcomes whose write failed (the store busy or out of reach): written again from
	 * o_retry_at (mono ms) while the heartbeat keeps their leases, rather than left to
	 * their leases' end and run a second time. */
	struct ml_job_run *o_retry;
	int64_t o_retry_at;
	pthread_cond_t o_cv;          /* o_writes went down */
	/* Calls other threads wait on (ml_worker_http_wait), under x_mu: submitted (x_new),
	 * then in flight among the transfers (http_ctx.wait) until done. */
	pthread_mutex_t x_mu;
	pthread_cond_t x_cv; /* a call is done; a waiter left */
	struct http_wait *x_new;
	bool x_closed; /* the loop has ended: no more calls */
	int x_waiters; /* threads in ml_worker_http_wait (ml_worker_stop waits) */
	/* Leases (lease.c): every run claimed or handed over, from then until it is freed
	 * (its outcome durable), under mu; the heartbeat thread renews them. */
	struct ml_job_run *held;
	pthread_t lease_thread;
	bool lease_started, l_stop;
	pthread_cond_t l_cv;     /* (CLOCK_MONOTONIC) l_stop was set */
	atomic_bool lease_news; /* a lease was lost: look at the transfers now */
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
	struct ml_job_run *run; /* a job's call, or */
	struct http_wait *wait; /* another thread's (run NULL) */
	CURL *easy;
	struct ml_buf body, headers;
	curl_socket_t sock;           /* the connection's socket while curl watches it */
	bool aside;                   /* on the aside loop (aside.h), not on w->multi */
	bool cancelling;              /* aside: asked to be cut */
	struct http_ctx *prev, *next; /* every transfer in flight, for shutdown */
};

/* The curl thread and the committer run at a higher priority than request threads: during
 * a burst of API requests (the bench's 256 confirms at once) they got a small share of the
 * CPU, answers waited in socket buffers, calls seemed to take 230-310 ms instead of 155, and
 * links/s fell to 60% of what 512 calls in flight allow (the provider's side, the sandbox,
 * was starved likewise: bench/README.md). */
#define ML_WORKER_NICE (-10)

static inline void ml_wk_append(struct ml_job_run **head, struct ml_job_run *list)
{
	while (list) {
		struct ml_job_run *next = list->next;
		list->next = *head;
		*head = list;
		list = next;
	}
}

/* When a run's calls must have ended: a quarter of its first lease early (the lease began at
 * the claim; the heartbeat renews it for the outcome's sake, lease.c, not to let calls go on
 * for ever); at once when the lease was lost. */
static inline int64_t ml_wk_deadline_of(const struct ml_worker *w, struct ml_job_run *run)
{
	if (atomic_load(&run->lease_lost))
		return 0;
	return run->leased_at + w->cfg.lease_ms * 3 / 4;
}

/* worker.c */
const struct ml_job_handler *ml_wk_handler_for(struct ml_worker *w, const char *kind);
void ml_wk_run_free(struct ml_job_run *run);
void ml_wk_enqueue_ready(struct ml_worker *w, struct ml_job_run *run);
int ml_wk_take_back(struct ml_worker *w, bool *full);

/* claim.c */
void *ml_wk_committer_main(void *arg);
bool ml_wk_taker_reserve(void *arg, const char *kind);
void ml_wk_taker_release(void *arg);
void ml_wk_taker_deliver(void *arg, struct ml_job *job);
bool ml_wk_prepare_handed(struct ml_worker *w, struct ml_job_run *run);
int ml_wk_claim_room(const struct ml_worker *w, int64_t now);
void ml_wk_ask_claim(struct ml_worker *w, int want);

/* transfer.c */
struct http_ctx *ml_wk_transfer_track(struct ml_worker *w, CURL *easy);
void ml_wk_transfer_free(struct ml_worker *w, struct http_ctx *h);
void ml_wk_note_socket(CURL *easy, curl_socket_t s, void *arg);
void ml_wk_wake_loop(void *loop);
void ml_wk_complete_transfers(struct ml_worker *w);
void ml_wk_abandon_overdue(struct ml_worker *w, int64_t now);

/* http_wait.c */
void ml_wk_wait_done(struct ml_worker *w, struct http_wait *x, CURLcode code, long status,
                     const char *body);
void ml_wk_start_waits(struct ml_worker *w);
void ml_wk_close_waits(struct ml_worker *w);

/* outcome.c */
void ml_wk_write_outcomes(struct ml_worker *w);

/* lease.c */
void ml_wk_held_add(struct ml_worker *w, struct ml_job_run *run, int64_t since);
void ml_wk_held_remove(struct ml_worker *w, struct ml_job_run *run);
int ml_wk_lease_start(struct ml_worker *w);
void ml_wk_lease_stop(struct ml_worker *w);

/* stop.c */
void ml_wk_drain(struct ml_worker *w);

#endif
