/* A Twilio room that completed on its own (meeting/meeting.h: ml_meeting_room_ended).
 *
 * Twilio completes an in-progress room when it stays empty past its EmptyRoomTimeout, or
 * unused past its UnusedRoomTimeout (the room's create form, providers/twilio.c), and says so
 * with the status callback `room-ended`. A room so closed takes nobody again, by its sid or
 * its UniqueName. While the booking is still to be met (confirmed or in progress, not ended
 * for everyone), the meeting is marked not open (`opened_at` removed, `room_ended_at` set):
 * the next arrival at the join gateway opens a room again with the same UniqueName (a
 * meeting.open job, src/meeting/gateway.c), whose new RoomSid the outcome records, instead of
 * a token for the dead room. An end for everyone keeps it closed: its booking has `ended`,
 * and the gateway lets nobody through anyway. Only the booking's current room counts: a
 * late room-ended of a room replaced since, or of a meeting regenerated, changes nothing. */
#include "core/error.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/meeting.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The booking is still to be met, and its meeting is the room that ended. */
static bool reopenable(json_t *booking, const char *meeting_id, const char *room_sid)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *s = str(booking, "status");
	return (same(s, "confirmed") || same(s, "in_progress")) &&
	       !json_object_get(booking, "ended") && same(str(m, "id"), meeting_id) &&
	       str(m, "opened_at") && same(str(m, "room_sid"), room_sid);
}

int ml_meeting_room_ended(struct ml_tx *tx, const struct ml_platform_settings *ps,
                          const char *platform, const char *name, const char *room_sid,
                          const char *ip, bool *closed)
{
	char org[40], bkg[40], mtg[40], now[ML_RFC3339_MAX], actor[64];
	json_t *booking = NULL, *service = NULL, *host = NULL;
	*closed = false;
	int rc = ml_tx_provider_meeting_find(tx, platform, name, org, bkg, mtg);
	if (rc == 0)
		rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, org, bkg, &booking);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	if (!reopenable(booking, mtg, room_sid))
		goto done;
	if ((rc = ml_booking_related(tx, org, booking, &service, &host)) < 0)
		goto done;
	json_t *m = json_object_get(booking, "meeting");
	ml_time_format(ml_now(), now);
	json_object_del(m, "opened_at");
	json_object_set_new(m, "room_ended_at", json_string(now));
	json_t *events = json_pack("[{s:s, s:{s:s, s:s}}]", "type", "meeting.room_ended", "data",
	                           "platform", platform, "room_sid", room_sid);
	snprintf(actor, sizeof actor, "provider:%s", platform);
	struct ml_step st = {ps, org, actor, ip, false, NULL};
	rc = ml_booking_save(tx, &st, booking, service, host, events, false);
	json_decref(events);
	*closed = rc == 0;
done:
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}
