/* What a store backend implements, concern by concern (store.c dispatches the public API of
 * store.h to it). Internal to src/store/; docs/store.md says how to write a backend.
 *
 * The shape is libgit2's include/git2/sys/odb_backend.h and refdb_backend.h: a small core
 * (struct ml_store_backend: transactions, migrations, readiness) pointing at one ops struct per
 * concern, so a second backend is written and tested one concern at a time:
 *
 *   docs     documents, organizations and API keys, idempotency records, the pipeline's
 *            look-ups (provider meeting -> booking, inbound events seen)
 *   jobs     the durable queue: enqueue, claim with a lease, finish, wake, recover
 *   conn     connections, their refresh lease, OAuth states, sealed values
 *   notify   email templates, webhook endpoints, deliveries and their attempts
 *   audit    the audit trail
 *
 * Every struct opens with `unsigned version`, which is its ML_STORE_*_VERSION when the struct
 * was compiled. Operations are only ever appended (like sqlite3_io_methods): an operation added
 * later bumps the version, and the caller checks the version before it uses that operation.
 * A const instance sets .version = ML_STORE_*_VERSION; one filled at run time starts from the
 * ML_STORE_*_INIT macro. ml_store_backend_check() says whether a backend sets every required
 * operation and its versions right (tests/unit/store/test_backend.c runs it on SQLite's).
 *
 * Every operation but the core's runs inside the caller's transaction (struct ml_tx), returns
 * 0 or a negative ML_E* code with ml_error_set() detail, and leaves out-parameters untouched
 * on failure (store.h has each one's contract). Operations marked optional may be NULL. */
#ifndef ML_STORE_BACKEND_H
#define ML_STORE_BACKEND_H

#include "store/store.h"

/* --- Documents and idempotency --- */

#define ML_STORE_DOCS_VERSION 5
#define ML_STORE_DOCS_INIT {ML_STORE_DOCS_VERSION}

struct ml_store_docs_ops {
	unsigned version;

	/* Organizations and API keys (ml_tx_org_*, ml_tx_key_*). */
	int (*org_ensure)(struct ml_tx *tx, const char *name, char org_id[40]);
	int (*key_insert)(struct ml_tx *tx, const char *key_id, const char *org_id,
			  const char *hash_hex, const char *prefix);
	int (*key_lookup)(struct ml_tx *tx, const char *hash_hex, char org_id[40],
			  char key_id[40]);
	int (*key_count)(struct ml_tx *tx);
	int (*org_rate_set)(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate);
	int (*org_rate_get)(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out);

