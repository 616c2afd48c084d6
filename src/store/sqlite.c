/* The SQLite backend: WAL, synchronous=FULL, one writer thread with group commit, a pool of
 * reader connections, prepared statements cached per connection. */
#include "store/sqlite_internal.h"
#include "core/json_text.h"
#include "store/doc_cache.h"
#include "core/crypto.h"
#include "core/embed.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/priority.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>


#define BATCH_MAX 512
#define MIGRATION_DIR "src/store/migrations/sqlite/"

struct sq_op {
	ml_tx_fn fn;
	void *arg;
	struct sq_rec *rec;        /* optimistic: apply this recording instead of running fn */
	int rec_rc;                /* what fn answered when it recorded */
	void (*reset)(void *arg);  /* before running fn after a stale recording */
	void *reset_arg;
	int rc;
	bool applied; /* the recording was applied (not the slow path) */
	bool done;
	pthread_cond_t cv; /* signalled once, when done: each caller is woken alone */
	/* Asynchronous (ml_store_write_async): nobody waits on cv; the writer calls this once
	 * the batch has committed or failed, then frees the op. */
	void (*on_done)(void *arg, int rc);
	void *done_arg;
	struct sq_op *next;
};

struct sq_store {
	struct ml_store base;
	char *path;
	struct sq_conn *writer;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work_cv;
	struct sq_op *head, *tail;
	bool stopping;
	/* Checkpoints run on their own thread and connection: the writer only appends to the
	 * WAL (its auto-checkpoint is off), so copying pages back never delays a commit. */
	pthread_t ckpt_thread;
	struct sq_conn *ckpt;
	pthread_cond_t ckpt_cv;
	bool catch_up; /* under mu: the writer is asked to finish a checkpoint (wal_catch_up) */
	/* The checkpointer's own descriptor of the database file, for flushing it (-1: none).
	 * Closed only after every SQLite connection: closing a descriptor drops the process's
	 * POSIX locks on the file, SQLite's included. */
	int db_fd;
	struct sq_conn *free_readers;
	pthread_mutex_t readers_mu;
	/* Only the writer thread reads or changes these (set_job_taker runs there). */
	struct ml_job_taker taker;
	bool has_taker;
};

static const struct ml_store_ops sqlite_ops;

/* An optimistic run (sqlite_occ.c) that calls an operation which cannot record is done for:
 * it runs again on the writer once its callback returns. Until then it goes on against its
 * read snapshot, and a write it attempts there fails ("attempt to write a readonly
 * database", the reader is query_only). That failure is the expected way to the writer, not
 * an error: while such a run's callback goes on (on its own thread), store failures are
 * logged at debug level only. Its run on the writer reports real ones. */
static _Thread_local bool occ_doomed;

