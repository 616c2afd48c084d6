/* What one event of a watch's sync says about its booking (meeting/provwatch.h).
 *
 * Only events meetlink made count, found by their provider id (provider_meetings, written
 * when the meeting became ready) in the watch's own organization: an event of another
 * organization's booking is never looked at. A full listing also finds events made before
 * the watch existed, by the meetlink_booking property meetlink puts on each, and records
 * their ids when they are the booking's live meeting. Then:
 *
 *   cancelled                     the meeting was deleted at the provider: the one path of
 *                                 booking.h (status error, code meeting_deleted_at_provider,
 *                                 audit and webhook meeting.deleted_at_provider)
 *   other times than the booking  moved at the provider: meeting.moved_at_provider =
 *                                 {start, end, detected_at} on the booking's meeting, audit and
 *                                 webhook meeting.moved_at_provider. The booking keeps its
 *                                 times (meetlink's are the booking's truth); the next update
 *                                 of the meeting (a reschedule) writes them back. Not while an
 *                                 update of ours is queued (it is the one that differs), nor
 *                                 when the booking changed while the listing ran (another
 *                                 sync looks again two seconds later).
 *   the booking's times again     a moved flag is cleared (audit meeting.provider_times_match)
 *
 * Each is a function of what the provider shows now and of the booking, so the same event
 * seen twice (a repeated or reordered notification, a full listing after 410) changes
 * nothing the second time.
 */
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/provwatch.h"
#include "providers/provider.h"
#include "providers/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool time_of(json_t *o, const char *k, int64_t *out)
{
	return str(o, k) && ml_time_parse(str(o, k), out) == 0;
}

/* Whether one of our own updates of the booking's meeting is still to run. */
static int update_queued(struct ml_tx *tx, const char *org, const char *booking_id)
{
	static const char *const states[] = {"queued", "running", NULL};
	struct ml_list_query q = {.limit = 50};
	for (int i = 0; states[i]; i++) {
		json_t *items = NULL;
		char *next = NULL;
		int rc = ml_tx_job_list(tx, org, states[i], booking_id, &q, &items, &next);
		free(next);
		if (rc < 0)
			return rc;
		size_t k;
		json_t *j;
		bool found = false;
		json_array_foreach(items, k, j)
			found |= str(j, "kind") && strcmp(str(j, "kind"), "meeting.update") == 0;
		json_decref(items);
		if (found)
			return 1;
	}
	return 0;
}

static void time_str(int64_t t, char out[ML_RFC3339_MAX])
{
	ml_time_format(t, out);
}

static int moved(struct ml_tx *tx, const struct ml_step *st, json_t *watch, json_t *booking,
		 json_t *service, json_t *host, json_t *change, bool *reported)
{
	json_t *m = json_object_get(booking, "meeting");
	int64_t s = json_integer_value(json_object_get(change, "start")),
		e = json_integer_value(json_object_get(change, "end")), bs = 0, be = 0;
	if (!ml_meeting_is_ready(m) || !time_of(booking, "start", &bs) ||
	    !time_of(booking, "end", &be))
		return 0;
	json_t *flag = json_object_get(m, "moved_at_provider");
	char ss[ML_RFC3339_MAX], es[ML_RFC3339_MAX];
	time_str(s, ss);
	time_str(e, es);
	json_t *events;
	if (s == bs && e == be) {
		if (!flag)
			return 0;
		json_object_del(m, "moved_at_provider");
		events = json_pack("[{s:s, s:{s:s, s:s}}]", "type", "meeting.provider_times_match",
				   "data", "platform", str(m, "platform"), "external_id",
				   str(change, "id"));
	} else {
		if (flag && str(flag, "start") && strcmp(str(flag, "start"), ss) == 0 &&
		    str(flag, "end") && strcmp(str(flag, "end"), es) == 0)
			return 0;
		int q = update_queued(tx, st->org_id, str(booking, "id"));
		if (q != 0)
			return q < 0 ? q : 0;
		/* The booking changed while Google was being listed (a reschedule whose update
		 * has just run): this listing may predate it. Another look, a little later. */
		int64_t upd = 0, listed = json_integer_value(json_object_get(change, "listed_at"));
		if (time_of(booking, "updated_at", &upd) && upd * 1000 >= listed - 1000) {
			int rc = ml_watch_sync_request_at(tx, watch, ml_now_ms() + 2000);
			return rc < 0 ? rc : 1;
		}
		char now[ML_RFC3339_MAX];
		time_str(ml_now(), now);
		json_object_set_new(m, "moved_at_provider",
				    json_pack("{s:s, s:s, s:s}", "start", ss, "end", es,
					      "detected_at", now));
		events = json_pack("[{s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s}}]", "type",
				   "meeting.moved_at_provider", "data", "platform",
				   str(m, "platform"), "external_id", str(change, "id"), "start", ss,
				   "end", es, "booking_start", str(booking, "start"), "booking_end",
				   str(booking, "end"));
	}
	int rc = ml_booking_save(tx, st, booking, service, host, events, false);
	json_decref(events);
	*reported = rc == 0;
	return rc;
}

