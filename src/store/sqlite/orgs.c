/* Organizations' settings kept beside them in `orgs`: the request rate limit override. */
#include "store/sqlite/internal.h"
#include "core/error.h"

int ml_sq_org_rate_set(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
		ml_sq_prep(c, "UPDATE orgs SET rate_rps = ?, rate_burst = ? WHERE name = ?");
	if (!st)
		return ml_sq_fail(c->db, "org rate");
	if (rate->set) {
		sqlite3_bind_int64(st, 1, rate->rps);
		sqlite3_bind_int64(st, 2, rate->burst);
	} else {
		sqlite3_bind_null(st, 1);
		sqlite3_bind_null(st, 2);
	}
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "org rate");
	if (sqlite3_changes(c->db) == 0)
		return ml_error_set(ML_ENOTFOUND, "not_found", "org",
				    "No organization is named '%s'.", name);
	return 0;
}

int ml_sq_org_rate_get(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out)
{
	/* Read with the key it belongs to, at most once per key and cache period: an override
	 * set meanwhile is seen when the key's cache entry expires (api.c). */
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT rate_rps, rate_burst FROM orgs WHERE id = ?");
	struct ml_org_rate r = {0};
	if (!st)
		return ml_sq_fail(c->db, "org rate");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		r.set = true;
		r.rps = sqlite3_column_int64(st, 0);
		r.burst = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return ml_sq_fail(c->db, "org rate");
	*out = r;
	return 0;
}