#define store_err(...) ml_log(occ_doomed ? ML_LOG_DEBUG : ML_LOG_ERROR, __VA_ARGS__)

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
static int busy_wait(void *arg, int tries)
{
	int limit = arg ? 50 : 100000;
	if (tries >= limit)
		return 0;
	struct timespec ts = {0, 100 * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

static int conn_open(const char *path, bool reader, const char *vfs, struct sq_conn **out)
{
	struct sq_conn *c = ml_calloc(1, sizeof *c);
	c->nchecked = -1;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	/* synchronous=FULL: every commit durable when answered; the writer's VFS (sqlite_vfs.c)
	 * also relies on each commit syncing the WAL. */
	const char *pragmas = reader ? "PRAGMA query_only=1;"
				     : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				       "PRAGMA foreign_keys=ON;"
				       /* Group commits write thousands of rows per transaction:
					* a 2 MB page cache spills mid-transaction (extra writes). */
				       "PRAGMA cache_size=-32768;";

	if (sqlite3_open_v2(path, &c->db, flags, vfs) != SQLITE_OK ||
	    sqlite3_busy_handler(c->db, busy_wait, NULL) != SQLITE_OK ||
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

static void conn_close(struct sq_conn *c)
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

static int tx_ctl(struct sq_conn *c, const char *sql);

static struct sq_conn *txc_begun(struct sq_tx *t)
{
	if (t->begin_pending) {
		t->begin_pending = false;
		tx_ctl(t->c, "BEGIN"); /* a failure shows in the statement that follows */
	}
	return t->c;
}

struct sq_conn *ml_sq_txc(struct ml_tx *tx)
{
	struct sq_tx *t = (struct sq_tx *)tx;
	/* An operation that does not know how to record runs the transaction the slow way. */
	if (t->rec) {
		ml_sq_rec_unsupported(tx);
		occ_doomed = true;
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
static int tx_ctl(struct sq_conn *c, const char *sql)
{
	sqlite3_stmt *st = ml_sq_prep(c, sql);
	if (!st)
		return ml_sq_fail(c->db, sql);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : ml_sq_fail(c->db, sql);
}

/* --- the writer thread (group commit) --- */

/* An op the ordinary way, in its own savepoint: a failing op rolls back alone. */
static int run_op_savepoint(struct sq_store *s, struct sq_tx *tx, struct sq_op *op)
{
	int brc;
	ml_error_clear();
	if ((brc = tx_ctl(s->writer, "SAVEPOINT op")) < 0)
		return brc;
	if (op->rec && ml_sq_rec_apply(s->writer, op->rec) == 0) {
		op->rc = op->rec_rc;
		op->applied = true;
	} else {
		if (op->rec) {
			/* Stale snapshot or a failing write: start over, for real. */
			tx_ctl(s->writer, "ROLLBACK TO op");
			ml_error_clear();
			op->reset(op->reset_arg);
		}
		op->rc = op->fn(&tx->base, op->arg);
	}
	if (op->rc < 0)
		tx_ctl(s->writer, "ROLLBACK TO op");
	tx_ctl(s->writer, "RELEASE op");
	return 0;
}

/* Every durable write waits for this one thread, so it must not wait for a CPU behind the
 * request threads whose work it finishes: on a busy 2-core machine its batches took twice as
 * long in wall time as in CPU time, and `make bench` ran ~15% faster with it at nice -10. */
#define WRITER_NICE (-10)

/* One transaction over the batch; every op gets its rc. With `fast`, the recordings whose
 * versions are still current are applied first, with no savepoint: a savepoint makes SQLite
 * copy every page an op touches into its statement journal (a temporary file once past
 * 64 KiB), and those copies were most of what the writer wrote. Applying them first is a
 * valid serial order: none of the batch's callers has been answered yet. A recording that
 * fails halfway (a unique constraint hit since its snapshot) cannot be undone alone, so the
 * whole transaction is rolled back and 1 returned: the caller runs the batch again without
 * `fast`. Nothing else has run by then. */
static int run_batch(struct sq_store *s, struct sq_op *batch, bool fast)
{
	struct sq_tx tx = {{&s->base}, s->writer, NULL};
	for (struct sq_op *op = batch; op; op = op->next) {
		op->rc = 0;
		op->applied = false;
	}
	int brc = tx_ctl(s->writer, "BEGIN IMMEDIATE");
	s->writer->nchecked = 0; /* recordings share their checks of hosts and services */
	s->writer->nhandoffs = 0;
	s->writer->note_handoffs = s->has_taker;
	for (struct sq_op *op = batch; op && fast && brc == 0; op = op->next) {
		if (!op->rec || ml_sq_rec_validate(s->writer, op->rec) < 0)
			continue; /* the ordinary way, below */
		ml_error_clear();
		if (ml_sq_rec_write(s->writer, op->rec) < 0) {
			sqlite3_exec(s->writer->db, "ROLLBACK", NULL, NULL, NULL);
			s->writer->nchecked = -1;
			return 1; /* (nothing handed over or reserved yet: the rerun notes afresh) */
		}
		op->rc = op->rec_rc;
		op->applied = true;
	}
	s->writer->nchecked = -1; /* the ordinary way may write anything: no more sharing */
	for (struct sq_op *op = batch; op && brc == 0; op = op->next)
		if (!op->applied)
			brc = run_op_savepoint(s, &tx, op);
	s->writer->note_handoffs = false;
	if (brc == 0 && s->has_taker)
		ml_sq_handoff_claim(s->writer, &s->taker);
	if (brc == 0)
		brc = tx_ctl(s->writer, "COMMIT");
	if (s->has_taker)
		ml_sq_handoff_end(s->writer, &s->taker, brc == 0);
	if (brc < 0) {
		sqlite3_exec(s->writer->db, "ROLLBACK", NULL, NULL, NULL);
		for (struct sq_op *op = batch; op; op = op->next) {
			op->rc = ML_ESTORE;
			op->applied = false;
		}
	}
	return 0;
}


/* The WAL is only reused from its start (instead of growing) by a write transaction that
 * begins while every frame in it has been copied back (SQLite then restarts it, unless a reader
 * still reads from it: then a later try will). The checkpointer copies most frames and flushes
 * the database file without stopping anyone (checkpoint_main); what the writer appended
 * meanwhile, the writer copies itself, between two batches (a few hundred frames, 1-3 ms with
 * the flush of those pages), so that its next batch restarts the WAL. That used to be a
 * RESTART checkpoint, which held the writer back for 7-13 ms each time (waiting for the
 * writer's batch, copying, flushing every page the passive checkpoints had copied since the
 * last flush, then waiting for readers), every ~0.7 s at 1,500 links/s. */
static void wal_catch_up(struct sq_store *s)
{
	int log = 0, done = 0;
	int64_t t0 = ml_mono_ms();
	int rc = sqlite3_wal_checkpoint_v2(s->writer->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
					   &done);
	ml_debug("store: writer's checkpoint: %d of %d frames copied in %lld ms%s", done, log,
		 (long long)(ml_mono_ms() - t0),
		 rc == SQLITE_OK && done == log ? ": the next batch restarts the WAL" : "");
}

static void *writer_main(void *arg)
{
	struct sq_store *s = arg;
	pthread_setname_np(pthread_self(), "ml-writer");
	ml_thread_prioritize(WRITER_NICE, "store: the writer thread");

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->head && !s->stopping && !s->catch_up)
			pthread_cond_wait(&s->work_cv, &s->mu);
		if (s->catch_up) {
			s->catch_up = false;
			pthread_mutex_unlock(&s->mu);
			wal_catch_up(s);
			pthread_mutex_lock(&s->mu);
			continue;
		}
		if (!s->head && s->stopping)
			break;
		/* Take everything queued (up to BATCH_MAX) as one transaction. */
		struct sq_op *batch = s->head, *last = batch;
		int n = 1;
		while (last->next && n < BATCH_MAX) {
			last = last->next;
			n++;
		}
		s->head = last->next;
		if (!s->head)
			s->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&s->mu);

		/* Fast first; if a recording fails halfway, the batch runs again with savepoints
		 * (nothing has run yet but recordings, which have no effect outside the store). */
		if (run_batch(s, batch, true) > 0)
			run_batch(s, batch, false);

		/* Asynchronous ops first hear of their outcome (out of the queue's lock: their
		 * callbacks take their owners' locks); they leave the batch. */
		for (struct sq_op **pp = &batch; *pp;) {
			struct sq_op *op = *pp;
			if (!op->on_done) {
				pp = &op->next;
				continue;
			}
			*pp = op->next;
			op->on_done(op->done_arg, op->rc);
			free(op);
		}
		pthread_mutex_lock(&s->mu);
		for (struct sq_op *op = batch; op;) {
			struct sq_op *next = op->next;
			op->done = true; /* op may be freed by its owner once mu is released */
			pthread_cond_signal(&op->cv);
			op = next;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* The error detail set inside fn lives on the writer thread; carry it back to the caller. */
struct carry {
	ml_tx_fn fn;
	void *arg;
	int err;
	char code[48], field[128], message[512];
};

static int carry_fn(struct ml_tx *tx, void *arg)
{
	struct carry *c = arg;
	int rc = c->fn(tx, c->arg);
	if (rc < 0) {
		c->err = rc;
		ml_utf8_copy(c->code, sizeof c->code, ml_error_code());
		ml_utf8_copy(c->field, sizeof c->field, ml_error_field());
		ml_utf8_copy(c->message, sizeof c->message, ml_error_message());
	}
	return rc;
}

/* Queues op for the writer; under s->mu. */
static void enqueue(struct sq_store *s, struct sq_op *op)
{
	if (s->tail)
		s->tail->next = op;
	else
		s->head = op;
	s->tail = op;
	pthread_cond_signal(&s->work_cv);
}

static int submit(struct sq_store *s, struct sq_op *op, struct carry *c)
{
	pthread_cond_init(&op->cv, NULL);
	pthread_mutex_lock(&s->mu);
	enqueue(s, op);
	while (!op->done)
		pthread_cond_wait(&op->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	pthread_cond_destroy(&op->cv);
	if (op->rc < 0 && c->err == op->rc)
		ml_error_set(c->err, c->code, c->field, "%s", c->message);
	else if (op->rc == ML_ESTORE)
		ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
	return op->rc;
}

static int sq_write(struct ml_store *base, ml_tx_fn fn, void *arg)
{
	struct carry c = {fn, arg, 0, "", "", ""};
	struct sq_op op = {.fn = carry_fn, .arg = &c};
	return submit((struct sq_store *)base, &op, &c);
}

/* Queued for the next batch; the caller does not wait. The writer drains its queue before
 * it stops (sq_close), so every op queued hears of its outcome. */
static int sq_write_async(struct ml_store *base, ml_tx_fn fn, void *arg,
			  void (*done)(void *arg, int rc), void *done_arg)
{
	struct sq_store *s = (struct sq_store *)base;
	struct sq_op *op = ml_calloc(1, sizeof *op);
	op->fn = fn;
	op->arg = arg;
	op->on_done = done;
	op->done_arg = done_arg;
	pthread_mutex_lock(&s->mu);
	enqueue(s, op);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

struct set_taker {
	struct sq_store *s;
	const struct ml_job_taker *t;
};

static int set_taker_fn(struct ml_tx *tx, void *arg)
{
	(void)tx;
	struct set_taker *st = arg;
	st->s->has_taker = st->t != NULL;
	if (st->t)
		st->s->taker = *st->t;
	return 0;
}

/* On the writer thread, between two batches' hand-overs: once this returns, no batch uses
 * the previous taker any more. */
static int sq_set_job_taker(struct ml_store *base, const struct ml_job_taker *t)
{
	struct set_taker st = {(struct sq_store *)base, t};
	return sq_write(base, set_taker_fn, &st);
}

static bool sq_writable(struct ml_tx *tx)
{
	struct sq_tx *t = (struct sq_tx *)tx;
	return t->rec || t->c->is_writer; /* an optimistic run records its writes */
}

static struct sq_conn *reader_take(struct sq_store *s, int *rc)
{
	struct sq_conn *c;
	pthread_mutex_lock(&s->readers_mu);
	c = s->free_readers;
	if (c)
		s->free_readers = c->next_free;
	pthread_mutex_unlock(&s->readers_mu);
	*rc = c ? 0 : conn_open(s->path, true, NULL, &c);
	return *rc == 0 ? c : NULL;
}

static void reader_give(struct sq_store *s, struct sq_conn *c)
{
	pthread_mutex_lock(&s->readers_mu);
	c->next_free = s->free_readers;
	s->free_readers = c;
	pthread_mutex_unlock(&s->readers_mu);
}

/* See sqlite_occ.c: record on this thread against a snapshot, let the writer validate and
 * apply; fall back to the ordinary path whenever recording is not possible. */
static int sq_write_occ(struct ml_store *base, ml_tx_fn fn, void *arg, void (*reset)(void *),
			void *reset_arg)
{
	struct sq_store *s = (struct sq_store *)base;
	struct sq_rec *rec = ml_sq_rec_new();
	int rc;
	struct sq_conn *rd = reader_take(s, &rc);
	if (!rd) {
		ml_sq_rec_free(rec);
		return rc;
	}
	struct sq_tx tx = {{base}, rd, rec, true};
	bool current = true;
	ml_error_clear();
	occ_doomed = false;
	rc = fn(&tx.base, arg);
	occ_doomed = false;
	/* A refusal, or nothing to write, is the answer only if what it rests on is current:
	 * documents served from the cache are checked against the database. */
	if (ml_sq_rec_usable(rec) && (rc < 0 || ml_sq_rec_empty(rec)))
		current = ml_sq_rec_validate(ml_sq_txc_read(&tx.base), rec) == 0; /* no detail */
	if (!tx.begin_pending)
		tx_ctl(rd, "COMMIT");
	reader_give(s, rd);
	if (!ml_sq_rec_usable(rec) || !current) {
		ml_sq_rec_free(rec);
		reset(reset_arg);
		return sq_write(base, fn, arg);
	}
	if (rc < 0 || ml_sq_rec_empty(rec)) {
		/* Refused on a consistent snapshot, or nothing to write: that is the answer. */
		ml_sq_rec_free(rec);
		return rc;
	}
	struct carry c = {fn, arg, 0, "", "", ""};
	struct sq_op op = {.fn = carry_fn, .arg = &c, .rec = rec, .rec_rc = rc,
			   .reset = reset, .reset_arg = reset_arg};
	rc = submit(s, &op, &c);
	if (rc >= 0 && op.applied)
		ml_sq_rec_cache_written(rec);
	ml_sq_rec_free(rec);
	return rc;
}

static int sq_read(struct ml_store *base, ml_tx_fn fn, void *arg)
{
	struct sq_store *s = (struct sq_store *)base;
	int rc;
	struct sq_conn *c = reader_take(s, &rc);
	if (!c)
		return rc;
	struct sq_tx tx = {{base}, c, NULL};
	if ((rc = tx_ctl(c, "BEGIN")) == 0) {
		rc = fn(&tx.base, arg);
		tx_ctl(c, "COMMIT");
	}
	reader_give(s, c);
	return rc;
}

/* Nested savepoints get their own names so they can sit inside the writer's "op". */
static int sq_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int rc;
	if ((rc = tx_ctl(c, "SAVEPOINT nested")) < 0)
		return rc;
	rc = fn(tx, arg);
	if (rc < 0)
		tx_ctl(c, "ROLLBACK TO nested");
	tx_ctl(c, "RELEASE nested");
	return rc;
}

/* --- migrations --- */

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

static int sq_migrate(struct ml_store *s)
{
	int applied = 0;
	int rc = sq_write(s, migrate_fn, &applied);
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

static int sq_ready(struct ml_store *s)
{
	return sq_read(s, ready_fn, NULL) == 0 ? 0 : ML_EUNAVAIL;
}

/* --- organizations and keys --- */

static int sq_org_ensure(struct ml_tx *tx, const char *name, char org_id[40])
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT id FROM orgs WHERE name = ?");
	if (!st)
		return ml_sq_fail(c->db, "org");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(org_id, 40, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	ml_id_new(org_id, "org");
	st = ml_sq_prep(c, "INSERT INTO orgs(id, name, created_at) VALUES (?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "org");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ml_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "org insert");
	return 0;
}

static int sq_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id,
			 const char *hash_hex, const char *prefix)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO api_keys(id, org_id, hash, prefix, created_at) "
				   "VALUES (?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "key insert");
	sqlite3_bind_text(st, 1, key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ml_now_ms());
	int r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT)
		return ml_error_set(ML_ECONFLICT, "key_exists", NULL, "That API key already exists.");
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "key insert");
	return 0;
}

static int sq_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40],
			 char key_id[40])
{
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT org_id, id FROM api_keys WHERE hash = ? AND "
				   "revoked_at IS NULL");
	if (!st)
		return ml_sq_fail(c->db, "key lookup");
	sqlite3_bind_text(st, 1, hash_hex, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return ML_ENOTFOUND;
	}
	snprintf(org_id, 40, "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(key_id, 40, "%s", (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return 0;
}

static int sq_key_count(struct ml_tx *tx)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT count(*) FROM api_keys");
	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return ml_sq_fail(c->db, "key count");
	int n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return n;
}

/* --- documents --- */

static const char *jstr(json_t *doc, const char *key)
{
	return json_string_value(json_object_get(doc, key));
}

void ml_sq_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int64_t doc_start_ms(json_t *doc)
{
	int64_t t;
	const char *s = jstr(doc, "start");
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
	row->start_ms = doc_start_ms(doc);
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
		"INSERT INTO bookings(doc, external_id, host_id, service_id, status, start_at, created_at, updated_at, org_id, id) VALUES (?,?,?,?,?,?,?,?,?,?)",
		"UPDATE bookings SET doc=?, external_id=?, host_id=?, service_id=?, status=?, start_at=?, updated_at=?, version=version+1 WHERE org_id=? AND id=? AND (?10 < 0 OR version = ?10)"},
	};
	/* The same update for a booking whose indexed columns stay as they are (most updates:
	 * a meeting made ready, a reschedule, a status change): SQLite rewrites an index entry
	 * whenever its column is assigned, even to the value it has, which dirtied two index
	 * pages per update for nothing. Guarded on the old values; when one differs (or the row
	 * or version does not match), the full update runs. */
	static const char *const booking_keep =
		"UPDATE bookings SET doc=?1, status=?5, start_at=?6, updated_at=?7, "
		"version=version+1 WHERE org_id=?8 AND id=?9 AND (?10 < 0 OR version = ?10) "
		"AND external_id IS ?2 AND host_id IS ?3 AND service_id IS ?4";
	bool keep = !insert && row->kind == ML_KIND_BOOKING;
	sqlite3_stmt *st;
	int r;

again:
	/* Updates bump the row version; with expect_version >= 0 they apply only to that
	 * version (optimistic transactions). */
	if (!(st = ml_sq_prep(c, keep ? booking_keep : sql[row->kind][insert ? 0 : 1])))
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
			keep = false;
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

static int sq_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return doc_write(tx, kind, org_id, doc, true);
}

