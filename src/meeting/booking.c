/* The booking's lifecycle (SPEC §3): create, confirm, reschedule, cancel, reject, complete,
 * and the one save path every step ends in (booking.h). Moved from api/bookings.c: the API
 * parses and authorizes, this decides. */
#include "meeting/booking.h"
#include "meeting/presence.h"
#include "conn/connections.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "meeting/gateway.h"
#include "meeting/meeting.h"
#include "meeting/waiting.h"
#include "meeting/recording.h"
#include "notify/outbox.h"
#include "providers/provider.h"

#include <stdio.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A local platform's driver context: with the organization's credential when the platform
 * takes one and the organization has set it (JaaS: its app id and key, over the server's). */
struct org_ctx {
	struct ml_provider_ctx cx;
	struct ml_conn_token tok;
	struct ml_pcreds cr;
};

static const struct ml_provider_ctx *org_ctx(struct ml_tx *tx, const struct ml_step *st,
                                             json_t *booking, struct org_ctx *o)
{
	const char *platform = str(json_object_get(booking, "meeting"), "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	memset(o, 0, sizeof *o);
	o->cx = (struct ml_provider_ctx){st->platforms, ml_now(), NULL};
	if (ops && (ops->caps & ML_CAP_LOCAL) &&
	    ml_conn_org_pcreds(tx, st->vault, st->org_id, str(booking, "host_id"), ops->name,
	                       &o->tok, &o->cr))
		o->cx.creds = &o->cr;
	return &o->cx;
}

int ml_booking_related(struct ml_tx *tx, const char *org_id, json_t *booking, json_t **service,
                       json_t **host)
{
	json_t *svc = NULL, *hst = NULL;
	/* Both are only read here: shared, not copied. */
	int rc = ml_tx_doc_peek(tx, ML_KIND_SERVICE, org_id, str(booking, "service_id"), &svc);
	if (rc == ML_ENOTFOUND) {
		svc = json_pack("{s:b, s:n, s:{}}", "is_online", 0, "platform", "settings");
		rc = 0;
	}
	if (rc < 0)
		return rc;
	rc = ml_tx_doc_peek(tx, ML_KIND_HOST, org_id, str(booking, "host_id"), &hst);
	if (rc == ML_ENOTFOUND) {
		/* The host was deleted: the booking kept who organised it. */
		json_t *org = json_object_get(booking, "organizer");
		hst = org ? json_deep_copy(org) : json_pack("{s:s, s:s}", "name", "", "email", "");
		rc = 0;
	}
	if (rc < 0) {
		json_decref(svc);
		return rc;
	}
	*service = svc;
	*host = hst;
	return 0;
}

int ml_booking_save(struct ml_tx *tx, const struct ml_step *st, json_t *booking, json_t *service,
                    json_t *host, json_t *events, bool insert)
{
	int rc;
	if (!insert) {
		char now[ML_RFC3339_MAX];
		ml_time_format(ml_now(), now);
		json_object_set_new(booking, "updated_at", json_string(now));
	}
	/* The platform's own link, under its own name for integrators who bypass the gateway
	 * (meeting.join_url stays the same link: docs/gateway.md). */
	json_t *m = json_object_get(booking, "meeting");
	if (json_is_object(m))
		json_object_set(m, "platform_url",
		                json_object_get(m, "join_url") ? json_object_get(m, "join_url")
		                                               : json_null());
	if ((rc = insert ? ml_tx_doc_insert(tx, ML_KIND_BOOKING, st->org_id, booking)
	                 : ml_tx_doc_update(tx, ML_KIND_BOOKING, st->org_id, booking)) < 0)
		return rc;
	/* Every participant's gateway link is known to the store by its hash. */
	if ((rc = ml_gateway_links_sync(tx, st->platforms, st->org_id, booking, host)) < 0)
		return rc;
	/* Its recording bot follows the booking (sent, moved, taken out). */
	if ((rc = ml_recording_plan(tx, st, booking, service)) < 0)
		return rc;
	const char *id = str(booking, "id");
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		struct ml_audit a = {st->org_id, id,     str(e, "type"),
		                     st->actor,  st->ip, json_object_get(e, "data")};
		if ((rc = ml_tx_audit_append(tx, &a)) < 0)
			return rc;
	}
	if (json_array_size(events) == 0)
		return 0;
	/* Queues the emails and webhooks of what just happened, in the step's transaction. */
	struct org_ctx o;
	rc = ml_notify_events(tx, org_ctx(tx, st, booking, &o), st->org_id, booking, service,
	                      host, events);
	ml_conn_token_clear(&o.tok);
	return rc;
}

json_t *ml_booking_span_json(const struct ml_booking_span *b)
{
	char s[ML_RFC3339_MAX], e[ML_RFC3339_MAX];
	ml_time_format(b->start, s);
	ml_time_format(b->end, e);
	return json_pack("{s:s, s:s, s:s}", "id", b->id, "start", s, "end", e);
}

json_t *ml_booking_conflict_json(const struct ml_step *st)
{
	return ml_booking_span_json(&st->conflict);
}

/* The booking, confirmed over [start, end), may not overlap another confirmed or in_progress
 * booking of its host unless the request allows it. The store answers under the write lock,
 * so two requests cannot both pass (ml_tx_booking_overlap). `field` is the one the 409 names. */
static int check_overlap(struct ml_tx *tx, struct ml_step *st, json_t *booking, int64_t start,
			 int64_t end, const char *field)
{
	const char *host_id = str(booking, "host_id");
	if (st->allow_overlap || !host_id)
		return 0;
	int rc = ml_tx_booking_overlap(tx, st->org_id, host_id, str(booking, "id"), start, end,
				       &st->conflict);
	if (rc <= 0)
		return rc;
	st->has_conflict = true;
	memset(&st->subject, 0, sizeof st->subject);
	if (str(booking, "id"))
		snprintf(st->subject.id, sizeof st->subject.id, "%s", str(booking, "id"));
	st->subject.start = start;
	st->subject.end = end;
	char s[ML_RFC3339_MAX], e[ML_RFC3339_MAX];
	ml_time_format(st->conflict.start, s);
	ml_time_format(st->conflict.end, e);
	if (strcmp(field, "host_id") == 0)
		return ml_error_set(ML_ECONFLICT, "booking_conflict", field,
				    "Booking %s would overlap the new host's booking %s from %s to "
				    "%s; send \"allow_overlap\": true to move it anyway.",
				    st->subject.id, st->conflict.id, s, e);
	return ml_error_set(ML_ECONFLICT, "booking_conflict", field,
			    "The host has booking %s from %s to %s, which overlaps this one; send "
			    "\"allow_overlap\": true to book both.",
			    st->conflict.id, s, e);
}

int ml_booking_check_overlap(struct ml_tx *tx, struct ml_step *st, json_t *booking,
			     const char *field)
{
	int64_t start = 0, end = 0;
	ml_time_parse(str(booking, "start"), &start);
	ml_time_parse(str(booking, "end"), &end);
	return check_overlap(tx, st, booking, start, end, field);
}

/* Confirms the booking (status checked by the caller): status, meeting. Remote platforms
 * are made by the pipeline: the meeting turns pending, its create job is queued in this
 * transaction (the API answers 202). */
static int confirm(struct ml_tx *tx, struct ml_step *st, json_t *booking, json_t *service,
                   json_t *host, json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	/* (Pending, checked by the caller or just created.) */
	json_object_set_new(booking, "status",
	                    json_string(ml_booking_next(str(booking, "status"), ML_BK_CONFIRM)));
	json_array_append_new(events,
	                      json_pack("{s:s, s:{}}", "type", "booking.confirmed", "data"));
	if (!json_is_true(json_object_get(service, "is_online")) ||
	    !json_string_value(json_object_get(m, "platform")))
		return 0;
	/* A manual link given on the pending booking is the meeting as it stands. */
	if (strcmp(str(m, "platform"), ML_PLATFORM_MANUAL) == 0 && str(m, "join_url")) {
		ml_meeting_move(m, ML_MEV_MADE_HERE);
		return 0;
	}
	if (ml_pipeline_remote(str(m, "platform"))) {
		st->wake = true;
		return ml_pipeline_plan_create(tx, st->platforms, st->org_id, booking, service,
		                               host, events);
	}
	struct org_ctx o;
	int rc = ml_meeting_make(org_ctx(tx, st, booking, &o), st->org_id, booking, service, host,
	                      events);
	ml_conn_token_clear(&o.tok);
	/* Its room's presence events find the booking (meeting/presence.h). */
	return rc < 0 ? rc : ml_presence_map_room(tx, st->org_id, booking);
}

int ml_booking_create(struct ml_tx *tx, struct ml_step *st, json_t *booking, json_t *service,
                      json_t *host, int64_t start, int64_t end, bool has_end, bool confirmed)
{
	if (!has_end)
		end = start + 60 * json_integer_value(json_object_get(service, "duration_minutes"));
	if (!ml_time_in_range(end))
		/* The service's duration takes the end past what an invitation can carry. */
		return ml_error_set(ML_EINVAL, "invalid_field", "start",
		                    "start plus the service's duration must end %s.",
		                    ML_TIME_RANGE_TEXT);
	json_t *events = json_array();
	int rc = 0;
	const char *host_id = str(service, "host_id");
	json_object_set_new(booking, "host_id", json_string(host_id));
	json_object_set_new(
	    booking, "organizer",
	    json_pack("{s:s?, s:s?}", "name", str(host, "name"), "email", str(host, "email")));
	if (!str(booking, "title"))
		json_object_set_new(booking, "title", json_string(str(service, "name")));
	if (!str(booking, "timezone")) {
		const char *tz = str(json_object_get(booking, "customer"), "timezone");
		json_object_set_new(booking, "timezone",
		                    json_string(tz ? tz : str(host, "timezone")));
	}
	char sbuf[ML_RFC3339_MAX], ebuf[ML_RFC3339_MAX], hp[ML_ID_MAX];
	ml_time_format(start, sbuf);
	ml_time_format(end, ebuf);
	json_object_set_new(booking, "start", json_string(sbuf));
	json_object_set_new(booking, "end", json_string(ebuf));
	json_object_set_new(booking, "duration_minutes", json_integer((end - start) / 60));
	ml_id_new(hp, "prt");
	json_object_set_new(booking, "host_participant_id", json_string(hp));
	json_object_set_new(booking, "sequence", json_integer(0));
	json_object_set_new(booking, "cancel_reason", json_null());
	bool online = json_is_true(json_object_get(service, "is_online"));
	json_object_set_new(booking, "is_online", json_boolean(online));
	json_object_set_new(booking, "meeting",
	                    ml_meeting_new(online ? str(service, "platform") : NULL));
	json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type", "booking.created", "data",
	                                        "status", "pending"));
	if (confirmed && ((rc = check_overlap(tx, st, booking, start, end, "start")) < 0 ||
	                  (rc = confirm(tx, st, booking, service, host, events)) < 0))
		goto done;
	rc = ml_booking_save(tx, st, booking, service, host, events, true);
