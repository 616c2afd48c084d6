/* Migrations on a store that already holds data: 0008 rebuilds jobs and audit_events without
 * AUTOINCREMENT and keeps every row, its number and its order; new rows number after them.
 * 0009 replaces the jobs' and bookings' busiest indexes: the claim still finds due and expired
 * jobs, lists by host still page right, and a booking update that keeps its indexed columns
 * writes the booking's page alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

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

/* A store as the migrations up to `upto` left it (schema_migrations filled in as the daemon
 * does), at path = dir/t.db in a new directory made from the template in dir. */
static sqlite3 *old_store(char *dir, char path[96], long upto)
{
	sqlite3 *db;
	assert_non_null(mkdtemp(dir));
	snprintf(path, 96, "%s/t.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (version INTEGER "
		 "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++) {
		if (strncmp(e->path, DIR, strlen(DIR)) != 0)
			continue;
		long v = strtol(e->path + strlen(DIR), NULL, 10);
		if (v > upto)
			continue;
		exec(db, (const char *)e->data);
		char ins[160];
		snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES (%ld, 'x', 0)", v);
		exec(db, ins);
	}
	exec(db, "INSERT INTO orgs(id, name, created_at) VALUES ('org_1', 'Org', 0)");
	return db;
}

static void remove_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
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
	char dir[] = "/tmp/ml-migrate-XXXXXX", path[96], url[128];
	/* A store as 0001-0007 left it, with jobs and audit events in it. */
	sqlite3 *db = old_store(dir, path, 7);
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
	/* (0009, applied too, replaced one index of jobs by two) */
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
				   "tbl_name IN ('jobs', 'audit_events') AND sql IS NOT NULL"),
			 7);
	sqlite3_close(db);
	remove_dir(dir);
}

/* --- 0009 --- */

static int claim_fn(struct ml_tx *tx, void *arg)
{
	struct ml_job *jobs = NULL;
	int n = 0, rc = ml_tx_job_claim(tx, "w1", 10000, 60000, 10, &jobs, &n);
	if (rc < 0)
		return rc;
	char *ids = arg;
	for (int i = 0; i < n; i++) {
		strcat(ids, jobs[i].id);
		strcat(ids, " ");
		ml_job_free(&jobs[i]);
	}
	free(jobs);
	return n;
}

static int next_due_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_job_next_due(tx, arg);
}

static json_t *booking(const char *id, const char *host, const char *status)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "host_id", host, "service_id",
			 "svc_1", "status", status, "start", "2026-12-01T10:00:00Z");
}

static int insert_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	int rc = 0;
	for (int i = 1; i <= 3 && rc == 0; i++) {
		char id[16];
		snprintf(id, sizeof id, "bkg_%d", i);
		json_t *b = booking(id, "hst_1", "pending");
		rc = ml_tx_doc_insert(tx, ML_KIND_BOOKING, "org_1", b);
		json_decref(b);
	}
	return rc;
}

static int update_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_doc_update(tx, ML_KIND_BOOKING, "org_1", arg);
}

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct ml_list_query q = {.limit = 1, .host_id = "hst_1"};
	json_t **pages = arg;
	char *next = NULL;
	int rc = ml_tx_doc_list(tx, ML_KIND_BOOKING, "org_1", &q, &pages[0], &next);
	if (rc < 0)
		return rc;
	q.cursor = next;
	rc = ml_tx_doc_list(tx, ML_KIND_BOOKING, "org_1", &q, &pages[1], &next);
	free((char *)q.cursor);
	free(next);
	if (rc < 0)
		return rc;
	static const char *const live[] = {"confirmed", NULL};
	return ml_tx_doc_count_ref(tx, ML_KIND_BOOKING, "org_1", "host_id", "hst_1", live);
}

/* mxFrame of the WAL-index header (test_wal.c): frames in the WAL now. */
static uint32_t wal_frames(const char *path)
{
	char shm[128];
	snprintf(shm, sizeof shm, "%s-shm", path);
	int fd = open(shm, O_RDONLY);
	uint32_t mx = 0;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &mx, sizeof mx, 16), sizeof mx);
	close(fd);
	return mx;
}