static int sq_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
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

static int sq_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
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

static int sq_doc_peek(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		       json_t **out)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_doc_read(tx, kind, org_id, id, true, out);
	return ml_sq_doc_select(ml_sq_txc(tx), kind, org_id, id, ML_CACHE_SHARE, out, NULL);
}

static int sq_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id)
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

static int sq_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			    const char *column, const char *value, const char *const *statuses)
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

static int sq_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
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

/* --- audit trail --- */

int ml_sq_audit_apply(struct sq_conn *c, const char *org_id, const char *booking_id,
		      const char *type, const char *actor, const char *ip, const char *data)
{
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO audit_events(org_id, booking_id, at, type, "
					 "actor, ip, data) VALUES (?,?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "audit");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 2, booking_id);
	sqlite3_bind_int64(st, 3, ml_now_ms());
	sqlite3_bind_text(st, 4, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, actor ? actor : "system", -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 6, ip && *ip ? ip : NULL);
	ml_sq_bind_opt(st, 7, data);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "audit");
	return 0;
}

static int sq_audit_append(struct ml_tx *tx, const struct ml_audit *ev)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_audit(tx, ev);
	char *data = ev->data ? ml_json_text(ev->data) : NULL;
	int rc = ml_sq_audit_apply(ml_sq_txc(tx), ev->org_id, ev->booking_id, ev->type, ev->actor,
				   ev->ip, data);
	free(data);
	return rc;
}

