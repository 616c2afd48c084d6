/* The writer's VFS (store/sqlite/vfs.c) gathers WAL writes and writes them out before each
 * sync, read, truncation or close. A connection through it must leave exactly what the
 * default VFS would: every commit readable by another connection and durable once answered
 * (a process that dies right after keeps it), a transaction far larger than the buffer and
 * than the page cache (pages spilled to the WAL, read back and rewritten in place before the
 * commit) intact, and the WAL checkpointed and restarted as usual. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/sqlite/internal.h"

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static long long one(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
					 vfs),
			 SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
		 "PRAGMA wal_autocheckpoint=0");
	return db;
}

struct env {
	char dir[32];
	char path[64];
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	snprintf(e->dir, sizeof e->dir, "/tmp/ml-walvfs-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof e->path, "%s/t.db", e->dir);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return 0;
}

static void test_registered(void **state)
{
	(void)state;
	assert_non_null(ml_sq_wal_vfs());
	assert_string_equal(ml_sq_wal_vfs(), ML_SQ_WAL_VFS);
	assert_non_null(sqlite3_vfs_find(ML_SQ_WAL_VFS));
}

/* ~8 MB in one transaction with a 40-page cache: pages spill to the WAL mid-transaction, are
 * read back, changed and written again; the buffer (1 MB) fills many times over. */
static void test_large_transaction(void **state)
{
	struct env *e = *state;
	sqlite3 *w = open_db(e->path, ml_sq_wal_vfs());
	exec(w, "PRAGMA cache_size=40; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, n INT)");
	exec(w, "BEGIN");
	exec(w, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8000) "
		"INSERT INTO t SELECT i, printf('%.1000c', char(65 + i % 26)), i FROM c");
	/* Every row again, in an order the cache cannot follow: spilled pages read back. */
	exec(w, "UPDATE t SET n = n * 2 WHERE id % 7 = 3");
	exec(w, "UPDATE t SET n = n + 1 WHERE id % 5 = 1");
	exec(w, "COMMIT");

	sqlite3 *r = open_db(e->path, NULL);
	assert_int_equal(one(r, "SELECT count(*) FROM t"), 8000);
	long long want = 0;
	for (long long i = 1; i <= 8000; i++)
		want += (i % 7 == 3 ? i * 2 : i) + (i % 5 == 1);
	assert_int_equal(one(r, "SELECT sum(n) FROM t"), want);
	assert_int_equal(one(r, "SELECT count(*) FROM t WHERE v = printf('%.1000c', "
				"char(65 + id % 26))"),
			 8000);
	assert_int_equal(one(r, "SELECT count(*) FROM pragma_integrity_check WHERE "
				"integrity_check = 'ok'"),
			 1);
	sqlite3_close(r);

	/* Checkpointed and restarted, then written again from the start of the file. */
	exec(w, "PRAGMA wal_checkpoint(RESTART)");
	exec(w, "UPDATE t SET n = 0 WHERE id <= 100");
	r = open_db(e->path, NULL);
	assert_int_equal(one(r, "SELECT count(*) FROM t WHERE n = 0"), 100);
	sqlite3_close(r);
	sqlite3_close(w);
}

/* The buffer itself, through the VFS's file methods, as SQLite calls them on a WAL file:
 * appends, a rewrite of bytes still buffered (a frame rewritten in the same transaction), a
 * write elsewhere, reads overlapping the buffer, the size, a truncation. */
