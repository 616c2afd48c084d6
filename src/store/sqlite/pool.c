/* The SQLite backend's connections: opening them, their cache of prepared statements, the
 * pool of reader connections and the read snapshots taken on them. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An optimistic run (occ.c) that calls an operation which cannot record is done for:
 * it runs again on the writer once its callback returns. Until then it goes on against its
 * read snapshot, and a write it attempts there fails ("attempt to write a readonly
 * database", the reader is query_only). That failure is the expected way to the writer, not
 * an error: while such a run's callback goes on (on its own thread), store failures are
 * logged at debug level only. Its run on the writer reports real ones. */
_Thread_local bool ml_sq_occ_doomed;

#define store_err(...) ml_log(ml_sq_occ_doomed ? ML_LOG_DEBUG : ML_LOG_ERROR, __VA_ARGS__)

int ml_sq_fail(sqlite3 *db, const char *what)
{
	store_err("store: %s: %s", what, sqlite3_errmsg(db));
	return ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
}

/* Waiting for a lock: SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25... ms between
 * tries, so a lock held for half a millisecond (the checkpointer restarting the WAL, a
 * writer's commit) could cost the waiter tens of milliseconds; and a checkpointer waiting so
 * for readers held the writer back for ~100 ms (the pipeline bench's p99). Here: tries every
 * 100 µs, for up to 10 s (the checkpointer, given `arg`, for 5 ms: it tries again later). */
int ml_sq_busy_wait(void *arg, int tries)
{
	int limit = arg ? 50 : 100000;
	if (tries >= limit)
		return 0;
	struct timespec ts = {0, 100 * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

int ml_sq_conn_open(const char *path, bool reader, const char *vfs, struct sq_conn **out)
{
	struct sq_conn *c = ml_calloc(1, sizeof *c);
	c->nchecked = -1;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	/* synchronous=FULL: every commit durable when answered; the writer's VFS (vfs.c)
	 * also relies on each commit syncing the WAL. */
	const char *pragmas = reader ? "PRAGMA query_only=1;"
				     : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				       "PRAGMA foreign_keys=ON;"
				       /* Group commits write thousands of rows per transaction:
					* a 2 MB page cache spills mid-transaction (extra writes). */
				       "PRAGMA cache_size=-32768;";

	if (sqlite3_open_v2(path, &c->db, flags, vfs) != SQLITE_OK ||
	    sqlite3_busy_handler(c->db, ml_sq_busy_wait, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		int rc = ml_error_set(ML_ESTORE, "store_unavailable", "MEETLINK_DB",
				      "cannot open the SQLite store at %s: %s", path,
				      c->db ? sqlite3_errmsg(c->db) : "out of memory");
		sqlite3_close(c->db);
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void ml_sq_conn_close(struct sq_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ncache; i++) {
		sqlite3_finalize(c->cache[i].st);
		free(c->cache[i].sql);
	}
	sqlite3_close(c->db);
	free(c->handoffs);
	free(c);
}

/* A reset statement for `sql`, prepared once per connection. NULL on error (logged). */
sqlite3_stmt *ml_sq_prep(struct sq_conn *c, const char *sql)
{
	sqlite3_stmt *st;
	/* Most statements are string literals: the same pointer every time (checked, as a
	 * buffer on the stack can hold another statement at the same address later). */
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i].key == sql && strcmp(c->cache[i].sql, sql) == 0) {
			sqlite3_reset(c->cache[i].st);
			sqlite3_clear_bindings(c->cache[i].st);
			return c->cache[i].st;
		}
	for (int i = 0; i < c->ncache; i++)
		if (strcmp(c->cache[i].sql, sql) == 0) {
			sqlite3_reset(c->cache[i].st);
			sqlite3_clear_bindings(c->cache[i].st);
			return c->cache[i].st;
		}
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		store_err("store: prepare failed: %s", sqlite3_errmsg(c->db));
		return NULL;
	}
	if (c->ncache == ML_SQ_STMT_CACHE) {
		/* Full: evict the oldest entry. Bounded because queries come from a fixed set. */
		sqlite3_finalize(c->cache[0].st);
		free(c->cache[0].sql);
		memmove(&c->cache[0], &c->cache[1], sizeof c->cache[0] * (ML_SQ_STMT_CACHE - 1));
		c->ncache--;
	}
	c->cache[c->ncache].sql = ml_strdup(sql);
	c->cache[c->ncache].key = sql;
	c->cache[c->ncache].st = st;
	c->ncache++;
	return st;
}

static struct sq_conn *txc_begun(struct sq_tx *t)
{
	if (t->begin_pending) {
		t->begin_pending = false;
		ml_sq_tx_ctl(t->c, "BEGIN"); /* a failure shows in the statement that follows */
	}
	return t->c;
}

struct sq_conn *ml_sq_txc(struct ml_tx *tx)
{
	struct sq_tx *t = (struct sq_tx *)tx;
	/* An operation that does not know how to record runs the transaction the slow way. */
	if (t->rec) {
		ml_sq_rec_unsupported(tx);
		ml_sq_occ_doomed = true;
	}
	return txc_begun(t);
}

struct sq_conn *ml_sq_txc_read(struct ml_tx *tx)
{
	return txc_begun((struct sq_tx *)tx);
}

int ml_sq_exec(struct sq_conn *c, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_err("store: %s: %s", sql, msg ? msg : "?");
		sqlite3_free(msg);
		return ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
	}
	return 0;
}

