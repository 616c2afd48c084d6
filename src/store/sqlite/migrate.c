/* Migrations of the SQLite store (src/store/migrations/sqlite/NNNN_name.sql, embedded in the
 * binary) and readiness: every migration applied. */
#include "store/sqlite/internal.h"
#include "core/embed.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define MIGRATION_DIR "src/store/migrations/sqlite/"

static int migrate_fn(struct ml_tx *tx, void *arg)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int *applied = arg, rc;
	sqlite3_stmt *st;

	if ((rc = ml_sq_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			  "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)")) < 0)
		return rc;
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++) {
		if (strncmp(e->path, MIGRATION_DIR, strlen(MIGRATION_DIR)) != 0)
			continue;
		const char *name = e->path + strlen(MIGRATION_DIR);
		long version = strtol(name, NULL, 10);
		st = ml_sq_prep(c, "SELECT 1 FROM schema_migrations WHERE version = ?");
		if (!st)
			return ml_sq_fail(c->db, "migrate");
		sqlite3_bind_int64(st, 1, version);
		int found = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_reset(st);
		if (found)
			continue;
		if ((rc = ml_sq_exec(c, (const char *)e->data)) < 0)
			return rc;
		st = ml_sq_prep(c, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?,?,?)");
		if (!st)
			return ml_sq_fail(c->db, "migrate");
		sqlite3_bind_int64(st, 1, version);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, ml_now_ms());
		if (sqlite3_step(st) != SQLITE_DONE)
			return ml_sq_fail(c->db, "migrate");
		ml_info("store: applied migration %s", name);
		(*applied)++;
	}
	return 0;
}

int ml_sq_migrate(struct ml_store *s)
{
	int applied = 0;
	int rc = ml_sq_write(s, migrate_fn, &applied);
	return rc < 0 ? rc : applied;
}

static int ready_fn(struct ml_tx *tx, void *arg)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int want = 0, have;
	(void)arg;
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++)
		if (strncmp(e->path, MIGRATION_DIR, strlen(MIGRATION_DIR)) == 0)
			want++;
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT count(*) FROM schema_migrations");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return ML_EUNAVAIL;
	have = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return have == want ? 0 : ML_EUNAVAIL;
}

int ml_sq_ready(struct ml_store *s)
{
	return ml_sq_read(s, ready_fn, NULL) == 0 ? 0 : ML_EUNAVAIL;
}
