/* The join gateway's links on SQLite (migration 0013): the hash of each token and the
 * participant it lets in. Inside the caller's transaction; prepared. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>

int ml_sq_gateway_link_apply(struct sq_conn *c, const char *hash, const char *org_id,
                             const char *booking_id, const char *pid, const char *role,
                             int64_t generation)
{
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT OR IGNORE INTO gateway_links(token_hash, org_id, "
	                                 "booking_id, participant_id, role, generation, "
	                                 "created_at) VALUES (?,?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "gateway link put");
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, booking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, pid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, role, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, generation);
	sqlite3_bind_int64(st, 7, ml_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "gateway link put");
	return 0;
}

int ml_sq_gateway_link_put(struct ml_tx *tx, const struct ml_gateway_link *l)
{
	/* Every booking save records its links: an optimistic run records the row too. */
	if (ml_sq_recording(tx))
		return ml_sq_rec_gateway_link(tx, l);
	return ml_sq_gateway_link_apply(ml_sq_txc(tx), l->token_hash, l->org_id, l->booking_id,
	                                l->participant_id, l->role, l->generation);
}

int ml_sq_gateway_link_find(struct ml_tx *tx, const char *token_hash, struct ml_gateway_link *out)
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT org_id, booking_id, participant_id, role, "
	                                 "generation FROM gateway_links WHERE token_hash = ?");
	if (!st)
		return ml_sq_fail(c->db, "gateway link find");
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		struct ml_gateway_link l;
		memset(&l, 0, sizeof l);
		snprintf(l.token_hash, sizeof l.token_hash, "%s", token_hash);
		snprintf(l.org_id, sizeof l.org_id, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(l.booking_id, sizeof l.booking_id, "%s",
		         (const char *)sqlite3_column_text(st, 1));
		snprintf(l.participant_id, sizeof l.participant_id, "%s",
		         (const char *)sqlite3_column_text(st, 2));
		snprintf(l.role, sizeof l.role, "%s", (const char *)sqlite3_column_text(st, 3));
		l.generation = sqlite3_column_int64(st, 4);
		*out = l;
	}
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r == SQLITE_DONE)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such link.");
	return ml_sq_fail(c->db, "gateway link find");
}

int ml_sq_gateway_link_revoke(struct ml_tx *tx, const char *org_id, const char *booking_id,
                              const char *participant_id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
	    participant_id
	        ? ml_sq_prep(c, "DELETE FROM gateway_links WHERE org_id = ? AND booking_id = ? "
	                        "AND participant_id = ?")
	        : ml_sq_prep(c, "DELETE FROM gateway_links WHERE org_id = ? AND booking_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "gateway link revoke");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, booking_id, -1, SQLITE_STATIC);
	if (participant_id)
		sqlite3_bind_text(st, 3, participant_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "gateway link revoke");
	return 0;
}
