/* The overlap check of a host's bookings on SQLite (ml_tx_booking_overlap, issue 18 §5).
 *
 * A conflict decision must not rest on a snapshot another writer can invalidate, and an
 * optimistic run (occ.c) validates only the documents it read, not a range. So the check
 * takes the connection with ml_sq_txc(): in a recording run that marks the run unusable and
 * the callback runs again on the single writer, where nothing else commits between the check
 * and the write that follows it.
 *
 * The query seeks the partial index bookings_busy (org_id, host_id, start_at) of confirmed
 * and in_progress bookings (migration 0016) over start_at in (start - 7 days, end): a booking
 * lasts at most 7 days, so no booking starting earlier can reach `start`.
 */
#include "store/sqlite/internal.h"
#include "core/error.h"

#include <string.h>

#define MAX_SPAN_MS (7LL * 24 * 3600 * 1000)

int ml_sq_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	/* The status term is the index's own WHERE, word for word, so the planner uses it. */
	sqlite3_stmt *st = ml_sq_prep(
	    c, "SELECT id, start_at, end_at FROM bookings "
	       "WHERE org_id = ?1 AND host_id = ?2 AND status IN ('confirmed', 'in_progress') "
	       "AND start_at > ?3 - ?6 AND start_at < ?4 AND end_at > ?3 AND id IS NOT ?5 "
	       "ORDER BY start_at LIMIT 1");
	if (!st)
		return ml_sq_fail(c->db, "overlap");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, start * 1000);
	sqlite3_bind_int64(st, 4, end * 1000);
	if (except_id)
		sqlite3_bind_text(st, 5, except_id, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, MAX_SPAN_MS);
	int r = sqlite3_step(st), found = 0;
	if (r == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		memset(out, 0, sizeof *out);
		if (id)
			strncpy(out->id, id, sizeof out->id - 1);
		out->start = sqlite3_column_int64(st, 1) / 1000;
		out->end = sqlite3_column_int64(st, 2) / 1000;
		found = 1;
	} else if (r != SQLITE_DONE) {
		sqlite3_reset(st);
		return ml_sq_fail(c->db, "overlap");
	}
	sqlite3_reset(st);
	return found;
}
