/* The waiting room's rows (`admissions`, migration 0014) and the organizations' settings
 * (`orgs.settings`). Every statement runs on the transaction's own connection (ml_sq_txc): an
 * admission decides on what it read, so an optimistic run that touches these takes the
 * ordinary, serialized path, where two decisions on one row are strictly ordered. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/json_text.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	json_t *o = t ? json_loads(t, 0, NULL) : NULL;
	return json_is_object(o) ? o : (json_decref(o), json_object());
}

int ml_sq_org_settings_get(struct ml_tx *tx, const char *org_id, json_t **out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT settings FROM orgs WHERE id = ?");
	if (!st)
		return ml_sq_fail(c->db, "org settings");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	json_t *o = step == SQLITE_ROW ? parse(st, 0) : json_object();
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		json_decref(o);
		return ml_sq_fail(c->db, "org settings");
	}
	*out = o;
	return 0;
}

int ml_sq_org_settings_put(struct ml_tx *tx, const char *org_id, json_t *settings)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE orgs SET settings = ? WHERE id = ?");
	char *text = ml_json_text(settings);
	if (!st || !text) {
		free(text);
		return ml_sq_fail(c->db, "org settings");
	}
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	free(text);
	if (step != SQLITE_DONE)
		return ml_sq_fail(c->db, "org settings");
	if (sqlite3_changes(c->db) == 0)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such organization.");
	return 0;
}

/* A row as stored, with its seq. */
static json_t *row_of(sqlite3_stmt *st)
{
	json_t *o = parse(st, 1);
	json_object_set_new(o, "seq", json_integer(sqlite3_column_int64(st, 0)));
	return o;
}

int ml_sq_admission_get(struct ml_tx *tx, const char *org_id, const char *booking_id,
			const char *participant_id, json_t **out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT seq, body FROM admissions WHERE org_id = ? AND "
					 "booking_id = ? AND participant_id = ?");
	if (!st)
		return ml_sq_fail(c->db, "admission");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, booking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, participant_id, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	json_t *o = step == SQLITE_ROW ? row_of(st) : NULL;
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return ml_error_set(ML_ENOTFOUND, "not_found", "participant_id",
				    "That participant has not asked to join.");
	if (step != SQLITE_ROW)
		return ml_sq_fail(c->db, "admission");
	*out = o;
	return 0;
}

int ml_sq_admission_put(struct ml_tx *tx, const char *org_id, const char *booking_id,
			json_t *row)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *pid = json_string_value(json_object_get(row, "participant_id"));
	sqlite3_stmt *seq = ml_sq_prep(c, "SELECT COALESCE(MAX(seq), 0) + 1 FROM admissions "
					  "WHERE org_id = ? AND booking_id = ?");
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT OR REPLACE INTO admissions (org_id, booking_id, "
					 "participant_id, seq, body) VALUES (?, ?, ?, ?, ?)");
	if (!pid)
		return ml_error_set(ML_EINVAL, "invalid_field", "participant_id",
				    "An admission names its participant.");
	if (!seq || !st)
		return ml_sq_fail(c->db, "admission");
	sqlite3_bind_text(seq, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(seq, 2, booking_id, -1, SQLITE_STATIC);
	if (sqlite3_step(seq) != SQLITE_ROW) {
		sqlite3_reset(seq);
		return ml_sq_fail(c->db, "admission");
	}
	int64_t next = sqlite3_column_int64(seq, 0);
	sqlite3_reset(seq);
	json_object_del(row, "seq"); /* a column, not part of the body */
	char *text = ml_json_text(row);
	if (!text)
		return ml_error_set(ML_EINVAL, "invalid_field", NULL, "The admission is not JSON.");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, booking_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, pid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, next);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_TRANSIENT);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	free(text);
	if (step != SQLITE_DONE)
		return ml_sq_fail(c->db, "admission");
	json_object_set_new(row, "seq", json_integer(next));
	return 0;
}

int ml_sq_admission_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 int64_t after_seq, json_t **out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT seq, body FROM admissions WHERE org_id = ? AND "
					 "booking_id = ? AND seq > ? ORDER BY seq");
	if (!st)
		return ml_sq_fail(c->db, "admissions");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, booking_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, after_seq);
	json_t *a = json_array();
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(a, row_of(st));
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		json_decref(a);
		return ml_sq_fail(c->db, "admissions");
	}
	*out = a;
	return 0;
}
