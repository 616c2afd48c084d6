/* Shared by the SQLite backend's files (src/store/sqlite/). Internal.
 *
 * backend.c   open, close, the backend's ops tables      pool.c       connections, statements,
 * writer.c    the writer thread (group commit), writes                readers, read snapshots
 * checkpoint.c  the checkpointer thread, WAL restarts     migrate.c    migrations, readiness
 * vfs.c       the writer's WAL VFS                        occ.c        optimistic transactions
 * docs.c keys.c orgs.c idem.c pipeline.c   documents and idempotency (ml_store_docs_ops)
 * jobs.c      the job queue            conn.c sealed.c    connections and sealed values
 * notify.c    messages out             audit.c            the audit trail
 */
#ifndef ML_STORE_SQLITE_INTERNAL_H
#define ML_STORE_SQLITE_INTERNAL_H

#include "store/backend.h"
#include "store/doc_cache.h"

#include <pthread.h>
#include <sqlite3.h>

#define ML_SQ_STMT_CACHE 96

struct sq_conn {
	sqlite3 *db;
	struct {
		char *sql;
		const char *key; /* the caller's pointer when first prepared (see ml_sq_prep) */
		sqlite3_stmt *st;
	} cache[ML_SQ_STMT_CACHE];
	int ncache;
	bool is_writer;
	struct sq_conn *next_free;
	/* The writer, while it applies a batch's recordings (run_batch): the versions of hosts
	 * and services already checked in this transaction, which every booking step of the
	 * batch reads. Forgotten when a host or service is written; -1 when not in use. */
	int nchecked;
	struct {
		enum ml_kind kind;
		char id[40], org_id[40];
		int64_t version;
	} checked[8];
	/* The writer, while a job taker is set (jobs.c): the jobs its batch wrote that
	 * may be handed over when it commits. */
	bool note_handoffs;
	struct sq_handoff *handoffs;
	size_t nhandoffs, caphandoffs;
};

struct sq_rec;
struct sq_op; /* a write queued for the writer (writer.c) */

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

struct sq_tx {
	struct ml_tx base;
	struct sq_conn *c;
	struct sq_rec *rec; /* non-NULL: an optimistic run recording its writes (occ.c) */
	/* An optimistic run's read transaction begins at its first use of the connection
	 * (ml_sq_txc, ml_sq_txc_read): most booking steps find every document cached and
	 * never read from SQLite. */
	bool begin_pending;
};

/* The VFS the writer's connection opens with (vfs.c): the default one, but the WAL
 * written once per commit. NULL if it could not be registered (then the default serves). It
 * relies on the connection syncing the WAL at every commit (synchronous=FULL). */
#define ML_SQ_WAL_VFS "meetlink-wal"
const char *ml_sq_wal_vfs(void);

/* Connections and statements (pool.c). */
/* Set while an optimistic run's callback goes on after it reached an operation that cannot
 * record (on that run's thread): the store's failures are then logged at debug (pool.c). */
extern _Thread_local bool ml_sq_occ_doomed;
/* Logs the SQLite error (see ml_sq_occ_doomed) and sets ML_ESTORE. */
int ml_sq_fail(sqlite3 *db, const char *what);
/* The busy handler of every connection (arg NULL) and of the checkpointer's (arg non-NULL:
 * it gives up sooner). */
int ml_sq_busy_wait(void *arg, int tries);
/* Opens a connection to path: a reader (query_only) or a writer (WAL, synchronous=FULL),
 * through vfs (NULL: the default). ML_ESTORE. */
int ml_sq_conn_open(const char *path, bool reader, const char *vfs, struct sq_conn **out);
void ml_sq_conn_close(struct sq_conn *c);
/* A transaction-control statement (BEGIN, SAVEPOINT, COMMIT...), prepared once. */
int ml_sq_tx_ctl(struct sq_conn *c, const char *sql);
/* A reader connection from the pool (opened when none is free), and back. */
struct sq_conn *ml_sq_reader_take(struct sq_store *s, int *rc);
void ml_sq_reader_give(struct sq_store *s, struct sq_conn *c);
/* Runs fn on a read snapshot of a pooled reader. */
int ml_sq_read(struct ml_store *base, ml_tx_fn fn, void *arg);
/* A reset statement for `sql`, prepared once per connection; NULL on error (logged). */
sqlite3_stmt *ml_sq_prep(struct sq_conn *c, const char *sql);
/* The transaction's connection. In an optimistic run this is a read snapshot and calling it
 * sends the transaction down the slow path (see occ.c): operations that can record
 * their effect check ml_sq_recording() first. */
