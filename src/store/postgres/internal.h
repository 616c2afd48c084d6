/* Shared by the PostgreSQL backend's files (src/store/postgres/). Internal.
 *
 * backend.c   open, close, the ops tables             pool.c     connections, prepared
 * tx.c        transactions: write, read, nested,                 statements, queries
 *             optimistic retries, the async writer    migrate.c  migrations, readiness
 * listen.c    LISTEN/NOTIFY: cross-node signals
 * docs.c keys.c pipeline.c   documents, orgs, keys, idempotency (ml_store_docs_ops)
 * jobs.c      the job queue          conn.c sealed.c   connections and sealed values
 * notify.c    messages out           audit.c           the audit trail
 *
 * Every write transaction runs at READ COMMITTED and locks what it reads for a decision
 * (a booking FOR UPDATE, its host and service FOR SHARE, a job claimed FOR UPDATE SKIP
 * LOCKED); uniqueness (idempotency keys, inbound events, deliveries) rests on constraints.
 * A serialization failure or deadlock (40001, 40P01) makes an optimistic write run again
 * (ml_store_write_occ); docs/store.md says why a plain write does not. */
#ifndef ML_STORE_PG_INTERNAL_H
#define ML_STORE_PG_INTERNAL_H

#include "store/backend.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ML_PG_STMT_CACHE 160
#define ML_PG_MAX_ARGS 24

struct pg_conn {
	PGconn *db;
	struct {
		const char *key; /* the caller's pointer when first prepared */
		char *sql;
		char name[12];
	} cache[ML_PG_STMT_CACHE];
	int ncache;
	unsigned next_name;
	bool broken; /* the connection failed: closed when given back */
	struct pg_conn *next_free;
};

struct pg_signal_sub; /* listen.c */
struct pg_async;      /* tx.c */

struct pg_store {
	struct ml_store base;
	char *conninfo;
	char node[40]; /* this process's id: its own signals are not delivered back to it */
	/* The pool: at most pool_max connections, opened when needed, kept. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pg_conn *free;
	int nopen, pool_max;
	/* The asynchronous writer (ml_store_write_async): one thread, FIFO. */
	pthread_t async_thread;
	bool async_started, stopping;
	pthread_cond_t async_cv;
	struct pg_async *ahead, *atail;
	/* The listener (listen.c): its own connection, LISTENing for every channel with a
	 * subscriber. */
	pthread_mutex_t sub_mu;
	struct pg_signal_sub *subs;
	pthread_t listen_thread;
	bool listen_started;
	int listen_pipe[2]; /* wakes the listener (a new subscription, stopping) */
};

struct pg_tx {
	struct ml_tx base;
	struct pg_conn *c;
	bool writable;
	bool failed;   /* a statement failed: the transaction is aborted (until a savepoint) */
	bool retry;    /* the failure was a serialization failure or deadlock */
	bool jobs_signalled; /* NOTIFY ml_jobs already sent in this transaction */
	int depth;     /* nested savepoints */
};

/* Arguments of a statement, as text (NULL: SQL NULL). */
struct pg_args {
	int n;
	const char *v[ML_PG_MAX_ARGS];
	char buf[ML_PG_MAX_ARGS][24];
};
void ml_pg_arg(struct pg_args *a, const char *s);
void ml_pg_arg_i64(struct pg_args *a, int64_t v);
/* v, or NULL when v is 0 (an optional time). */
void ml_pg_arg_ms(struct pg_args *a, int64_t v);
void ml_pg_arg_bool(struct pg_args *a, bool v);

/* --- pool.c --- */
int ml_pg_conn_open(const char *conninfo, struct pg_conn **out);
void ml_pg_conn_close(struct pg_conn *c);
/* A pooled connection (waits up to 10 s when all are busy); NULL with ML_ESTORE set. */
struct pg_conn *ml_pg_take(struct pg_store *s);
void ml_pg_give(struct pg_store *s, struct pg_conn *c);
/* Runs `sql` (prepared once per connection) with a's arguments in tx. 0 with *out (PQclear
 * it; out may be NULL), ML_ECONFLICT on a unique violation (not logged: the caller names
 * the conflict), ML_ESTORE otherwise (logged). A failure marks the transaction failed. */
int ml_pg_q(struct ml_tx *tx, const char *sql, const struct pg_args *a, PGresult **out);
/* Like ml_pg_q on a connection outside any store transaction (no tx bookkeeping). */
int ml_pg_qc(struct pg_conn *c, const char *sql, const struct pg_args *a, PGresult **out,
	     const char **sqlstate);
