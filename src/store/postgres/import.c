/* Moving a SQLite store into an empty PostgreSQL one (`meetlink migrate`, store.h
 * ml_store_import_sqlite): every table the two schemas share, row by row in one PostgreSQL
 * transaction, each value as it is stored (vault ciphertexts stay sealed: the same key ring
 * opens them), then the identity sequences moved past the copied rows and every job lease
 * reset. Tables and columns come from the two catalogues, never from input; every statement
 * is prepared. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64

/* SQLite's own tables, and the migrations' bookkeeping (each store keeps its own). */
static bool skipped(const char *table)
{
	return strncmp(table, "sqlite_", 7) == 0 || strcmp(table, "schema_migrations") == 0;
}

/* The PostgreSQL table's columns (in the current schema), as a NULL-terminated list in
 * cols (strings owned by r). */
static int pg_columns(struct pg_conn *c, const char *table, PGresult **r)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, table);
	return ml_pg_qc(c, "SELECT column_name, data_type FROM information_schema.columns "
			   "WHERE table_schema = current_schema() AND table_name = $1 "
			   "ORDER BY ordinal_position", &a, r, NULL);
}

static int find_col(PGresult *cols, const char *name)
{
	for (int i = 0; i < PQntuples(cols); i++)
		if (strcmp(PQgetvalue(cols, i, 0), name) == 0)
			return i;
	return -1;
}

/* Copies one table; *rows grows by its rows. */
static int copy_table(sqlite3 *db, struct pg_conn *c, const char *table, long *rows)
{
	PGresult *cols = NULL;
	int rc = pg_columns(c, table, &cols);
	if (rc < 0)
		return rc;
	if (PQntuples(cols) == 0) {
		PQclear(cols);
		return ml_error_set(ML_EINVAL, "schema_mismatch", NULL,
				    "the SQLite store has a table '%s' the PostgreSQL store lacks "
				    "(is this meetlink older than the SQLite store?)", table);
	}
	/* SQLite's documents page by rowid; PostgreSQL's keep it as seq (unless the SQLite table
	 * has a seq of its own: then it is copied as it is, and a WITHOUT ROWID table has none). */
	bool rowid_seq = find_col(cols, "seq") >= 0;
	char sql[256];
	if (rowid_seq) {
		sqlite3_stmt *probe = NULL;
		snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" LIMIT 0", table);
		if (sqlite3_prepare_v2(db, sql, -1, &probe, NULL) == SQLITE_OK)
			for (int i = 0; i < sqlite3_column_count(probe); i++)
				if (strcmp(sqlite3_column_name(probe, i), "seq") == 0)
					rowid_seq = false;
		sqlite3_finalize(probe);
	}
	snprintf(sql, sizeof sql, "SELECT %s* FROM \"%s\"", rowid_seq ? "rowid AS \"seq\", " : "",
		 table);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		PQclear(cols);
		return ml_error_set(ML_ESTORE, "store_error", NULL, "cannot read %s: %s", table,
				    sqlite3_errmsg(db));
	}
	int n = sqlite3_column_count(st), map[MAX_COLS], k = 0;
	bool bytea[MAX_COLS];
	struct ml_buf ins = {0}, vals = {0};
	ml_buf_printf(&ins, "INSERT INTO \"%s\" (", table);
	for (int i = 0; i < n && i < MAX_COLS; i++) {
		const char *name = sqlite3_column_name(st, i);
		int pc = find_col(cols, name);
		/* A rowid alias copied twice ("seq" named by the table itself) is taken once. */
		if (pc < 0 || (i > 0 && rowid_seq && strcmp(name, "seq") == 0)) {
			if (pc < 0)
				ml_warn("migrate: %s.%s has no PostgreSQL column; not copied", table,
					name);
			map[i] = -1;
			continue;
		}
		bytea[k] = strcmp(PQgetvalue(cols, pc, 1), "bytea") == 0;
		map[i] = k++;
		ml_buf_printf(&ins, "%s\"%s\"", k > 1 ? ", " : "", name);
		ml_buf_printf(&vals, "%s$%d", k > 1 ? ", " : "", k);
	}
	ml_buf_printf(&ins, ") OVERRIDING SYSTEM VALUE VALUES (%s)", vals.data ? vals.data : "");
	PQclear(cols);
	char *params[MAX_COLS];
	int r;
	while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		struct pg_args a = {0};
		memset(params, 0, sizeof params);
		for (int i = 0; i < n && i < MAX_COLS; i++) {
			int p = map[i];
			if (p < 0)
				continue;
			if (sqlite3_column_type(st, i) == SQLITE_NULL) {
				a.v[p] = NULL;
			} else if (bytea[p]) {
				/* Raw bytes (a legacy server secret) as bytea's hex text. */
				const unsigned char *b = sqlite3_column_blob(st, i);
				int len = sqlite3_column_bytes(st, i);
				params[p] = ml_malloc((size_t)len * 2 + 3);
				memcpy(params[p], "\\x", 2);
				for (int j = 0; j < len; j++)
					snprintf(params[p] + 2 + 2 * j, 3, "%02x", b[j]);
				params[p][2 + 2 * len] = '\0';
				a.v[p] = params[p];
			} else {
				params[p] = ml_strdup((const char *)sqlite3_column_text(st, i));
				a.v[p] = params[p];
			}
		}
		a.n = k;
		rc = ml_pg_qc(c, ins.data, &a, NULL, NULL);
		for (int p = 0; p < k; p++)
			free(params[p]);
		if (rc == 0)
			(*rows)++;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = ml_error_set(ML_ESTORE, "store_error", NULL, "cannot read %s: %s", table,
				  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	ml_buf_free(&ins);
	ml_buf_free(&vals);
	return rc;
}

