/* Documents (hosts, services, bookings) on PostgreSQL: the JSON text with its queryable fields
 * as indexed columns and a row version. In a write transaction a read locks the row it
 * returns, so the decision taken on it holds until commit on every node: a booking FOR
 * UPDATE (it is rewritten next, as a rule), a host or service FOR SHARE (read by every
 * booking change, rarely rewritten). */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

static int64_t doc_time_ms(json_t *doc, const char *key)
{
	int64_t t;
	const char *s = jstr(doc, key);
	return s && ml_time_parse(s, &t) == 0 ? t * 1000 : 0;
}

static int taken(void)
{
	return ml_error_set(ML_ECONFLICT, "external_id_taken", "external_id",
			    "Another object of this organization already has this external_id.");
}

/* Another document of the organization with this external_id (an update's check: an insert
 * finds out through its unique index). */
static int external_clash(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			  const char *id, const char *external_id)
{
	static const char *const sql[] = {
	    [ML_KIND_HOST] = "SELECT 1 FROM hosts WHERE org_id = $1 AND external_id = $2 AND id <> $3",
	    [ML_KIND_SERVICE] = "SELECT 1 FROM services WHERE org_id = $1 AND external_id = $2 AND id <> $3",
	    [ML_KIND_BOOKING] = "SELECT 1 FROM bookings WHERE org_id = $1 AND external_id = $2 AND id <> $3",
	};
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, external_id);
	ml_pg_arg(&a, id);
	int rc = ml_pg_q(tx, sql[kind], &a, &r);
	if (rc < 0)
		return rc;
	bool clash = PQntuples(r) > 0;
	PQclear(r);
	return clash ? taken() : 0;
}

static int doc_write(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc,
		     bool insert)
{
	static const char *const sql[][2] = {
	    [ML_KIND_HOST] = {
		"INSERT INTO hosts(doc, external_id, created_at, updated_at, org_id, id) "
		"VALUES ($1,$2,$3,$3,$4,$5) ON CONFLICT DO NOTHING",
		"UPDATE hosts SET doc = $1, external_id = $2, updated_at = $3, version = version + 1 "
		"WHERE org_id = $4 AND id = $5"},
	    [ML_KIND_SERVICE] = {
		"INSERT INTO services(doc, external_id, host_id, created_at, updated_at, org_id, id) "
		"VALUES ($1,$2,$6,$3,$3,$4,$5) ON CONFLICT DO NOTHING",
		"UPDATE services SET doc = $1, external_id = $2, host_id = $6, updated_at = $3, "
		"version = version + 1 WHERE org_id = $4 AND id = $5"},
	    [ML_KIND_BOOKING] = {
		"INSERT INTO bookings(doc, external_id, host_id, service_id, status, start_at, "
		"end_at, created_at, updated_at, org_id, id) "
		"VALUES ($1,$2,$6,$7,$8,$9,$10,$3,$3,$4,$5) ON CONFLICT DO NOTHING",
		"UPDATE bookings SET doc = $1, external_id = $2, host_id = $6, service_id = $7, "
		"status = $8, start_at = $9, end_at = $10, updated_at = $3, version = version + 1 "
		"WHERE org_id = $4 AND id = $5"},
	};
	const char *id = jstr(doc, "id"), *ext = jstr(doc, "external_id");
	int rc;
	if (!id)
		return ml_error_set(ML_EINVAL, "invalid_document", "id", "A document needs an id.");
	if (!insert && ext && (rc = external_clash(tx, kind, org_id, id, ext)) < 0)
		return rc;
	char *text = ml_json_text(doc);
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, text);
	ml_pg_arg(&a, ext);
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	if (kind != ML_KIND_HOST)
		ml_pg_arg(&a, jstr(doc, "host_id"));
	if (kind == ML_KIND_BOOKING) {
		ml_pg_arg(&a, jstr(doc, "service_id"));
		ml_pg_arg(&a, jstr(doc, "status") ? jstr(doc, "status") : "");
		ml_pg_arg_i64(&a, doc_time_ms(doc, "start"));
		ml_pg_arg_i64(&a, doc_time_ms(doc, "end")); /* the overlap check's (overlap.c) */
	}
	rc = ml_pg_q(tx, sql[kind][insert ? 0 : 1], &a, &r);
	free(text);
	if (rc == ML_ECONFLICT)
		return taken(); /* an update meeting a concurrent insert of its external_id */
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	if (n == 0)
		return insert ? taken() : ml_error_set(ML_ENOTFOUND, "not_found", NULL,
						       "No such object.");
	return 0;
}

int ml_pg_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return doc_write(tx, kind, org_id, doc, true);
}

int ml_pg_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return doc_write(tx, kind, org_id, doc, false);
}

int ml_pg_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		  json_t **out)
{
	static const char *const sql[][2] = {
	    [ML_KIND_HOST] = {"SELECT doc FROM hosts WHERE id = $1 AND org_id = $2",
			      "SELECT doc FROM hosts WHERE id = $1 AND org_id = $2 FOR SHARE"},
	    [ML_KIND_SERVICE] = {"SELECT doc FROM services WHERE id = $1 AND org_id = $2",
				 "SELECT doc FROM services WHERE id = $1 AND org_id = $2 FOR SHARE"},
	    [ML_KIND_BOOKING] = {"SELECT doc FROM bookings WHERE id = $1 AND org_id = $2",
				 "SELECT doc FROM bookings WHERE id = $1 AND org_id = $2 FOR UPDATE"},
	};
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, sql[kind][ml_pg_writable(tx) ? 1 : 0], &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	json_t *doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	if (!doc)
		return ml_pg_fail("doc decode", "a stored document is not JSON");
	*out = doc;
	return 0;
}

