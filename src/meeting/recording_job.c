/* The recording jobs: recording.dispatch, .leave, .sync, .retranscribe, .delete.
 *
 * One shape for all, as the meeting jobs: prepare (in the claim's transaction) loads the
 * recording and what the operation needs (dispatch: the booking's meeting, which must be
 * ready; the attempt counted durably before any call, so a later attempt knows an earlier
 * one may have sent the bot), and takes the organization's recorder credential; start and
 * on_http drive the recorder's sans-IO steps on the worker's curl multi; one commit writes
 * what came of it together with the job's outcome.
 *
 * Contract of the commit (rec_commit): it acts only through tx and re-reads the recording
 * as it is now.
 *   dispatch done    the bot id noted (and mapped to the recording, for its webhooks), a
 *                    reconcile (recording.sync) queued for the booking's end + margin
 *   dispatch failed  the recording failed with the recorder's reason (webhook out)
 *   sync done        ready: media, length, transcript stored (recording.ready, and
 *                    transcript.ready when a transcript came); failed: failed; not yet:
 *                    another reconcile after the margin, at most MEETLINK_RECORDING_
 *                    RECONCILE_MAX rounds, then failed (no_result)
 *   leave / retranscribe / delete done: noted on the trail (delete: deleted_at_recorder)
 */
#include "conn/connections.h"
#include "conn/oauth.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/retry.h"
#include "http/outhdr.h"
#include "meeting/meeting.h"
#include "meeting/pcall.h"
#include "meeting/recording.h"
#include "notify/outbox.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

enum rcommit { RC_NONE, RC_DONE, RC_FAILED, RC_GONE };

struct rjob {
	enum ml_rop op;
	const struct ml_provider_ops *ops;
	json_t *payload; /* owned copy, with "state" */
	json_t *state;   /* borrowed from payload */
	json_t *rec;     /* owned copy */
	json_t *booking; /* dispatch: peeked */
	const char *skip;
	int64_t defer_ms;
	enum ml_conn_state cstate;
	struct ml_conn_token tok;
	struct ml_bot_req req;
	struct ml_pcreds cr;
	char *webhook_url;
	struct curl_slist *headers;
	struct ml_pstep step;
	struct ml_perr err;
	enum rcommit ck;
};

static enum ml_rop op_of(const char *kind)
{
	static const struct {
		const char *kind;
		enum ml_rop op;
	} map[] = {{"recording.dispatch", ML_ROP_DISPATCH},
	           {"recording.leave", ML_ROP_LEAVE},
	           {"recording.sync", ML_ROP_FETCH},
	           {"recording.retranscribe", ML_ROP_RETRANSCRIBE},
	           {"recording.delete", ML_ROP_DELETE}};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].kind, kind) == 0)
			return map[i].op;
	return ML_ROP_FETCH;
}

/* --- prepare --- */

