/* The durable-write ceiling of this disk through SQLite, as meetlink configures it:
 * WAL, synchronous=FULL, ~90-byte rows, one writer.
 *
 *   sqlite_ceiling DB_PATH [SECONDS_PER_CASE=3]
 *
 * Case 1: one row per transaction (every commit is an fsync of the WAL).
 * Case 2: 100 rows per transaction (what group commit can reach at best).
 * Prints "key value" lines: txn_1_per_s, rows_1_per_s, txn_100_per_s, rows_100_per_s. */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "sqlite_ceiling: %s: %s\n", what, sqlite3_errmsg(db));
		exit(2);
	}
}

/* Inserts for `secs` seconds, `per_txn` rows per transaction; returns transactions done. */
static long run_case(sqlite3 *db, int per_txn, double secs, double *elapsed, long *seq)
{
	sqlite3_stmt *st;
	char payload[128];
	long txns = 0;

	check(sqlite3_prepare_v2(db, "INSERT INTO t(id, v) VALUES (?, ?)", -1, &st, NULL), db,
	      "prepare");
	double t0 = now_s(), t;
	do {
		check(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), db, "begin");
		for (int i = 0; i < per_txn; i++) {
			(*seq)++;
			/* ~90 bytes: a row the size of an audit event or a small document. */
			int n = snprintf(payload, sizeof payload,
					 "{\"id\":\"bkg_%020ld\",\"type\":\"booking.confirmed\","
					 "\"actor\":\"key_0123456789\"}",
					 *seq);
			sqlite3_bind_int64(st, 1, *seq);
			sqlite3_bind_text(st, 2, payload, n, SQLITE_STATIC);
			check(sqlite3_step(st), db, "insert");
			sqlite3_reset(st);
		}
		check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
		txns++;
		t = now_s();
	} while (t - t0 < secs);
	sqlite3_finalize(st);
	*elapsed = t - t0;
	return txns;
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	double secs = argc > 2 ? atof(argv[2]) : 3.0, el;
	long seq = 0;

	if (argc < 2 || secs <= 0 || secs > 60) {
		fputs("usage: sqlite_ceiling DB_PATH [SECONDS_PER_CASE=3]\n", stderr);
		return 2;
	}
	unlink(argv[1]);
	check(sqlite3_open(argv[1], &db), db, "open");
	check(sqlite3_exec(db,
			   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			   "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
			   NULL, NULL, NULL),
	      db, "setup");

	long n1 = run_case(db, 1, secs, &el, &seq);
	printf("txn_1_per_s %.0f\nrows_1_per_s %.0f\n", (double)n1 / el, (double)n1 / el);
	long n100 = run_case(db, 100, secs, &el, &seq);
	printf("txn_100_per_s %.0f\nrows_100_per_s %.0f\n", (double)n100 / el,
	       (double)n100 * 100 / el);
	printf("rows_total %ld\n", seq);
	sqlite3_close(db);
	return 0;
}
