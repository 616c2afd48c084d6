/* Recordings and recording calendars on PostgreSQL (migration postgresql/0004). Inside the
 * caller's transaction; every statement prepared. A recording read in a write is locked (it
 * is read to be changed: two nodes' webhooks about one bot take turns). */
#include "store/postgres/internal.h"

#if ML_STORE_DOCS_VERSION >= 4 /* recordings (docs version 4) */
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

static json_t *row_doc(PGresult *r, int i)
{
	return json_loads(PQgetvalue(r, i, 0), 0, NULL);
}

int ml_pg_recording_put(struct ml_tx *tx, const char *org_id, json_t *doc)
{
	const char *id = jstr(doc, "id"), *bkg = jstr(doc, "booking_id"),
		   *mtg = jstr(doc, "meeting_id"), *state = jstr(doc, "state");
	/* A calendar bot's recording may belong to no booking (''). */
	if (!bkg)
		bkg = "";
	if (!mtg)
		mtg = "";
	if (!id || !state)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "incomplete recording");
	char *text = ml_json_text(doc);
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, bkg);
	ml_pg_arg(&a, mtg);
	ml_pg_arg(&a, jstr(doc, "host_id"));
	ml_pg_arg(&a, state);
	ml_pg_arg(&a, jstr(doc, "bot_id"));
	ml_pg_arg_i64(&a, jtime_ms(doc, "created_at"));
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, text);
	int rc = ml_pg_q(tx, "INSERT INTO recordings(org_id, id, booking_id, meeting_id, host_id, "
			     "state, bot_id, created_at, updated_at, doc) "
			     "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (id) DO UPDATE SET "
			     "booking_id = $3, meeting_id = $4, host_id = $5, state = $6, bot_id = $7, "
			     "updated_at = $9, doc = $10 "
			     "WHERE recordings.org_id = $1", &a, NULL);
	free(text);
	if (rc == ML_ECONFLICT)
		return ml_error_set(ML_ECONFLICT, "conflict", NULL,
				    "The recording conflicts with another.");
	return rc;
}

static int one_doc(struct ml_tx *tx, const char *sql, const char *id, const char *org_id,
		   const char *what, json_t **out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, sql, &a, &r);
	if (rc < 0)
		return rc;
	json_t *doc = PQntuples(r) > 0 ? row_doc(r, 0) : NULL;
	PQclear(r);
	if (!doc)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such %s.", what);
	*out = doc;
	return 0;
}

int ml_pg_recording_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **out)
{
	return one_doc(tx, ml_pg_writable(tx)
			       ? "SELECT doc FROM recordings WHERE id = $1 AND org_id = $2 FOR UPDATE"
			       : "SELECT doc FROM recordings WHERE id = $1 AND org_id = $2",
		       id, org_id, "recording", out);
}

int ml_pg_recording_list(struct ml_tx *tx, const char *org_id, const struct ml_recording_query *q,
			 json_t **items, char **next_cursor)
{
	struct ml_buf sql = {0};
	struct pg_args a = {0};
	int64_t cur = 0;
	char cur_id[40] = "";
	int rc, limit = q->limit > 0 ? q->limit : 50;
	if (q->cursor && (rc = ml_store_cursor_decode(q->cursor, &cur, cur_id)) < 0)
		return rc;
	ml_buf_puts(&sql, "SELECT doc, seq, id FROM recordings WHERE org_id = $1");
	ml_pg_arg(&a, org_id);
#define FILTER(v, col)                                                                         \
	if (v) {                                                                               \
		ml_buf_printf(&sql, " AND " col " = $%d", a.n + 1);                            \
		ml_pg_arg(&a, v);                                                              \
	}
	FILTER(q->booking_id, "booking_id");
	FILTER(q->meeting_id, "meeting_id");
	FILTER(q->host_id, "host_id");
	FILTER(q->state, "state");
#undef FILTER
	if (q->has_from) {
		ml_buf_printf(&sql, " AND created_at >= $%d", a.n + 1);
		ml_pg_arg_i64(&a, q->created_from * 1000);
	}
	if (q->has_to) {
		ml_buf_printf(&sql, " AND created_at < $%d", a.n + 1);
		ml_pg_arg_i64(&a, q->created_to * 1000);
	}
	if (q->cursor) {
		ml_buf_printf(&sql, " AND seq > $%d", a.n + 1);
		ml_pg_arg_i64(&a, cur);
	}
	ml_buf_printf(&sql, " ORDER BY seq LIMIT $%d", a.n + 1);
	ml_pg_arg_i64(&a, limit + 1);
	PGresult *r;
	rc = ml_pg_q(tx, sql.data, &a, &r);
	ml_buf_free(&sql);
	if (rc < 0)
		return rc;
	rc = ml_pg_page(r, limit, row_doc, 1, 2, items, next_cursor);
	PQclear(r);
	return rc;
}

int ml_pg_recording_calendar_put(struct ml_tx *tx, const char *org_id, json_t *doc)
{
	const char *id = jstr(doc, "id"), *host = jstr(doc, "host_id");
	if (!id || !host)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "incomplete calendar");
	char *text = ml_json_text(doc);
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, host);
	ml_pg_arg(&a, jstr(doc, "external_id"));
	ml_pg_arg_i64(&a, jtime_ms(doc, "created_at"));
	ml_pg_arg(&a, text);
	int rc = ml_pg_q(tx, "INSERT INTO recording_calendars(org_id, id, host_id, external_id, "
			     "created_at, doc) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (id) DO UPDATE "
			     "SET doc = $6 WHERE recording_calendars.org_id = $1", &a, NULL);
	free(text);
	return rc;
}

int ml_pg_recording_calendar_get(struct ml_tx *tx, const char *org_id, const char *id,
				 json_t **out)
{
	return one_doc(tx, "SELECT doc FROM recording_calendars WHERE id = $1 AND org_id = $2", id,
		       org_id, "calendar", out);
}

int ml_pg_recording_calendar_list(struct ml_tx *tx, const char *org_id, const char *host_id,
				  json_t **items)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, host_id);
	int rc = ml_pg_q(tx, "SELECT doc FROM recording_calendars WHERE org_id = $1 AND "
			     "host_id = $2 ORDER BY seq LIMIT 200", &a, &r);
	if (rc < 0)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *d = row_doc(r, i);
		if (d)
			json_array_append_new(arr, d);
	}
	PQclear(r);
	*items = arr;
	return 0;
}

int ml_pg_recording_calendar_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, "DELETE FROM recording_calendars WHERE id = $1 AND org_id = $2", &a,
			 &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n ? 0 : ML_ENOTFOUND;
}
#endif