/* Dispatch: the meeting the bot joins must still be the booking's, and ready. */
static int prepare_dispatch(struct ml_tx *tx, struct ml_job_run *run, struct rjob *rj)
{
	const char *org = run->job.org_id;
	json_t *svc = NULL;
	int rc;
	if (strcmp(str(rj->rec, "state"), "scheduled") != 0 || str(rj->rec, "bot_id") ||
	    json_is_true(json_object_get(rj->rec, "leave_requested"))) {
		rj->skip = "the recording no longer waits for its bot";
		return 0;
	}
	rc = ml_tx_doc_peek(tx, ML_KIND_BOOKING, org, str(rj->rec, "booking_id"), &rj->booking);
	if (rc == ML_ENOTFOUND) {
		rj->skip = "the booking is gone";
		return 0;
	}
	if (rc < 0)
		return rc;
	json_t *m = json_object_get(rj->booking, "meeting");
	if (!ml_recording_booking_live(str(rj->booking, "status")) || !str(m, "id") ||
	    strcmp(str(m, "id"), str(rj->rec, "meeting_id")) != 0) {
		rj->skip = "the booking no longer has this meeting";
		return 0;
	}
	rc = ml_tx_doc_peek(tx, ML_KIND_SERVICE, org, str(rj->booking, "service_id"), &svc);
	bool records = rc == 0 && json_is_true(json_object_get(json_object_get(svc, "settings"),
	                                                      "recording"));
	json_decref(svc);
	ml_error_clear();
	if (!records) {
		rj->skip = "the service no longer records";
		return 0;
	}
	const char *ms = str(m, "status");
	if (ms && strcmp(ms, "pending") == 0) {
		rj->defer_ms = run->env->platforms.poll_ms > 0 ? run->env->platforms.poll_ms * 2 : 2000;
		return 0;
	}
	if (!ms || strcmp(ms, "ready") != 0 || !str(m, "join_url")) {
		ml_perr_set(&rj->err, ML_PERR_PERMANENT, 0, "meeting_unavailable",
		            "The booking's meeting is not ready (%s): no bot was sent.",
		            ms ? ms : "none");
		rj->ck = RC_FAILED;
		return 0;
	}
	/* Durable before any call of this attempt: a later one knows to look first. */
	json_t *st = rj->state;
	json_object_set_new(st, "attempt",
	                    json_integer(json_integer_value(json_object_get(st, "attempt")) + 1));
	if (!ml_tx_writable(tx))
		return ML_JOB_NEEDS_WRITE;
	/* The recording knows too: a bot may exist from now on even if no answer says so (a
	 * call that timed out after the provider acted), and the leave job must look for it
	 * then (rj_prepare), the retry of this one being skipped once the meeting is over. */
	if (!json_is_true(json_object_get(rj->rec, "dispatch_called"))) {
		json_t *rec = json_deep_copy(rj->rec);
		json_object_set_new(rec, "org_id", json_string(run->job.org_id));
		json_object_set_new(rec, "dispatch_called", json_true());
		rc = ml_rec_save(tx, rec);
		json_decref(rec);
		if (rc < 0)
			return rc;
	}
	return ml_tx_job_set_payload(tx, run->job.id, rj->payload);
}

static int rj_prepare(struct ml_tx *tx, struct ml_job_run *run)
{
	struct rjob *rj = ml_calloc(1, sizeof *rj);
	const char *org = run->job.org_id;
	int rc;
	int64_t busy = 0;

	run->state = rj;
	rj->op = op_of(run->job.kind);
	rj->payload = json_deep_copy(run->job.payload);
	rj->state = json_object_get(rj->payload, "state");
	if (!json_is_object(rj->state)) {
		rj->state = json_object();
		json_object_set_new(rj->payload, "state", rj->state);
	}
	if (!(rj->ops = ml_provider_recorder())) {
		rj->skip = "no recorder platform";
		return 0;
	}
	rc = ml_tx_recording_get(tx, org, str(rj->payload, "recording_id"), &rj->rec);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		rj->skip = "the recording is gone";
		return 0;
	}
	if (rc < 0)
		return rc;
	const char *state = str(rj->rec, "state");
	bool has_bot = str(rj->rec, "bot_id") != NULL;
	switch (rj->op) {
	case ML_ROP_DISPATCH:
		if ((rc = prepare_dispatch(tx, run, rj)) != 0)
			return rc;
		break;
	case ML_ROP_LEAVE:
		/* No bot known, yet a dispatch call was made: its answer may have been lost after
		 * the bot was made (the driver looks for it by its deduplication key). */
		if (!has_bot && !json_is_true(json_object_get(rj->rec, "dispatch_called")))
			rj->skip = "no bot was sent";
		else if (strcmp(state, "ready") == 0 || strcmp(state, "failed") == 0 ||
		         strcmp(state, "deleted") == 0 || strcmp(state, "processing") == 0)
			rj->skip = "the bot has left already";
		break;
	case ML_ROP_FETCH:
		if (!has_bot || strcmp(state, "deleted") == 0 || strcmp(state, "failed") == 0 ||
		    strcmp(state, "cancelled") == 0)
			rj->skip = "nothing to fetch";
		else if (strcmp(state, "ready") == 0 &&
		         strcmp(str(rj->payload, "fetch") ? str(rj->payload, "fetch") : "",
		                "transcript") != 0 &&
		         strcmp(str(rj->rec, "transcript_state"), "pending") != 0)
			rj->skip = "the recording is ready";
		break;
	case ML_ROP_RETRANSCRIBE:
		if (!has_bot || strcmp(state, "ready") != 0)
			rj->skip = "the recording is not ready";
		break;
	case ML_ROP_DELETE:
		if (!has_bot)
			rj->skip = "no bot was sent";
		break;
	}
	if (rj->skip || rj->defer_ms || rj->ck == RC_FAILED)
		return 0;
	rc = ml_conn_acquire(tx, run->env->vault, org, NULL, rj->ops->name, ml_now_ms(), 60000,
	                     &rj->tok, &rj->cstate, &busy);
	if (rc == 1)
		return ML_JOB_NEEDS_WRITE;
	return rc;
}

