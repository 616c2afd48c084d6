/* Ending a meeting for everyone (POST /v1/bookings/{id}/end, the host panel's button):
 * booking.h has the contract, docs/providers.md what each platform can do.
 *
 * The booking turns completed at once and the join gateway closes (domain/gateway.h: an
 * ended booking lets nobody through, hosts included, and mints no more tokens); guests in
 * the waiting room are told; a recording bot is taken out (ml_booking_save plans it). What
 * the platform does is its driver's (ops->end):
 *
 *   ML_END_CALL     the provider ends it: a meeting.end job, durable and repeatable, settles
 *                   booking.ended when it is done (outcome.c)
 *   ML_END_TOKENS   nothing to call, but nobody enters without a token: settled at once
 *   none            the platform cannot end it: settled at once, and booking.ended says so
 *
 * A meeting the pipeline has not made yet (its create queued or in flight) is not ended but
 * stopped: cancelled, and deleted at the provider after whatever its create made
 * (stop_create; method "not_made", settled at once).
 *
 * booking.ended = {at, by, reason, platform, method ("provider", "tokens", "gateway", "not_made"),
 * platform_status ("pending", "ended", "failed", "tokens_stopped", "not_supported"),
 * ended_at_platform (true, false, null while pending), message, settled_at}.
 * Every settled end is the meeting.ended event (audit entry and webhook).
 */
#include "core/error.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "meeting/booking.h"
#include "meeting/job.h"
#include "meeting/meeting.h"
#include "meeting/waiting.h"

#include <stdio.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void set_s(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

void ml_end_settle(json_t *booking, const char *label, bool over, const char *message,
                   json_t *events)
{
	json_t *e = json_object_get(booking, "ended");
	char now[ML_RFC3339_MAX];
	(void)label;
	ml_time_format(ml_now(), now);
	const char *method = str(e, "method");
	const char *status = over ? "ended" : "failed";
	if (method && strcmp(method, "tokens") == 0)
		status = "tokens_stopped";
	else if (method && strcmp(method, "gateway") == 0)
		status = "not_supported";
	set_s(e, "platform_status", status);
	json_object_set_new(e, "ended_at_platform", json_boolean(over));
	set_s(e, "message", message);
	set_s(e, "settled_at", now);
	json_array_append_new(
	    events, json_pack("{s:s, s:{s:s?, s:s?, s:s, s:b, s:s?}}", "type", "meeting.ended",
	                      "data", "platform", str(e, "platform"), "method", method,
	                      "platform_status", status, "ended_at_platform", over, "message",
	                      message));
}

static int refuse(json_t *booking)
{
	const char *s = str(booking, "status");
	if (strcmp(s, "cancelled") == 0 || strcmp(s, "rejected") == 0)
		return ml_error_set(ML_ECONFLICT, "booking_cancelled", "status",
		                    "This booking was %s: it has no meeting to end.", s);
	return ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
	                    "A %s booking has no meeting to end yet (current status: %s).", s, s);
}

/* What the platform does when its meeting ends (ended.method), and the settled message for
 * the platforms that settle at once. */
static const char *how(const struct ml_provider_ops *ops, const struct ml_provider_ctx *cx,
                       char *msg, size_t n)
{
	const char *label = ops ? ops->label : "The platform";
	const struct ml_end_info *e = ML_PROVIDER_HAS(ops, end) ? ops->end : NULL;
	if (e && e->kind == ML_END_CALL)
		return "provider";
	if (e && e->kind == ML_END_TOKENS && (!e->tokens_required || e->tokens_required(cx))) {
		snprintf(msg, n,
		         "%s has no call to end a meeting: the join gateway is closed and issues "
		         "no more tokens, so nobody can enter again; whoever is in the room stays "
		         "until they leave.",
		         label);
		return "tokens";
	}
	snprintf(msg, n,
	         "%s has no call to end a meeting for everyone: the join gateway is closed, but "
	         "whoever is in the meeting stays until they leave, and the meeting's own link "
	         "still works for whoever has it.",
	         label);
	return "gateway";
}

/* A meeting the pipeline makes at the provider and has not made yet: its create is queued,
 * in flight, or waiting for a reconnect (Twilio's rooms are not: their link is ready at once
 * and a room still to be opened is the end job's). */
static bool unmade_remote(const struct ml_provider_ops *ops, json_t *m)
{
	if (!ops || !ml_pipeline_remote(ops->name) || (ops->caps & ML_CAP_LAZY))
		return false;
	const char *s = str(m, "status");
	return s && (strcmp(s, "pending") == 0 || strcmp(s, "error") == 0);
}

