/* The audit trail on SQLite. Inside the caller's transaction; an optimistic run records its
 * events (occ.c). */
#include "store/sqlite/internal.h"
#include "core/json_text.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

int ml_sq_audit_apply(struct sq_conn *c, const char *org_id, const char *booking_id,
		      const char *type, const char *actor, const char *ip, const char *data)
{
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO audit_events(org_id, booking_id, at, type, "
					 "actor, ip, data) VALUES (?,?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "audit");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 2, booking_id);
	sqlite3_bind_int64(st, 3, ml_now_ms());
	sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, actor ? actor : "system", -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 6, ip && *ip ? ip : NULL);
	ml_sq_bind_opt(st, 7, data);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "audit");
	return 0;
}

int ml_sq_audit_append(struct ml_tx *tx, const struct ml_audit *ev)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_audit(tx, ev);
	char *data = ev->data ? ml_json_text(ev->data) : NULL;
	int rc = ml_sq_audit_apply(ml_sq_txc(tx), ev->org_id, ev->booking_id, ev->type, ev->actor,
				   ev->ip, data);
	free(data);
	return rc;
}

int ml_sq_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id, json_t **items)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT seq, at, type, actor, ip, data FROM audit_events "
				   "WHERE org_id = ? AND booking_id = ? ORDER BY seq");
	if (!st)
		return ml_sq_fail(c->db, "audit list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, booking_id, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char at[ML_RFC3339_MAX], id[32];
		int64_t ms = sqlite3_column_int64(st, 1);
		ml_time_format(ms / 1000, at);
		snprintf(id, sizeof id, "evt_%lld", (long long)sqlite3_column_int64(st, 0));
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "type",
				      (const char *)sqlite3_column_text(st, 2), "actor",
				      (const char *)sqlite3_column_text(st, 3), "at", at,
				      "at_ms", (json_int_t)ms);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(e, "ip",
					    json_string((const char *)sqlite3_column_text(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			json_t *d = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
			if (d)
				json_object_set_new(e, "data", d);
		}
		json_array_append_new(arr, e);
	}
	sqlite3_reset(st);
	*items = arr;
	return 0;
}