	/* Documents (ml_tx_doc_*). */
	int (*insert)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
	int (*update)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
	int (*get)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		   json_t **out);
	/* Optional: get serves instead. */
	int (*peek)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		    json_t **out);
	/* Optional: no text is reused (the caller serializes). */
	char *(*text)(struct ml_tx *tx, const json_t *doc);
	int (*remove)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id);
	int (*count_ref)(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			 const char *column, const char *value, const char *const *statuses);
	int (*list)(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
		    const struct ml_list_query *q, json_t **items, char **next_cursor);

	/* Idempotency records (ml_tx_idem_*). */
	int (*idem_get)(struct ml_tx *tx, const char *org_id, const char *key,
			struct ml_idem *out);
	int (*idem_put)(struct ml_tx *tx, const char *org_id, const char *key,
			const struct ml_idem *rec);

	/* The meeting pipeline's look-ups (ml_tx_provider_meeting_*, ml_tx_inbound_event_first). */
	int (*provider_meeting_put)(struct ml_tx *tx, const char *platform,
				    const char *external_id, const char *org_id,
				    const char *booking_id, const char *meeting_id);
	int (*provider_meeting_find)(struct ml_tx *tx, const char *platform,
				     const char *external_id, char org_id[40],
				     char booking_id[40], char meeting_id[40]);
	int (*inbound_event_first)(struct ml_tx *tx, const char *provider, const char *key,
				   int64_t now_ms, int64_t keep_ms);

	/* version 2: the join gateway's links, by the hash of their token (ml_tx_gateway_*). */
	int (*gateway_link_put)(struct ml_tx *tx, const struct ml_gateway_link *l);
	int (*gateway_link_find)(struct ml_tx *tx, const char *token_hash,
				 struct ml_gateway_link *out);
	int (*gateway_link_revoke)(struct ml_tx *tx, const char *org_id, const char *booking_id,
				   const char *participant_id);
	/* Version 3: organization settings and the waiting room's admissions
	 * (ml_tx_org_settings_*, ml_tx_admission_*). */
	int (*org_settings_get)(struct ml_tx *tx, const char *org_id, json_t **out);
	int (*org_settings_put)(struct ml_tx *tx, const char *org_id, json_t *settings);
	int (*admission_get)(struct ml_tx *tx, const char *org_id, const char *booking_id,
			     const char *participant_id, json_t **out);
	int (*admission_put)(struct ml_tx *tx, const char *org_id, const char *booking_id,
			     json_t *row);
	int (*admission_list)(struct ml_tx *tx, const char *org_id, const char *booking_id,
			      int64_t after_seq, json_t **out);
	/* Version 4: recordings and recording calendars (ml_tx_recording_*). */
	int (*recording_put)(struct ml_tx *tx, const char *org_id, json_t *doc);
	int (*recording_get)(struct ml_tx *tx, const char *org_id, const char *id, json_t **out);
	int (*recording_list)(struct ml_tx *tx, const char *org_id,
			      const struct ml_recording_query *q, json_t **items,
			      char **next_cursor);
	/* Recording calendars (ml_tx_recording_calendar_*). */
	int (*recording_calendar_put)(struct ml_tx *tx, const char *org_id, json_t *doc);
	int (*recording_calendar_get)(struct ml_tx *tx, const char *org_id, const char *id,
				      json_t **out);
	int (*recording_calendar_list)(struct ml_tx *tx, const char *org_id, const char *host_id,
				       json_t **items);
	int (*recording_calendar_delete)(struct ml_tx *tx, const char *org_id, const char *id);
	/* Version 5: the host's conflicting booking (ml_tx_booking_overlap), under the write
	 * lock (docs/store.md). */
	int (*booking_overlap)(struct ml_tx *tx, const char *org_id, const char *host_id,
			       const char *except_id, int64_t start, int64_t end,
			       struct ml_booking_span *out);
};

/* --- Jobs and leases --- */

#define ML_STORE_JOBS_VERSION 3
#define ML_STORE_JOBS_INIT {ML_STORE_JOBS_VERSION}

struct ml_store_jobs_ops {
	unsigned version;
	int (*enqueue)(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40]);
	int (*claim)(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		     int max, struct ml_job **jobs, int *n);
	int (*finish)(struct ml_tx *tx, const char *id, const char *worker,
		      const struct ml_job_finish *f, int attempts, int max_attempts);
	int (*recover)(struct ml_tx *tx);
	int (*set_payload)(struct ml_tx *tx, const char *id, json_t *payload);
	int (*wake)(struct ml_tx *tx, const char *wait_key);
	int (*cancel_group)(struct ml_tx *tx, const char *group_key, const char *kind);
	int (*next_due)(struct ml_tx *tx, int64_t *run_at_ms);
	int (*list)(struct ml_tx *tx, const char *org_id, const char *state,
		    const char *group_key, const struct ml_list_query *q, json_t **items,
		    char **next_cursor);
	int (*retry)(struct ml_tx *tx, const char *org_id, const char *id, json_t **job);
	/* Optional, and outside any transaction: jobs are then only claimed. */
	int (*set_taker)(struct ml_store *s, const struct ml_job_taker *t);
	/* Optional (version 2): requeues the jobs `worker` still holds (a clean stop on a
	 * shared store); without it they wait for recover or their leases. */
	int (*release)(struct ml_tx *tx, const char *worker);
	/* Optional (version 3): the holder's heartbeat (ml_tx_job_renew); without it a lease
	 * only lasts lease_ms from its claim. */
	int (*renew)(struct ml_tx *tx, const char *worker, int64_t until_ms,
		     struct ml_job_lease *l, int n);
};

