/* Documents (hosts, services, bookings) on SQLite: the JSON text with its queryable fields
 * as indexed columns, a row version per document, the cache of parsed documents consulted by
 * version. Inside the caller's transaction; an optimistic run records its writes (occ.c). */
#include "store/sqlite/internal.h"
#include "store/doc_cache.h"
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

void ml_sq_doc_row_prepare(struct ml_sq_doc_row *row, enum ml_kind kind, const char *org_id,
			   json_t *doc)
{
	memset(row, 0, sizeof *row);
	row->kind = kind;
	row->org_id = ml_strdup(org_id);
	row->text = ml_json_text(doc);
	row->id = jstr(doc, "id") ? ml_strdup(jstr(doc, "id")) : NULL;
	row->external_id = jstr(doc, "external_id") ? ml_strdup(jstr(doc, "external_id")) : NULL;
	row->host_id = jstr(doc, "host_id") ? ml_strdup(jstr(doc, "host_id")) : NULL;
	row->service_id = jstr(doc, "service_id") ? ml_strdup(jstr(doc, "service_id")) : NULL;
	row->status = ml_strdup(jstr(doc, "status") ? jstr(doc, "status") : "");
	row->start_ms = doc_time_ms(doc, "start");
	row->end_ms = doc_time_ms(doc, "end");
}

void ml_sq_doc_row_clear(struct ml_sq_doc_row *row)
{
	free(row->org_id);
	free(row->text);
	free(row->id);
	free(row->external_id);
	free(row->host_id);
	free(row->service_id);
	free(row->status);
	memset(row, 0, sizeof *row);
}

int ml_sq_doc_row_apply(struct sq_conn *c, const struct ml_sq_doc_row *row, bool insert,
			int64_t expect_version)
{
	if (row->kind != ML_KIND_BOOKING && c->nchecked > 0)
		c->nchecked = 0; /* a host or service changes: check them again */
	static const char *const sql[][2] = {
	    [ML_KIND_HOST] = {
		"INSERT INTO hosts(doc, external_id, created_at, updated_at, org_id, id) VALUES (?,?,?,?,?,?)",
		"UPDATE hosts SET doc=?, external_id=?, updated_at=?, version=version+1 WHERE org_id=? AND id=? AND (?6 < 0 OR version = ?6)"},
	    [ML_KIND_SERVICE] = {
		"INSERT INTO services(doc, external_id, host_id, created_at, updated_at, org_id, id) VALUES (?,?,?,?,?,?,?)",
		"UPDATE services SET doc=?, external_id=?, host_id=?, updated_at=?, version=version+1 WHERE org_id=? AND id=? AND (?7 < 0 OR version = ?7)"},
	    [ML_KIND_BOOKING] = {
		"INSERT INTO bookings(doc, external_id, host_id, service_id, status, start_at, end_at, created_at, updated_at, org_id, id) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		"UPDATE bookings SET doc=?, external_id=?, host_id=?, service_id=?, status=?, start_at=?, end_at=?, updated_at=?, version=version+1 WHERE org_id=? AND id=? AND (?11 < 0 OR version = ?11)"},
	};
	/* The same update for a booking whose indexed columns stay as they are (most updates:
	 * a meeting made ready, a reschedule, a status change): SQLite rewrites an index entry
	 * whenever its column is assigned, even to the value it has, which dirtied two index
	 * pages per update for nothing. Guarded on the old values; when one differs (or the row
	 * or version does not match), the full update runs. */
	static const char *const booking_keep =
		"UPDATE bookings SET doc=?1, status=?5, start_at=?6, end_at=?7, updated_at=?8, "
		"version=version+1 WHERE org_id=?9 AND id=?10 AND (?11 < 0 OR version = ?11) "
		"AND external_id IS ?2 AND host_id IS ?3 AND service_id IS ?4";
	/* Tried first: status, start and end kept too (a meeting made ready, a note), so the
	 * entry in bookings_busy (status, start, end) is not rewritten either. */
	static const char *const booking_same =
		"UPDATE bookings SET doc=?1, updated_at=?8, "
		"version=version+1 WHERE org_id=?9 AND id=?10 AND (?11 < 0 OR version = ?11) "
		"AND external_id IS ?2 AND host_id IS ?3 AND service_id IS ?4 AND status IS ?5 "
		"AND start_at IS ?6 AND end_at IS ?7";
	/* 2: unchanged status and indexed columns; 1: unchanged indexed columns; 0: any. */
	int keep = !insert && row->kind == ML_KIND_BOOKING ? 2 : 0;
	sqlite3_stmt *st;
	int r;

again:
	/* Updates bump the row version; with expect_version >= 0 they apply only to that
	 * version (optimistic transactions). */
	if (!(st = ml_sq_prep(c, keep == 2   ? booking_same
				 : keep == 1 ? booking_keep
					     : sql[row->kind][insert ? 0 : 1])))
		return ml_sq_fail(c->db, "doc write");
	/* The ordinary path drops the cached copy. An optimistic write leaves it: the copy's
	 * version no longer matches (so it is never used to write), and the writing thread
	 * caches the new document once committed, which spares the writer freeing the old. */
	if (!insert && row->id && expect_version < 0)
		ml_doc_cache_drop(row->kind, row->id);
	int i = 1;
	int64_t now = ml_now_ms();
	sqlite3_bind_text(st, i++, row->text, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, i++, row->external_id);
	if (row->kind != ML_KIND_HOST)
		ml_sq_bind_opt(st, i++, row->host_id);
	if (row->kind == ML_KIND_BOOKING) {
		ml_sq_bind_opt(st, i++, row->service_id);
		sqlite3_bind_text(st, i++, row->status, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, i++, row->start_ms);
		sqlite3_bind_int64(st, i++, row->end_ms);
	}
	if (insert)
		sqlite3_bind_int64(st, i++, now);
	sqlite3_bind_int64(st, i++, now);
	sqlite3_bind_text(st, i++, row->org_id, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, i++, row->id);
	if (!insert)
		sqlite3_bind_int64(st, i++, expect_version);
	r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT) {
		sqlite3_reset(st);
		return ml_error_set(ML_ECONFLICT, "external_id_taken", "external_id",
				    "Another object of this organization already has this "
				    "external_id.");
	}
	if (r != SQLITE_DONE) {
		sqlite3_reset(st);
		return ml_sq_fail(c->db, "doc write");
	}
	if (!insert && sqlite3_changes(c->db) == 0) {
		if (keep) {
			keep--;
			goto again;
		}
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such object.");
	}
	return 0;
}