/* A statement that is not prepared (BEGIN, SAVEPOINT, a migration): 0 or ML_ESTORE. */
int ml_pg_exec(struct pg_conn *c, const char *sql);
/* The number of rows an UPDATE/DELETE/INSERT touched. */
int ml_pg_changes(PGresult *r);
/* Column values: text ("" for NULL), NULL-ness, integers (0 for NULL), a new copy or NULL. */
const char *ml_pg_text(PGresult *r, int row, int col);
bool ml_pg_null(PGresult *r, int row, int col);
int64_t ml_pg_i64(PGresult *r, int row, int col);
char *ml_pg_dup(PGresult *r, int row, int col);
/* Logs (once, where caught) and sets ML_ESTORE. */
int ml_pg_fail(const char *what, const char *detail);

/* A page of rows (limit + 1 fetched) into items with row(); the cursor carries column
 * pos_col (an integer) and id_col of the last row returned. */
int ml_pg_page(PGresult *r, int limit, json_t *(*row)(PGresult *, int), int pos_col,
	       int id_col, json_t **items, char **next_cursor);

/* --- tx.c --- */
int ml_pg_write(struct ml_store *s, ml_tx_fn fn, void *arg);
int ml_pg_write_occ(struct ml_store *s, ml_tx_fn fn, void *arg, void (*reset)(void *),
		    void *reset_arg);
int ml_pg_write_async(struct ml_store *s, ml_tx_fn fn, void *arg,
		      void (*done)(void *arg, int rc), void *done_arg);
int ml_pg_read(struct ml_store *s, ml_tx_fn fn, void *arg);
int ml_pg_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg);
bool ml_pg_writable(struct ml_tx *tx);
void ml_pg_async_stop(struct pg_store *s);

/* --- migrate.c --- */
int ml_pg_migrate(struct ml_store *s);
int ml_pg_ready(struct ml_store *s);

/* --- listen.c --- */
int ml_pg_subscribe(struct ml_store *s, const char *channel, ml_store_signal_fn fn, void *arg);
int ml_pg_unsubscribe(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
		      void *arg);
int ml_pg_signal(struct ml_store *s, const char *channel, const char *payload);
int ml_pg_tx_signal(struct ml_tx *tx, const char *channel, const char *payload);
void ml_pg_listen_stop(struct pg_store *s);

/* --- docs (docs.c, keys.c, pipeline.c) --- */
int ml_pg_org_ensure(struct ml_tx *tx, const char *name, char org_id[40]);
int ml_pg_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id,
		     const char *hash_hex, const char *prefix);
int ml_pg_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40], char key_id[40]);
int ml_pg_key_count(struct ml_tx *tx);
int ml_pg_org_rate_set(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate);
int ml_pg_org_rate_get(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out);
int ml_pg_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
int ml_pg_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
int ml_pg_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		  json_t **out);
int ml_pg_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id);
int ml_pg_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			const char *column, const char *value, const char *const *statuses);
int ml_pg_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
		   const struct ml_list_query *q, json_t **items, char **next_cursor);
int ml_pg_idem_get(struct ml_tx *tx, const char *org_id, const char *key, struct ml_idem *out);
int ml_pg_idem_put(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec);
int ml_pg_provider_meeting_put(struct ml_tx *tx, const char *platform, const char *external_id,
			       const char *org_id, const char *booking_id, const char *meeting_id);
int ml_pg_provider_meeting_find(struct ml_tx *tx, const char *platform, const char *external_id,
				char org_id[40], char booking_id[40], char meeting_id[40]);
int ml_pg_inbound_event_first(struct ml_tx *tx, const char *provider, const char *key,
			      int64_t now_ms, int64_t keep_ms);

#if ML_STORE_DOCS_VERSION >= 2 /* gateway.c: the join gateway's links */
int ml_pg_gateway_link_put(struct ml_tx *tx, const struct ml_gateway_link *l);
int ml_pg_gateway_link_find(struct ml_tx *tx, const char *token_hash,
			    struct ml_gateway_link *out);
int ml_pg_gateway_link_revoke(struct ml_tx *tx, const char *org_id, const char *booking_id,
			      const char *participant_id);
#endif

#if ML_STORE_DOCS_VERSION >= 3 /* admissions.c: the waiting room, organization settings */
int ml_pg_org_settings_get(struct ml_tx *tx, const char *org_id, json_t **out);
int ml_pg_org_settings_put(struct ml_tx *tx, const char *org_id, json_t *settings);
int ml_pg_admission_get(struct ml_tx *tx, const char *org_id, const char *booking_id,
			const char *participant_id, json_t **out);
int ml_pg_admission_put(struct ml_tx *tx, const char *org_id, const char *booking_id,
			json_t *row);
int ml_pg_admission_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 int64_t after_seq, json_t **out);
#endif