static int sq_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 json_t **items)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT seq, at, type, actor, ip, data FROM audit_events "
				   "WHERE org_id = ? AND booking_id = ? ORDER BY seq");
	if (!st)
		return ml_sq_fail(c->db, "audit list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, booking_id, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		char at[ML_RFC3339_MAX], id[32];
		int64_t ms = sqlite3_column_int64(st, 1);
		ml_time_format(ms / 1000, at);
		snprintf(id, sizeof id, "evt_%lld", (long long)sqlite3_column_int64(st, 0));
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "type",
				      (const char *)sqlite3_column_text(st, 2), "actor",
				      (const char *)sqlite3_column_text(st, 3), "at", at,
				      "at_ms", (json_int_t)ms);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			json_object_set_new(e, "ip",
					    json_string((const char *)sqlite3_column_text(st, 4)));
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			json_t *d = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
			if (d)
				json_object_set_new(e, "data", d);
		}
		json_array_append_new(arr, e);
	}
	sqlite3_reset(st);
	*items = arr;
	return 0;
}

/* --- idempotency --- */

static int sq_idem_get(struct ml_tx *tx, const char *org_id, const char *key,
		       struct ml_idem *out)
{
	/* No read validation needed: the later put's primary key catches a racing writer. */
	struct sq_conn *c = ml_sq_txc_read(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT body_hash, status, response FROM idempotency_keys "
				   "WHERE org_id = ? AND key = ?");
	if (!st)
		return ml_sq_fail(c->db, "idempotency");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return ML_ENOTFOUND;
	}
	snprintf(out->body_hash, sizeof out->body_hash, "%s",
		 (const char *)sqlite3_column_text(st, 0));
	out->status = sqlite3_column_int(st, 1);
	out->response = ml_strdup((const char *)sqlite3_column_text(st, 2));
	sqlite3_reset(st);
	return 0;
}