/* Frames one update of the booking appends (the WAL may restart at its begin). */
static uint32_t update_frames(struct ml_store *s, const char *path, json_t *doc)
{
	uint32_t before = wal_frames(path);
	assert_int_equal(ml_store_write(s, update_fn, doc), 0);
	uint32_t after = wal_frames(path);
	return after >= before ? after - before : after;
}

static void test_0009_live_indexes(void **state)
{
	(void)state;
	char dir[] = "/tmp/ml-migrate-XXXXXX", path[96], url[128];
	/* As 0008 left it: a job queued and due, one running with an expired lease, one done,
	 * one queued for later. */
	sqlite3 *db = old_store(dir, path, 8);
	exec(db, "INSERT INTO jobs(id, org_id, kind, state, payload, max_attempts, run_at, "
		 "lease_until, worker, created_at, updated_at) VALUES "
		 "('job_due', 'org_1', 'k', 'queued', '{}', 3, 5000, NULL, NULL, 0, 0), "
		 "('job_lost', 'org_1', 'k', 'running', '{}', 3, 0, 9000, 'w0', 0, 0), "
		 "('job_done', 'org_1', 'k', 'done', '{}', 3, 0, NULL, NULL, 0, 0), "
		 "('job_later', 'org_1', 'k', 'queued', '{}', 3, 20000, NULL, NULL, 0, 0)");
	sqlite3_close(db);

	struct ml_store *s;
	snprintf(url, sizeof url, "sqlite:%s", path);
	assert_int_equal(ml_store_open(&s, url), 0);
	assert_true(ml_store_migrate(s) >= 1);
	char ids[256] = "";
	/* The expired lease first, then the due job; neither the done nor the later one. */
	assert_int_equal(ml_store_write(s, claim_fn, ids), 2);
	assert_string_equal(ids, "job_lost job_due ");
	int64_t due = 0;
	assert_int_equal(ml_store_read(s, next_due_fn, &due), 0);
	assert_int_equal(due, 20000); /* the later job; the claimed ones' leases run to 70000 */

	/* Bookings: an update that keeps host, service and external id writes one page (the
	 * booking's); one that changes the host moves its entry; lists and counts follow. */
	assert_int_equal(ml_store_write(s, insert_fn, NULL), 0);
	json_t *b = booking("bkg_1", "hst_1", "confirmed");
	/* Confirmed: its page and its new entry in bookings_busy (0016, the overlap check). */
	assert_int_equal(update_frames(s, path, b), 2);
	json_decref(b);
	/* Status and start kept too: the booking's page only. */
	b = booking("bkg_1", "hst_1", "confirmed");
	assert_int_equal(update_frames(s, path, b), 1);
	json_decref(b);
	b = booking("bkg_2", "hst_2", "pending");
	assert_true(update_frames(s, path, b) >= 2);
	json_decref(b);
	json_t *pages[2] = {NULL, NULL};
	assert_int_equal(ml_store_read(s, list_fn, pages), 1); /* one confirmed with hst_1 */
	assert_string_equal(json_string_value(json_object_get(json_array_get(pages[0], 0), "id")),
			    "bkg_1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(pages[1], 0), "id")),
			    "bkg_3");
	json_decref(pages[0]);
	json_decref(pages[1]);
	ml_store_close(s);

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(count(db, "SELECT count(*) FROM bookings INDEXED BY bookings_host WHERE "
				   "org_id = 'org_1' AND host_id = 'hst_2'"),
			 1);
	assert_int_equal(count(db, "SELECT count(*) FROM bookings WHERE status = 'confirmed'"), 1);
	/* The claim's indexes hold live jobs only: of the four, the two claimed are running and
	 * the later one queued; the done one is in neither. */
	assert_int_equal(count(db, "SELECT count(*) FROM jobs INDEXED BY jobs_lease WHERE "
				   "state = 'running'"),
			 2);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name IN "
				   "('jobs_due', 'jobs_lease') AND sql LIKE '% WHERE state = %'"),
			 2);
	assert_int_equal(count(db, "SELECT count(*) FROM pragma_integrity_check WHERE "
				   "integrity_check = 'ok'"),
			 1);
	sqlite3_close(db);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_0008_keeps_rows_and_order),
	    cmocka_unit_test(test_0009_live_indexes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
