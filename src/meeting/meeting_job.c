/* The meeting jobs: meeting.create, meeting.update, meeting.delete, meeting.open,
 * meeting.reconcile, meeting.end.
 *
 * One shape for all. In the claim's transaction (prepare): load the booking, find the
 * meeting the job is about (the current one, or one already moved to history), decide
 * whether there is still anything to do, count the attempt in the driver's state, and take
 * the connection's token (conn/connections.h). On the worker (start, on_http): refresh the
 * token when asked, respect the connection's limits, then drive the platform's sans-IO driver
 * one request at a time on the worker's curl multi. At the end, one commit callback writes
 * the meeting's new state, its audit entries and its notifications together with the job's
 * outcome and the driver's state: a meeting is ready exactly when its job is done.
 */
#include "conn/connections.h"
#include "core/config.h"
#include "core/error.h"
#include "core/utf8.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "domain/retry.h"
#include "http/outhdr.h"
#include "providers/provider.h"
#include "meeting/job.h"
#include "queue/limiter.h"
#include "meeting/meeting.h"
#include "meeting/pcall.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static enum ml_mop op_of(const char *kind)
{
	if (strcmp(kind, "meeting.update") == 0)
		return ML_MOP_UPDATE;
	if (strcmp(kind, "meeting.delete") == 0)
		return ML_MOP_DELETE;
	if (strcmp(kind, "meeting.open") == 0)
		return ML_MOP_OPEN;
	if (strcmp(kind, "meeting.reconcile") == 0)
		return ML_MOP_RECONCILE;
	if (strcmp(kind, "meeting.end") == 0)
		return ML_MOP_END;
	return ML_MOP_CREATE;
}

static struct ml_pipeline *pipe_of(struct ml_job_run *run)
{
	return run->env->pipeline;
}

json_t *ml_mjob_meeting_by_id(json_t *booking, const char *id, bool *current)
{
	json_t *m = json_object_get(booking, "meeting");
	*current = true;
	if (!id || !m)
		return NULL;
	if (str(m, "id") && strcmp(str(m, "id"), id) == 0)
		return m;
	*current = false;
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(m, "history"), i, h)
	{
		if (str(h, "id") && strcmp(str(h, "id"), id) == 0)
			return h;
	}
	return NULL;
}

/* The booking, service and host a job loads in its prepare are only read (here, by the driver
 * and by the notifications): they are peeked, shared with the store's cache, never copied. */
static int load_doc(struct ml_tx *tx, enum ml_kind kind, const char *org, const char *id,
                    json_t **out)
{
	*out = NULL;
	if (!id)
		return ML_ENOTFOUND;
	/* The booking stays cached for the outcome, which reads it again (as it is then) to
	 * change it. */
	return ml_tx_doc_peek(tx, kind, org, id, out);
}

/* --- prepare: in the claim's transaction, or on a read snapshot (a job handed over) --- */

/* The driver's state in the job's payload (made when missing), its attempt counted. */
static json_t *count_attempt(json_t *payload)
{
	json_t *state = json_object_get(payload, "state");
	if (!json_is_object(state)) {
		state = json_object();
		json_object_set_new(payload, "state", state);
	}
	json_object_set_new(
	    state, "attempt",
	    json_integer(json_integer_value(json_object_get(state, "attempt")) + 1));
	/* When this attempt began (shown in the job list; the bench measures from it). */
	json_object_set_new(state, "claimed_at_ms", json_integer(ml_now_ms()));
	return state;
}

/* A lazy room is opened for a booking still to be met: confirmed, or also in progress (a
 * room that completed on its own is opened again at the next arrival: room_ended.c); never
 * once the meeting was ended for everyone. */
static bool to_open(json_t *booking)
{
	const char *s = str(booking, "status");
	return s && (strcmp(s, "confirmed") == 0 || strcmp(s, "in_progress") == 0) &&
	       !json_object_get(booking, "ended");
}