int ml_sq_idem_apply(struct sq_conn *c, const char *org_id, const char *key,
		     const char *body_hash, int status, const char *response)
{
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO idempotency_keys(org_id, key, body_hash, "
					 "status, response, created_at) VALUES (?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "idempotency");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, body_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, status);
	sqlite3_bind_text(st, 5, response, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ml_now_ms());
	int r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT) {
		sqlite3_reset(st);
		return ml_error_set(ML_ECONFLICT, "idempotency_key_taken", "Idempotency-Key",
				    "Another request with this Idempotency-Key was just made.");
	}
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "idempotency");
	return 0;
}

static int sq_idem_put(struct ml_tx *tx, const char *org_id, const char *key,
		       const struct ml_idem *rec)
{
	if (ml_sq_recording(tx))
		return ml_sq_rec_idem(tx, org_id, key, rec);
	return ml_sq_idem_apply(ml_sq_txc(tx), org_id, key, rec->body_hash, rec->status,
				rec->response);
}

/* --- open/close --- */

static int mkdir_parent(const char *path)
{
	char *dir = ml_strdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = ml_error_set(ML_ESTORE, "store_unavailable", "MEETLINK_DB",
					  "cannot create directory %s: %s", dir, strerror(errno));
	}
	free(dir);
	return rc;
}