/* --- commit --- */

static int commit_dispatch(struct ml_tx *tx, struct rjob *rj, json_t *rec, const char *org)
{
	int rc;
	const char *bot = str(rj->state, "bot_id");
	char now[ML_RFC3339_MAX];
	if (rj->ck == RC_FAILED)
		return ml_rec_move(tx, rec, "failed", rj->err.code, rj->err.message, "worker", NULL);
	if (!bot || str(rec, "bot_id"))
		return 0;
	ml_time_format(ml_now(), now);
	json_object_set_new(rec, "bot_id", json_string(bot));
	json_object_set_new(rec, "dispatch_at", json_string(now));
	json_object_set_new(rec, "recorder", json_string(rj->ops->name));
	if ((rc = ml_tx_provider_meeting_put(tx, rj->ops->name, bot, org, str(rec, "booking_id"),
	                                     str(rec, "id"))) < 0 ||
	    (rc = ml_rec_save(tx, rec)) < 0)
		return rc;
	struct ml_audit a = {org,      str(rec, "booking_id"), "recording.dispatched", "worker",
	                     NULL,     NULL};
	json_t *data = json_pack("{s:s, s:s, s:b}", "recording_id", str(rec, "id"), "bot_id", bot,
	                         "adopted", json_is_true(json_object_get(rj->state, "adopted")));
	a.data = data;
	rc = ml_tx_audit_append(tx, &a);
	json_decref(data);
	if (rc < 0)
		return rc;
	/* A missed webhook is healed by asking the bot itself, once the meeting should be
	 * over: not by polling every bot. */
	int64_t end = 0;
	ml_time_parse(str(rj->booking, "end"), &end);
	int64_t at = (end + ml_rec_reconcile_s()) * 1000;
	json_t *more = json_pack("{s:s, s:i}", "fetch", "reconcile", "round", 1);
	rc = ml_rec_enqueue(tx, rec, "recording.sync", at > ml_now_ms() ? at : 0, more);
	json_decref(more);
	return rc;
}

static bool same_json(json_t *a, json_t *b)
{
	return json_equal(a ? a : json_null(), b ? b : json_null());
}

