/* Recordings of the bots a recorder sends to a registered calendar's events
 * (docs/recordings.md, "Calendar recordings"). meetlink asks the recorder to record an event
 * with the calendar's id in the bot's extra data; the bot's outcome (complete or failed)
 * names it, and becomes a recording of the calendar's host here: made on the first such
 * webhook, the bot mapped to it (later webhooks of the bot find it as any bot's do), the
 * media and transcript fetched by recording.sync like a booking's. When the meeting the bot
 * recorded is one of the host's bookings' (same join URL), the recording is that booking's.
 */
#include "core/error.h"
#include "core/ids.h"
#include "core/timeutil.h"
#include "meeting/recording.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int ml_rec_calendar_adopt(struct ml_tx *tx, const char *platform,
                          const struct ml_inbound_event *ev, char org[40], char rid[40])
{
	char host[40], cid[40], id[40], now[ML_RFC3339_MAX];
	json_t *cal = NULL, *opts = NULL;
	int rc;
	if ((rc = ml_tx_provider_meeting_find(tx, platform, ev->calendar_id, org, host, cid)) < 0 ||
	    (rc = ml_tx_recording_calendar_get(tx, org, cid, &cal)) < 0)
		return rc;
	ml_id_new(id, "rec");
	ml_time_format(ml_now(), now);
	ml_recording_options(NULL, &opts);
	json_t *rec = json_pack(
	    "{s:s, s:s, s:s, s:n, s:n, s:s?, s:s?, s:s, s:s, s:s, s:s?, s:s, s:n, s:s, s:o, s:n, "
	    "s:n, s:n, s:s, s:[], s:[], s:s, s:s}",
	    "id", id, "object", "recording", "org_id", org, "booking_id", "meeting_id", "host_id",
	    str(cal, "host_id"), "platform", str(cal, "platform"), "recorder", platform, "source",
	    "calendar", "calendar_id", cid, "calendar_event_id", ev->event_id[0] ? ev->event_id : NULL,
	    "bot_id", ev->external_id, "failure", "state", "scheduled", "options", opts,
	    "media_url", "audio_url", "duration_seconds", "transcript_state", "pending", "speakers",
	    "transcript", "created_at", now, "updated_at", now);
	json_decref(cal);
	if (!rec)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "recording not made");
	if ((rc = ml_rec_save(tx, rec)) == 0 &&
	    (rc = ml_tx_provider_meeting_put(tx, platform, ev->external_id, org, "", id)) == 0) {
		struct ml_audit a = {org, NULL, "recording.calendar_bot", str(rec, "recorder"), NULL,
		                     NULL};
		json_t *d = json_pack("{s:s, s:s, s:s, s:s?}", "recording_id", id, "bot_id",
		                      ev->external_id, "calendar_id", cid, "event_id",
		                      ev->event_id[0] ? ev->event_id : NULL);
		a.data = d;
		rc = ml_tx_audit_append(tx, &a);
		json_decref(d);
	}
	json_decref(rec);
	if (rc == 0)
		snprintf(rid, 40, "%s", id);
	return rc;
}

/* The booking of rec's host whose meeting has this join URL, among those starting within a
 * day of the recording: rec becomes that booking's. */
int ml_rec_calendar_link(struct ml_tx *tx, json_t *rec, const char *meeting_url)
{
	int64_t made = 0;
	char *next = NULL;
	json_t *items = NULL, *b;
	size_t i;
	if (!meeting_url || str(rec, "booking_id") || !str(rec, "host_id") ||
	    strcmp(str(rec, "source") ? str(rec, "source") : "", "calendar") != 0)
		return 0;
	ml_time_parse(str(rec, "created_at"), &made);
	struct ml_list_query q = {.limit = 200,
	                          .host_id = str(rec, "host_id"),
	                          .start_from = made - 86400,
	                          .start_to = made + 86400,
	                          .has_start_from = true,
	                          .has_start_to = true};
	int rc = ml_tx_doc_list(tx, ML_KIND_BOOKING, str(rec, "org_id"), &q, &items, &next);
	free(next);
	if (rc < 0)
		return rc;
	json_array_foreach(items, i, b)
	{
		json_t *m = json_object_get(b, "meeting");
		if (str(m, "join_url") && strcmp(str(m, "join_url"), meeting_url) == 0) {
			json_object_set_new(rec, "booking_id", json_string(str(b, "id")));
			json_object_set_new(rec, "meeting_id", json_string(str(m, "id")));
			break;
		}
	}
	json_decref(items);
	return 0;
}