/* Past this many frames (~64 MB), the WAL is to be restarted (wal_catch_up). */
#define WAL_RESTART_FRAMES 16384

/* The pages checkpoints copied into the database file go to the disk a megabyte at a time,
 * each written before the next is started. Left to the kernel, or to one flush of the whole
 * file, tens of MB went at once, filled the disk's queue for 4-14 ms, and the commits' WAL
 * syncs waited behind them (three quarters of the commit syncs over 1.5 ms came within 30 ms
 * of such a flush; half as many over 1.5 ms with this). One call per MB of the file: clean
 * ranges cost next to nothing (~1 µs). With `flush`, the pages are then made durable: SQLite
 * flushes the file only when a checkpoint copies the whole WAL (the writer's, in
 * wal_catch_up); done here first, that flush has only the last few pages to write. (A failure
 * here shows in that flush of SQLite's, which checks it.) */
static void flush_db(struct sq_store *s, bool flush)
{
	struct stat st;
	if (s->db_fd < 0 || fstat(s->db_fd, &st) < 0)
		return;
	const off_t chunk = 1 << 20;
	for (off_t off = 0; off < st.st_size; off += chunk)
		sync_file_range(s->db_fd, off, chunk,
				SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				    SYNC_FILE_RANGE_WAIT_AFTER);
	if (flush)
		fdatasync(s->db_fd);
}