struct sq_conn *ml_sq_txc(struct ml_tx *tx);
/* The connection for a read whose result needs no validation at commit (immutable or
 * re-checked by a later write's constraint); never changes the path. */
struct sq_conn *ml_sq_txc_read(struct ml_tx *tx);
int ml_sq_exec(struct sq_conn *c, const char *sql);
/* Binds a string or NULL. */
void ml_sq_bind_opt(sqlite3_stmt *st, int i, const char *v);

/* Steps a list statement that was bound to fetch limit + 1 rows and collects at most `limit`
 * of them with row(st) into a new array; when a row is left over, *next_cursor encodes the
 * position (column pos_col, an integer) and id (column id_col) of the last one returned.
 * Resets st. ML_ESTORE (and nothing allocated) when stepping fails. */
int ml_sq_page(struct sq_conn *c, sqlite3_stmt *st, int limit, json_t *(*row)(sqlite3_stmt *),
	       int pos_col, int id_col, json_t **items, char **next_cursor);

/* Reads a document and its row version (parsed once per version: a cache of parsed
 * documents is consulted by version), shared, copied or taken as `how` says (doc_cache.h).
 * ML_ENOTFOUND when absent. */
int ml_sq_doc_select(struct sq_conn *c, enum ml_kind kind, const char *org_id, const char *id,
		     enum ml_cache_read how, json_t **out, int64_t *version);

/* A document as the columns and text written for it. */
struct ml_sq_doc_row {
	enum ml_kind kind;
	char *org_id, *id, *text, *external_id, *host_id, *service_id, *status;
	int64_t start_ms, end_ms;
};
void ml_sq_doc_row_prepare(struct ml_sq_doc_row *row, enum ml_kind kind, const char *org_id,
			   json_t *doc);
void ml_sq_doc_row_clear(struct ml_sq_doc_row *row);
/* Inserts or updates (bumping the version; with expect_version >= 0 only that version). */
int ml_sq_doc_row_apply(struct sq_conn *c, const struct ml_sq_doc_row *row, bool insert,
			int64_t expect_version);
int ml_sq_audit_apply(struct sq_conn *c, const char *org_id, const char *booking_id,
		      const char *type, const char *actor, const char *ip, const char *data);
int ml_sq_idem_apply(struct sq_conn *c, const char *org_id, const char *key,
		     const char *body_hash, int status, const char *response);
int ml_sq_job_apply(struct sq_conn *c, const struct ml_job_new *j, const char *id,
		    const char *payload, char id_out[40]);

/* The writer thread and the write transactions (writer.c). */
void *ml_sq_writer_main(void *arg);
int ml_sq_write(struct ml_store *base, ml_tx_fn fn, void *arg);
int ml_sq_write_async(struct ml_store *base, ml_tx_fn fn, void *arg,
		      void (*done)(void *arg, int rc), void *done_arg);
int ml_sq_write_occ(struct ml_store *base, ml_tx_fn fn, void *arg, void (*reset)(void *),
		    void *reset_arg);
int ml_sq_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg);
bool ml_sq_writable(struct ml_tx *tx);
int ml_sq_set_job_taker(struct ml_store *base, const struct ml_job_taker *t);

/* The checkpointer (checkpoint.c). */
void *ml_sq_checkpoint_main(void *arg);
/* On the writer thread, between batches, when the checkpointer asks (s->catch_up). */
void ml_sq_wal_catch_up(struct sq_store *s);

/* Migrations and readiness (migrate.c). */
int ml_sq_migrate(struct ml_store *s);
int ml_sq_ready(struct ml_store *s);

/* Organizations and API keys (keys.c), organizations' settings (orgs.c). */
int ml_sq_org_rate_set(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate);
int ml_sq_org_rate_get(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out);
int ml_sq_org_settings_get(struct ml_tx *tx, const char *org_id, json_t **out);
int ml_sq_org_settings_put(struct ml_tx *tx, const char *org_id, json_t *settings);
int ml_sq_admission_get(struct ml_tx *tx, const char *org_id, const char *booking_id,
			const char *participant_id, json_t **out);
int ml_sq_admission_put(struct ml_tx *tx, const char *org_id, const char *booking_id,
			json_t *row);
int ml_sq_admission_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 int64_t after_seq, json_t **out);
int ml_sq_org_ensure(struct ml_tx *tx, const char *name, char org_id[40]);
int ml_sq_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id,
		     const char *hash_hex, const char *prefix);
int ml_sq_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40],
		     char key_id[40]);
int ml_sq_key_count(struct ml_tx *tx);

/* Documents (docs.c). */
int ml_sq_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
int ml_sq_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
int ml_sq_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		  json_t **out);
int ml_sq_doc_peek(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		   json_t **out);
int ml_sq_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id);
int ml_sq_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			const char *column, const char *value, const char *const *statuses);
int ml_sq_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
		   const struct ml_list_query *q, json_t **items, char **next_cursor);

