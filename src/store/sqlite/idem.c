/* Idempotency records on SQLite. Inside the caller's transaction; an optimistic run records
 * its put (occ.c). */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>

int ml_sq_idem_get(struct ml_tx *tx, const char *org_id, const char *key, struct ml_idem *out)
{
	/* No read validation needed: the later put's primary key catches a racing writer. */
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT body_hash, status, response FROM idempotency_keys "
				   "WHERE org_id = ? AND key = ?");
	if (!st)
		return ml_sq_fail(c->db, "idempotency");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return ML_ENOTFOUND;
	}
	snprintf(out->body_hash, sizeof out->body_hash, "%s",
		 (const char *)sqlite3_column_text(st, 0));
	out->status = sqlite3_column_int(st, 1);
	out->response = ml_strdup((const char *)sqlite3_column_text(st, 2));
	sqlite3_reset(st);
	return 0;
}

int ml_sq_idem_apply(struct sq_conn *c, const char *org_id, const char *key,
		     const char *body_hash, int status, const char *response)
{
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO idempotency_keys(org_id, key, body_hash, "
					 "status, response, created_at) VALUES (?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "idempotency");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_text(st, 5, response, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ml_now_ms());
	int r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT) {
		sqlite3_reset(st);
		return ml_error_set(ML_ECONFLICT, "idempotency_key_taken", "Idempotency-Key",
				    "Another request with this Idempotency-Key was just made.");
	}
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "idempotency");
	return 0;
}

int ml_sq_idem_put(struct ml_tx *tx, const char *org_id, const char *key, const struct ml_idem *rec)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_idem(tx, org_id, key, rec);
	return ml_sq_idem_apply(ml_sq_txc(tx), org_id, key, rec->body_hash, rec->status,
				rec->response);
}
