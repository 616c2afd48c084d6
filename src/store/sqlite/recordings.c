/* Recordings and recording calendars on SQLite (migration 0015). Inside the caller's
 * transaction; every statement prepared. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t jtime_ms(json_t *o, const char *k)
{
	int64_t t = 0;
	if (jstr(o, k) && ml_time_parse(jstr(o, k), &t) == 0)
		return t * 1000;
	return ml_now_ms();
}

int ml_sq_recording_put(struct ml_tx *tx, const char *org_id, json_t *doc)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *id = jstr(doc, "id"), *bkg = jstr(doc, "booking_id"),
		   *mtg = jstr(doc, "meeting_id"), *state = jstr(doc, "state");
	/* A calendar bot's recording may belong to no booking (''). */
	if (!bkg)
		bkg = "";
	if (!mtg)
		mtg = "";
	if (!id || !state)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "incomplete recording");
	sqlite3_stmt *st = ml_sq_prep(
	    c, "INSERT INTO recordings(org_id, id, booking_id, meeting_id, host_id, state, bot_id, "
	       "created_at, updated_at, doc) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
	       "ON CONFLICT(id) DO UPDATE SET booking_id=?3, meeting_id=?4, host_id=?5, state=?6, "
	       "bot_id=?7, updated_at=?9, "
	       "doc=?10 WHERE org_id=?1");
	if (!st)
		return ml_sq_fail(c->db, "recording put");
	char *text = ml_json_text(doc);
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, bkg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, mtg, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 5, jstr(doc, "host_id"));
	sqlite3_bind_text(st, 6, state, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 7, jstr(doc, "bot_id"));
	sqlite3_bind_int64(st, 8, jtime_ms(doc, "created_at"));
	sqlite3_bind_int64(st, 9, ml_now_ms());
	sqlite3_bind_text(st, 10, text, -1, free);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_CONSTRAINT)
		return ml_error_set(ML_ECONFLICT, "conflict", NULL,
				    "The recording conflicts with another.");
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "recording put");
	return 0;
}

static json_t *row_doc(sqlite3_stmt *st)
{
	const char *text = (const char *)sqlite3_column_text(st, 0);
	int n = sqlite3_column_bytes(st, 0);
	return json_loadb(text, (size_t)n, 0, NULL);
}

int ml_sq_recording_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **out)
{
	/* Read to be changed (an optimistic run goes to the writer: serial, never stale). */
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT doc FROM recordings WHERE id = ? AND org_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "recording get");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	json_t *doc = r == SQLITE_ROW ? row_doc(st) : NULL;
	sqlite3_reset(st);
	if (r == SQLITE_ROW && doc) {
		*out = doc;
		return 0;
	}
	if (r == SQLITE_DONE)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such recording.");
	return ml_sq_fail(c->db, "recording get");
}

int ml_sq_recording_list(struct ml_tx *tx, const char *org_id, const struct ml_recording_query *q,
			 json_t **items, char **next_cursor)
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	struct ml_buf sql = {0};
	int64_t cur = 0;
	char cur_id[40] = "";
	int rc, limit = q->limit > 0 ? q->limit : 50;
	const char *binds[8];
	int nb = 0;

	if (q->cursor && (rc = ml_store_cursor_decode(q->cursor, &cur, cur_id)) < 0)
		return rc;
	ml_buf_puts(&sql, "SELECT doc, rowid, id FROM recordings WHERE org_id = ?");
	if (q->booking_id) {
		ml_buf_puts(&sql, " AND booking_id = ?");
		binds[nb++] = q->booking_id;
	}
	if (q->meeting_id) {
		ml_buf_puts(&sql, " AND meeting_id = ?");
		binds[nb++] = q->meeting_id;
	}
	if (q->host_id) {
		ml_buf_puts(&sql, " AND host_id = ?");
		binds[nb++] = q->host_id;
	}
	if (q->state) {
		ml_buf_puts(&sql, " AND state = ?");
		binds[nb++] = q->state;
	}
	if (q->has_from)
		ml_buf_puts(&sql, " AND created_at >= ?1000");
	if (q->has_to)
		ml_buf_puts(&sql, " AND created_at < ?1001");
	if (q->cursor)
		ml_buf_puts(&sql, " AND rowid > ?1002");
	ml_buf_puts(&sql, " ORDER BY rowid LIMIT ?1004");
	sqlite3_stmt *st = ml_sq_prep(c, sql.data);
	ml_buf_free(&sql);
	if (!st)
		return ml_sq_fail(c->db, "recording list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	for (int i = 0; i < nb; i++)
		sqlite3_bind_text(st, 2 + i, binds[i], -1, SQLITE_STATIC);
	if (q->has_from)
		sqlite3_bind_int64(st, 1000, q->created_from * 1000);
	if (q->has_to)
		sqlite3_bind_int64(st, 1001, q->created_to * 1000);
	if (q->cursor)
		sqlite3_bind_int64(st, 1002, cur);
	sqlite3_bind_int(st, 1004, limit + 1);
	return ml_sq_page(c, st, limit, row_doc, 1, 2, items, next_cursor);
}

/* --- recording calendars --- */

int ml_sq_recording_calendar_put(struct ml_tx *tx, const char *org_id, json_t *doc)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *id = jstr(doc, "id"), *host = jstr(doc, "host_id");
	if (!id || !host)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "incomplete calendar");
	sqlite3_stmt *st = ml_sq_prep(
	    c, "INSERT INTO recording_calendars(org_id, id, host_id, external_id, created_at, doc) "
	       "VALUES (?1,?2,?3,?4,?5,?6) ON CONFLICT(id) DO UPDATE SET doc=?6 WHERE org_id=?1");
	if (!st)
		return ml_sq_fail(c->db, "calendar put");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, host, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 4, jstr(doc, "external_id"));
	sqlite3_bind_int64(st, 5, jtime_ms(doc, "created_at"));
	sqlite3_bind_text(st, 6, ml_json_text(doc), -1, free);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : ml_sq_fail(c->db, "calendar put");
}

int ml_sq_recording_calendar_get(struct ml_tx *tx, const char *org_id, const char *id,
				 json_t **out)
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st =
	    ml_sq_prep(c, "SELECT doc FROM recording_calendars WHERE id = ? AND org_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "calendar get");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	json_t *doc = r == SQLITE_ROW ? row_doc(st) : NULL;
	sqlite3_reset(st);
	if (doc) {
		*out = doc;
		return 0;
	}
	if (r == SQLITE_DONE || r == SQLITE_ROW)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such calendar.");
	return ml_sq_fail(c->db, "calendar get");
}

int ml_sq_recording_calendar_list(struct ml_tx *tx, const char *org_id, const char *host_id,
				  json_t **items)
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT doc FROM recording_calendars WHERE org_id = ? "
					 "AND host_id = ? ORDER BY rowid LIMIT 200");
	if (!st)
		return ml_sq_fail(c->db, "calendar list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host_id, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *d = row_doc(st);
		if (d)
			json_array_append_new(arr, d);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_decref(arr);
		return ml_sq_fail(c->db, "calendar list");
	}
	*items = arr;
	return 0;
}

int ml_sq_recording_calendar_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
	    ml_sq_prep(c, "DELETE FROM recording_calendars WHERE id = ? AND org_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "calendar delete");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "calendar delete");
	sqlite3_reset(st);
	return sqlite3_changes(c->db) ? 0 : ML_ENOTFOUND;
}
