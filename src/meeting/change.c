/* The meeting's changes by hand (a link typed in, retry, regenerate), a service's bookings
 * following its new platform or host, and the one path for a meeting deleted at the provider
 * (booking.h). Moved from api/booking_meeting.c: the API parses and authorizes, this decides.
 */
#include "meeting/booking.h"
#include "meeting/presence.h"
#include "core/error.h"
#include "core/timeutil.h"
#include "domain/gateway.h"
#include "domain/meeting.h"
#include "meeting/meeting.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool open_booking(json_t *booking)
{
	const char *s = str(booking, "status");
	return strcmp(s, "pending") == 0 || strcmp(s, "confirmed") == 0 ||
	       strcmp(s, "in_progress") == 0;
}

/* The meeting just moved to history, if the pipeline made it, is deleted at the provider
 * (after whatever the booking has queued: a create still running included). */
static int delete_replaced(struct ml_tx *tx, struct ml_step *st, json_t *booking)
{
	json_t *hist = json_object_get(json_object_get(booking, "meeting"), "history");
	json_t *old = json_array_get(hist, json_array_size(hist) - 1);
	if (!old || !ml_pipeline_remote(str(old, "platform")))
		return 0;
	st->wake = true;
	return ml_pipeline_plan_delete(tx, st->org_id, str(booking, "id"), old,
				       str(booking, "host_id"));
}

/* Makes the booking's (new or failed) meeting: now for local platforms, through the
 * pipeline for remote ones (status pending, the API answers 202). */
static int make(struct ml_tx *tx, struct ml_step *st, json_t *booking, json_t *service,
		json_t *host, json_t *events)
{
	const char *platform = str(json_object_get(booking, "meeting"), "platform");
	if (ml_pipeline_remote(platform)) {
		int rc;
		/* A create still waiting (for a reconnect) would hold the booking's queue. */
		if ((rc = ml_tx_job_cancel_group(tx, str(booking, "id"), "meeting.create")) < 0)
			return rc;
		st->wake = true;
		return ml_pipeline_plan_create(tx, st->platforms, st->org_id, booking, service, host,
					       events);
	}
	struct ml_provider_ctx cx = {st->platforms, ml_now()};
	int rc = ml_meeting_make(&cx, st->org_id, booking, service, host, events);
	return rc < 0 ? rc : ml_presence_map_room(tx, st->org_id, booking);
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* One open booking follows its service to a new platform and/or host. */
static int follow_one(struct ml_tx *tx, struct ml_step *st, json_t *booking,
		      json_t *service, bool platform_changed, bool host_changed)
{
	json_t *host = NULL, *svc = NULL, *events = json_array();
	char *platform = NULL;
	/* The old meeting goes with the connection of the host who had it. */
	char *old_host = str(booking, "host_id") ? strdup(str(booking, "host_id")) : NULL;
	int rc;
	const char *new_host = str(service, "host_id");
	if (host_changed && new_host) {
		json_object_set_new(booking, "host_id", json_string(new_host));
		json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type",
							"booking.host_changed", "data", "host_id",
							new_host));
	}
	/* The new host may already be busy then (issue 18 §5). */
	if (host_changed && strcmp(str(booking, "status"), "confirmed") == 0 &&
	    (rc = ml_booking_check_overlap(tx, st, booking, "host_id")) < 0)
		goto done;
	if ((rc = ml_booking_related(tx, st->org_id, booking, &svc, &host)) < 0)
		goto done;
	if (host_changed)
		json_object_set_new(booking, "organizer",
				    json_pack("{s:s?, s:s?}", "name", str(host, "name"), "email",
					      str(host, "email")));
	json_t *m = json_object_get(booking, "meeting");
	const char *ms = str(m, "status");
	bool online = json_is_true(json_object_get(service, "is_online"));
	if (online && str(service, "platform"))
		platform = strdup(str(service, "platform"));
	bool confirmed = strcmp(str(booking, "status"), "pending") != 0;
	if (!ms || strcmp(ms, "none") == 0) {
		/* Nothing made yet: it will be made on the new platform. */
		json_object_set_new(m, "platform", platform ? json_string(platform) : json_null());
	} else if (strcmp(ms, "cancelled") != 0) {
		const char *why = platform_changed ? "platform_changed" : "host_changed";
		ml_meeting_archive(booking, platform, why);
		json_t *hist = json_object_get(json_object_get(booking, "meeting"), "history");
		json_t *old = json_array_get(hist, json_array_size(hist) - 1);
		if (old && ml_pipeline_remote(str(old, "platform"))) {
			st->wake = true;
			if ((rc = ml_pipeline_plan_delete(tx, st->org_id, str(booking, "id"), old,
							  old_host)) < 0)
				goto done;
		}
		json_array_append_new(events, json_pack("{s:s, s:{s:s?, s:s}}", "type",
							"meeting.replaced", "data", "platform",
							platform, "because", why));
		if (confirmed && platform && (rc = make(tx, st, booking, service, host, events)) < 0)
			goto done;
	}
	rc = ml_booking_save(tx, st, booking, service, host, events, false);
