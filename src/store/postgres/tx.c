/* Transactions on PostgreSQL. A write runs on a pooled connection at READ COMMITTED: what it
 * reads for a decision it locks (docs.c, jobs.c), so concurrent writers on every node behave
 * as if serial. fn runs once in ml_store_write; an optimistic write (ml_store_write_occ) runs
 * again, after reset(), when it meets a serialization failure or a deadlock. Reads see one
 * REPEATABLE READ snapshot. ml_store_write_async queues to one thread of its own. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OCC_TRIES 8

/* The write transaction this thread is in, if any. A read asked for inside it (a cache filled
 * on a miss: notify/endpoints.c, from every booking change that queues webhooks) runs on its
 * connection, in a savepoint, instead of taking a second connection from the pool: with every
 * connection held by a writer waiting for a second one, the pool ran dry for its whole 10 s
 * wait (one node under 64 clients answered store_busy, bench/README.md). At READ COMMITTED
 * each statement sees what committed before it began: as fresh as a new snapshot. */
static _Thread_local struct pg_tx *in_write;

/* One attempt: BEGIN, fn, COMMIT (or ROLLBACK). *retry says a serialization failure or
 * deadlock ended it (fn did not take effect). */
static int write_once(struct pg_store *s, ml_tx_fn fn, void *arg, bool *retry)
{
	*retry = false;
	struct pg_conn *c = ml_pg_take(s);
	if (!c)
		return ML_ESTORE;
	struct pg_tx tx = {{&s->base}, c, true, false, false, false, 0};
	int rc = ml_pg_exec(c, "BEGIN");
	if (rc < 0) {
		ml_pg_give(s, c);
		return rc;
	}
	ml_error_clear();
	struct pg_tx *outer = in_write;
	in_write = &tx;
	rc = fn(&tx.base, arg);
	in_write = outer;
	if (rc >= 0 && tx.failed) {
		/* fn went on past a failed statement: nothing it did can commit. */
		*retry = tx.retry;
		rc = ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
	}
	if (rc < 0) {
		*retry = tx.retry;
		PQclear(PQexec(c->db, "ROLLBACK"));
		ml_pg_give(s, c);
		return rc;
	}
	PGresult *r = PQexec(c->db, "COMMIT");
	const char *tag = PQcmdStatus(r);
	if (PQresultStatus(r) != PGRES_COMMAND_OK || !tag || strcmp(tag, "COMMIT") != 0) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		*retry = state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
		if (PQstatus(c->db) != CONNECTION_OK)
			c->broken = true;
		rc = *retry ? ml_error_set(ML_ESTORE, "store_conflict", NULL,
					   "The store was busy; try again.")
			    : ml_pg_fail("commit", PQerrorMessage(c->db));
	}
	PQclear(r);
	ml_pg_give(s, c);
	return rc;
}

int ml_pg_write(struct ml_store *base, ml_tx_fn fn, void *arg)
{
	bool retry;
	return write_once((struct pg_store *)base, fn, arg, &retry);
}

int ml_pg_write_occ(struct ml_store *base, ml_tx_fn fn, void *arg, void (*reset)(void *),
		    void *reset_arg)
{
	bool retry = false;
	int rc = 0;
	for (int i = 0; i < OCC_TRIES; i++) {
		if (i > 0) {
			reset(reset_arg);
			/* Back off a little, longer each time, so the two sides of a deadlock do
			 * not meet again at once. */
			struct timespec ts = {0, (long)(1 + rand() % (2 << i)) * 1000000L};
			nanosleep(&ts, NULL);
		}
		rc = write_once((struct pg_store *)base, fn, arg, &retry);
		if (!retry)
			return rc;
	}
	ml_warn("store: a transaction met %d serialization failures in a row", OCC_TRIES);
	return rc;
}

struct read_inside {
	ml_tx_fn fn;
	void *arg;
};

static int read_inside_fn(struct ml_tx *tx, void *arg)
{
	struct read_inside *r = arg;
	struct pg_tx *t = (struct pg_tx *)tx;
	t->writable = false; /* (ml_tx_writable: the read's fn must not write) */
	int rc = r->fn(tx, r->arg);
	t->writable = true;
	return rc;
}