/* Recordings (recordings.c). */
int ml_sq_recording_put(struct ml_tx *tx, const char *org_id, json_t *doc);
int ml_sq_recording_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **out);
int ml_sq_recording_list(struct ml_tx *tx, const char *org_id, const struct ml_recording_query *q,
			 json_t **items, char **next_cursor);
int ml_sq_recording_calendar_put(struct ml_tx *tx, const char *org_id, json_t *doc);
int ml_sq_recording_calendar_get(struct ml_tx *tx, const char *org_id, const char *id,
				 json_t **out);
int ml_sq_recording_calendar_list(struct ml_tx *tx, const char *org_id, const char *host_id,
				  json_t **items);
int ml_sq_recording_calendar_delete(struct ml_tx *tx, const char *org_id, const char *id);

/* Idempotency records (idem.c) and the audit trail (audit.c). */
int ml_sq_idem_get(struct ml_tx *tx, const char *org_id, const char *key, struct ml_idem *out);
int ml_sq_idem_put(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec);
int ml_sq_audit_append(struct ml_tx *tx, const struct ml_audit *ev);
int ml_sq_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
		     json_t **items);

/* Optimistic transactions (occ.c). */
struct sq_rec *ml_sq_rec_new(void);
void ml_sq_rec_free(struct sq_rec *r);
/* False when an operation could not record: run the transaction the ordinary way. */
bool ml_sq_rec_usable(const struct sq_rec *r);
bool ml_sq_rec_empty(const struct sq_rec *r);
/* Validates the versions read and applies the recorded writes on the writer connection. */
int ml_sq_rec_apply(struct sq_conn *c, struct sq_rec *r);
/* ML_ECONFLICT when a version the recording read is no longer the one on connection c. */
int ml_sq_rec_validate(struct sq_conn *c, struct sq_rec *r);
/* The recorded writes alone, once validated; < 0 may leave earlier ones applied. */
int ml_sq_rec_write(struct sq_conn *c, struct sq_rec *r);
/* After the recording was applied and committed: caches the documents it wrote, at the
 * versions they now have, so that the next transaction reading them need not parse them. */
void ml_sq_rec_cache_written(struct sq_rec *r);
bool ml_sq_recording(struct ml_tx *tx);
void ml_sq_rec_unsupported(struct ml_tx *tx);
/* shared: the caller only reads *out, which may then be the cached document itself. */
int ml_sq_rec_doc_read(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		       bool shared, json_t **out);
int ml_sq_rec_doc_write(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc,
			bool insert);
char *ml_sq_rec_doc_text(struct ml_tx *tx, const json_t *doc);
int ml_sq_rec_audit(struct ml_tx *tx, const struct ml_audit *ev);
int ml_sq_rec_idem(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec);
int ml_sq_rec_job(struct ml_tx *tx, const struct ml_job_new *j, const char *id,
		  const char *payload);

/* The meeting pipeline's look-ups (pipeline.c). */
int ml_sq_provider_meeting_put(struct ml_tx *tx, const char *platform, const char *external_id,
			       const char *org_id, const char *booking_id, const char *meeting_id);
int ml_sq_provider_meeting_find(struct ml_tx *tx, const char *platform, const char *external_id,
				char org_id[40], char booking_id[40], char meeting_id[40]);
int ml_sq_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out);
/* The overlap query itself on connection c (overlap.c): 1 with *out, 0, or < 0. */
int ml_sq_overlap_query(struct sq_conn *c, const char *org_id, const char *host_id,
			const char *except_id, int64_t start, int64_t end,
			struct ml_booking_span *out);
/* An optimistic run's overlap check (occ.c): answered on the run's snapshot and recorded, so
 * the writer asks again before it applies the run (ml_sq_rec_validate); the run goes the
 * ordinary way instead when it already wrote a booking. */
int ml_sq_rec_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
		      const char *except_id, int64_t start, int64_t end,
		      struct ml_booking_span *out);
int ml_sq_inbound_event_first(struct ml_tx *tx, const char *provider, const char *key,
			      int64_t now_ms, int64_t keep_ms);

/* The join gateway's links (gateway.c); a put in a recording run is recorded
 * (ml_sq_rec_gateway_link, occ.c) and applied on the writer. */
int ml_sq_rec_gateway_link(struct ml_tx *tx, const struct ml_gateway_link *l);
int ml_sq_gateway_link_apply(struct sq_conn *c, const char *hash, const char *org_id,
			     const char *booking_id, const char *pid, const char *role,
			     int64_t generation);