static int doc_write(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc,
		     bool insert)
{
	struct ml_sq_doc_row row;
	if (ml_sq_recording(tx))
		return ml_sq_rec_doc_write(tx, kind, org_id, doc, insert);
	ml_sq_doc_row_prepare(&row, kind, org_id, doc);
	int rc = ml_sq_doc_row_apply(ml_sq_txc(tx), &row, insert, -1);
	ml_sq_doc_row_clear(&row);
	return rc;
}

int ml_sq_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return doc_write(tx, kind, org_id, doc, true);
}

int ml_sq_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return doc_write(tx, kind, org_id, doc, false);
}

static json_t *load_doc(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	int n = sqlite3_column_bytes(st, col);
	return json_loadb(text, (size_t)n, 0, NULL);
}

int ml_sq_doc_select(struct sq_conn *c, enum ml_kind kind, const char *org_id, const char *id,
		     enum ml_cache_read how, json_t **out, int64_t *version_out)
{
	static const char *const sql[] = {
	    [ML_KIND_HOST] = "SELECT doc, version FROM hosts WHERE id = ? AND org_id = ?",
	    [ML_KIND_SERVICE] = "SELECT doc, version FROM services WHERE id = ? AND org_id = ?",
	    [ML_KIND_BOOKING] = "SELECT doc, version FROM bookings WHERE id = ? AND org_id = ?",
	};
	sqlite3_stmt *st = ml_sq_prep(c, sql[kind]);
	if (!st)
		return ml_sq_fail(c->db, "doc get");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "doc get");
	}
	/* A cached document at the version read here is the document, without parsing it
	 * again. (Every write drops the entry, so an entry left by a write that rolled back
	 * never meets a later write's version.) */
	int64_t version = sqlite3_column_int64(st, 1), cv = -2;
	json_t *doc = ml_doc_cache_get(kind, org_id, id, how, &cv);
	if (doc && cv != version) {
		json_decref(doc);
		doc = NULL;
	}
	if (!doc && (doc = load_doc(st, 0))) {
		/* Parsed: a reader shares it with the cache; a copy is cached for a caller that
		 * may change it; one that takes it will rewrite it, which drops the entry. */
		if (how == ML_CACHE_SHARE)
			ml_doc_cache_put_shared(kind, org_id, id, version, doc);
		else if (how == ML_CACHE_COPY)
			ml_doc_cache_put(kind, org_id, id, version, doc);
	}
	sqlite3_reset(st);
	if (!doc)
		return ml_sq_fail(c->db, "doc decode");
	*out = doc;
	if (version_out)
		*version_out = version;
	return 0;
}

int ml_sq_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
                  json_t **out)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_doc_read(tx, kind, org_id, id, false, out);
	struct sq_conn *c = ml_sq_txc(tx);
	/* A booking read for a change on the writer is as a rule rewritten next (the
	 * worker's outcomes): taken out of the cache rather than copied. */
	return ml_sq_doc_select(c, kind, org_id, id,
				kind == ML_KIND_BOOKING && c->is_writer ? ML_CACHE_TAKE
									: ML_CACHE_COPY,
				out, NULL);
}