/* --- Connections and secrets --- */

#define ML_STORE_CONN_VERSION 2
#define ML_STORE_CONN_INIT {ML_STORE_CONN_VERSION}

struct ml_store_conn_ops {
	unsigned version;

	/* Connections and org credentials (ml_tx_conn_*). */
	int (*get)(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out);
	int (*get_id)(struct ml_tx *tx, const char *id, struct ml_conn_row *out);
	int (*put)(struct ml_tx *tx, const struct ml_conn_row *r);
	int (*list)(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n);
	int (*lease)(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms);

	/* OAuth authorizations in flight (ml_tx_oauth_state_*). */
	int (*oauth_state_put)(struct ml_tx *tx, const struct ml_oauth_state_row *r);
	int (*oauth_state_take)(struct ml_tx *tx, const char *state_hash,
				const char *cookie_hash, const char *platform, int64_t now_ms,
				struct ml_oauth_state_row *out);

	/* Sealed values outside the connections table (ml_tx_sealed_*, ml_tx_secret_ensure):
	 * the backend stores vault ciphertexts, sealed.c seals and opens them. */
	int (*sealed_get)(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
			  struct ml_sealed *out);
	int (*sealed_list)(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items,
			   int *n);
	int (*sealed_set)(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
			  const char *value);
	/* Version 2: provider watches, the channels through which changes made at a host
	 * connection's provider come back (ml_tx_watch_*). */
	int (*watch_put)(struct ml_tx *tx, json_t *doc);
	int (*watch_get)(struct ml_tx *tx, const char *org_id, const char *host_id,
			 const char *platform, json_t **out);
	int (*watch_find)(struct ml_tx *tx, const char *platform, const char *channel_id,
			  json_t **out);
	int (*watch_delete)(struct ml_tx *tx, const char *org_id, const char *id);
};

/* --- Notifications: templates, webhook endpoints and deliveries --- */

#define ML_STORE_NOTIFY_VERSION 1
#define ML_STORE_NOTIFY_INIT {ML_STORE_NOTIFY_VERSION}

struct ml_store_notify_ops {
	unsigned version;

	/* Email templates (ml_tx_template_*). */
	int (*template_get)(struct ml_tx *tx, const char *org_id, const char *name, json_t **out);
	int (*template_put)(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl);
	int (*template_delete)(struct ml_tx *tx, const char *org_id, const char *name);

	/* Webhook endpoints (ml_tx_webhook_endpoint_*). */
	int (*endpoint_insert)(struct ml_tx *tx, const char *org_id, json_t *ep,
			       const char *secret);
	int (*endpoint_get)(struct ml_tx *tx, const char *org_id, const char *id, json_t **ep,
			    char **secret);
	int (*endpoint_list)(struct ml_tx *tx, const char *org_id, const struct ml_list_query *q,
			     json_t **items, char **next_cursor);
	int (*endpoint_delete)(struct ml_tx *tx, const char *org_id, const char *id);
	int (*endpoint_update)(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t *patch);
	int (*endpoint_health)(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
			       int64_t at_ms, int64_t disable_after_ms, bool *disabled);

	/* Webhook deliveries and their attempts (ml_tx_webhook_delivery_*, _attempt_record). */
	int (*delivery_insert)(struct ml_tx *tx, const struct ml_webhook_delivery_new *d);
	int (*delivery_get)(struct ml_tx *tx, const char *org_id, const char *id,
			    json_t **delivery, char **body);
	int (*delivery_list)(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
			     const struct ml_list_query *q, json_t **items, char **next_cursor);
	int (*delivery_requeue)(struct ml_tx *tx, const char *org_id, const char *id);
	int (*delivery_skip)(struct ml_tx *tx, const char *id, const char *why);
	int (*attempt_record)(struct ml_tx *tx, const struct ml_webhook_attempt *a);
};