int ml_pg_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id)
{
	static const char *const sql[] = {
	    [ML_KIND_HOST] = "DELETE FROM hosts WHERE id = $1 AND org_id = $2",
	    [ML_KIND_SERVICE] = "DELETE FROM services WHERE id = $1 AND org_id = $2",
	    [ML_KIND_BOOKING] = "DELETE FROM bookings WHERE id = $1 AND org_id = $2",
	};
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, sql[kind], &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n ? 0 : ML_ENOTFOUND;
}

int ml_pg_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			const char *column, const char *value, const char *const *statuses)
{
	struct ml_buf sql = {0};
	struct pg_args a = {0};
	PGresult *r;
	if (strcmp(column, "host_id") != 0 && strcmp(column, "service_id") != 0)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "bad column");
	ml_buf_printf(&sql, "SELECT count(*) FROM %s WHERE org_id = $1 AND %s = $2",
		      ml_store_kind_table(kind), column);
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, value);
	if (statuses) {
		ml_buf_puts(&sql, " AND status IN (");
		for (int i = 0; statuses[i] && a.n < ML_PG_MAX_ARGS; i++) {
			ml_buf_printf(&sql, i ? ",$%d" : "$%d", a.n + 1);
			ml_pg_arg(&a, statuses[i]);
		}
		ml_buf_puts(&sql, ")");
	}
	int rc = ml_pg_q(tx, sql.data, &a, &r);
	ml_buf_free(&sql);
	if (rc < 0)
		return rc;
	int n = (int)ml_pg_i64(r, 0, 0);
	PQclear(r);
	return n;
}

static json_t *doc_row(PGresult *r, int i)
{
	return json_loads(PQgetvalue(r, i, 0), 0, NULL);
}

int ml_pg_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
		   const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	struct ml_buf sql = {0};
	struct pg_args a = {0};
	int64_t cur = 0;
	char cur_id[40] = "";
	int rc, limit = q->limit > 0 ? q->limit : 50;

	if (q->cursor && (rc = ml_store_cursor_decode(q->cursor, &cur, cur_id)) < 0)
		return rc;
	/* Pages follow insertion order (seq); the cursor carries the last seq seen. */
	ml_buf_printf(&sql, "SELECT doc, seq, id FROM %s WHERE org_id = $1",
		      ml_store_kind_table(kind));
	ml_pg_arg(&a, org_id);
#define FILTER(cond, col, v)                                                                   \
	if (cond) {                                                                            \
		ml_buf_printf(&sql, " AND " col " $%d", a.n + 1);                              \
		ml_pg_arg(&a, v);                                                              \
	}
	FILTER(q->external_id, "external_id =", q->external_id);
	FILTER(q->host_id && kind != ML_KIND_HOST, "host_id =", q->host_id);
	FILTER(q->service_id && kind == ML_KIND_BOOKING, "service_id =", q->service_id);
	FILTER(q->status && kind == ML_KIND_BOOKING, "status =", q->status);
#undef FILTER
	if (q->has_start_from && kind == ML_KIND_BOOKING) {
		ml_buf_printf(&sql, " AND start_at >= $%d", a.n + 1);
		ml_pg_arg_i64(&a, q->start_from * 1000);
	}
	if (q->has_start_to && kind == ML_KIND_BOOKING) {
		ml_buf_printf(&sql, " AND start_at < $%d", a.n + 1);
		ml_pg_arg_i64(&a, q->start_to * 1000);
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
	rc = ml_pg_page(r, limit, doc_row, 1, 2, items, next_cursor);
	PQclear(r);
	return rc;
}

/* --- idempotency records --- */

int ml_pg_idem_get(struct ml_tx *tx, const char *org_id, const char *key, struct ml_idem *out)
{
	struct pg_args a = {0};
	PGresult *r;
	int rc;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, key);
	/* In a write, requests with the same key take turns (a transaction advisory lock on the
	 * key): a retry sent to another node while the first request is still committing (its
	 * node died after sending COMMIT) waits for it, then reads its record and replays its
	 * answer, instead of acting on what the first one changed. The put's primary key is the
	 * backstop. */
	if (ml_pg_writable(tx) &&
	    (rc = ml_pg_q(tx, "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))",
			  &a, NULL)) < 0)
		return rc;
	rc = ml_pg_q(tx, "SELECT body_hash, status, response FROM idempotency_keys "
			 "WHERE org_id = $1 AND key = $2", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	snprintf(out->body_hash, sizeof out->body_hash, "%s", ml_pg_text(r, 0, 0));
	out->status = (int)ml_pg_i64(r, 0, 1);
	out->response = ml_strdup(ml_pg_text(r, 0, 2));
	PQclear(r);
	return 0;
}

int ml_pg_idem_put(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, key);
	ml_pg_arg(&a, rec->body_hash);
	ml_pg_arg_i64(&a, rec->status);
	ml_pg_arg(&a, rec->response);
	ml_pg_arg_i64(&a, ml_now_ms());
	/* DO NOTHING: a second request with the key (here or on another node, waiting for the
	 * first to commit) finds it taken without aborting its transaction. */
	int rc = ml_pg_q(tx, "INSERT INTO idempotency_keys(org_id, key, body_hash, status, "
			     "response, created_at) VALUES ($1,$2,$3,$4,$5,$6) "
			     "ON CONFLICT DO NOTHING", &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	if (n == 0) {
		/* Taken by a request that committed meanwhile (on any node): an optimistic write
		 * runs again and finds it, so this request is answered as the first was. */
		((struct pg_tx *)tx)->retry = true;
		return ml_error_set(ML_ECONFLICT, "idempotency_key_taken", "Idempotency-Key",
				    "Another request with this Idempotency-Key was just made.");
	}
	return 0;
}