#if ML_STORE_DOCS_VERSION >= 4 /* recordings.c */
int ml_pg_recording_put(struct ml_tx *tx, const char *org_id, json_t *doc);
int ml_pg_recording_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **out);
int ml_pg_recording_list(struct ml_tx *tx, const char *org_id,
			 const struct ml_recording_query *q, json_t **items, char **next_cursor);
int ml_pg_recording_calendar_put(struct ml_tx *tx, const char *org_id, json_t *doc);
int ml_pg_recording_calendar_get(struct ml_tx *tx, const char *org_id, const char *id,
				 json_t **out);
int ml_pg_recording_calendar_list(struct ml_tx *tx, const char *org_id, const char *host_id,
				  json_t **items);
int ml_pg_recording_calendar_delete(struct ml_tx *tx, const char *org_id, const char *id);
#endif

#if ML_STORE_DOCS_VERSION >= 5 /* overlap.c: the host's conflicting booking, in turns */
int ml_pg_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out);
#endif

/* --- jobs.c --- */
int ml_pg_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40]);
int ml_pg_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n);
int ml_pg_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts);
int ml_pg_job_set_payload(struct ml_tx *tx, const char *id, json_t *payload);
int ml_pg_job_recover(struct ml_tx *tx);
int ml_pg_job_release(struct ml_tx *tx, const char *worker);
int ml_pg_job_renew(struct ml_tx *tx, const char *worker, int64_t until_ms,
		    struct ml_job_lease *l, int n);
int ml_pg_job_wake(struct ml_tx *tx, const char *wait_key);
int ml_pg_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind);
int ml_pg_job_next_due(struct ml_tx *tx, int64_t *run_at_ms);
int ml_pg_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor);
int ml_pg_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job);

/* --- conn.c, sealed.c --- */
int ml_pg_conn_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out);
int ml_pg_conn_get_id(struct ml_tx *tx, const char *id, struct ml_conn_row *out);
int ml_pg_conn_put(struct ml_tx *tx, const struct ml_conn_row *r);
int ml_pg_conn_list(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n);
int ml_pg_conn_lease(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms);
int ml_pg_oauth_state_put(struct ml_tx *tx, const struct ml_oauth_state_row *r);
int ml_pg_oauth_state_take(struct ml_tx *tx, const char *state_hash, const char *cookie_hash,
			   const char *platform, int64_t now_ms, struct ml_oauth_state_row *out);
int ml_pg_sealed_get(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     struct ml_sealed *out);
int ml_pg_sealed_list(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items,
		      int *n);
int ml_pg_sealed_set(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     const char *value);
/* --- watches.c (migration postgresql/0007) --- */
int ml_pg_watch_put(struct ml_tx *tx, json_t *doc);
int ml_pg_watch_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, json_t **out);
int ml_pg_watch_find(struct ml_tx *tx, const char *platform, const char *channel_id,
		     json_t **out);
int ml_pg_watch_delete(struct ml_tx *tx, const char *org_id, const char *id);

/* --- notify.c --- */
int ml_pg_template_get(struct ml_tx *tx, const char *org_id, const char *name, json_t **out);
int ml_pg_template_put(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl);
int ml_pg_template_delete(struct ml_tx *tx, const char *org_id, const char *name);
int ml_pg_endpoint_insert(struct ml_tx *tx, const char *org_id, json_t *ep, const char *secret);
int ml_pg_endpoint_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **ep,
		       char **secret);
int ml_pg_endpoint_list(struct ml_tx *tx, const char *org_id, const struct ml_list_query *q,
			json_t **items, char **next_cursor);
int ml_pg_endpoint_delete(struct ml_tx *tx, const char *org_id, const char *id);
int ml_pg_endpoint_update(struct ml_tx *tx, const char *org_id, const char *id, json_t *patch);
int ml_pg_endpoint_health(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
			  int64_t at_ms, int64_t disable_after_ms, bool *disabled);
int ml_pg_delivery_insert(struct ml_tx *tx, const struct ml_webhook_delivery_new *d);
int ml_pg_delivery_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **delivery,
		       char **body);
int ml_pg_delivery_list(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
			const struct ml_list_query *q, json_t **items, char **next_cursor);
int ml_pg_delivery_requeue(struct ml_tx *tx, const char *org_id, const char *id);
int ml_pg_delivery_skip(struct ml_tx *tx, const char *id, const char *why);
int ml_pg_attempt_record(struct ml_tx *tx, const struct ml_webhook_attempt *a);

/* --- audit.c --- */
int ml_pg_audit_append(struct ml_tx *tx, const struct ml_audit *ev);
int ml_pg_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
		     json_t **items);

#endif