/* Every 200 ms, a passive checkpoint (never blocks the writer or readers), its pages then
 * written out (flush_db). Once the WAL has grown past WAL_RESTART_FRAMES, the database file is
 * flushed and the writer asked to copy the rest itself so that it restarts the WAL
 * (wal_catch_up). Should that keep failing (a reader that never lets go), past four times that
 * a RESTART checkpoint bounds it, holding the writer back while it finishes (a few ms: see
 * busy_wait). */
static void *checkpoint_main(void *arg)
{
	struct sq_store *s = arg;
	pthread_setname_np(pthread_self(), "ml-checkpoint");
	int asked_at = -1; /* the WAL's size when the writer was last asked to catch up */
	int last_done = 0;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->ckpt_cv, &s->mu, &until);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->mu);
		int log = 0, done = 0;
		int64_t t0 = ml_mono_ms();
		sqlite3_wal_checkpoint_v2(s->ckpt->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		bool blocking = log > 4 * WAL_RESTART_FRAMES && done == log;
		bool ask = !blocking && log > WAL_RESTART_FRAMES && log != asked_at;
		if (done != last_done || ask)
			flush_db(s, ask); /* (not while nothing is copied: idle) */
		last_done = done;
		int64_t t1 = ml_mono_ms();
		int rrc = -1;
		if (blocking)
			rrc = sqlite3_wal_checkpoint_v2(s->ckpt->db, NULL, SQLITE_CHECKPOINT_RESTART,
							NULL, NULL);
		else if (ask) {
			/* (Not again while nothing was written since: an idle writer has no batch
			 * that would restart the WAL.) */
			asked_at = log;
			pthread_mutex_lock(&s->mu);
			s->catch_up = true;
			pthread_cond_signal(&s->work_cv);
			pthread_mutex_unlock(&s->mu);
		}
		if (log > 0)
			ml_debug("store: checkpoint: %d frames in the WAL, %d copied in %lld ms%s "
				 "(%lld ms)",
				 log, done, (long long)(t1 - t0),
				 rrc < 0 ? "" : rrc == SQLITE_OK ? "; WAL restarted" : "; restart refused",
				 (long long)(ml_mono_ms() - t1));
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	/* A last full checkpoint leaves a small WAL behind. */
	sqlite3_wal_checkpoint_v2(s->ckpt->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return NULL;
}

int ml_store_sqlite_open(struct ml_store **out, const char *path)
{
	struct sq_store *s;
	int rc;

	if (!*path)
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_DB",
				    "sqlite: needs a file path");
	if ((rc = mkdir_parent(path)) < 0)
		return rc;
	s = ml_calloc(1, sizeof *s);
	s->base.ops = &sqlite_ops;
	s->path = ml_strdup(path);
	if ((rc = conn_open(path, false, ml_sq_wal_vfs(), &s->writer)) < 0) {
		free(s->path);
		free(s);
		return rc;
	}
	s->writer->is_writer = true;
	s->db_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->readers_mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_cond_init(&s->ckpt_cv, NULL);
	pthread_create(&s->thread, NULL, writer_main, s);
	if (conn_open(path, false, NULL, &s->ckpt) == 0) {
		sqlite3_busy_handler(s->ckpt->db, busy_wait, s); /* short: see busy_wait */
		sqlite3_exec(s->writer->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
		s->db_fd = open(path, O_RDONLY | O_CLOEXEC);
		pthread_create(&s->ckpt_thread, NULL, checkpoint_main, s);
	}
	*out = &s->base;
	return 0;
}

static void sq_close(struct ml_store *base)
{
	struct sq_store *s = (struct sq_store *)base;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->work_cv);
	pthread_cond_signal(&s->ckpt_cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (s->ckpt) {
		pthread_join(s->ckpt_thread, NULL);
		conn_close(s->ckpt);
	}
	pthread_cond_destroy(&s->ckpt_cv);
	conn_close(s->writer);
	while (s->free_readers) {
		struct sq_conn *c = s->free_readers;
		s->free_readers = c->next_free;
		conn_close(c);
	}
	if (s->db_fd >= 0)
		close(s->db_fd); /* (after every connection: see struct sq_store) */
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->readers_mu);
	pthread_cond_destroy(&s->work_cv);
	free(s->path);
	free(s);
}