/* Every identity sequence past the rows copied; every job a SQLite node was running queued
 * again (its lease meant that node). */
static int after_copy(struct pg_conn *c)
{
	int rc = ml_pg_exec(
		c, "DO $$ DECLARE t record; BEGIN "
		   "FOR t IN SELECT table_name FROM information_schema.columns "
		   "WHERE table_schema = current_schema() AND column_name = 'seq' "
		   "AND is_identity = 'YES' LOOP "
		   "EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''seq''), "
		   "coalesce((SELECT max(seq) FROM %I), 0) + 1, false)', t.table_name, "
		   "t.table_name); END LOOP; END $$");
	if (rc < 0)
		return rc;
	struct pg_args a = {0};
	ml_pg_arg_i64(&a, ml_now_ms());
	return ml_pg_qc(c, "UPDATE jobs SET state = 'queued', lease_until = NULL, worker = NULL, "
			   "attempts = greatest(attempts - 1, 0), updated_at = $1 "
			   "WHERE state = 'running'", &a, NULL, NULL);
}

static int import_all(sqlite3 *db, struct pg_conn *c, long *rows)
{
	PGresult *r = NULL;
	int rc = ml_pg_qc(c, "SELECT (SELECT count(*) FROM orgs) + (SELECT count(*) FROM jobs) + "
			     "(SELECT count(*) FROM bookings)", NULL, &r, NULL);
	if (rc < 0)
		return rc;
	bool empty = ml_pg_i64(r, 0, 0) == 0;
	PQclear(r);
	if (!empty)
		return ml_error_set(ML_EINVAL, "store_not_empty", "--to",
				    "the PostgreSQL store is not empty: migrate into a new one");
	sqlite3_stmt *t = NULL;
	/* Organizations first: API keys refer to them. */
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' "
				   "ORDER BY name <> 'orgs', name", -1, &t, NULL) != SQLITE_OK)
		return ml_error_set(ML_ESTORE, "store_error", NULL, "cannot list tables: %s",
				    sqlite3_errmsg(db));
	while (rc == 0 && sqlite3_step(t) == SQLITE_ROW) {
		const char *table = (const char *)sqlite3_column_text(t, 0);
		if (skipped(table))
			continue;
		long before = *rows;
		rc = copy_table(db, c, table, rows);
		if (rc == 0)
			ml_info("migrate: %s: %ld row(s)", table, *rows - before);
	}
	sqlite3_finalize(t);
	return rc == 0 ? after_copy(c) : rc;
}

int ml_pg_import_sqlite(struct ml_store *base, const char *path, long *rows)
{
	struct pg_store *s = (struct pg_store *)base;
	sqlite3 *db = NULL;
	*rows = 0;
	/* Read-only: the SQLite store is left as it was. */
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		int rc = ml_error_set(ML_EINVAL, "invalid_config", "--from",
				      "cannot open the SQLite store %s: %s", path,
				      db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, 10000);
	struct pg_conn *c = ml_pg_take(s);
	int rc = c ? 0 : ML_ESTORE;
	if (rc == 0 && (rc = ml_pg_exec(c, "BEGIN")) == 0) {
		/* One SQLite snapshot for every table. */
		sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		rc = import_all(db, c, rows);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc == 0)
			rc = ml_pg_exec(c, "COMMIT");
		else
			PQclear(PQexec(c->db, "ROLLBACK"));
	}
	if (c)
		ml_pg_give(s, c);
	sqlite3_close(db);
	return rc;
}
