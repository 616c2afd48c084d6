/* Shared by the SQLite backend's files (sqlite.c, sqlite_jobs.c). Internal. */
#ifndef ML_STORE_SQLITE_INTERNAL_H
#define ML_STORE_SQLITE_INTERNAL_H

#include "store/backend.h"

#include <sqlite3.h>

#define ML_SQ_STMT_CACHE 96

struct sq_conn {
	sqlite3 *db;
	struct {
		char *sql;
		sqlite3_stmt *st;
	} cache[ML_SQ_STMT_CACHE];
	int ncache;
	struct sq_conn *next_free;
};

struct sq_tx {
	struct ml_tx base;
	struct sq_conn *c;
};

/* Logs the SQLite error and sets ML_ESTORE. */
int ml_sq_fail(sqlite3 *db, const char *what);
/* A reset statement for `sql`, prepared once per connection; NULL on error (logged). */
sqlite3_stmt *ml_sq_prep(struct sq_conn *c, const char *sql);
struct sq_conn *ml_sq_txc(struct ml_tx *tx);
int ml_sq_exec(struct sq_conn *c, const char *sql);
/* Binds a string or NULL. */
void ml_sq_bind_opt(sqlite3_stmt *st, int i, const char *v);

/* The job queue (sqlite_jobs.c). */
int ml_sq_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40]);
int ml_sq_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n);
int ml_sq_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts);
int ml_sq_job_recover(struct ml_tx *tx);
int ml_sq_job_wake(struct ml_tx *tx, const char *wait_key);
int ml_sq_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind);
int ml_sq_job_next_due(struct ml_tx *tx, int64_t *run_at_ms);
int ml_sq_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor);
int ml_sq_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job);

#endif