done:
	json_decref(events);
	return rc;
}

static int illegal(json_t *booking, enum ml_booking_action action)
{
	const char *status = str(booking, "status");
	return ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
	                    "A %s booking cannot be %s (current status: %s).", status,
	                    action == ML_BK_CONFIRM      ? "confirmed"
	                    : action == ML_BK_RESCHEDULE ? "rescheduled"
	                    : action == ML_BK_CANCEL     ? "cancelled"
	                    : action == ML_BK_REJECT     ? "rejected"
	                                                 : "completed",
	                    status);
}

static int reschedule(struct ml_tx *tx, struct ml_step *st, json_t *booking, json_t *service,
                      json_t *host, const struct ml_booking_change *c, json_t *events)
{
	int64_t old_start = 0, old_end = 0;
	char sbuf[ML_RFC3339_MAX], ebuf[ML_RFC3339_MAX];

	ml_time_parse(str(booking, "start"), &old_start);
	ml_time_parse(str(booking, "end"), &old_end);
	int64_t end = c->has_end ? c->end : c->start + (old_end - old_start);
	if (!ml_time_in_range(end))
		return ml_error_set(ML_EINVAL, "invalid_field", "start",
		                    "start plus the booking's duration must end %s.",
		                    ML_TIME_RANGE_TEXT);
	if (end <= c->start)
		return ml_error_set(ML_EINVAL, "invalid_field", "end", "end must be after start.");
	if (end - c->start > ML_BOOKING_MAX_DURATION)
		return ml_error_set(ML_EINVAL, "invalid_field", "end",
		                    "A booking lasts at most 7 days.");
	const char *status = str(booking, "status");
	int rc;
	if ((strcmp(status, "confirmed") == 0 || strcmp(status, "in_progress") == 0) &&
	    (rc = check_overlap(tx, st, booking, c->start, end, "start")) < 0)
		return rc;
	ml_time_format(c->start, sbuf);
	ml_time_format(end, ebuf);
	json_array_append_new(events, json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "type",
	                                        "booking.rescheduled", "data", "from_start",
	                                        str(booking, "start"), "from_end",
	                                        str(booking, "end"), "start", sbuf, "end", ebuf));
	json_object_set_new(booking, "start", json_string(sbuf));
	json_object_set_new(booking, "end", json_string(ebuf));
	json_object_set_new(booking, "duration_minutes", json_integer((end - c->start) / 60));
	if (c->timezone)
		json_object_set_new(booking, "timezone", json_string(c->timezone));
	json_object_set_new(
	    booking, "sequence",
	    json_integer(json_integer_value(json_object_get(booking, "sequence")) + 1));
	if (ml_pipeline_remote(str(json_object_get(booking, "meeting"), "platform"))) {
		/* Updated in place by the pipeline (same link); a queued update is replaced. */
		st->wake = true;
		return ml_pipeline_plan_update(tx, st->platforms, st->org_id, booking, events);
	}
	struct org_ctx o;
	rc = ml_meeting_update(org_ctx(tx, st, booking, &o), st->org_id, booking, service, host,
	                       events);
	ml_conn_token_clear(&o.tok);
	return rc;
}