static int commit_sync(struct ml_tx *tx, struct rjob *rj, json_t *rec, const char *org)
{
	json_t *res = json_object_get(rj->state, "result");
	const char *status = str(res, "status");
	int rc;
	if (rj->ck == RC_GONE)
		return ml_rec_move(tx, rec, "failed", "bot_not_found", rj->err.message, "worker",
		                   NULL);
	if (!status)
		return 0;
	if (strcmp(status, "failed") == 0)
		return ml_rec_move(tx, rec, "failed", str(res, "reason"), str(res, "reason"),
		                   "worker", NULL);
	if (strcmp(status, "ready") != 0) {
		int round = (int)json_integer_value(json_object_get(rj->payload, "round"));
		if (round >= ml_rec_reconcile_max())
			return ml_rec_move(tx, rec, "failed", "no_result",
			                   "The recorder had no recording after the last check.",
			                   "worker", NULL);
		if (strcmp(status, "processing") == 0)
			ml_rec_move(tx, rec, "processing", NULL, NULL, "worker", NULL);
		json_t *more = json_pack("{s:s, s:i}", "fetch", "reconcile", "round", round + 1);
		rc = ml_rec_enqueue(tx, rec, "recording.sync",
		                    ml_now_ms() + ml_rec_reconcile_s() * 1000, more);
		json_decref(more);
		return rc;
	}
	if ((rc = ml_rec_calendar_link(tx, rec, str(res, "meeting_url"))) < 0)
		return rc;
	json_t *tr = json_object_get(res, "transcript");
	bool had = json_array_size(json_object_get(rec, "transcript")) > 0;
	bool new_tr = json_array_size(tr) > 0 &&
	              (!same_json(tr, json_object_get(rec, "transcript")) ||
	               strcmp(str(rec, "transcript_state"), "pending") == 0);
	json_object_set(rec, "media_url", json_object_get(res, "media_url"));
	json_object_set(rec, "audio_url", json_object_get(res, "audio_url"));
	json_object_set(rec, "duration_seconds", json_object_get(res, "duration_seconds"));
	json_object_set(rec, "speakers", json_object_get(res, "speakers"));
	json_object_set(rec, "transcript", tr ? tr : json_array());
	/* Ready with the recording (an empty transcript: nobody spoke), unless it is off. */
	if (strcmp(str(rec, "transcript_state"), "off") != 0)
		json_object_set_new(rec, "transcript_state", json_string("ready"));
	bool moved = false;
	if ((rc = ml_rec_move(tx, rec, "ready", NULL, NULL, "worker", &moved)) < 0)
		return rc;
	if (!moved && (rc = ml_rec_save(tx, rec)) < 0)
		return rc;
	if (!new_tr)
		return 0;
	json_t *data = ml_recording_view(rec, false);
	json_object_set_new(data, "retranscribed", json_boolean(had));
	struct ml_audit a = {org, str(rec, "booking_id"), "recording.transcript_ready", "worker",
	                     NULL, NULL};
	json_t *ad = json_pack("{s:s}", "recording_id", str(rec, "id"));
	a.data = ad;
	if ((rc = ml_tx_audit_append(tx, &a)) == 0)
		rc = ml_notify_webhook(tx, org, "transcript.ready", str(rec, "booking_id"), data);
	json_decref(ad);
	json_decref(data);
	return rc;
}

/* The bot left (or was gone). One found by its key (no answer of the dispatch named it) is
 * the recording's from now on: its data can be fetched and deleted like any other's. */
static int commit_leave(struct ml_tx *tx, struct rjob *rj, json_t *rec, const char *org)
{
	const char *found = str(rj->state, "bot_id");
	int rc;
	if (rj->ck != RC_DONE || (!str(rec, "bot_id") && !found))
		return 0; /* failed, or no bot was made after all */
	if (!str(rec, "bot_id")) {
		json_object_set_new(rec, "bot_id", json_string(found));
		json_object_set_new(rec, "recorder", json_string(rj->ops->name));
		if ((rc = ml_tx_provider_meeting_put(tx, rj->ops->name, found, org,
		                                     str(rec, "booking_id"), str(rec, "id"))) < 0 ||
		    (rc = ml_rec_save(tx, rec)) < 0)
			return rc;
	}
	struct ml_audit a = {org, str(rec, "booking_id"), "recording.bot_removed", "worker", NULL,
	                     NULL};
	json_t *d = json_pack("{s:s}", "recording_id", str(rec, "id"));
	a.data = d;
	rc = ml_tx_audit_append(tx, &a);
	json_decref(d);
	return rc;
}

static int rec_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct rjob *rj = run->state;
	const char *org = run->job.org_id;
	json_t *rec = NULL;
	int rc;
	if (rj->ck == RC_NONE)
		return 0;
	rc = ml_tx_recording_get(tx, org, str(rj->rec, "id"), &rec);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	json_object_set_new(rec, "org_id", json_string(org));
	switch (rj->op) {
	case ML_ROP_DISPATCH:
		rc = commit_dispatch(tx, rj, rec, org);
		break;
	case ML_ROP_FETCH:
		rc = commit_sync(tx, rj, rec, org);
		break;
	case ML_ROP_DELETE:
		if (rj->ck == RC_DONE || rj->ck == RC_GONE) {
			json_object_set_new(rec, "deleted_at_recorder", json_true());
			rc = ml_rec_save(tx, rec);
		}
		break;
	case ML_ROP_RETRANSCRIBE:
		if (rj->ck == RC_DONE) {
			/* The transcription_complete webhook fetches it; if it is lost, this. */
			json_t *more = json_pack("{s:s, s:i}", "fetch", "transcript", "round", 1);
			rc = ml_rec_enqueue(tx, rec, "recording.sync",
			                    ml_now_ms() + ml_rec_reconcile_s() * 1000, more);
			json_decref(more);
		}
		break;
	case ML_ROP_LEAVE:
		rc = commit_leave(tx, rj, rec, org);
		break;
	}
	json_decref(rec);
	return rc;
}

