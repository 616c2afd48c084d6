/* Planning the pipeline's work inside the transaction of the booking change (API side). */
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "providers/provider.h"
#include "meeting/meeting.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

bool ml_pipeline_remote(const char *platform)
{
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	return ops && ops->abi >= 2 && (ops->caps & ML_CAP_REMOTE) && ops->remote_step;
}

/* MEETLINK_MEETING_MAX_ATTEMPTS, read once (0: the store's default). ml_pipeline_new has
 * already refused a value outside 1..100 when the daemon started. */
static pthread_once_t g_attempts_once = PTHREAD_ONCE_INIT;
static int g_max_attempts;

static void read_max_attempts(void)
{
	const char *env = getenv("MEETLINK_MEETING_MAX_ATTEMPTS");
	char *end;
	long n = env && *env ? strtol(env, &end, 10) : 0;
	g_max_attempts = n >= 1 && n <= 100 && !*end ? (int)n : 0;
}

static int enqueue(struct ml_tx *tx, const char *org_id, const char *kind, const char *booking_id,
                   json_t *payload, bool coalesce, int64_t run_at_ms)
{
	char ck[96];
	snprintf(ck, sizeof ck, "%s:%s", kind, booking_id);
	struct ml_job_new j = {
	    .org_id = org_id,
	    .kind = kind,
	    .group_key = booking_id,
	    .coalesce_key = coalesce ? ck : NULL,
	    .payload = payload,
	    .run_at_ms = run_at_ms,
	};
	pthread_once(&g_attempts_once, read_max_attempts);
	j.max_attempts = g_max_attempts;
	return ml_tx_job_enqueue(tx, &j, NULL);
}

static json_t *payload_for(const char *booking_id, json_t *m, const char *host_id)
{
	return json_pack("{s:s, s:s?, s:s?, s:s?}", "booking_id", booking_id, "meeting_id",
	                 str(m, "id"), "platform", str(m, "platform"), "host_id", host_id);
}

static void event(json_t *events, const char *type, json_t *data)
{
	json_array_append_new(events, json_pack("{s:s, s:o}", "type", type, "data", data));
}

/* Lazy platforms: the room opens `open_lead_s` before the start (at once when that is past). */
static int plan_open(struct ml_tx *tx, const struct ml_platform_settings *ps, const char *org_id,
                     json_t *booking, json_t *m)
{
	int64_t start = 0;
	ml_time_parse(str(booking, "start"), &start);
	int64_t lead = ps && ps->open_lead_s > 0 ? ps->open_lead_s : 600;
	int64_t at = (start - lead) * 1000;
	if (at < ml_now_ms())
		at = 0;
	json_t *p = payload_for(str(booking, "id"), m, str(booking, "host_id"));
	int rc = enqueue(tx, org_id, "meeting.open", str(booking, "id"), p, true, at);
	json_decref(p);
	return rc;
}

int ml_pipeline_plan_open_now(struct ml_tx *tx, const char *org_id, json_t *booking)
{
	json_t *m = json_object_get(booking, "meeting");
	json_t *p = payload_for(str(booking, "id"), m, str(booking, "host_id"));
	/* Coalesced with the open queued for later: it runs now instead. */
	int rc = enqueue(tx, org_id, "meeting.open", str(booking, "id"), p, true, 0);
	json_decref(p);
	return rc;
}