static int mj_prepare(struct ml_tx *tx, struct ml_job_run *run)
{
	const struct ml_env *env = run->env;
	struct mjob *mj = ml_calloc(1, sizeof *mj);
	const char *org = run->job.org_id;
	bool current;
	int rc;

	run->state = mj;
	mj->op = op_of(run->job.kind);
	mj->payload = json_deep_copy(run->job.payload);
	mj->ops = ml_provider_find(str(mj->payload, "platform"));
	if (!ml_pipeline_remote(str(mj->payload, "platform"))) {
		mj->skip = "the platform has no remote driver";
		return 0;
	}
	rc = load_doc(tx, ML_KIND_BOOKING, org, str(mj->payload, "booking_id"), &mj->booking);
	if (rc == ML_ENOTFOUND) {
		mj->skip = "the booking is gone";
		return 0;
	}
	if (rc < 0)
		return rc;
	mj->meeting = ml_mjob_meeting_by_id(mj->booking, str(mj->payload, "meeting_id"), &current);
	const char *ms = str(mj->meeting, "status");
	if (!mj->meeting || !ms) {
		mj->skip = "the meeting is gone";
		return 0;
	}
	switch (mj->op) {
	case ML_MOP_CREATE:
		/* Superseded (cancelled, regenerated, replaced by hand) before it was made: the
		 * delete queued by that change cleans up whatever an earlier attempt made. */
		/* (An error meeting is resumed: a job woken by a reconnect, or retried.) */
		if (!current || !ml_meeting_next(ms, ML_MEV_MADE))
			mj->skip = "the meeting no longer waits to be created";
		break;
	case ML_MOP_UPDATE:
		if (!current || !ml_meeting_next(ms, ML_MEV_UPDATED))
			mj->skip = "the meeting is not ready (nothing to update)";
		break;
	case ML_MOP_OPEN:
		if (!current || !ml_meeting_next(ms, ML_MEV_OPENED) || !to_open(mj->booking))
			mj->skip = "the meeting is not to be opened";
		break;
	case ML_MOP_END:
		/* Only a meeting the provider made (a create that failed made none) can be
		 * ended there; the outcome says so either way. */
		if (!current || !ml_meeting_is_ready(mj->meeting))
			mj->skip = "no meeting at the provider to end";
		break;
	case ML_MOP_DELETE:
	case ML_MOP_RECONCILE:
		break;
	}
	if (mj->skip)
		return 0;

	rc = load_doc(tx, ML_KIND_SERVICE, org, str(mj->booking, "service_id"), &mj->service);
	if (rc == ML_ENOTFOUND)
		mj->service = json_pack("{s:b, s:n, s:{}}", "is_online", 0, "platform", "settings");
	else if (rc < 0)
		return rc;
	const char *host_id = str(mj->payload, "host_id");
	if (!host_id)
		host_id = str(mj->booking, "host_id");
	rc = load_doc(tx, ML_KIND_HOST, org, host_id, &mj->host);
	if (rc == ML_ENOTFOUND) {
		json_t *o = json_object_get(mj->booking, "organizer");
		mj->host = o ? json_deep_copy(o) : json_pack("{s:s, s:s}", "name", "", "email", "");
	} else if (rc < 0) {
		return rc;
	}

	/* The attempt counter is durable before any call of this attempt goes out (provider.h):
	 * a driver seeing attempt > 1 knows an earlier one may have reached the provider. */
	mj->state = count_attempt(mj->payload);
	/* Only a driver without idempotency keys needs the count durable before it calls;
	 * for the others it is written with the outcome (one write less per job). */
	if (mj->ops->remote && mj->ops->remote->reconcile) {
		if (!ml_tx_writable(tx))
			return ML_JOB_NEEDS_WRITE; /* (a job handed over: prepared again, writing) */
		if ((rc = ml_tx_job_set_payload(tx, run->job.id, mj->payload)) < 0)
			return rc;
	}

	mj->needs_creds = (mj->ops->caps & (ML_CAP_OAUTH | ML_CAP_ORG_CREDS)) != 0;
	mj->cstate = ML_CONN_VALID;
	if (mj->needs_creds) {
		rc = ml_conn_acquire(tx, env->vault, org, host_id, mj->ops->name, ml_now_ms(),
		                     60000, &mj->tok, &mj->cstate, &mj->busy_ms);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return ML_JOB_NEEDS_WRITE; /* the refresh lease, in a write transaction */
	}
	return 0;
}