/* --- running --- */

static void finish(struct ml_job_run *run, enum ml_job_outcome o, int64_t run_at_ms,
                   const char *error, enum rcommit ck)
{
	struct rjob *rj = run->state;
	json_t *result = NULL;
	if (rj)
		rj->ck = ck;
	if (o == ML_JOB_DONE && rj && rj->skip)
		result = json_pack("{s:s}", "skipped", rj->skip);
	else if (o == ML_JOB_DONE && rj && str(rj->state, "bot_id"))
		result = json_pack("{s:s}", "bot_id", str(rj->state, "bot_id"));
	struct ml_job_finish f = {o, run_at_ms, NULL, error, result, rj ? rj->payload : NULL};
	ml_job_run_finish(run, &f, rj ? rec_commit : NULL, run);
	json_decref(result);
}

static void on_fail(struct ml_job_run *run, struct rjob *rj, const char *retry_after)
{
	struct ml_perr *e = &rj->err;
	char why[400];
	if (!e->code[0])
		snprintf(e->code, sizeof e->code, "recorder_error");
	snprintf(why, sizeof why, "%s: %s", e->code, e->message);
	if (e->kind == ML_PERR_GONE) {
		finish(run, ML_JOB_DONE, 0, NULL, RC_GONE);
		return;
	}
	if (e->kind == ML_PERR_RETRY && run->job.attempts < run->job.max_attempts) {
		int64_t ra = e->retry_after_ms;
		if (!ra && retry_after)
			ml_retry_after_parse(retry_after, ml_now(), &ra);
		int64_t delay = ml_job_run_backoff_ms(run, ra);
		finish(run, ML_JOB_RETRY, ml_now_ms() + delay, why, RC_NONE);
		return;
	}
	finish(run, ML_JOB_FAIL, 0, why, RC_FAILED);
}

static void step(struct ml_job_run *run, struct rjob *rj, const struct ml_presp *resp)
{
	struct ml_provider_ctx cx = {&run->env->platforms, ml_now(), NULL};
	ml_pstep_clear(&rj->step);
	memset(&rj->err, 0, sizeof rj->err);
	int rc = rj->ops->recorder->step(&cx, rj->op, &rj->req, &rj->cr, rj->state, resp, &rj->step,
	                                 &rj->err);
	if (rc < 0 || rj->step.kind == ML_PSTEP_FAIL) {
		if (rj->err.kind == ML_PERR_NONE)
			ml_perr_set(&rj->err, ML_PERR_RETRY, 0, "driver_error",
			            "The recorder's driver stopped without an answer.");
		on_fail(run, rj, resp ? resp->retry_after : NULL);
		return;
	}
	if (rj->step.kind == ML_PSTEP_HTTP) {
		long t = run->env->pipeline ? run->env->pipeline->timeout_ms : 30000;
		CURL *e = ml_pcall_easy(&rj->step.http, t, &rj->headers);
		if (!e) {
			ml_perr_set(&rj->err, ML_PERR_PERMANENT, 0, "invalid_header",
			            "A request header held a control character; the call was not made.");
			on_fail(run, rj, NULL);
			return;
		}
		ml_job_run_http(run, e);
		return;
	}
	if (rj->step.kind == ML_PSTEP_DONE) {
		finish(run, ML_JOB_DONE, 0, NULL, RC_DONE);
		return;
	}
	ml_perr_set(&rj->err, ML_PERR_RETRY, 0, "driver_error", "The driver answered nonsense.");
	on_fail(run, rj, NULL);
}

