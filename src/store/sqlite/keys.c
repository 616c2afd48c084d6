/* Organizations and API keys on SQLite. Inside the caller's transaction. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/timeutil.h"

#include <stdio.h>

int ml_sq_org_ensure(struct ml_tx *tx, const char *name, char org_id[40])
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT id FROM orgs WHERE name = ?");
	if (!st)
		return ml_sq_fail(c->db, "org");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(org_id, 40, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	ml_id_new(org_id, "org");
	st = ml_sq_prep(c, "INSERT INTO orgs(id, name, created_at) VALUES (?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "org");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ml_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "org insert");
	return 0;
}

int ml_sq_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id, const char *hash_hex,
                     const char *prefix)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO api_keys(id, org_id, hash, prefix, created_at) "
				   "VALUES (?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "key insert");
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ml_now_ms());
	int r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT)
		return ml_error_set(ML_ECONFLICT, "key_exists", NULL, "That API key already exists.");
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "key insert");
	return 0;
}

int ml_sq_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40], char key_id[40])
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT org_id, id FROM api_keys WHERE hash = ? AND "
				   "revoked_at IS NULL");
	if (!st)
		return ml_sq_fail(c->db, "key lookup");
	sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return ML_ENOTFOUND;
	}
	snprintf(org_id, 40, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(key_id, 40, "%s", (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return 0;
}

int ml_sq_key_count(struct ml_tx *tx)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT count(*) FROM api_keys");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return ml_sq_fail(c->db, "key count");
	int n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return n;
}