done:
	free(platform);
	free(old_host);
	json_decref(events);
	json_decref(svc);
	json_decref(host);
	return rc;
}

int ml_booking_follow_service(struct ml_tx *tx, struct ml_step *st, json_t *before,
			      json_t *after)
{
	bool platform_changed = !same(str(before, "platform"), str(after, "platform")) ||
				json_is_true(json_object_get(before, "is_online")) !=
					json_is_true(json_object_get(after, "is_online"));
	bool host_changed = !same(str(before, "host_id"), str(after, "host_id"));
	static const char *const open_status[] = {"pending", "confirmed", NULL};
	int rc = 0;
	if (!platform_changed && !host_changed)
		return 0;
	for (int s = 0; open_status[s] && rc == 0; s++) {
		char *cursor = NULL;
		do {
			struct ml_list_query q = {.limit = 200, .cursor = cursor,
						  .service_id = str(after, "id"),
						  .status = open_status[s]};
			json_t *items = NULL;
			char *next = NULL;
			rc = ml_tx_doc_list(tx, ML_KIND_BOOKING, st->org_id, &q, &items, &next);
			size_t i;
			json_t *b;
			json_array_foreach(items, i, b) {
				if (rc == 0)
					rc = follow_one(tx, st, b, after, platform_changed,
							host_changed);
			}
			json_decref(items);
			free(cursor);
			cursor = next;
		} while (rc == 0 && cursor);
		free(cursor);
	}
	return rc;
}