/* --- Audit trail --- */

#define ML_STORE_AUDIT_VERSION 1
#define ML_STORE_AUDIT_INIT {ML_STORE_AUDIT_VERSION}

struct ml_store_audit_ops {
	unsigned version;
	int (*append)(struct ml_tx *tx, const struct ml_audit *ev);
	int (*list)(struct ml_tx *tx, const char *org_id, const char *booking_id,
		    json_t **items);
};

/* --- The core: transactions, migrations, readiness, and the concerns --- */

#define ML_STORE_BACKEND_VERSION 2
#define ML_STORE_BACKEND_INIT {ML_STORE_BACKEND_VERSION}

struct ml_store_backend {
	unsigned version;
	const char *name; /* "sqlite", "postgres" */
	bool shared;      /* several processes may share the store (version 2) */
	void (*close)(struct ml_store *s);
	int (*migrate)(struct ml_store *s);
	int (*ready)(struct ml_store *s);
	int (*write)(struct ml_store *s, ml_tx_fn fn, void *arg);
	int (*read)(struct ml_store *s, ml_tx_fn fn, void *arg);
	int (*nested)(struct ml_tx *tx, ml_tx_fn fn, void *arg);
	/* Optional: ml_store_write_occ then uses write. */
	int (*write_occ)(struct ml_store *s, ml_tx_fn fn, void *arg, void (*reset)(void *),
			 void *reset_arg);
	/* Optional: ml_store_write_async then writes at once, on the caller's thread. */
	int (*write_async)(struct ml_store *s, ml_tx_fn fn, void *arg,
			   void (*done)(void *arg, int rc), void *done_arg);
	/* Optional: every transaction may write. */
	bool (*writable)(struct ml_tx *tx);
	/* Optional: nothing is left behind by the backend. */
	int (*scrub)(struct ml_store *s);
	/* Optional (version 2): signals between nodes (store.h, ml_store_subscribe); NULL on
	 * a one-node store, where they do nothing. */
	int (*subscribe)(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
			 void *arg);
	int (*unsubscribe)(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
			   void *arg);
	int (*signal)(struct ml_store *s, const char *channel, const char *payload);
	int (*tx_signal)(struct ml_tx *tx, const char *channel, const char *payload);

	const struct ml_store_docs_ops *docs;
	const struct ml_store_jobs_ops *jobs;
	const struct ml_store_conn_ops *conn;
	const struct ml_store_notify_ops *notify;
	const struct ml_store_audit_ops *audit;
};

/* 0 when b and each of its concerns has the version this build knows and every operation
 * that is not optional set; else ML_EINVAL, the detail naming the first one wrong
 * ("docs.insert is not set"). For tests and a backend's own checks. */
int ml_store_backend_check(const struct ml_store_backend *b);

/* Every backend's store and transaction start with these. */
struct ml_store {
	const struct ml_store_backend *backend;
	const struct ml_vault *vault; /* seals server secrets (ml_store_set_vault) */
};

struct ml_tx {
	struct ml_store *store;
};

int ml_store_sqlite_open(struct ml_store **out, const char *path);
/* url: "postgres://..." or "postgresql://..." (libpq's URI). */
int ml_store_pg_open(struct ml_store **out, const char *url);
/* store.h ml_store_import_sqlite, on a PostgreSQL store. */
int ml_pg_import_sqlite(struct ml_store *dst, const char *path, long *rows);

/* Shared by backends: the table behind a kind, cursor encoding. */
const char *ml_store_kind_table(enum ml_kind kind);
/* Cursors carry a backend position (a sequence number) and the last id, base64url-wrapped. */
char *ml_store_cursor_encode(int64_t position, const char *id);
int ml_store_cursor_decode(const char *cursor, int64_t *position, char id[40]);

#endif
