/* The overlap check of a host's bookings on SQLite (ml_tx_booking_overlap, issue 18 §5).
 *
 * A conflict decision must not rest on a snapshot another writer can invalidate. An
 * optimistic run (occ.c) answers it on its snapshot and records the question: the writer asks
 * it again, on the single writer connection, right before it applies the run's writes, and
 * runs the whole transaction again the ordinary way if the answer changed. So the answer the
 * run acted on holds when its writes commit, nothing else commits in between, and a confirm
 * keeps the optimistic path (its JSON work off the writer thread). On the ordinary path the
 * query runs on the writer itself.
 *
 * The query seeks the partial index bookings_busy (org_id, host_id, start_at, end_at, id) of
 * confirmed and in_progress bookings (migration 0016) over start_at in (start - 7 days, end):
 * a booking lasts at most 7 days, so no booking starting earlier can reach `start`. The index
 * covers the query: a dense calendar costs index entries, not table rows.
 */
#include "store/sqlite/internal.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

#define MAX_SPAN_MS (7LL * 24 * 3600 * 1000)

int ml_sq_overlap_query(struct sq_conn *c, const char *org_id, const char *host_id,
			const char *except_id, int64_t start, int64_t end,
			struct ml_booking_span *out)
{
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
			snprintf(out->id, sizeof out->id, "%s", id);
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

int ml_sq_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_overlap(tx, org_id, host_id, except_id, start, end, out);
	return ml_sq_overlap_query(ml_sq_txc(tx), org_id, host_id, except_id, start, end, out);
}