int ml_sq_doc_peek(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
                   json_t **out)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_doc_read(tx, kind, org_id, id, true, out);
	return ml_sq_doc_select(ml_sq_txc(tx), kind, org_id, id, ML_CACHE_SHARE, out, NULL);
}

int ml_sq_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	char sql[128];
	if (c->nchecked > 0)
		c->nchecked = 0;
	snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = ? AND org_id = ?",
		 ml_store_kind_table(kind));
	sqlite3_stmt *st = ml_sq_prep(c, sql);
	if (!st)
		return ml_sq_fail(c->db, "doc delete");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "doc delete");
	ml_doc_cache_drop(kind, id);
	return sqlite3_changes(c->db) ? 0 : ML_ENOTFOUND;
}

int ml_sq_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *column,
                        const char *value, const char *const *statuses)
{
	struct sq_conn *c = ml_sq_txc(tx);
	struct ml_buf sql = {0};
	int n = 0;

	if (strcmp(column, "host_id") != 0 && strcmp(column, "service_id") != 0)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "bad column");
	ml_buf_printf(&sql, "SELECT count(*) FROM %s WHERE org_id = ? AND %s = ?",
		      ml_store_kind_table(kind), column);
	if (statuses) {
		ml_buf_puts(&sql, " AND status IN (");
		for (int i = 0; statuses[i]; i++)
			ml_buf_puts(&sql, i ? ",?" : "?");
		ml_buf_puts(&sql, ")");
	}
	sqlite3_stmt *st = ml_sq_prep(c, sql.data);
	ml_buf_free(&sql);
	if (!st)
		return ml_sq_fail(c->db, "count");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	for (int i = 0; statuses && statuses[i]; i++)
		sqlite3_bind_text(st, 3 + i, statuses[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return n;
}

static json_t *doc_row(sqlite3_stmt *st)
{
	return load_doc(st, 0);
}

int ml_sq_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
                   const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	struct sq_conn *c = ml_sq_txc(tx);
	struct ml_buf sql = {0};
	int64_t cur_t = 0;
	char cur_id[40] = "";
	int rc, limit = q->limit > 0 ? q->limit : 50;
	const char *binds[8];
	int nb = 0;

	if (q->cursor && (rc = ml_store_cursor_decode(q->cursor, &cur_t, cur_id)) < 0)
		return rc;
	/* Pages follow insertion order (the rowid), which is creation order even within one
	 * millisecond; the cursor carries the last rowid seen. */
	ml_buf_printf(&sql, "SELECT doc, rowid, id FROM %s WHERE org_id = ?",
		      ml_store_kind_table(kind));
	if (q->external_id) {
		ml_buf_puts(&sql, " AND external_id = ?");
		binds[nb++] = q->external_id;
	}
	if (q->host_id && kind != ML_KIND_HOST) {
		ml_buf_puts(&sql, " AND host_id = ?");
		binds[nb++] = q->host_id;
	}
	if (q->service_id && kind == ML_KIND_BOOKING) {
		ml_buf_puts(&sql, " AND service_id = ?");
		binds[nb++] = q->service_id;
	}
	if (q->status && kind == ML_KIND_BOOKING) {
		ml_buf_puts(&sql, " AND status = ?");
		binds[nb++] = q->status;
	}
	if (q->has_start_from && kind == ML_KIND_BOOKING)
		ml_buf_puts(&sql, " AND start_at >= ?1000");
	if (q->has_start_to && kind == ML_KIND_BOOKING)
		ml_buf_puts(&sql, " AND start_at < ?1001");
	if (q->cursor)
		ml_buf_puts(&sql, " AND rowid > ?1002");
	ml_buf_puts(&sql, " ORDER BY rowid LIMIT ?1004");
	sqlite3_stmt *st = ml_sq_prep(c, sql.data);
	ml_buf_free(&sql);
	if (!st)
		return ml_sq_fail(c->db, "list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	for (int i = 0; i < nb; i++)
		sqlite3_bind_text(st, 2 + i, binds[i], -1, SQLITE_STATIC);
	if (q->has_start_from)
		sqlite3_bind_int64(st, 1000, q->start_from * 1000);
	if (q->has_start_to)
		sqlite3_bind_int64(st, 1001, q->start_to * 1000);
	if (q->cursor)
		sqlite3_bind_int64(st, 1002, cur_t);
	sqlite3_bind_int(st, 1004, limit + 1);

	return ml_sq_page(c, st, limit, doc_row, 1, 2, items, next_cursor);
}