/* A transaction-control statement (BEGIN, SAVEPOINT, RELEASE, COMMIT...): prepared once per
 * connection and reused, where sqlite3_exec would parse it again at every call. */
int ml_sq_tx_ctl(struct sq_conn *c, const char *sql)
{
	sqlite3_stmt *st = ml_sq_prep(c, sql);
	if (!st)
		return ml_sq_fail(c->db, sql);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : ml_sq_fail(c->db, sql);
}

struct sq_conn *ml_sq_reader_take(struct sq_store *s, int *rc)
{
	struct sq_conn *c;
	pthread_mutex_lock(&s->readers_mu);
	c = s->free_readers;
	if (c)
		s->free_readers = c->next_free;
	pthread_mutex_unlock(&s->readers_mu);
	*rc = c ? 0 : ml_sq_conn_open(s->path, true, NULL, &c);
	return *rc == 0 ? c : NULL;
}

void ml_sq_reader_give(struct sq_store *s, struct sq_conn *c)
{
	pthread_mutex_lock(&s->readers_mu);
	c->next_free = s->free_readers;
	s->free_readers = c;
	pthread_mutex_unlock(&s->readers_mu);
}

int ml_sq_read(struct ml_store *base, ml_tx_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	int rc;
	struct sq_conn *c = ml_sq_reader_take(s, &rc);
	if (!c)
		return rc;
	struct sq_tx tx = {{base}, c, NULL};
	if ((rc = ml_sq_tx_ctl(c, "BEGIN")) == 0) {
		rc = fn(&tx.base, arg);
		ml_sq_tx_ctl(c, "COMMIT");
	}
	ml_sq_reader_give(s, c);
	return rc;
}

void ml_sq_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int ml_sq_page(struct sq_conn *c, sqlite3_stmt *st, int limit, json_t *(*row)(sqlite3_stmt *),
	       int pos_col, int id_col, json_t **items, char **next_cursor)
{
	json_t *arr = json_array();
	int64_t last_pos = 0;
	char last_id[40] = "";
	int n = 0, r;
	char *next = NULL;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			next = ml_store_cursor_encode(last_pos, last_id);
			break;
		}
		json_t *item = row(st);
		if (item)
			json_array_append_new(arr, item);
		last_pos = sqlite3_column_int64(st, pos_col);
		const char *id = (const char *)sqlite3_column_text(st, id_col);
		snprintf(last_id, sizeof last_id, "%s", id ? id : "");
		n++;
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		json_decref(arr);
		free(next);
		return ml_sq_fail(c->db, "list");
	}
	*items = arr;
	*next_cursor = next;
	return 0;
}
