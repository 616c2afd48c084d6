/* The SQLite backend's writer: one thread, one connection, group commit. Every durable write
 * of the process is queued here; the writer takes everything queued as one transaction (each
 * write in its own savepoint, optimistic recordings first without one) and wakes the callers
 * once it is durable. See docs/architecture.md, "Group commit (SQLite)". */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/priority.h"
#include "core/utf8.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 512

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

/* --- the writer thread (group commit) --- */

/* An op the ordinary way, in its own savepoint: a failing op rolls back alone. */
static int run_op_savepoint(struct sq_store *s, struct sq_tx *tx, struct sq_op *op)
{
	int brc;
	ml_error_clear();
	if ((brc = ml_sq_tx_ctl(s->writer, "SAVEPOINT op")) < 0)
		return brc;
	if (op->rec && ml_sq_rec_apply(s->writer, op->rec) == 0) {
		op->rc = op->rec_rc;
		op->applied = true;
	} else {
		if (op->rec) {
			/* Stale snapshot or a failing write: start over, for real. */
			ml_sq_tx_ctl(s->writer, "ROLLBACK TO op");
			ml_error_clear();
			op->reset(op->reset_arg);
		}
		op->rc = op->fn(&tx->base, op->arg);
	}
	if (op->rc < 0)
		ml_sq_tx_ctl(s->writer, "ROLLBACK TO op");
	ml_sq_tx_ctl(s->writer, "RELEASE op");
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
	int brc = ml_sq_tx_ctl(s->writer, "BEGIN IMMEDIATE");
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
		brc = ml_sq_tx_ctl(s->writer, "COMMIT");
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


void *ml_sq_writer_main(void *arg)
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
			ml_sq_wal_catch_up(s);
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

int ml_sq_write(struct ml_store *base, ml_tx_fn fn, void *arg)
{
	struct carry c = {fn, arg, 0, "", "", ""};
	struct sq_op op = {.fn = carry_fn, .arg = &c};
	return submit((struct sq_store *)base, &op, &c);
}

/* Queued for the next batch; the caller does not wait. The writer drains its queue before
 * it stops (backend.c, sq_close), so every op queued hears of its outcome. */
int ml_sq_write_async(struct ml_store *base, ml_tx_fn fn, void *arg,
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
int ml_sq_set_job_taker(struct ml_store *base, const struct ml_job_taker *t)
{
	struct set_taker st = {(struct sq_store *)base, t};
	return ml_sq_write(base, set_taker_fn, &st);
}

bool ml_sq_writable(struct ml_tx *tx)
{
	struct sq_tx *t = (struct sq_tx *)tx;
	return t->rec || t->c->is_writer; /* an optimistic run records its writes */
}

/* See occ.c: record on this thread against a snapshot, let the writer validate and
 * apply; fall back to the ordinary path whenever recording is not possible. */
int ml_sq_write_occ(struct ml_store *base, ml_tx_fn fn, void *arg, void (*reset)(void *),
                    void *reset_arg)
{
	struct sq_store *s = (struct sq_store *)base;
	struct sq_rec *rec = ml_sq_rec_new();
	int rc;
	struct sq_conn *rd = ml_sq_reader_take(s, &rc);
	if (!rd) {
		ml_sq_rec_free(rec);
		return rc;
	}
	struct sq_tx tx = {{base}, rd, rec, true};
	bool current = true;
	ml_error_clear();
	ml_sq_occ_doomed = false;
	rc = fn(&tx.base, arg);
	ml_sq_occ_doomed = false;
	/* A refusal, or nothing to write, is the answer only if what it rests on is current:
	 * documents served from the cache are checked against the database. */
	if (ml_sq_rec_usable(rec) && (rc < 0 || ml_sq_rec_empty(rec)))
		current = ml_sq_rec_validate(ml_sq_txc_read(&tx.base), rec) == 0; /* no detail */
	if (!tx.begin_pending)
		ml_sq_tx_ctl(rd, "COMMIT");
	ml_sq_reader_give(s, rd);
	if (!ml_sq_rec_usable(rec) || !current) {
		ml_sq_rec_free(rec);
		reset(reset_arg);
		return ml_sq_write(base, fn, arg);
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

/* Nested savepoints get their own names so they can sit inside the writer's "op". */
int ml_sq_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int rc;
	if ((rc = ml_sq_tx_ctl(c, "SAVEPOINT nested")) < 0)
		return rc;
	rc = fn(tx, arg);
	if (rc < 0)
		ml_sq_tx_ctl(c, "ROLLBACK TO nested");
	ml_sq_tx_ctl(c, "RELEASE nested");
	return rc;
}