static int sq_scrub(struct ml_store *base)
{
	return ml_sq_scrub(((struct sq_store *)base)->path);
}

static const struct ml_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.migrate = sq_migrate,
	.ready = sq_ready,
	.write = sq_write,
	.write_occ = sq_write_occ,
	.write_async = sq_write_async,
	.set_job_taker = sq_set_job_taker,
	.writable = sq_writable,
	.read = sq_read,
	.nested = sq_nested,
	.job_enqueue = ml_sq_job_enqueue,
	.job_claim = ml_sq_job_claim,
	.job_finish = ml_sq_job_finish,
	.job_recover = ml_sq_job_recover,
	.job_set_payload = ml_sq_job_set_payload,
	.provider_meeting_put = ml_sq_provider_meeting_put,
	.provider_meeting_find = ml_sq_provider_meeting_find,
	.inbound_event_first = ml_sq_inbound_event_first,
	.job_wake = ml_sq_job_wake,
	.job_cancel_group = ml_sq_job_cancel_group,
	.job_next_due = ml_sq_job_next_due,
	.job_list = ml_sq_job_list,
	.job_retry = ml_sq_job_retry,
	.org_ensure = sq_org_ensure,
	.key_insert = sq_key_insert,
	.key_lookup = sq_key_lookup,
	.key_count = sq_key_count,
	.sealed_get = ml_sq_sealed_get,
	.sealed_list = ml_sq_sealed_list,
	.sealed_set = ml_sq_sealed_set,
	.scrub = sq_scrub,
	.org_rate_set = ml_sq_org_rate_set,
	.org_rate_get = ml_sq_org_rate_get,
	.doc_insert = sq_doc_insert,
	.doc_update = sq_doc_update,
	.doc_get = sq_doc_get,
	.doc_text = ml_sq_rec_doc_text,
	.doc_peek = sq_doc_peek,
	.doc_delete = sq_doc_delete,
	.doc_count_ref = sq_doc_count_ref,
	.doc_list = sq_doc_list,
	.audit_append = sq_audit_append,
	.audit_list = sq_audit_list,
	.idem_get = sq_idem_get,
	.idem_put = sq_idem_put,
	.conn_get = ml_sq_conn_get,
	.conn_get_id = ml_sq_conn_get_id,
	.conn_put = ml_sq_conn_put,
	.conn_list = ml_sq_conn_list,
	.conn_lease = ml_sq_conn_lease,
	.oauth_state_put = ml_sq_oauth_state_put,
	.oauth_state_take = ml_sq_oauth_state_take,
	.template_get = ml_sq_template_get,
	.template_put = ml_sq_template_put,
	.template_delete = ml_sq_template_delete,
	.webhook_endpoint_insert = ml_sq_webhook_endpoint_insert,
	.webhook_endpoint_get = ml_sq_webhook_endpoint_get,
	.webhook_endpoint_list = ml_sq_webhook_endpoint_list,
	.webhook_endpoint_delete = ml_sq_webhook_endpoint_delete,
	.webhook_delivery_insert = ml_sq_webhook_delivery_insert,
	.webhook_delivery_get = ml_sq_webhook_delivery_get,
	.webhook_delivery_list = ml_sq_webhook_delivery_list,
	.webhook_attempt_record = ml_sq_webhook_attempt_record,
	.webhook_delivery_requeue = ml_sq_webhook_delivery_requeue,
	.webhook_endpoint_update = ml_sq_webhook_endpoint_update,
	.webhook_endpoint_health = ml_sq_webhook_endpoint_health,
	.webhook_delivery_skip = ml_sq_webhook_delivery_skip,
};