/* The booking and meeting id the event belongs to, in the watch's organization; 1 when
 * there is one, 0 when the event is not one of ours. */
static int owner(struct ml_tx *tx, json_t *watch, json_t *change, bool full, char bkg[40],
		 char mtg[40])
{
	const char *org = str(watch, "org_id"), *platform = str(watch, "platform");
	const char *id = str(change, "id");
	char morg[40];
	int rc = ml_tx_provider_meeting_find(tx, platform, id, morg, bkg, mtg);
	if (rc == 0)
		return strcmp(morg, org) == 0; /* another organization's: never looked at */
	if (rc != ML_ENOTFOUND)
		return rc;
	ml_error_clear();
	const char *b = str(change, "booking");
	if (!full || !b)
		return 0;
	json_t *booking = NULL;
	rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, org, b, &booking);
	if (rc < 0) {
		if (rc == ML_ENOTFOUND)
			ml_error_clear();
		return rc == ML_ENOTFOUND ? 0 : rc;
	}
	json_t *m = json_object_get(booking, "meeting");
	bool live = str(m, "id") && str(m, "platform") && strcmp(str(m, "platform"), platform) == 0 &&
		    str(m, "external_id") && strcmp(str(m, "external_id"), id) == 0;
	if (live) {
		snprintf(bkg, 40, "%s", b);
		snprintf(mtg, 40, "%s", str(m, "id"));
		rc = ml_tx_provider_meeting_put(tx, platform, id, org, bkg, mtg);
	}
	json_decref(booking);
	return rc < 0 ? rc : live;
}

int ml_watch_apply(struct ml_tx *tx, const struct ml_platform_settings *ps,
		   const struct ml_vault *vault, json_t *watch, json_t *change, bool full,
		   bool *reported)
{
	const char *org = str(watch, "org_id"), *platform = str(watch, "platform");
	const char *id = str(change, "id"), *status = str(change, "status");
	char bkg[40] = "", mtg[40] = "", actor[64];
	json_t *booking = NULL, *service = NULL, *host = NULL;
	*reported = false;
	if (!id || !status)
		return 0;
	int rc = owner(tx, watch, change, full, bkg, mtg);
	if (rc <= 0)
		return rc;
	if ((rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, org, bkg, &booking)) < 0) {
		if (rc == ML_ENOTFOUND)
			ml_error_clear();
		return rc == ML_ENOTFOUND ? 0 : rc;
	}
	json_t *m = json_object_get(booking, "meeting");
	if (!str(m, "id") || strcmp(str(m, "id"), mtg) != 0 || !str(m, "external_id") ||
	    strcmp(str(m, "external_id"), id) != 0) {
		json_decref(booking);
		return 0; /* a meeting the booking no longer uses (ours to delete, or deleted) */
	}
	if ((rc = ml_booking_related(tx, org, booking, &service, &host)) < 0) {
		json_decref(booking);
		return rc;
	}
	snprintf(actor, sizeof actor, "provider:%s", platform);
	struct ml_step st = {ps, org, actor, NULL, false, vault};
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	const char *by = ML_PROVIDER_HAS(ops, watch) ? ops->watch->detected_by : "provider_push";
	if (strcmp(status, "cancelled") == 0)
		rc = ml_meeting_deleted_at_provider(tx, &st, booking, service, host, mtg, platform,
						    id, by, reported);
	else if (json_object_get(change, "start") && json_object_get(change, "end"))
		rc = moved(tx, &st, watch, booking, service, host, change, reported);
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}