int ml_sq_gateway_link_put(struct ml_tx *tx, const struct ml_gateway_link *l);
int ml_sq_gateway_link_find(struct ml_tx *tx, const char *token_hash, struct ml_gateway_link *out);
int ml_sq_gateway_link_revoke(struct ml_tx *tx, const char *org_id, const char *booking_id,
			      const char *participant_id);

/* The job queue (jobs.c). */
/* Handing jobs to the process's worker as the batch that wrote them commits (store.h,
 * struct ml_job_taker): before COMMIT, the jobs noted since the batch began are claimed for
 * the taker (those still eligible, as reserve() allows); after it, ml_sq_handoff_end()
 * delivers them (committed) or releases them (rolled back). Both forget the notes. */
void ml_sq_handoff_claim(struct sq_conn *c, const struct ml_job_taker *t);
void ml_sq_handoff_end(struct sq_conn *c, const struct ml_job_taker *t, bool committed);
int ml_sq_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40]);
int ml_sq_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n);
int ml_sq_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts);
int ml_sq_job_renew(struct ml_tx *tx, const char *worker, int64_t until_ms,
		    struct ml_job_lease *l, int n);
int ml_sq_job_set_payload(struct ml_tx *tx, const char *id, json_t *payload);
int ml_sq_job_recover(struct ml_tx *tx);
int ml_sq_job_wake(struct ml_tx *tx, const char *wait_key);
int ml_sq_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind);
int ml_sq_job_next_due(struct ml_tx *tx, int64_t *run_at_ms);
int ml_sq_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor);
int ml_sq_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job);

/* Messages out (notify.c). */
int ml_sq_template_get(struct ml_tx *tx, const char *org_id, const char *name, json_t **out);
int ml_sq_template_put(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl);
int ml_sq_template_delete(struct ml_tx *tx, const char *org_id, const char *name);
int ml_sq_webhook_endpoint_insert(struct ml_tx *tx, const char *org_id, json_t *ep,
				  const char *secret);
int ml_sq_webhook_endpoint_get(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t **ep, char **secret);
int ml_sq_webhook_endpoint_list(struct ml_tx *tx, const char *org_id,
				const struct ml_list_query *q, json_t **items, char **next_cursor);
int ml_sq_webhook_endpoint_delete(struct ml_tx *tx, const char *org_id, const char *id);
int ml_sq_webhook_delivery_insert(struct ml_tx *tx, const struct ml_webhook_delivery_new *d);
int ml_sq_webhook_delivery_get(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t **delivery, char **body);
int ml_sq_webhook_delivery_list(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
				const struct ml_list_query *q, json_t **items, char **next_cursor);
int ml_sq_webhook_attempt_record(struct ml_tx *tx, const struct ml_webhook_attempt *a);
int ml_sq_webhook_delivery_requeue(struct ml_tx *tx, const char *org_id, const char *id);
int ml_sq_webhook_endpoint_update(struct ml_tx *tx, const char *org_id, const char *id,
                                  json_t *patch);
int ml_sq_webhook_endpoint_health(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
                                  int64_t at_ms, int64_t disable_after_ms, bool *disabled);
int ml_sq_webhook_delivery_skip(struct ml_tx *tx, const char *id, const char *why);

/* Connections and OAuth states (conn.c). */
int ml_sq_conn_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out);
int ml_sq_conn_get_id(struct ml_tx *tx, const char *id, struct ml_conn_row *out);
int ml_sq_conn_put(struct ml_tx *tx, const struct ml_conn_row *r);
int ml_sq_conn_list(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n);
int ml_sq_conn_lease(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms);
int ml_sq_oauth_state_put(struct ml_tx *tx, const struct ml_oauth_state_row *r);
int ml_sq_oauth_state_take(struct ml_tx *tx, const char *state_hash, const char *cookie_hash,
			   const char *platform, int64_t now_ms, struct ml_oauth_state_row *out);

/* Sealed values (sealed.c). */
int ml_sq_sealed_get(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     struct ml_sealed *out);
int ml_sq_sealed_list(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items,
		      int *n);
int ml_sq_sealed_set(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     const char *value);
/* watches.c (migration 0018) */
int ml_sq_watch_put(struct ml_tx *tx, json_t *doc);
int ml_sq_watch_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, json_t **out);
int ml_sq_watch_find(struct ml_tx *tx, const char *platform, const char *channel_id,
		     json_t **out);
int ml_sq_watch_delete(struct ml_tx *tx, const char *org_id, const char *id);
/* A TRUNCATE checkpoint on a connection of its own to the store file at path. */
int ml_sq_scrub(const char *path);

#endif