/* Ending a meeting not made yet: it never will be. The meeting is cancelled, so a create that
 * has not started does nothing (meeting_job.c: it no longer waits to be created), and a
 * meeting.delete queued behind it removes whatever an attempt made: a create still queued is
 * dropped, and as a booking's jobs run one at a time, in order, a create in flight finishes
 * first and its outcome notes the
 * provider's id for the delete; a create whose answer was lost (a timeout, a daemon killed)
 * is found by the delete all the same (docs/pipeline.md: a delete without a known provider
 * id derives it, looks it up by its marker, or asks createOrGet). */
static int stop_create(struct ml_tx *tx, struct ml_step *st, json_t *booking,
                       const struct ml_provider_ops *ops, char *msg, size_t n)
{
	json_t *m = json_object_get(booking, "meeting");
	st->wake = true;
	/* A create queued (for a retry, or a reconnect) is dropped: the delete, first of the
	 * booking's jobs then, does not wait for it. */
	int rc = ml_tx_job_cancel_group(tx, str(booking, "id"), "meeting.create");
	if (rc >= 0)
		rc = ml_pipeline_plan_delete(tx, st->org_id, str(booking, "id"), m,
		                             str(booking, "host_id"));
	if (rc < 0)
		return rc;
	ml_meeting_move(m, ML_MEV_CANCEL);
	snprintf(msg, n,
	         "The meeting was not made at %s yet: it will not be, and whatever an attempt "
	         "made there is deleted.",
	         ops->label);
	return 0;
}

int ml_booking_end(struct ml_tx *tx, struct ml_step *st, json_t *booking, const char *reason,
                   bool *again)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const char *status = str(booking, "status");
	const char *next = ml_booking_next(status, ML_BK_END);
	json_t *service = NULL, *host = NULL, *events = NULL;
	char now[ML_RFC3339_MAX], msg[400];
	int rc;

	*again = json_object_get(booking, "ended") != NULL;
	if (*again)
		return 0; /* the same end: answered as it stands */
	if (!next)
		return refuse(booking);
	if (!json_is_true(json_object_get(booking, "is_online")) || !platform)
		return ml_error_set(ML_ECONFLICT, "no_meeting", "is_online",
		                    "This booking has no online meeting to end; POST "
		                    "/v1/bookings/%s/complete completes it.",
		                    str(booking, "id"));
	if ((rc = ml_booking_related(tx, st->org_id, booking, &service, &host)) < 0)
		return rc;
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	struct ml_provider_ctx cx = {st->platforms, ml_now(), NULL};
	bool unmade = unmade_remote(ops, m);
	const char *method = unmade ? "not_made" : how(ops, &cx, msg, sizeof msg);
	events = json_array();
	ml_time_format(ml_now(), now);
	json_object_set_new(booking, "ended",
	                    json_pack("{s:s, s:s?, s:s?, s:s, s:s, s:s, s:n, s:n, s:n}", "at", now,
	                              "by", st->actor, "reason", reason, "platform", platform,
	                              "method", method, "platform_status", "pending",
	                              "ended_at_platform", "message", "settled_at"));
	if (strcmp(status, next) != 0) {
		json_object_set_new(booking, "status", json_string(next));
		json_array_append_new(events,
		                      json_pack("{s:s, s:{s:s?, s:b}}", "type", "booking.completed",
		                                "data", "reason", reason, "ended", 1));
	}
	json_array_append_new(events, json_pack("{s:s, s:{s:s, s:s}}", "type",
	                                        "meeting.end_requested", "data", "platform",
	                                        platform, "method", method));
	if (unmade) {
		if ((rc = stop_create(tx, st, booking, ops, msg, sizeof msg)) < 0)
			goto done;
		ml_end_settle(booking, ops->label, true, msg, events);
	} else if (strcmp(method, "provider") != 0) {
		ml_end_settle(booking, ops ? ops->label : platform, false, msg, events);
	} else if (ml_meeting_is_ready(m) || ml_meeting_is_pending(m)) {
		/* The provider's call is a job: the answer does not wait for it. */
		st->wake = true;
		if ((rc = ml_pipeline_plan_end(tx, st->org_id, booking)) < 0)
			goto done;
	} else {
		snprintf(msg, sizeof msg, "There was no meeting at %s to end.", ops->label);
		ml_end_settle(booking, ops->label, true, msg, events);
	}
	/* Whoever waits to be let in is told: the meeting is over. */
	if ((rc = ml_waiting_close(tx, st, booking)) < 0)
		goto done;
	rc = ml_booking_save(tx, st, booking, service, host, events, false);
done:
	json_decref(events);
	json_decref(service);
	json_decref(host);
	return rc;
}
