/* Read back (meeting/provwatch.h): for providers whose notifications name the item that
 * changed and that keep no sync token (Graph's change notifications name the event), the
 * watch document keeps the items still to read ("dirty", written with the notification in
 * its transaction) and whether every live meeting of the host is to be read ("read_all",
 * after a renewal). A sync takes both in its prepare, reads each item from the provider,
 * and removes what it read in its commit (an item a notification named again meanwhile
 * is read by the sync that notification queued: reading twice changes nothing twice).
 */
#include "core/error.h"
#include "core/mem.h"
#include "domain/booking.h"
#include "meeting/provwatch.h"

#include <stdlib.h>
#include <string.h>

#define DIRTY_MAX 500
#define ITEMS_MAX 1000
#define SCAN_PAGES 25 /* 200 bookings each */

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool has(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) if (json_string_value(v) && strcmp(json_string_value(v), s) == 0)
		return true;
	return false;
}

int ml_watch_note_item(struct ml_tx *tx, json_t *watch, const char *item, bool *queued)
{
	char org[40], bkg[40], mtg[40];
	*queued = false;
	if (!item || !*item)
		return 0;
	int rc = ml_tx_provider_meeting_find(tx, str(watch, "platform"), item, org, bkg, mtg);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0; /* the host's own event: not ours to read */
	}
	if (rc < 0)
		return rc;
	if (strcmp(org, str(watch, "org_id")) != 0)
		return 0; /* another organization's meeting: never looked at */
	json_t *dirty = json_object_get(watch, "dirty");
	if (!json_is_array(dirty)) {
		dirty = json_array();
		json_object_set_new(watch, "dirty", dirty);
	}
	if (!has(dirty, item)) {
		if (json_array_size(dirty) < DIRTY_MAX)
			json_array_append_new(dirty, json_string(item));
		else
			json_object_set_new(watch, "read_all", json_true());
		if ((rc = ml_tx_watch_put(tx, watch)) < 0)
			return rc;
	}
	if ((rc = ml_watch_sync_request(tx, watch)) == 0)
		*queued = true;
	return rc;
}

/* Every live booking of the host whose meeting is on the watch's platform. */
static int live_meetings(struct ml_tx *tx, json_t *watch, json_t *items)
{
	struct ml_list_query q = {.limit = 200, .host_id = str(watch, "host_id")};
	char *cursor = NULL;
	int rc = 0;
	for (int page = 0; page < SCAN_PAGES && json_array_size(items) < ITEMS_MAX; page++) {
		json_t *list = NULL;
		char *next = NULL;
		q.cursor = cursor;
		rc = ml_tx_doc_list(tx, ML_KIND_BOOKING, str(watch, "org_id"), &q, &list, &next);
		free(cursor);
		cursor = next;
		if (rc < 0)
			break;
		size_t i;
		json_t *b;
		json_array_foreach(list, i, b)
		{
			json_t *m = json_object_get(b, "meeting");
			bool live = false;
			for (int k = 0; ml_booking_live[k] && str(b, "status"); k++)
				live |= strcmp(str(b, "status"), ml_booking_live[k]) == 0;
			if (live && str(m, "platform") && str(m, "external_id") &&
			    strcmp(str(m, "platform"), str(watch, "platform")) == 0 &&
			    !has(items, str(m, "external_id")) && json_array_size(items) < ITEMS_MAX)
				json_array_append_new(items, json_string(str(m, "external_id")));
		}
		json_decref(list);
		if (!cursor)
			break;
	}
	free(cursor);
	return rc < 0 ? rc : 0;
}

int ml_watch_read_items(struct ml_tx *tx, json_t *watch, const struct ml_watch_info *wi,
			json_t **items)
{
	(void)wi;
	*items = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(watch, "dirty"), i, v)
		if (json_string_value(v) && !has(*items, json_string_value(v)))
			json_array_append(*items, v);
	if (json_is_true(json_object_get(watch, "read_all")))
		return live_meetings(tx, watch, *items);
	return 0;
}

void ml_watch_read_done(json_t *watch, json_t *items, json_t *keep, bool took_all)
{
	json_t *dirty = json_object_get(watch, "dirty"), *left = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(dirty, i, v)
	{
		const char *s = json_string_value(v);
		if (s && (!has(items, s) || has(keep, s)))
			json_array_append(left, v);
	}
	json_array_foreach(keep, i, v)
		if (json_string_value(v) && !has(left, json_string_value(v)))
			json_array_append(left, v);
	json_object_set_new(watch, "dirty", left);
	if (took_all)
		json_object_del(watch, "read_all");
}
