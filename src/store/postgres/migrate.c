/* Migrations of the PostgreSQL store (src/store/migrations/postgresql/NNNN_name.sql, embedded
 * in the binary), applied once however many nodes start together: each node takes a session
 * advisory lock first, so the others wait and then find them applied. Readiness: the store
 * answers and every migration is applied. */
#include "store/postgres/internal.h"
#include "core/embed.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define MIGRATION_DIR "src/store/migrations/postgresql/"
/* The advisory lock's key: "meetlink" as a number, any constant shared by every node. */
#define MIGRATE_LOCK "7237513601"

static int apply_one(struct pg_conn *c, const struct ml_embedded *e, long version,
		     const char *name)
{
	int rc;
	if ((rc = ml_pg_exec(c, "BEGIN")) < 0)
		return rc;
	/* The file's statements as one simple query (several statements), then its record. */
	if ((rc = ml_pg_exec(c, (const char *)e->data)) == 0) {
		struct pg_args a = {0};
		ml_pg_arg_i64(&a, version);
		ml_pg_arg(&a, name);
		ml_pg_arg_i64(&a, ml_now_ms());
		rc = ml_pg_qc(c, "INSERT INTO schema_migrations(version, name, applied_at) "
				 "VALUES ($1, $2, $3)", &a, NULL, NULL);
	}
	if (rc < 0) {
		PQclear(PQexec(c->db, "ROLLBACK"));
		return rc;
	}
	return ml_pg_exec(c, "COMMIT");
}

static int migrate_locked(struct pg_conn *c)
{
	int applied = 0, rc;
	if ((rc = ml_pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
				"version bigint PRIMARY KEY, name text NOT NULL, "
				"applied_at bigint NOT NULL)")) < 0)
		return rc;
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++) {
		if (strncmp(e->path, MIGRATION_DIR, strlen(MIGRATION_DIR)) != 0)
			continue;
		const char *name = e->path + strlen(MIGRATION_DIR);
		long version = strtol(name, NULL, 10);
		struct pg_args a = {0};
		PGresult *r;
		ml_pg_arg_i64(&a, version);
		if ((rc = ml_pg_qc(c, "SELECT 1 FROM schema_migrations WHERE version = $1", &a, &r,
				   NULL)) < 0)
			return rc;
		bool found = PQntuples(r) > 0;
		PQclear(r);
		if (found)
			continue;
		if ((rc = apply_one(c, e, version, name)) < 0)
			return rc;
		ml_info("store: applied migration %s", name);
		applied++;
	}
	return applied;
}

int ml_pg_migrate(struct ml_store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	struct pg_conn *c = ml_pg_take(s);
	if (!c)
		return ML_ESTORE;
	int rc = ml_pg_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")");
	if (rc == 0) {
		rc = migrate_locked(c);
		PQclear(PQexec(c->db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")"));
	}
	ml_pg_give(s, c);
	return rc;
}

int ml_pg_ready(struct ml_store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	int want = 0;
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++)
		if (strncmp(e->path, MIGRATION_DIR, strlen(MIGRATION_DIR)) == 0)
			want++;
	struct pg_conn *c = ml_pg_take(s);
	if (!c)
		return ML_EUNAVAIL;
	PGresult *r = NULL;
	int rc = ml_pg_qc(c, "SELECT count(*) FROM schema_migrations", NULL, &r, NULL);
	int have = rc == 0 ? (int)ml_pg_i64(r, 0, 0) : -1;
	PQclear(r);
	if (rc < 0)
		c->broken = true; /* a new connection next time */
	ml_pg_give(s, c);
	return have == want ? 0 : ML_EUNAVAIL;
}