static void test_buffer(void **state)
{
	struct env *e = *state;
	char wal[80];
	snprintf(wal, sizeof wal, "%s-wal", e->path);
	sqlite3_close(open_db(e->path, NULL)); /* (a WAL takes its mode from its database) */
	sqlite3_vfs *vfs = sqlite3_vfs_find(ml_sq_wal_vfs());
	sqlite3_file *f = calloc(1, (size_t)vfs->szOsFile);
	int out = 0;
	assert_int_equal(vfs->xOpen(vfs, wal, f,
				    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_WAL,
				    &out),
			 SQLITE_OK);
	const sqlite3_io_methods *m = f->pMethods;
	static char a[3 * 4096], b[100], got[3 * 4096];
	memset(a, 'a', sizeof a);
	memset(b, 'b', sizeof b);
	for (int i = 0; i < 3; i++)
		assert_int_equal(m->xWrite(f, a + i * 4096, 4096, i * 4096), SQLITE_OK);
	struct stat st;
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_size, 0); /* gathered, not written yet */
	assert_int_equal(m->xWrite(f, b, sizeof b, 5000), SQLITE_OK); /* still buffered */
	memcpy(a + 5000, b, sizeof b);
	sqlite3_int64 size = 0;
	assert_int_equal(m->xFileSize(f, &size), SQLITE_OK);
	assert_int_equal(size, sizeof a);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_size, sizeof a); /* in one go, before the size was read */
	assert_int_equal(m->xRead(f, got, sizeof got, 0), SQLITE_OK);
	assert_memory_equal(got, a, sizeof a);

	/* Appends, then a write before them: both land, in order. */
	assert_int_equal(m->xWrite(f, a, 4096, sizeof a), SQLITE_OK);
	assert_int_equal(m->xWrite(f, b, sizeof b, 100), SQLITE_OK);
	assert_int_equal(m->xWrite(f, b, sizeof b, sizeof a + 10), SQLITE_OK);
	assert_int_equal(m->xRead(f, got, 200, 0), SQLITE_OK);
	assert_memory_equal(got + 100, b, sizeof b);
	assert_memory_equal(got, a, 100);
	assert_int_equal(m->xRead(f, got, 4096, sizeof a), SQLITE_OK);
	assert_memory_equal(got + 10, b, sizeof b);
	assert_memory_equal(got + 110, a, 4096 - 110);

	/* A buffered write beyond a truncation is written before it, then cut. */
	assert_int_equal(m->xWrite(f, a, 4096, 4 * 4096), SQLITE_OK);
	assert_int_equal(m->xTruncate(f, 4096), SQLITE_OK);
	assert_int_equal(m->xFileSize(f, &size), SQLITE_OK);
	assert_int_equal(size, 4096);
	assert_int_equal(m->xWrite(f, b, sizeof b, 4096), SQLITE_OK);
	assert_int_equal(m->xClose(f), SQLITE_OK); /* written out on close */
	free(f);
	FILE *fp = fopen(wal, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(got, 1, sizeof got, fp), 4096 + sizeof b);
	fclose(fp);
	assert_memory_equal(got + 4096, b, sizeof b);
}

/* Commits answered by a process are there when it dies right after, without closing. */
static void test_durable_on_exit(void **state)
{
	struct env *e = *state;
	sqlite3 *db = open_db(e->path, NULL);
	exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	sqlite3_close(db);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sqlite3 *w = open_db(e->path, ml_sq_wal_vfs());
		for (int i = 0; i < 200; i++) {
			char sql[96];
			snprintf(sql, sizeof sql, "INSERT INTO t(v) VALUES (printf('%%.500c', 'x'))");
			if (sqlite3_exec(w, sql, NULL, NULL, NULL) != SQLITE_OK)
				_exit(2);
		}
		_exit(0); /* no close: whatever sat in a buffer would be lost */
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sqlite3 *r = open_db(e->path, NULL);
	assert_int_equal(one(r, "SELECT count(*) FROM t"), 200);
	sqlite3_close(r);
}

/* Each commit is visible to another connection as soon as it returns. */
static void test_visible_after_each_commit(void **state)
{
	struct env *e = *state;
	sqlite3 *w = open_db(e->path, ml_sq_wal_vfs());
	exec(w, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
	sqlite3 *r = open_db(e->path, NULL);
	for (int i = 1; i <= 50; i++) {
		exec(w, "INSERT INTO t(v) VALUES (printf('%.3000c', 'y'))");
		assert_int_equal(one(r, "SELECT count(*) FROM t"), i);
	}
	sqlite3_close(r);
	sqlite3_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registered),
	    cmocka_unit_test_setup_teardown(test_large_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buffer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_durable_on_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_visible_after_each_commit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
