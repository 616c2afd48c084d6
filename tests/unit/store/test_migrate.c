/* Migrations on a store that already holds data: 0008 rebuilds jobs and audit_events without
 * AUTOINCREMENT and keeps every row, its number and its order; new rows number after them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/embed.h"
#include "store/store.h"

#define DIR "src/store/migrations/sqlite/"

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int enq_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	json_t *p = json_pack("{s:s}", "tag", "after");
	struct ml_job_new j = {"org_1", "test.kind", "g1", NULL, p, 0, 3};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(p);
	if (rc < 0)
		return rc;
	struct ml_audit ev = {"org_1", "bkg_1", "booking.confirmed", "test", NULL, NULL};
	return ml_tx_audit_append(tx, &ev);
}

static int trail_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_audit_list(tx, "org_1", "bkg_1", arg);
}

static void test_0008_keeps_rows_and_order(void **state)
{
	(void)state;
	char dir[] = "/tmp/ml-migrate-XXXXXX", path[96], url[128], cmd[128];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/t.db", dir);

	/* A store as 0001-0007 left it, with jobs and audit events in it. */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (version INTEGER "
		 "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++) {
		if (strncmp(e->path, DIR, strlen(DIR)) != 0)
			continue;
		long v = strtol(e->path + strlen(DIR), NULL, 10);
		if (v > 7)
			continue;
		exec(db, (const char *)e->data);
		char ins[160];
		snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES (%ld, 'x', 0)", v);
		exec(db, ins);
	}
	exec(db, "INSERT INTO orgs(id, name, created_at) VALUES ('org_1', 'Org', 0)");
	for (int i = 1; i <= 3; i++) {
		char ins[400];
		snprintf(ins, sizeof ins,
			 "INSERT INTO jobs(id, org_id, kind, group_key, state, payload, "
			 "max_attempts, run_at, created_at, updated_at) VALUES ('job_%d', 'org_1', "
			 "'test.kind', 'g1', 'done', '{\"n\":%d}', 3, 0, 0, 0)",
			 i, i);
		exec(db, ins);
		snprintf(ins, sizeof ins,
			 "INSERT INTO audit_events(org_id, booking_id, at, type, actor) VALUES "
			 "('org_1', 'bkg_1', %d, 'booking.created', 'test')",
			 i);
		exec(db, ins);
	}
	sqlite3_close(db);

	struct ml_store *s;
	snprintf(url, sizeof url, "sqlite:%s", path);
	assert_int_equal(ml_store_open(&s, url), 0);
	assert_true(ml_store_migrate(s) >= 1);
	assert_int_equal(ml_store_write(s, enq_fn, NULL), 0);
	json_t *trail = NULL;
	assert_int_equal(ml_store_read(s, trail_fn, &trail), 0);
	assert_int_equal(json_array_size(trail), 4); /* three kept, one new, in order */
	assert_string_equal(json_string_value(json_object_get(json_array_get(trail, 3), "type")),
			    "booking.confirmed");
	json_decref(trail);
	ml_store_close(s);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	/* Every row kept with its number; the new job numbered after them. */
	assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE seq = substr(id, 5) + 0 AND "
				   "payload = '{\"n\":' || seq || '}'"),
			 3);
	assert_int_equal(count(db, "SELECT seq FROM jobs WHERE payload LIKE '%after%'"), 4);
	assert_int_equal(count(db, "SELECT count(*) FROM audit_events"), 4);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE sql LIKE "
				   "'%AUTOINCREMENT%' AND name IN ('jobs', 'audit_events')"),
			 0);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
				   "tbl_name IN ('jobs', 'audit_events') AND sql IS NOT NULL"),
			 6);
	sqlite3_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_0008_keeps_rows_and_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
