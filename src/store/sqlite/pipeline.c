/* The meeting pipeline's tables on SQLite (migration 0005): provider meeting ids → bookings,
 * and inbound provider events already handled. Inside the caller's transaction; prepared. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>

int ml_sq_provider_meeting_put(struct ml_tx *tx, const char *platform, const char *external_id,
                               const char *org_id, const char *booking_id, const char *meeting_id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT OR REPLACE INTO provider_meetings(platform, "
	                                 "external_id, org_id, booking_id, meeting_id, created_at) "
	                                 "VALUES (?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "provider meeting put");
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, external_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, booking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, meeting_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ml_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "provider meeting put");
	return 0;
}

int ml_sq_provider_meeting_find(struct ml_tx *tx, const char *platform, const char *external_id,
                                char org_id[40], char booking_id[40], char meeting_id[40])
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st =
	    ml_sq_prep(c, "SELECT org_id, booking_id, meeting_id FROM "
	                  "provider_meetings WHERE platform = ? AND external_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "provider meeting find");
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, external_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snprintf(org_id, 40, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(booking_id, 40, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(meeting_id, 40, "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such provider meeting.");
	return ml_sq_fail(c->db, "provider meeting find");
}

int ml_sq_inbound_event_first(struct ml_tx *tx, const char *provider, const char *key,
                              int64_t now_ms, int64_t keep_ms)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
	    ml_sq_prep(c, "INSERT OR IGNORE INTO inbound_events(provider, event_key, "
	                  "received_at) VALUES (?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "inbound event");
	sqlite3_bind_text(st, 1, provider, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "inbound event");
	int fresh = sqlite3_changes(c->db) > 0;
	/* Keys older than the replay window can never be replayed (the timestamp check refuses
	 * them first): forget them. */
	st = ml_sq_prep(c, "DELETE FROM inbound_events WHERE received_at < ?");
	if (!st)
		return ml_sq_fail(c->db, "inbound event");
	sqlite3_bind_int64(st, 1, now_ms - keep_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "inbound event");
	return fresh;
}