int ml_pg_read(struct ml_store *base, ml_tx_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	if (in_write && in_write->base.store == base)
		return ml_pg_nested(&in_write->base, read_inside_fn,
				    &(struct read_inside){fn, arg});
	struct pg_conn *c = ml_pg_take(s);
	if (!c)
		return ML_ESTORE;
	struct pg_tx tx = {{base}, c, false, false, false, false, 0};
	int rc = ml_pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
	if (rc == 0) {
		rc = fn(&tx.base, arg);
		PQclear(PQexec(c->db, "COMMIT"));
	}
	ml_pg_give(s, c);
	return rc;
}

bool ml_pg_writable(struct ml_tx *tx)
{
	return ((struct pg_tx *)tx)->writable;
}

int ml_pg_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg)
{
	struct pg_tx *t = (struct pg_tx *)tx;
	char sql[48];
	if (t->failed)
		return ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
	int depth = ++t->depth;
	snprintf(sql, sizeof sql, "SAVEPOINT n%d", depth);
	int rc = ml_pg_exec(t->c, sql);
	if (rc < 0) {
		t->depth--;
		t->failed = true;
		return rc;
	}
	rc = fn(tx, arg);
	if (rc < 0 || t->failed) {
		if (rc >= 0)
			rc = ml_error_set(ML_ESTORE, "store_error", NULL,
					  "The store failed; try again.");
		if (t->retry) {
			/* A deadlock or serialization failure: the locks taken before the savepoint
			 * are part of the cycle, so rolling back to it would only meet it again
			 * (the worker's outcomes did, once a second for minutes). The whole
			 * transaction stays failed and rolls back; the caller runs it again. */
			t->depth--;
			return rc;
		}
		snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT n%d", depth);
		if (ml_pg_exec(t->c, sql) == 0) {
			/* The savepoint undid the failure: the transaction goes on. A deadlock
			 * victim's locks are released, but the caller is told. */
			t->failed = false;
		}
	}
	snprintf(sql, sizeof sql, "RELEASE SAVEPOINT n%d", depth);
	if (!t->failed && ml_pg_exec(t->c, sql) < 0)
		t->failed = true;
	t->depth--;
	return rc;
}

/* --- the asynchronous writer --- */

struct pg_async {
	ml_tx_fn fn;
	void *arg;
	void (*done)(void *arg, int rc);
	void *done_arg;
	struct pg_async *next;
};

static void *async_main(void *arg)
{
	struct pg_store *s = arg;
	pthread_setname_np(pthread_self(), "ml-pg-async");
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->ahead && !s->stopping)
			pthread_cond_wait(&s->async_cv, &s->mu);
		if (!s->ahead)
			break;
		struct pg_async *op = s->ahead;
		s->ahead = op->next;
		if (!s->ahead)
			s->atail = NULL;
		pthread_mutex_unlock(&s->mu);
		/* The worker's outcomes may be written again (worker.h): a deadlock is retried. */
		bool retry = false;
		int rc = 0;
		for (int i = 0; i < OCC_TRIES; i++) {
			if (i > 0) {
				struct timespec ts = {0, (long)(1 + rand() % (2 << i)) * 1000000L};
				nanosleep(&ts, NULL);
			}
			rc = write_once(s, op->fn, op->arg, &retry);
			if (!retry)
				break;
		}
		op->done(op->done_arg, rc);
		free(op);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int ml_pg_write_async(struct ml_store *base, ml_tx_fn fn, void *arg,
		      void (*done)(void *arg, int rc), void *done_arg)
{
	struct pg_store *s = (struct pg_store *)base;
	struct pg_async *op = ml_calloc(1, sizeof *op);
	op->fn = fn;
	op->arg = arg;
	op->done = done;
	op->done_arg = done_arg;
	pthread_mutex_lock(&s->mu);
	if (!s->async_started) {
		s->async_started = true;
		pthread_create(&s->async_thread, NULL, async_main, s);
	}
	if (s->atail)
		s->atail->next = op;
	else
		s->ahead = op;
	s->atail = op;
	pthread_cond_signal(&s->async_cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* Runs what is queued, then stops the thread (close). */
void ml_pg_async_stop(struct pg_store *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	bool started = s->async_started;
	pthread_cond_signal(&s->async_cv);
	pthread_mutex_unlock(&s->mu);
	if (started)
		pthread_join(s->async_thread, NULL);
}