static int cancel(struct ml_tx *tx, struct ml_step *st, json_t *booking, json_t *service,
                  json_t *host, const char *next, const char *reason, json_t *events)
{
	int rc;
	/* previous_status: a booking cancelled while pending had no invitation to withdraw. */
	json_array_append_new(events, json_pack("{s:s, s:{s:s?, s:s}}", "type", "booking.cancelled",
	                                        "data", "reason", reason, "previous_status",
	                                        str(booking, "status")));
	json_object_set_new(booking, "status", json_string(next));
	json_object_set_new(booking, "cancel_reason", reason ? json_string(reason) : json_null());
	json_object_set_new(
	    booking, "sequence",
	    json_integer(json_integer_value(json_object_get(booking, "sequence")) + 1));
	/* A remote meeting is deleted by the pipeline, after whatever the booking has queued
	 * before (a create still running included). */
	st->wake = true;
	if ((rc = ml_pipeline_plan_delete(tx, st->org_id, str(booking, "id"),
	                                  json_object_get(booking, "meeting"),
	                                  str(booking, "host_id"))) < 0)
		return rc;
	struct ml_provider_ctx cx = {st->platforms, ml_now()};
	return ml_meeting_cancel(&cx, st->org_id, booking, service, host, events);
}

int ml_booking_apply(struct ml_tx *tx, struct ml_step *st, json_t *booking,
                     const struct ml_booking_change *c)
{
	json_t *service = NULL, *host = NULL, *events = json_array();
	const char *next;
	int rc;

	if (!(next = ml_booking_next(str(booking, "status"), c->action))) {
		rc = illegal(booking, c->action);
		goto done;
	}
	if ((rc = ml_booking_related(tx, st->org_id, booking, &service, &host)) < 0)
		goto done;
	switch (c->action) {
	case ML_BK_CONFIRM:
		if ((rc = ml_booking_check_overlap(tx, st, booking, "start")) == 0)
			rc = confirm(tx, st, booking, service, host, events);
		break;
	case ML_BK_RESCHEDULE:
		rc = reschedule(tx, st, booking, service, host, c, events);
		break;
	case ML_BK_CANCEL:
		rc = cancel(tx, st, booking, service, host, next, c->reason, events);
		break;
	default:
		json_object_set_new(booking, "status", json_string(next));
		json_array_append_new(
		    events,
		    json_pack("{s:s, s:{s:s?}}", "type",
		              c->action == ML_BK_REJECT ? "booking.rejected" : "booking.completed",
		              "data", "reason", c->reason));
		break;
	}
	if (rc < 0)
		goto done;
	/* A booking that stops being open tells whoever waits to be let in. */
	if ((c->action == ML_BK_CANCEL || c->action == ML_BK_REJECT ||
	     c->action == ML_BK_COMPLETE) &&
	    (rc = ml_waiting_close(tx, st, booking)) < 0)
		goto done;
	rc = ml_booking_save(tx, st, booking, service, host, events, false);
done:
	json_decref(events);
	json_decref(service);
	json_decref(host);
	return rc;
}
