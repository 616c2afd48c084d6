/* The PostgreSQL backend's connections: opening them, the pool (MEETLINK_DB_POOL), prepared
 * statements cached per connection, running a statement and reading its result. A connection
 * that failed is closed when given back and a new one opened when next needed: a node that
 * lost the database for a while recovers by itself. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ml_pg_arg(struct pg_args *a, const char *s)
{
	if (a->n < ML_PG_MAX_ARGS)
		a->v[a->n++] = s;
}

void ml_pg_arg_i64(struct pg_args *a, int64_t v)
{
	if (a->n >= ML_PG_MAX_ARGS)
		return;
	snprintf(a->buf[a->n], sizeof a->buf[a->n], "%" PRId64, v);
	a->v[a->n] = a->buf[a->n];
	a->n++;
}

void ml_pg_arg_ms(struct pg_args *a, int64_t v)
{
	if (v)
		ml_pg_arg_i64(a, v);
	else
		ml_pg_arg(a, NULL);
}

void ml_pg_arg_bool(struct pg_args *a, bool v)
{
	ml_pg_arg(a, v ? "t" : "f");
}

int ml_pg_fail(const char *what, const char *detail)
{
	char msg[512];
	snprintf(msg, sizeof msg, "%s", detail ? detail : "?");
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	ml_err("store: %s: %s", what, msg);
	return ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
}

static void on_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* NOTICEs (an IF NOT EXISTS that found the table) are not news */
}

int ml_pg_conn_open(const char *conninfo, struct pg_conn **out)
{
	/* The URL, then a bound on how long a connection attempt may take (a node whose
	 * database is unreachable answers /readyz "not ready" rather than hanging). */
	const char *const keys[] = {"dbname", "connect_timeout", NULL};
	const char *const vals[] = {conninfo, "5", NULL};
	PGconn *db = PQconnectdbParams(keys, vals, 1);
	if (!db || PQstatus(db) != CONNECTION_OK) {
		/* libpq's message names the host and the reason, never the password. */
		int rc = ml_error_set(ML_ESTORE, "store_unavailable", "MEETLINK_DB",
				      "cannot connect to the PostgreSQL store: %s",
				      db ? PQerrorMessage(db) : "out of memory");
		PQfinish(db);
		return rc;
	}
	PQsetNoticeProcessor(db, on_notice, NULL);
	struct pg_conn *c = ml_calloc(1, sizeof *c);
	c->db = db;
	/* Times and text as the daemon writes them; statements never wait forever on a lock. */
	if (ml_pg_exec(c, "SET lock_timeout = '20s'; SET statement_timeout = '60s'") < 0) {
		ml_pg_conn_close(c);
		return ml_error_set(ML_ESTORE, "store_unavailable", "MEETLINK_DB",
				    "cannot set up a PostgreSQL session");
	}
	*out = c;
	return 0;
}

void ml_pg_conn_close(struct pg_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->ncache; i++)
		free(c->cache[i].sql);
	PQfinish(c->db);
	free(c);
}

struct pg_conn *ml_pg_take(struct pg_store *s)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->free) {
			struct pg_conn *c = s->free;
			s->free = c->next_free;
			pthread_mutex_unlock(&s->mu);
			return c;
		}
		if (s->nopen < s->pool_max) {
			s->nopen++;
			pthread_mutex_unlock(&s->mu);
			struct pg_conn *c = NULL;
			if (ml_pg_conn_open(s->conninfo, &c) == 0)
				return c;
			ml_warn("store: %s", ml_error_message());
			pthread_mutex_lock(&s->mu);
			s->nopen--;
			pthread_cond_signal(&s->cv);
			pthread_mutex_unlock(&s->mu);
			ml_error_set(ML_ESTORE, "store_unavailable", NULL,
				     "The store is unavailable; try again.");
			return NULL;
		}
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&s->mu);
			ml_error_set(ML_ESTORE, "store_busy", NULL,
				     "Every store connection is busy; try again.");
			return NULL;
		}
	}
}

