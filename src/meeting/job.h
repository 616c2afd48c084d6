/* What the meeting jobs' two halves share: the run's state (struct mjob), filled by
 * meeting_job.c (prepare, start, the driver's steps) and written by outcome.c (the commit
 * callback that records what the run ended in). Internal to src/meeting/. */
#ifndef ML_MEETING_JOB_H
#define ML_MEETING_JOB_H

#include "conn/connections.h"
#include "conn/oauth.h"
#include "providers/provider.h"
#include "queue/worker.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

/* What the commit callback will write. */
enum commit_kind {
	C_NONE,          /* only the job's outcome and the driver's state */
	C_READY,         /* create/open: the meeting is ready (or its external id noted) */
	C_UPDATED,       /* update: done in place */
	C_PROVIDER_GONE, /* update: the provider deleted/cancelled the meeting: report it */
	C_DELETED,       /* delete: gone at the provider */
	C_FAILED,        /* the meeting cannot be made: fallback or error */
	C_REAUTH,        /* the host must reconnect: error with reconnect_required, job waits */
	C_REFRESHED,     /* new tokens to persist; the job runs again at once */
	C_REFRESH_FAILED,
	C_RECONCILED, /* duplicates an ambiguous create left were removed */
	C_ENDED,      /* end: the meeting is over at the provider (or there was none) */
};

struct mjob {
	enum ml_mop op;
	const struct ml_provider_ops *ops;
	json_t *payload; /* the job's payload (owned copy), with "state" */
	json_t *state;   /* borrowed from payload: the driver's state */
	json_t *booking, *service, *host;
	json_t *meeting;  /* borrowed from booking: the meeting object this job is about */
	const char *skip; /* nothing to do, and why */
	bool needs_creds;
	enum ml_conn_state cstate;
	struct ml_conn_token tok;
	int64_t busy_ms;
	struct ml_meeting_req req;
	struct ml_pcreds cr;
	/* in flight */
	bool refreshing;
	bool holds_slot;
	double qps; /* the connection's rate (calls per second) this job is held to, 0: none */
	struct curl_slist *headers;
	struct ml_pstep step;
	/* outcome */
	enum commit_kind ck;
	struct ml_perr err;
	bool final;   /* the failure ends the meeting (no more attempts) */
	bool cleanup; /* queue a delete of whatever an ambiguous attempt may have made */
	struct ml_oauth_tokens fresh;
	bool reauth;
	bool mark_reauth; /* the provider refused a token we held valid: flag the connection */
	char why[300];
};

/* The meeting object `id`: the booking's current one or one in its history (borrowed), and
 * whether it is the current one. */
json_t *ml_mjob_meeting_by_id(json_t *booking, const char *id, bool *current);

/* The end for all settles (end.c): booking.ended records what the platform did (`over`: the
 * provider ended it, or had nothing to end; else it could not, `message` says why) and the
 * meeting.ended event is appended to `events`. */
void ml_end_settle(json_t *booking, const char *label, bool over, const char *message,
                   json_t *events);

/* The commit callback of every meeting job's outcome (arg: the struct ml_job_run; its state
 * is a struct mjob with ck set). Contract and outcomes: outcome.c. */
int ml_mjob_commit(struct ml_tx *tx, void *arg);

#endif
