/* The outcomes of a meeting job: what ml_mjob_commit writes, in the transaction that records
 * the job's new state (ml_job_run_finish's commit callback), so that a meeting is ready
 * exactly when its job is done.
 *
 * Contract of ml_mjob_commit (one entry, one function per outcome below it):
 *
 *   - It acts only through tx: a rolled-back batch runs it again (worker.h).
 *   - The driver's state (mj->payload) is written with the job's outcome, whatever it is.
 *   - Outcomes about the connection or the trail alone never read the booking:
 *       NONE            (a retry, a deferral, a skip) nothing else
 *       REFRESHED       the new tokens (the job runs again at once)
 *       REFRESH_FAILED  the connection's failure; a refused refresh token goes on as REAUTH
 *       RECONCILED      audit meeting.duplicates_removed when there were any
 *   - A provider refusing a token we held valid (REAUTH with mark_reauth) flags the
 *     connection first; if the connection judges the refusal stale it stays connected and
 *     the job retries soon instead of waiting for a reconnect nobody will make.
 *   - The others re-read the booking as it is now (the API may have changed it since the
 *     claim): a booking or a meeting gone since leaves nothing to write. Each then decides
 *     by the domain's machine (ml_meeting_next) whether the meeting is still the one it can
 *     change, changes it and appends its events, and answers 1 (save the booking), 0
 *     (nothing changed) or < 0:
 *       READY           create/open done: the meeting ready (or opened), or only its
 *                       external id noted when it was superseded meanwhile
 *       UPDATED         update done in place
 *       PROVIDER_GONE   update found it deleted: the one deleted-at-provider path (saves)
 *       DELETED         delete done: deleted_at_provider on the (archived) meeting
 *       FAILED          the create failed for good (fallback or error); any other job's
 *                       failure goes on the trail only (meeting.job_failed)
 *       REAUTH          the host must reconnect: error reconnect_required with a fresh
 *                       connect link (REFRESH_FAILED with reauth lands here too)
 *       ENDED           end for all done at the provider (or nothing was there to end):
 *                       booking.ended settles, meeting.ended (an end that fails for good
 *                       settles as FAILED, the meeting itself untouched)
 *   - A changed booking goes through the one save path (ml_booking_save, actor "worker").
 */
#include "conn/links.h"
#include "core/config.h"
#include "core/error.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "meeting/booking.h"
#include "meeting/job.h"
#include "meeting/meeting.h"
#include "meeting/provwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void ev(json_t *events, const char *type, json_t *data)
{
	json_array_append_new(events, json_pack("{s:s, s:o}", "type", type, "data", data));
}