/* The request for the driver, from the documents loaded by prepare (all borrowed). */
static void fill_req(struct ml_job_run *run, struct mjob *mj)
{
	const struct ml_env *env = run->env;
	ml_meeting_req_fill(&mj->req, run->job.org_id, mj->booking, mj->service, mj->host);
	/* The meeting the job is about may be an archived one: its own ids and generation. */
	json_t *m = mj->meeting;
	const char *platform_now = str(m, "platform");
	bool same = platform_now && strcmp(platform_now, mj->ops->name) == 0;
	mj->req.external_id = same ? str(m, "external_id") : NULL;
	mj->req.join_url = same ? str(m, "join_url") : NULL;
	mj->req.generation = (unsigned)json_integer_value(json_object_get(m, "generation"));
	mj->req.meeting_id = str(m, "id");
	if (mj->op == ML_MOP_RECONCILE)
		mj->req.external_id = str(mj->payload, "keep");
	mj->cr.api_base = env->oauth ? ml_oauth_api_base(env->oauth, mj->ops->name) : NULL;
	mj->cr.access_token = mj->tok.access_token;
	mj->cr.account = mj->tok.account_email;
	mj->cr.extra = mj->tok.extra;
	mj->cr.org_level = mj->tok.org_level;
}

/* --- finishing --- */

static void give_slot(struct ml_job_run *run, struct mjob *mj)
{
	if (mj && mj->holds_slot) {
		ml_limiter_give(pipe_of(run)->limiter, mj->tok.conn_id);
		mj->holds_slot = false;
	}
}

static void finish(struct ml_job_run *run, enum ml_job_outcome o, int64_t run_at_ms,
                   const char *error, enum commit_kind ck)
{
	struct mjob *mj = run->state;
	if (mj) {
		give_slot(run, mj);
		mj->ck = ck;
	}
	json_t *result = NULL;
	if (o == ML_JOB_DONE && mj && mj->skip)
		result = json_pack("{s:s}", "skipped", mj->skip);
	struct ml_job_finish f = {o, run_at_ms, o == ML_JOB_WAIT ? mj->tok.conn_id : NULL, error,
	                          result};
	ml_job_run_finish(run, &f, mj ? ml_mjob_commit : NULL, run);
	json_decref(result);
}

static int64_t retry_after_ms(const struct ml_perr *err, const char *header)
{
	int64_t ms = err->retry_after_ms;
	if (!ms && header)
		ml_retry_after_parse(header, ml_now(), &ms);
	return ms;
}

/* A failed step: classify what the pipeline does with it. */
static void on_fail(struct ml_job_run *run, struct mjob *mj, const char *retry_after)
{
	struct ml_perr *e = &mj->err;
	if (!e->code[0])
		snprintf(e->code, sizeof e->code, "provider_error");
	char why[400];
	snprintf(why, sizeof why, "%s: %s", e->code, e->message);

	if (e->kind == ML_PERR_GONE && mj->op == ML_MOP_DELETE) {
		finish(run, ML_JOB_DONE, 0, NULL, C_DELETED);
		return;
	}
	if (e->kind == ML_PERR_GONE && mj->op == ML_MOP_END) {
		finish(run, ML_JOB_DONE, 0, NULL, C_ENDED); /* nothing left to end */
		return;
	}
	if (e->kind == ML_PERR_GONE && mj->op == ML_MOP_UPDATE) {
		finish(run, ML_JOB_DONE, 0, NULL, C_PROVIDER_GONE);
		return;
	}
	if (e->kind == ML_PERR_REAUTH && mj->needs_creds && mj->tok.conn_id[0]) {
		ml_utf8_copy(mj->why, sizeof mj->why, e->message);
		mj->mark_reauth = true;
		finish(run, ML_JOB_WAIT, 0, why, C_REAUTH);
		return;
	}
	if (e->kind == ML_PERR_RETRY) {
		int64_t delay = ml_job_run_backoff_ms(run, retry_after_ms(e, retry_after));
		mj->final = run->job.attempts >= run->job.max_attempts;
		if (mj->final) {
			mj->cleanup = true;
			snprintf(e->message + strlen(e->message),
			         sizeof e->message - strlen(e->message),
			         " (gave up after %d attempts)", run->job.attempts);
			ml_utf8_clip(e->message); /* the note may have cut the provider's text */
		}
		finish(run, ML_JOB_RETRY, ml_now_ms() + delay, why, mj->final ? C_FAILED : C_NONE);
		return;
	}
	/* PERMANENT, or REAUTH/GONE where they cannot apply. */
	mj->final = true;
	finish(run, ML_JOB_FAIL, 0, why, C_FAILED);
}

/* --- driving the driver --- */