int ml_booking_meeting_change(struct ml_tx *tx, struct ml_step *st, json_t *booking,
			      const struct ml_meeting_change *c)
{
	json_t *service = NULL, *host = NULL, *events = json_array();
	int rc;

	json_t *m = json_object_get(booking, "meeting");
	const char *mstatus = str(m, "status");
	if (!open_booking(booking)) {
		rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
				  "The meeting of a %s booking cannot be changed (current status: "
				  "%s).",
				  str(booking, "status"), str(booking, "status"));
		goto done;
	}
	if ((rc = ml_booking_related(tx, st->org_id, booking, &service, &host)) < 0)
		goto done;
	bool confirmed = strcmp(str(booking, "status"), "pending") != 0;

	switch (c->op) {
	case ML_MEETING_PUT:
		/* A link the host typed replaces whatever was there; the old one is kept. */
		if (str(m, "join_url") || strcmp(mstatus, "none") != 0) {
			ml_meeting_archive(booking, ML_PLATFORM_MANUAL, "manual_override");
			if ((rc = delete_replaced(tx, st, booking)) < 0)
				goto done;
		} else
			json_object_set_new(m, "platform", json_string(ML_PLATFORM_MANUAL));
		m = json_object_get(booking, "meeting");
		json_object_set_new(m, "join_url", json_string(c->join_url));
		json_object_set_new(m, "host_url", json_string(c->host_url ? c->host_url : c->join_url));
		json_object_set_new(m, "passcode", c->passcode ? json_string(c->passcode) : json_null());
		json_object_set_new(m, "manual_url", json_string(c->join_url));
		/* (The meeting is a fresh one, or one never made: status none.) */
		if (confirmed)
			ml_meeting_move(m, ML_MEV_MADE_HERE);
		json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type", "meeting.updated",
							"data", "platform", ML_PLATFORM_MANUAL));
		break;
	case ML_MEETING_RETRY:
		if (!ml_meeting_next(mstatus, ML_MEV_RETRY)) {
			rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "meeting.status",
					  "Only a meeting in error can be retried (current status: "
					  "%s).",
					  mstatus);
			goto done;
		}
		json_array_append_new(events, json_pack("{s:s, s:{}}", "type", "meeting.retry", "data"));
		rc = make(tx, st, booking, service, host, events);
		break;
	case ML_MEETING_REGENERATE:
		if (!confirmed || !ml_meeting_next(mstatus, ML_MEV_REGENERATE)) {
			rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "meeting.status",
					  "Only a ready or failed meeting of a confirmed booking can "
					  "be regenerated (current status: %s).",
					  mstatus);
			goto done;
		}
		{
			/* A regenerated meeting goes back to the service's platform. */
			const char *platform = str(m, "requested_platform");
			if (!platform)
				platform = json_is_true(json_object_get(service, "is_online"))
						   ? str(service, "platform")
						   : str(m, "platform");
			char *p = platform ? strdup(platform) : NULL;
			ml_meeting_archive(booking, p, "regenerated");
			free(p);
		}
		if ((rc = delete_replaced(tx, st, booking)) < 0)
			goto done;
		/* Every personal gateway link is revoked: new ones (next generation) are recorded
		 * when the booking is saved, and mailed with the update. */
		ml_gateway_generations_bump(booking, host);
		if ((rc = ml_tx_gateway_link_revoke(tx, st->org_id, str(booking, "id"), NULL)) < 0)
			goto done;
		json_array_append_new(events, json_pack("{s:s, s:{}}", "type", "meeting.regenerated", "data"));
		rc = make(tx, st, booking, service, host, events);
		break;
	}
	if (rc < 0)
		goto done;
	/* A new link on a confirmed booking is a change calendars must take: SEQUENCE + 1. */
	if (confirmed && (c->op == ML_MEETING_PUT || c->op == ML_MEETING_REGENERATE))
		json_object_set_new(booking, "sequence",
				    json_integer(json_integer_value(json_object_get(booking, "sequence")) + 1));
	rc = ml_booking_save(tx, st, booking, service, host, events, false);
done:
	json_decref(events);
	json_decref(service);
	json_decref(host);
	return rc;
}

int ml_meeting_deleted_at_provider(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
				   json_t *service, json_t *host, const char *meeting_id,
				   const char *platform, const char *external_id,
				   const char *detected_by, bool *reported)
{
	json_t *m = json_object_get(booking, "meeting");
	bool by_update = strcmp(detected_by, "update") == 0;
	char msg[200];
	int rc;

	*reported = false;
	/* Only the booking's live meeting is reported: our own deletes (cancel, regenerate, a
	 * platform change) concern meetings that are no longer current. */
	if (!meeting_id || !str(m, "id") || strcmp(str(m, "id"), meeting_id) != 0 ||
	    !ml_meeting_move(m, by_update ? ML_MEV_GONE : ML_MEV_GONE_REPORTED))
		return 0;
	if (by_update) {
		snprintf(msg, sizeof msg, "The meeting was deleted or cancelled at the provider; "
					  "regenerate it or set a link by hand.");
	} else {
		const struct ml_provider_ops *ops = ml_provider_find(platform);
		snprintf(msg, sizeof msg,
			 "The meeting was deleted in %s; regenerate it or set a link by hand.",
			 ops ? ops->label : platform);
	}
	json_object_set_new(m, "error", json_pack("{s:s, s:s}", "code",
						  "meeting_deleted_at_provider", "message", msg));
	json_t *events = json_pack("[{s:s, s:{s:s, s:s?, s:s}}]", "type",
				   "meeting.deleted_at_provider", "data", "platform", platform,
				   "external_id", external_id ? external_id : str(m, "external_id"),
				   "detected_by", detected_by);
	rc = ml_booking_save(tx, st, booking, service, host, events, false);
	json_decref(events);
	*reported = rc == 0;
	return rc;
}