static void set_s(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

/* What the commit reads and writes, for the outcome functions. */
struct oc {
	struct ml_tx *tx;
	struct ml_job_run *run;
	struct mjob *mj;
	const char *platform;
	json_t *booking; /* as it is now */
	json_t *m;       /* the job's meeting in it */
	bool current;    /* m is the booking's current meeting */
	json_t *events;
};

/* The cleanup and the reconcile get the meeting jobs' budget (MEETLINK_MEETING_MAX_ATTEMPTS),
 * as every job the plan queues: they used the store's default (8), and a reconcile that walks
 * a long list under faults may need more than the create it follows. */
static int enqueue_cleanup(struct oc *o)
{
	/* The meeting object now carries the fallback; what an ambiguous attempt may have made
	 * on the requested platform is deleted by id derivation or lookup. */
	json_t *p = json_pack("{s:s, s:s?, s:s, s:s?, s:b}", "booking_id", str(o->booking, "id"),
	                      "meeting_id", str(o->mj->meeting, "id"), "platform", o->platform,
	                      "host_id", str(o->mj->payload, "host_id"), "cleanup", 1);
	struct ml_job_new j = {o->run->job.org_id,
	                       "meeting.delete",
	                       str(o->booking, "id"),
	                       NULL,
	                       p,
	                       0,
	                       o->run->env->pipeline->max_attempts};
	int rc = ml_tx_job_enqueue(o->tx, &j, NULL);
	json_decref(p);
	return rc;
}

/* A create that needed more than one attempt on a platform without idempotency: once any
 * late answer has settled (twice the call timeout), remove what it may have duplicated. */
static int enqueue_reconcile(struct oc *o, const char *keep)
{
	char group[96];
	snprintf(group, sizeof group, "reconcile:%s", str(o->booking, "id"));
	json_t *p = json_pack("{s:s, s:s?, s:s, s:s?, s:s?}", "booking_id", str(o->booking, "id"),
	                      "meeting_id", str(o->mj->meeting, "id"), "platform", o->platform,
	                      "host_id", str(o->mj->payload, "host_id"), "keep", keep);
	int64_t delay = o->run->env->pipeline->reconcile_delay_ms;
	struct ml_job_new j = {o->run->job.org_id,
	                       "meeting.reconcile",
	                       group,
	                       NULL,
	                       p,
	                       ml_now_ms() + delay,
	                       o->run->env->pipeline->max_attempts};
	int rc = ml_tx_job_enqueue(o->tx, &j, NULL);
	json_decref(p);
	return rc;
}

/* RECONCILED: the duplicates a reconcile removed go on the trail (the booking is unchanged). */
static int reconciled(struct ml_tx *tx, struct ml_job_run *run, struct mjob *mj,
                      const char *platform)
{
	json_int_t n = json_integer_value(json_object_get(mj->state, "duplicates_removed"));
	if (n <= 0)
		return 0;
	json_t *d = json_pack("{s:s, s:I, s:s?}", "platform", platform, "removed", n, "kept",
	                      str(mj->payload, "keep"));
	struct ml_audit a = {run->job.org_id,
	                     str(mj->payload, "booking_id"),
	                     "meeting.duplicates_removed",
	                     "worker",
	                     NULL,
	                     d};
	int rc = ml_tx_audit_append(tx, &a);
	json_decref(d);
	return rc;
}

/* REAUTH with mark_reauth: flags the connection. 1 when the connection stays connected (the
 * refusal was stale) and the job retries soon instead; 0 to go on to the booking. */
static int mark_reauth(struct ml_tx *tx, struct ml_job_run *run, struct mjob *mj)
{
	int rc;
	if ((rc = ml_conn_refresh_failed(tx, mj->tok.conn_id, true, mj->why)) < 0)
		return rc;
	/* The connection may judge the refusal stale (a token just refreshed elsewhere): it
	 * drops the access token and stays connected. Then nobody would wake a waiting job:
	 * run again soon instead, refreshing first (the attempt counts, so a provider that
	 * keeps refusing fresh tokens ends the job). */
	struct ml_conn_row row = {0};
	if ((rc = ml_tx_conn_get_id(tx, mj->tok.conn_id, &row)) < 0)
		return rc;
	bool still = strcmp(row.status, "connected") == 0;
	ml_conn_row_clear(&row);
	if (!still)
		return 0;
	run->fin.outcome = ML_JOB_RETRY;
	run->fin.run_at_ms = ml_now_ms() + 100;
	run->fin.wait_key = NULL;
	return 1;
}

/* OPEN done: the room is open. */
static int opened(struct oc *o)
{
	struct ml_meeting *out = &o->mj->step.meeting;
	char now[ML_RFC3339_MAX];
	ml_time_format(ml_now(), now);
	set_s(o->m, "opened_at", now);
	if (out->external_id)
		set_s(o->m, "room_sid", out->external_id);
	/* The room's callbacks name it by its sid: which booking it is (ops->inbound). */
	int rc;
	if (out->external_id && ML_PROVIDER_HAS(o->mj->ops, inbound) &&
	    (rc = ml_tx_provider_meeting_put(o->tx, o->platform, out->external_id,
	                                     o->run->job.org_id, str(o->booking, "id"),
	                                     str(o->m, "id"))) < 0)
		return rc;
	ev(o->events, "meeting.opened",
	   json_pack("{s:s, s:s?}", "platform", o->platform, "room_sid", out->external_id));
	return 1;
}

/* READY: the create made the meeting. */
static int ready(struct oc *o)
{
	struct mjob *mj = o->mj;
	struct ml_meeting *out = &mj->step.meeting;
	const char *ms = str(o->m, "status");
	int rc;

	if (mj->op == ML_MOP_OPEN)
		return opened(o);
	/* Superseded meanwhile: keep what was made, so the delete queued after us finds it. */
	set_s(o->m, "external_id", out->external_id);
	if (!o->current || !ms || !ml_meeting_next(ms, ML_MEV_MADE)) {
		if (!str(o->m, "join_url"))
			set_s(o->m, "join_url", out->join_url);
		return 1;
	}
	if (mj->ops->remote && mj->ops->remote->reconcile &&
	    json_integer_value(json_object_get(mj->state, "attempt")) > 1 &&
	    (rc = enqueue_reconcile(o, out->external_id)) < 0)
		return rc;
	/* Which booking a provider id belongs to, for providers whose webhooks report meetings
	 * deleted on their side (a driver with ops->inbound). */
	if (out->external_id && (ML_PROVIDER_HAS(mj->ops, inbound) || ml_watch_platform(o->platform)) &&
	    (rc = ml_tx_provider_meeting_put(o->tx, o->platform, out->external_id,
	                                     o->run->job.org_id, str(o->booking, "id"),
	                                     str(o->m, "id"))) < 0)
		return rc;
	/* The host's calendar is watched from now on: changes made there come back. */
	if ((rc = ml_watch_ensure(o->tx, o->run->job.org_id, str(o->booking, "host_id"),
	                          o->platform)) < 0)
		return rc;
	ml_meeting_move(o->m, ML_MEV_MADE);
	set_s(o->m, "join_url", out->join_url);
	set_s(o->m, "host_url", out->host_url ? out->host_url : out->join_url);
	set_s(o->m, "passcode", out->passcode);
	json_object_set_new(o->m, "error", json_null());
	ev(o->events, "meeting.ready",
	   json_pack("{s:s, s:s?, s:s?}", "platform", o->platform, "meeting_id", str(o->m, "id"),
	             "external_id", out->external_id));
	return 1;
}

/* UPDATED: the provider took the new times (same meeting; a new link is taken too). */
static int updated(struct oc *o)
{
	struct ml_meeting *out = &o->mj->step.meeting;
	const char *ms = str(o->m, "status");
	if (!o->current || !ms || !ml_meeting_next(ms, ML_MEV_UPDATED))
		return 0;
	const char *old = str(o->m, "join_url");
	bool same = !out->join_url || (old && strcmp(old, out->join_url) == 0);
	if (out->join_url)
		set_s(o->m, "join_url", out->join_url);
	if (out->host_url)
		set_s(o->m, "host_url", out->host_url);
	ev(o->events, "meeting.updated",
	   json_pack("{s:s, s:b, s:s?}", "platform", o->platform, "same_link", same, "external_id",
	             str(o->m, "external_id")));
	return 1;
}

/* DELETED: gone at the provider (a cancelled or replaced meeting, kept in the document). */
static int deleted(struct oc *o)
{
	json_object_set_new(o->m, "deleted_at_provider", json_true());
	ev(o->events, "meeting.deleted",
	   json_pack("{s:s, s:s?, s:s?}", "platform", o->platform, "meeting_id", str(o->m, "id"),
	             "external_id", str(o->m, "external_id")));
	return 1;
}

/* ENDED: the provider ended the meeting for everyone, or had none to end. */
static int ended(struct oc *o)
{
	const char *label = o->mj->ops ? o->mj->ops->label : o->platform;
	char msg[300];
	if (!json_object_get(o->booking, "ended"))
		return 0; /* (an end is only queued with it) */
	if (o->mj->skip)
		snprintf(msg, sizeof msg, "There was no meeting at %s to end.", label);
	else
		snprintf(msg, sizeof msg, "%s ended the meeting for everyone in it.", label);
	ml_end_settle(o->booking, label, true, msg, o->events);
	return 1;
}

/* FAILED, REAUTH, REFRESH_FAILED (with reauth): the job could not do its work. */
static int failed(struct oc *o)
{
	struct mjob *mj = o->mj;
	const char *ms = str(o->m, "status");
	int rc;

	if (mj->op == ML_MOP_END && mj->ck == C_FAILED && json_object_get(o->booking, "ended")) {
		const char *label = mj->ops ? mj->ops->label : o->platform;
		char msg[700];
		snprintf(msg, sizeof msg, "%s could not end the meeting (%s: %s); the join gateway "
		         "is closed, but whoever is in the meeting stays.",
		         label, mj->err.code, mj->err.message);
		ml_end_settle(o->booking, label, false, msg, o->events);
		return 1;
	}
	if (mj->op != ML_MOP_CREATE || !o->current || !ms || !ml_meeting_next(ms, ML_MEV_FAILED)) {
		/* Update/delete/open failures stay on the job (GET /v1/jobs?state=failed) and the
		 * audit trail. */
		ev(o->events, "meeting.job_failed",
		   json_pack("{s:s, s:s, s:s, s:s}", "platform", o->platform, "job",
		             o->run->job.kind, "code", mj->err.code, "message", mj->err.message));
		return 1;
	}
	if (mj->ck == C_FAILED) {
		struct ml_provider_ctx cx = {&o->run->env->platforms, ml_now()};
		ml_meeting_fail(&cx, o->run->job.org_id, o->booking, mj->service, mj->host,
		                o->platform, &mj->err, true, o->events);
		json_t *m = json_object_get(o->booking, "meeting");
		if (mj->cleanup && json_is_true(json_object_get(m, "fallback_used")) &&
		    (rc = enqueue_cleanup(o)) < 0)
			return rc;
		return 1;
	}
	/* SPEC §3: a reconnect error carries where the host reconnects. */
	char *url = NULL;
	const char *host_id = str(mj->payload, "host_id");
	if (host_id)
		ml_conn_link_make(o->tx, o->run->env->cfg->public_url, o->run->job.org_id, host_id,
		                  o->platform, 7 * 24 * 3600, &url, NULL);
	ml_meeting_move(o->m, ML_MEV_FAILED);
	json_object_set_new(o->m, "error",
	                    json_pack("{s:s, s:s, s:s?}", "code", "reconnect_required", "message",
	                              mj->err.message, "connect_url", url));
	free(url);
	ev(o->events, "meeting.failed",
	   json_pack("{s:s, s:s, s:s}", "platform", o->platform, "code", "reconnect_required",
	             "message", mj->err.message));
	return 1;
}

/* The outcomes that change the booking: re-read it, let the outcome change it, save it. */
static int on_booking(struct ml_tx *tx, struct ml_job_run *run, struct mjob *mj,
                      const char *platform)
{
	struct ml_step st = {&run->env->platforms, run->job.org_id, "worker", NULL, false,
			      run->env->vault};
	struct oc o = {tx, run, mj, platform, NULL, NULL, false, NULL};
	int rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, run->job.org_id, str(mj->payload, "booking_id"),
	                       &o.booking);
	if (rc == ML_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	o.m = ml_mjob_meeting_by_id(o.booking, str(mj->payload, "meeting_id"), &o.current);
	if (!o.m) {
		json_decref(o.booking);
		return 0;
	}
	o.events = json_array();
	switch (mj->ck) {
	case C_READY:
		rc = ready(&o);
		break;
	case C_UPDATED:
		rc = updated(&o);
		break;
	case C_PROVIDER_GONE: {
		bool reported;
		rc = ml_meeting_deleted_at_provider(tx, &st, o.booking, mj->service, mj->host,
		                                    str(mj->payload, "meeting_id"), platform, NULL,
		                                    "update", &reported);
		break;
	}
	case C_DELETED:
		rc = deleted(&o);
		break;
	case C_ENDED:
		rc = ended(&o);
		break;
	case C_FAILED:
	case C_REAUTH:
	case C_REFRESH_FAILED:
		rc = failed(&o);
		break;
	default:
		rc = 0;
		break;
	}
	if (rc > 0)
		rc = ml_booking_save(tx, &st, o.booking, mj->service, mj->host, o.events, false);
	json_decref(o.events);
	json_decref(o.booking);
	return rc;
}

int ml_mjob_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct mjob *mj = run->state;
	const char *platform = mj->ops ? mj->ops->name : "";
	int rc;

	/* The driver's state goes with the outcome, whatever it is, in the same write. */
	if (mj->state)
		run->fin.payload = mj->payload;
	switch (mj->ck) {
	case C_NONE:
		return 0;
	case C_REFRESHED:
		return ml_conn_refreshed(tx, run->env->vault, mj->tok.conn_id, &mj->fresh);
	case C_REFRESH_FAILED:
		rc = ml_conn_refresh_failed(tx, mj->tok.conn_id, mj->reauth, mj->why);
		if (rc < 0 || !mj->reauth)
			return rc;
		break;
	case C_RECONCILED:
		return reconciled(tx, run, mj, platform);
	case C_REAUTH:
		if (mj->mark_reauth && mj->tok.conn_id[0] && (rc = mark_reauth(tx, run, mj)) != 0)
			return rc < 0 ? rc : 0;
		break;
	default:
		break;
	}
	return on_booking(tx, run, mj, platform);
}