static void step(struct ml_job_run *run, struct mjob *mj, const struct ml_presp *resp);

static void step(struct ml_job_run *run, struct mjob *mj, const struct ml_presp *resp)
{
	const struct ml_env *env = run->env;
	struct ml_provider_ctx cx = {&env->platforms, ml_now()};
	ml_pstep_clear(&mj->step);
	memset(&mj->err, 0, sizeof mj->err);
	int rc = mj->ops->remote_step(&cx, mj->op, &mj->req, &mj->cr, mj->state, resp, &mj->step,
	                              &mj->err);
	if (rc < 0 || mj->step.kind == ML_PSTEP_FAIL) {
		if (mj->err.kind == ML_PERR_NONE)
			ml_perr_set(&mj->err, ML_PERR_RETRY, 0, "driver_error",
			            "The driver stopped without an answer.");
		on_fail(run, mj, resp ? resp->retry_after : NULL);
		return;
	}
	switch (mj->step.kind) {
	case ML_PSTEP_HTTP: {
		/* Every call after the first of the run spends from the same bucket the start
		 * took from (the configured rate, MEETLINK_ZOOM_QPS, not the driver's default). */
		if (resp && mj->qps > 0)
			ml_limiter_spend(pipe_of(run)->limiter, mj->tok.conn_id, mj->qps,
			                 ml_mono_ms());
		CURL *e = ml_pcall_easy(&mj->step.http, pipe_of(run)->timeout_ms, &mj->headers);
		if (!e) {
			ml_perr_set(&mj->err, ML_PERR_PERMANENT, 0, "invalid_header",
			            "A request header held a control character; the call was not made.");
			on_fail(run, mj, NULL);
			return;
		}
		ml_job_run_http(run, e);
		return;
	}
	case ML_PSTEP_POLL:
		finish(run, ML_JOB_DEFER, ml_now_ms() + mj->step.poll_after_ms,
		       "waiting for the provider", C_NONE);
		return;
	case ML_PSTEP_DONE:
		switch (mj->op) {
		case ML_MOP_CREATE:
		case ML_MOP_OPEN:
			finish(run, ML_JOB_DONE, 0, NULL, C_READY);
			return;
		case ML_MOP_UPDATE:
			finish(run, ML_JOB_DONE, 0, NULL,
			       mj->step.provider_cancelled ? C_PROVIDER_GONE : C_UPDATED);
			return;
		case ML_MOP_DELETE:
			finish(run, ML_JOB_DONE, 0, NULL, C_DELETED);
			return;
		case ML_MOP_RECONCILE:
			finish(run, ML_JOB_DONE, 0, NULL, C_RECONCILED);
			return;
		case ML_MOP_END:
			finish(run, ML_JOB_DONE, 0, NULL, C_ENDED);
			return;
		}
		break;
	default:
		break;
	}
	ml_perr_set(&mj->err, ML_PERR_RETRY, 0, "driver_error", "The driver answered nonsense.");
	on_fail(run, mj, NULL);
}

/* --- the handler --- */