int ml_pipeline_plan_create(struct ml_tx *tx, const struct ml_platform_settings *ps,
                            const char *org_id, json_t *booking, json_t *service, json_t *host,
                            json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	int rc;

	if (!ml_pipeline_remote(platform))
		return ml_error_set(ML_EINVAL, "platform_unavailable", "platform",
		                    "The %s platform is not made by the pipeline.",
		                    platform ? platform : "(none)");
	platform = ops->name; /* the document's string may be replaced below */
	if ((ops->caps & ML_CAP_LAZY) && ops->meeting_create) {
		/* The link is ours and known now; the provider's room opens near the start. */
		struct ml_provider_ctx cx = {ps, ml_now()};
		struct ml_meeting_req req;
		struct ml_meeting out = {0};
		struct ml_perr err = {0};
		ml_meeting_req_fill(&req, org_id, booking, service, host);
		req.meeting_id = str(m, "id");
		if (ops->meeting_create(&cx, &req, &out, &err) < 0) {
			ml_meeting_move(m, ML_MEV_FAILED_HERE);
			json_object_set_new(
			    m, "error",
			    json_pack("{s:s, s:s}", "code", err.code, "message", err.message));
			event(events, "meeting.failed",
			      json_pack("{s:s, s:s, s:s}", "platform", platform, "code", err.code,
			                "message", err.message));
			return 0;
		}
		ml_meeting_move(m, ML_MEV_MADE_HERE);
		json_object_set_new(m, "join_url", json_string(out.join_url));
		json_object_set_new(m, "host_url",
		                    json_string(out.host_url ? out.host_url : out.join_url));
		json_object_set_new(m, "external_id", json_string(out.external_id));
		json_object_set_new(m, "error", json_null());
		/* The provider's events name the room: which booking it is (ops->inbound). */
		if (out.external_id && ML_PROVIDER_HAS(ops, inbound) &&
		    (rc = ml_tx_provider_meeting_put(tx, platform, out.external_id, org_id,
		                                     str(booking, "id"), str(m, "id"))) < 0) {
			ml_meeting_clear(&out);
			return rc;
		}
		ml_meeting_clear(&out);
		event(events, "meeting.ready",
		      json_pack("{s:s, s:s}", "platform", platform, "meeting_id", str(m, "id")));
		return plan_open(tx, ps, org_id, booking, m);
	}
	ml_meeting_move(m, ML_MEV_REQUEST);
	json_object_set_new(m, "error", json_null());
	json_t *p = payload_for(str(booking, "id"), m, str(booking, "host_id"));
	/* An instant meeting (issue 18 §4) jumps the queue: due at ML_JOB_RUN_FIRST, before
	 * every scheduled create already due (the claim takes jobs by run_at, then seq). */
	bool instant = json_is_object(json_object_get(booking, "instant"));
	if (instant)
		json_object_set_new(p, "first", json_true());
	rc = enqueue(tx, org_id, "meeting.create", str(booking, "id"), p, false,
	             instant ? ML_JOB_RUN_FIRST : 0);
	json_decref(p);
	if (rc < 0)
		return rc;
	event(events, "meeting.requested",
	      json_pack("{s:s, s:s}", "platform", platform, "meeting_id", str(m, "id")));
	return 0;
}

int ml_pipeline_plan_update(struct ml_tx *tx, const struct ml_platform_settings *ps,
                            const char *org_id, json_t *booking, json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const char *status = str(m, "status");
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	(void)events;

	if (!ml_pipeline_remote(platform) || !status)
		return 0;
	if (ops->caps & ML_CAP_LAZY)
		/* Rooms carry no schedule: only when they open moves (a queued open is replaced).
		 */
		return strcmp(status, "ready") == 0 ? plan_open(tx, ps, org_id, booking, m) : 0;
	/* A pending meeting is created with the booking's times as they are when its create
	 * runs; the update after it is then a no-op at worst. */
	if (strcmp(status, "ready") != 0 && strcmp(status, "pending") != 0)
		return 0;
	json_t *p = payload_for(str(booking, "id"), m, str(booking, "host_id"));
	int rc = enqueue(tx, org_id, "meeting.update", str(booking, "id"), p, true, 0);
	json_decref(p);
	return rc;
}

int ml_pipeline_plan_delete(struct ml_tx *tx, const char *org_id, const char *booking_id,
                            json_t *meeting, const char *host_id)
{
	const char *platform = str(meeting, "platform");
	const char *status = str(meeting, "status");
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	int rc;

	if (!ml_pipeline_remote(platform) || !status || strcmp(status, "none") == 0)
		return 0;
	/* A room not yet opened needs no opening any more: cancel it first, or the delete would
	 * wait behind it until the start. A create already queued stays: it may have made the
	 * meeting on an earlier attempt, and the delete after it cleans up either way. */
	if (ops->caps & ML_CAP_LAZY) {
		if ((rc = ml_tx_job_cancel_group(tx, booking_id, "meeting.open")) < 0)
			return rc;
	}
	if ((rc = ml_tx_job_cancel_group(tx, booking_id, "meeting.update")) < 0)
		return rc;
	json_t *p = payload_for(booking_id, meeting, host_id);
	rc = enqueue(tx, org_id, "meeting.delete", booking_id, p, false, 0);
	json_decref(p);
	return rc;
}

int ml_pipeline_plan_end(struct ml_tx *tx, const char *org_id, json_t *booking)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const char *booking_id = str(booking, "id");
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	int rc;

	if (!ml_pipeline_remote(platform))
		return ml_error_set(ML_EINVAL, "platform_unavailable", "platform",
		                    "The %s platform is not made by the pipeline.",
		                    platform ? platform : "(none)");
	/* A room to be opened near the start never will be: its open, queued for then, would
	 * hold the end back until that time. An update has nothing left to do either. */
	if ((ops->caps & ML_CAP_LAZY) &&
	    (rc = ml_tx_job_cancel_group(tx, booking_id, "meeting.open")) < 0)
		return rc;
	if ((rc = ml_tx_job_cancel_group(tx, booking_id, "meeting.update")) < 0)
		return rc;
	json_t *p = payload_for(booking_id, m, str(booking, "host_id"));
	rc = enqueue(tx, org_id, "meeting.end", booking_id, p, false, 0);
	json_decref(p);
	return rc;
}
