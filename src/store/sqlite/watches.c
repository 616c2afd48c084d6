/* Provider watches on SQLite (migration 0018): the Google Calendar channels and Graph
 * subscriptions through which changes made at the provider come back
 * (docs/provider-changes.md). Inside the caller's transaction; every statement prepared. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/json_in.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *row_doc(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	return t ? ml_json_parse(t, (size_t)n, 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
}

int ml_sq_watch_put(struct ml_tx *tx, json_t *doc)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *id = jstr(doc, "id"), *org = jstr(doc, "org_id"), *host = jstr(doc, "host_id"),
		   *platform = jstr(doc, "platform");
	if (!id || !org || !host || !platform)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "incomplete watch");
	sqlite3_stmt *st = ml_sq_prep(
	    c, "INSERT INTO provider_watches(id, org_id, host_id, platform, channel_id, "
	       "prev_channel_id, updated_at, doc) VALUES (?1,?2,?3,?4,?5,?6,?7,?8) "
	       "ON CONFLICT(id) DO UPDATE SET channel_id=?5, prev_channel_id=?6, updated_at=?7, "
	       "doc=?8 WHERE org_id=?2");
	if (!st)
		return ml_sq_fail(c->db, "watch put");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, platform, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 5, jstr(doc, "channel_id"));
	ml_sq_bind_opt(st, 6, jstr(doc, "prev_channel_id"));
	sqlite3_bind_int64(st, 7, ml_now_ms());
	sqlite3_bind_text(st, 8, ml_json_text(doc), -1, free);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : ml_sq_fail(c->db, "watch put");
}

static int one(struct sq_conn *c, sqlite3_stmt *st, json_t **out)
{
	int r = sqlite3_step(st);
	json_t *doc = r == SQLITE_ROW ? row_doc(st, 0) : NULL;
	sqlite3_reset(st);
	if (doc) {
		*out = doc;
		return 0;
	}
	if (r == SQLITE_DONE || r == SQLITE_ROW)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such watch.");
	return ml_sq_fail(c->db, "watch get");
}

int ml_sq_watch_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, json_t **out)
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT doc FROM provider_watches WHERE org_id = ? AND "
					 "host_id = ? AND platform = ?");
	if (!st)
		return ml_sq_fail(c->db, "watch get");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, platform, -1, SQLITE_STATIC);
	return one(c, st, out);
}

int ml_sq_watch_find(struct ml_tx *tx, const char *platform, const char *channel_id,
		     json_t **out)
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT doc FROM provider_watches WHERE platform = ?1 AND "
					 "(channel_id = ?2 OR prev_channel_id = ?2) LIMIT 1");
	if (!st)
		return ml_sq_fail(c->db, "watch find");
	sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, channel_id, -1, SQLITE_STATIC);
	return one(c, st, out);
}

int ml_sq_watch_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "DELETE FROM provider_watches WHERE id = ? AND org_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "watch delete");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "watch delete");
	return sqlite3_changes(c->db) ? 0 : ML_ENOTFOUND;
}