static void mj_start(struct ml_job_run *run)
{
	struct mjob *mj = run->state;
	const struct ml_env *env = run->env;
	char why[300];

	if (run->prepare_rc < 0 || !mj) {
		ml_job_run_retry(run, 0, "could not load the job's booking");
		return;
	}
	if (mj->skip) {
		/* An end with nothing to end still settles the booking's end. */
		finish(run, ML_JOB_DONE, 0, NULL, mj->op == ML_MOP_END ? C_ENDED : C_NONE);
		return;
	}
	switch (mj->cstate) {
	case ML_CONN_VALID:
		break;
	case ML_CONN_BUSY:
		finish(run, ML_JOB_DEFER, ml_now_ms() + (mj->busy_ms > 0 ? mj->busy_ms : 500),
		       "the connection is being refreshed", C_NONE);
		return;
	case ML_CONN_REFRESH: {
		CURL *e = ml_oauth_refresh_easy(env->oauth, &mj->tok);
		if (!e) {
			ml_job_run_retry(run, 0, "could not build the token refresh");
			return;
		}
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, pipe_of(run)->timeout_ms);
		mj->refreshing = true;
		ml_job_run_http(run, e);
		return;
	}
	case ML_CONN_REAUTH:
		ml_perr_set(&mj->err, ML_PERR_REAUTH, 0, "reconnect_required",
		            "The host must reconnect their %s account.", mj->ops->label);
		snprintf(mj->why, sizeof mj->why, "%s", mj->err.message);
		snprintf(why, sizeof why, "reconnect_required: %s", mj->err.message);
		/* Not the job's fault: it waits for the reconnect, its attempts untouched. */
		mj->ck = C_REAUTH;
		{
			struct ml_job_finish f = {ML_JOB_WAIT, 0, mj->tok.conn_id, why, NULL};
			ml_job_run_finish(run, &f, ml_mjob_commit, run);
		}
		return;
	case ML_CONN_MISSING:
		if (mj->op == ML_MOP_DELETE) {
			/* Nothing can be deleted without the credential that made it. */
			snprintf(mj->why, sizeof mj->why, "no connection");
			finish(run, ML_JOB_FAIL, 0,
			       "connection_required: the host has no connection", C_FAILED);
			return;
		}
		ml_perr_set(&mj->err, ML_PERR_PERMANENT, 0, "connection_required",
		            "The host has not connected a %s account.", mj->ops->label);
		mj->final = true;
		finish(run, ML_JOB_FAIL, 0, "connection_required: the host has no connection",
		       C_FAILED);
		return;
	}
	const struct ml_remote_info *ri = mj->ops->remote;
	struct ml_pipeline *p = pipe_of(run);
	int max = ri ? ri->max_inflight_per_conn : 0;
	double qps = ri ? ri->qps_per_conn : 0;
	for (int i = 0; i < p->nlimits; i++)
		if (p->limits[i].ops == mj->ops) {
			if (p->limits[i].max_inflight > 0)
				max = p->limits[i].max_inflight;
			if (p->limits[i].qps > 0)
				qps = p->limits[i].qps;
		}
	if (max <= 0)
		max = p->conn_max_inflight;
	/* An instant meeting's create goes first (issue 18 §4): the connection's next free
	 * slot is kept for it while it waits. */
	bool first = json_is_true(json_object_get(mj->payload, "first"));
	int64_t now = ml_mono_ms();
	int64_t wait = first ? ml_limiter_take_first(p->limiter, mj->tok.conn_id, max, qps, now,
	                                             p->defer_ms + 1000)
	                     : ml_limiter_take(p->limiter, mj->tok.conn_id, max, qps, now);
	if (wait != 0) {
		/* The connection is at its limit: this job waits its turn without an attempt. */
		uint32_t jitter = (uint32_t)rand() % 50;
		int64_t delay = wait > 0 ? wait : p->defer_ms;
		finish(run, ML_JOB_DEFER, ml_now_ms() + delay + jitter, "waiting for a free slot",
		       C_NONE);
		return;
	}
	mj->holds_slot = max > 0 || qps > 0;
	mj->qps = qps;
	fill_req(run, mj);
	step(run, mj, NULL);
}

static void on_refresh(struct ml_job_run *run, struct mjob *mj, const struct ml_http_result *res)
{
	mj->refreshing = false;
	int rc = res->code == CURLE_OK ? ml_oauth_parse_tokens(res->status, res->body, &mj->fresh)
	                               : ML_EUNAVAIL;
	if (rc == 0) {
		/* Persisted before use; the next run finds the token valid. */
		finish(run, ML_JOB_DEFER, ml_now_ms(), NULL, C_REFRESHED);
		return;
	}
	mj->reauth = rc == ML_EAUTH;
	snprintf(mj->why, sizeof mj->why, "%s",
	         mj->reauth ? "The provider refused the refresh token (invalid_grant)."
	                    : "The token refresh failed for now.");
	if (mj->reauth) {
		ml_perr_set(&mj->err, ML_PERR_REAUTH, (int)res->status, "reconnect_required",
		            "The host must reconnect their %s account.", mj->ops->label);
		finish(run, ML_JOB_WAIT, 0, "reconnect_required: the refresh token was refused",
		       C_REFRESH_FAILED);
		return;
	}
	int64_t delay = ml_job_run_backoff_ms(run, 0);
	finish(run, ML_JOB_RETRY, ml_now_ms() + delay, "token refresh failed", C_REFRESH_FAILED);
}

static void mj_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	struct mjob *mj = run->state;
	if (mj->refreshing) {
		on_refresh(run, mj, res);
		return;
	}
	char *ra = ml_http_result_header(res, "Retry-After");
	struct ml_presp r = {ml_pcall_transport(res->code), res->status, res->body,
	                     res->body_len,           ra,          ml_now()};
	step(run, mj, &r);
	free(ra);
}