void ml_pg_give(struct pg_store *s, struct pg_conn *c)
{
	if (c->broken || PQstatus(c->db) != CONNECTION_OK ||
	    PQtransactionStatus(c->db) != PQTRANS_IDLE) {
		ml_pg_conn_close(c);
		pthread_mutex_lock(&s->mu);
		s->nopen--;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		return;
	}
	pthread_mutex_lock(&s->mu);
	c->next_free = s->free;
	s->free = c;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

int ml_pg_exec(struct pg_conn *c, const char *sql)
{
	PGresult *r = PQexec(c->db, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		if (PQstatus(c->db) != CONNECTION_OK)
			c->broken = true;
		rc = ml_pg_fail("statement", PQerrorMessage(c->db));
	}
	PQclear(r);
	return rc;
}

/* The name of `sql` prepared on c, preparing it on first use; NULL on failure. */
static const char *prepared(struct pg_conn *c, const char *sql, int nparams, PGresult **err)
{
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i].key == sql && strcmp(c->cache[i].sql, sql) == 0)
			return c->cache[i].name;
	for (int i = 0; i < c->ncache; i++)
		if (strcmp(c->cache[i].sql, sql) == 0)
			return c->cache[i].name;
	if (c->ncache == ML_PG_STMT_CACHE) {
		/* Full (dynamic list filters): forget the oldest. Bounded: statements come from a
		 * fixed set. */
		char sqlbuf[32];
		snprintf(sqlbuf, sizeof sqlbuf, "DEALLOCATE %s", c->cache[0].name);
		PQclear(PQexec(c->db, sqlbuf));
		free(c->cache[0].sql);
		memmove(&c->cache[0], &c->cache[1], sizeof c->cache[0] * (ML_PG_STMT_CACHE - 1));
		c->ncache--;
	}
	char name[12];
	snprintf(name, sizeof name, "s%u", c->next_name++);
	PGresult *r = PQprepare(c->db, name, sql, nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		*err = r;
		return NULL;
	}
	PQclear(r);
	c->cache[c->ncache].key = sql;
	c->cache[c->ncache].sql = ml_strdup(sql);
	memcpy(c->cache[c->ncache].name, name, sizeof name);
	return c->cache[c->ncache++].name;
}

int ml_pg_qc(struct pg_conn *c, const char *sql, const struct pg_args *a, PGresult **out,
	     const char **sqlstate)
{
	static const struct pg_args none;
	if (!a)
		a = &none;
	PGresult *r = NULL;
	const char *name = prepared(c, sql, a->n, &r);
	if (name)
		r = PQexecPrepared(c->db, name, a->n, a->v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (out)
			*out = r;
		else
			PQclear(r);
		return 0;
	}
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	static _Thread_local char keep[8];
	snprintf(keep, sizeof keep, "%s", state ? state : "");
	if (sqlstate)
		*sqlstate = keep;
	int rc;
	if (state && strcmp(state, "23505") == 0) {
		rc = ml_error_set(ML_ECONFLICT, "conflict", NULL, "That already exists.");
	} else {
		if (PQstatus(c->db) != CONNECTION_OK)
			c->broken = true;
		/* A serialization failure or deadlock is the caller's to retry: not an error. */
		if (strcmp(keep, "40001") == 0 || strcmp(keep, "40P01") == 0) {
			ml_debug("store: %s", PQresultErrorMessage(r));
			rc = ml_error_set(ML_ESTORE, "store_conflict", NULL,
					  "The store was busy; try again.");
		} else {
			rc = ml_pg_fail("query", r ? PQresultErrorMessage(r) : PQerrorMessage(c->db));
		}
	}
	PQclear(r);
	return rc;
}

int ml_pg_q(struct ml_tx *tx, const char *sql, const struct pg_args *a, PGresult **out)
{
	struct pg_tx *t = (struct pg_tx *)tx;
	if (t->failed)
		/* Aborted by an earlier failure: PostgreSQL ignores everything until the
		 * transaction (or the savepoint) ends. */
		return ml_error_set(ML_ESTORE, "store_error", NULL, "The store failed; try again.");
	const char *state = NULL;
	int rc = ml_pg_qc(t->c, sql, a, out, &state);
	if (rc < 0) {
		t->failed = true;
		if (state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0))
			t->retry = true;
	}
	return rc;
}

int ml_pg_changes(PGresult *r)
{
	const char *n = PQcmdTuples(r);
	return n && *n ? (int)strtol(n, NULL, 10) : 0;
}

const char *ml_pg_text(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

bool ml_pg_null(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) != 0;
}

int64_t ml_pg_i64(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

char *ml_pg_dup(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : ml_strdup(PQgetvalue(r, row, col));
}

int ml_pg_page(PGresult *r, int limit, json_t *(*row)(PGresult *, int), int pos_col,
	       int id_col, json_t **items, char **next_cursor)
{
	json_t *arr = json_array();
	int n = PQntuples(r);
	char *next = NULL;
	for (int i = 0; i < n; i++) {
		if (i == limit) {
			next = ml_store_cursor_encode(ml_pg_i64(r, i - 1, pos_col),
						      ml_pg_text(r, i - 1, id_col));
			break;
		}
		json_t *item = row(r, i);
		if (item)
			json_array_append_new(arr, item);
	}
	*items = arr;
	if (next_cursor)
		*next_cursor = next;
	else
		free(next);
	return 0;
}