static void fill_req(struct ml_job_run *run, struct rjob *rj)
{
	const struct ml_env *env = run->env;
	json_t *o = json_object_get(rj->rec, "options");
	struct ml_bot_req *q = &rj->req;
	q->meeting_url = str(json_object_get(rj->booking, "meeting"), "join_url");
	q->bot_name = str(o, "bot_name");
	q->recording_mode = str(o, "recording_mode");
	q->transcription =
	    json_is_true(json_object_get(o, "transcription")) ? str(o, "transcription_provider") : NULL;
	q->waiting_room_timeout = (int)json_integer_value(json_object_get(o, "waiting_room_timeout"));
	q->noone_joined_timeout = (int)json_integer_value(json_object_get(o, "noone_joined_timeout"));
	q->silence_timeout = (int)json_integer_value(json_object_get(o, "silence_timeout"));
	int64_t start = 0;
	if (rj->booking && ml_time_parse(str(rj->booking, "start"), &start) == 0 &&
	    start > ml_now())
		q->start_time = start;
	q->dedup_key = str(rj->rec, "dedup_key");
	q->recording_id = str(rj->rec, "id");
	q->bot_id = str(rj->rec, "bot_id");
	if (env->cfg && env->cfg->public_url) {
		rj->webhook_url = ml_asprintf("%s/webhooks/%s", env->cfg->public_url, rj->ops->name);
		q->webhook_url = rj->webhook_url;
	}
	rj->cr.api_base = env->oauth ? ml_oauth_api_base(env->oauth, rj->ops->name) : NULL;
	rj->cr.extra = rj->tok.extra;
	rj->cr.org_level = true;
}

static void rj_start(struct ml_job_run *run)
{
	struct rjob *rj = run->state;
	if (run->prepare_rc < 0 || !rj) {
		ml_job_run_retry(run, 0, "could not load the job's recording");
		return;
	}
	if (rj->skip) {
		finish(run, ML_JOB_DONE, 0, NULL, RC_NONE);
		return;
	}
	if (rj->defer_ms) {
		finish(run, ML_JOB_DEFER, ml_now_ms() + rj->defer_ms,
		       "waiting for the meeting to be ready", RC_NONE);
		return;
	}
	if (rj->ck == RC_FAILED) {
		finish(run, ML_JOB_FAIL, 0, rj->err.message, RC_FAILED);
		return;
	}
	if (rj->cstate != ML_CONN_VALID || !rj->cr.api_base) {
		rj->cr.api_base = run->env->oauth ? ml_oauth_api_base(run->env->oauth, rj->ops->name)
		                                  : NULL;
	}
	if (rj->cstate != ML_CONN_VALID) {
		ml_perr_set(&rj->err, ML_PERR_PERMANENT, 0, "credential_required",
		            "The organization has no %s credential (PUT /v1/credentials/%s).",
		            rj->ops->label, rj->ops->name);
		finish(run, ML_JOB_FAIL, 0, rj->err.message, RC_FAILED);
		return;
	}
	fill_req(run, rj);
	if (!rj->cr.api_base) {
		ml_perr_set(&rj->err, ML_PERR_PERMANENT, 0, "recorder_not_configured",
		            "%s has no API address on this server.", rj->ops->label);
		finish(run, ML_JOB_FAIL, 0, rj->err.message, RC_FAILED);
		return;
	}
	step(run, rj, NULL);
}

static void rj_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	struct rjob *rj = run->state;
	char *ra = ml_http_result_header(res, "Retry-After");
	struct ml_presp r = {ml_pcall_transport(res->code), res->status, res->body, res->body_len, ra,
	                     ml_now()};
	step(run, rj, &r);
	free(ra);
}

static void rj_release(struct ml_job_run *run)
{
	struct rjob *rj = run->state;
	if (!rj)
		return;
	curl_slist_free_all(rj->headers);
	ml_pstep_clear(&rj->step);
	ml_conn_token_clear(&rj->tok);
	json_decref(rj->payload);
	json_decref(rj->rec);
	json_decref(rj->booking);
	free(rj->webhook_url);
	free(rj);
	run->state = NULL;
}

#define HANDLER(sym, kind_name)                                                                    \
	const struct ml_job_handler sym = {                                                        \
	    .kind = kind_name,                                                                     \
	    .start = rj_start,                                                                     \
	    .on_http = rj_on_http,                                                                 \
	    .release = rj_release,                                                                 \
	    .prepare = rj_prepare,                                                                 \
	}

HANDLER(ml_job_recording_dispatch, "recording.dispatch");
HANDLER(ml_job_recording_leave, "recording.leave");
HANDLER(ml_job_recording_sync, "recording.sync");
HANDLER(ml_job_recording_retranscribe, "recording.retranscribe");
HANDLER(ml_job_recording_delete, "recording.delete");