static void mj_release(struct ml_job_run *run)
{
	struct mjob *mj = run->state;
	if (!mj)
		return;
	give_slot(run, mj);
	curl_slist_free_all(mj->headers);
	ml_pstep_clear(&mj->step);
	ml_conn_token_clear(&mj->tok);
	ml_oauth_tokens_clear(&mj->fresh);
	json_decref(mj->payload);
	json_decref(mj->booking);
	json_decref(mj->service);
	json_decref(mj->host);
	free(mj);
	run->state = NULL;
}

#define HANDLER(sym, kind_name)                                                                    \
	const struct ml_job_handler sym = {                                                        \
	    .kind = kind_name,                                                                     \
	    .start = mj_start,                                                                     \
	    .on_http = mj_on_http,                                                                 \
	    .release = mj_release,                                                                 \
	    .prepare = mj_prepare,                                                                 \
	}

HANDLER(ml_job_meeting_create, "meeting.create");
HANDLER(ml_job_meeting_update, "meeting.update");
HANDLER(ml_job_meeting_delete, "meeting.delete");
HANDLER(ml_job_meeting_open, "meeting.open");
HANDLER(ml_job_meeting_reconcile, "meeting.reconcile");
HANDLER(ml_job_meeting_end, "meeting.end");

/* --- settings --- */

static int env_num(const char *name, double def, double lo, double hi, double *out)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		*out = def;
		return 0;
	}
	char *end;
	double d = strtod(v, &end);
	if (*end || d < lo || d > hi)
		return ml_error_set(ML_EINVAL, "invalid_config", name,
		                    "%s must be a number from %g to %g", name, lo, hi);
	*out = d;
	return 0;
}

/* The per-platform limits a driver lets the configuration override (its remote info's
 * max_inflight_setting, qps_setting), read once. */
static int limits_load(struct ml_pipeline *p)
{
	for (const struct ml_provider_ops *const *o = ml_provider_all(); *o; o++) {
		const struct ml_remote_info *ri = (*o)->abi >= 2 ? (*o)->remote : NULL;
		double m = 0, q = 0;
		int rc;
		if (!ri || (*o)->abi < 3 || (!ri->max_inflight_setting && !ri->qps_setting))
			continue;
		if (p->nlimits == ML_PIPELINE_LIMITS_MAX)
			break;
		if ((ri->max_inflight_setting &&
		     (rc = env_num(ri->max_inflight_setting, ri->max_inflight_per_conn, 0, 10000,
		                   &m)) < 0) ||
		    (ri->qps_setting &&
		     (rc = env_num(ri->qps_setting, ri->qps_per_conn, 0, 10000, &q)) < 0))
			return rc;
		p->limits[p->nlimits++] = (struct ml_pipeline_limit){*o, (int)m, q};
	}
	return 0;
}

int ml_pipeline_new(struct ml_pipeline **out)
{
	struct ml_pipeline *p = ml_calloc(1, sizeof *p);
	double t = 0, a = 0, cm = 0;
	int rc;
	if ((rc = env_num("MEETLINK_PROVIDER_TIMEOUT_MS", 30000, 100, 600000, &t)) < 0 ||
	    (rc = env_num("MEETLINK_MEETING_MAX_ATTEMPTS", 8, 1, 100, &a)) < 0 ||
	    (rc = env_num("MEETLINK_CONN_MAX_INFLIGHT", 0, 0, 100000, &cm)) < 0 ||
	    (rc = limits_load(p)) < 0) {
		free(p);
		return rc;
	}
	p->timeout_ms = (long)t;
	p->max_attempts = (int)a;
	p->conn_max_inflight = (int)cm;
	p->defer_ms = 250;
	double rd = 0;
	if ((rc = env_num("MEETLINK_RECONCILE_DELAY_MS", 2 * t + 1000, 0, 86400000, &rd)) < 0) {
		free(p);
		return rc;
	}
	p->reconcile_delay_ms = (int64_t)rd;
	p->limiter = ml_limiter_new();
	*out = p;
	return 0;
}

void ml_pipeline_free(struct ml_pipeline *p)
{
	if (!p)
		return;
	ml_limiter_free(p->limiter);
	free(p);
}
