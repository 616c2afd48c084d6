/* What a store backend implements (store.c dispatches the public API to it). Internal. */
#ifndef ML_STORE_BACKEND_H
#define ML_STORE_BACKEND_H

#include "store/store.h"

struct ml_store_ops {
	const char *name;
	void (*close)(struct ml_store *s);
	int (*migrate)(struct ml_store *s);
	int (*ready)(struct ml_store *s);
	int (*write)(struct ml_store *s, ml_tx_fn fn, void *arg);
	int (*read)(struct ml_store *s, ml_tx_fn fn, void *arg);
	/* May be NULL: ml_store_write_occ then uses write. */
	int (*write_occ)(struct ml_store *s, ml_tx_fn fn, void *arg, void (*reset)(void *),
			 void *reset_arg);

	/* May be NULL: ml_store_write_async then writes at once, on the caller's thread. */
	int (*write_async)(struct ml_store *s, ml_tx_fn fn, void *arg,
			   void (*done)(void *arg, int rc), void *done_arg);

	int (*nested)(struct ml_tx *tx, ml_tx_fn fn, void *arg);
	/* May be NULL: jobs are then only claimed. */
	int (*set_job_taker)(struct ml_store *s, const struct ml_job_taker *t);
	/* May be NULL: every transaction may write. */
	bool (*writable)(struct ml_tx *tx);
	int (*job_enqueue)(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40]);
	int (*job_claim)(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
			 int max, struct ml_job **jobs, int *n);
	int (*job_finish)(struct ml_tx *tx, const char *id, const char *worker,
			  const struct ml_job_finish *f, int attempts, int max_attempts);
	int (*job_recover)(struct ml_tx *tx);
	int (*job_set_payload)(struct ml_tx *tx, const char *id, json_t *payload);
	int (*provider_meeting_put)(struct ml_tx *tx, const char *platform,
				    const char *external_id, const char *org_id,
				    const char *booking_id, const char *meeting_id);
	int (*provider_meeting_find)(struct ml_tx *tx, const char *platform,
				     const char *external_id, char org_id[40],
				     char booking_id[40], char meeting_id[40]);
	int (*inbound_event_first)(struct ml_tx *tx, const char *provider, const char *key,
				   int64_t now_ms, int64_t keep_ms);
	int (*job_wake)(struct ml_tx *tx, const char *wait_key);
	int (*job_cancel_group)(struct ml_tx *tx, const char *group_key, const char *kind);
	int (*job_next_due)(struct ml_tx *tx, int64_t *run_at_ms);
	int (*job_list)(struct ml_tx *tx, const char *org_id, const char *state,
			const char *group_key, const struct ml_list_query *q, json_t **items,
			char **next_cursor);
	int (*job_retry)(struct ml_tx *tx, const char *org_id, const char *id, json_t **job);
	int (*org_ensure)(struct ml_tx *tx, const char *name, char org_id[40]);
	int (*key_insert)(struct ml_tx *tx, const char *key_id, const char *org_id,
			  const char *hash_hex, const char *prefix);
	int (*key_lookup)(struct ml_tx *tx, const char *hash_hex, char org_id[40],
			  char key_id[40]);
	int (*key_count)(struct ml_tx *tx);
	int (*sealed_get)(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
			  struct ml_sealed *out);
	int (*sealed_list)(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items,
			   int *n);
	int (*sealed_set)(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
			  const char *value);
	/* May be NULL: nothing is left behind by the backend. */
	int (*scrub)(struct ml_store *s);
	int (*org_rate_set)(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate);
	int (*org_rate_get)(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out);
	int (*doc_insert)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
	int (*doc_update)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
	int (*doc_get)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		       json_t **out);
	char *(*doc_text)(struct ml_tx *tx, const json_t *doc); /* optional */
	int (*doc_peek)(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
			json_t **out); /* optional: doc_get otherwise */
	int (*doc_delete)(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			  const char *id);
	int (*doc_count_ref)(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			     const char *column, const char *value, const char *const *statuses);
	int (*doc_list)(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			const struct ml_list_query *q, json_t **items, char **next_cursor);
	int (*audit_append)(struct ml_tx *tx, const struct ml_audit *ev);
	int (*audit_list)(struct ml_tx *tx, const char *org_id, const char *booking_id,
			  json_t **items);
	int (*idem_get)(struct ml_tx *tx, const char *org_id, const char *key,
			struct ml_idem *out);
	int (*idem_put)(struct ml_tx *tx, const char *org_id, const char *key,
			const struct ml_idem *rec);
	int (*template_get)(struct ml_tx *tx, const char *org_id, const char *name, json_t **out);
	int (*template_put)(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl);
	int (*template_delete)(struct ml_tx *tx, const char *org_id, const char *name);
	int (*webhook_endpoint_insert)(struct ml_tx *tx, const char *org_id, json_t *ep,
				       const char *secret);
	int (*webhook_endpoint_get)(struct ml_tx *tx, const char *org_id, const char *id,
				    json_t **ep, char **secret);
	int (*webhook_endpoint_list)(struct ml_tx *tx, const char *org_id,
				     const struct ml_list_query *q, json_t **items,
				     char **next_cursor);
	int (*webhook_endpoint_delete)(struct ml_tx *tx, const char *org_id, const char *id);
	int (*webhook_delivery_insert)(struct ml_tx *tx, const struct ml_webhook_delivery_new *d);
	int (*webhook_delivery_get)(struct ml_tx *tx, const char *org_id, const char *id,
				    json_t **delivery, char **body);
	int (*webhook_delivery_list)(struct ml_tx *tx, const char *org_id,
				     const char *endpoint_id, const struct ml_list_query *q,
				     json_t **items, char **next_cursor);
	int (*webhook_attempt_record)(struct ml_tx *tx, const struct ml_webhook_attempt *a);
	int (*webhook_delivery_requeue)(struct ml_tx *tx, const char *org_id, const char *id);
	int (*conn_get)(struct ml_tx *tx, const char *org_id, const char *host_id,
			const char *platform, struct ml_conn_row *out);
	int (*conn_get_id)(struct ml_tx *tx, const char *id, struct ml_conn_row *out);
	int (*conn_put)(struct ml_tx *tx, const struct ml_conn_row *r);
	int (*conn_list)(struct ml_tx *tx, const char *org_id, const char *host_id,
			 struct ml_conn_row **rows, int *n);
	int (*conn_lease)(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms);
	int (*oauth_state_put)(struct ml_tx *tx, const struct ml_oauth_state_row *r);
	int (*oauth_state_take)(struct ml_tx *tx, const char *state_hash,
				const char *cookie_hash, const char *platform, int64_t now_ms,
				struct ml_oauth_state_row *out);
	int (*webhook_endpoint_update)(struct ml_tx *tx, const char *org_id, const char *id,
				       json_t *patch);
	int (*webhook_endpoint_health)(struct ml_tx *tx, const char *org_id, const char *id,
				       bool ok, int64_t at_ms, int64_t disable_after_ms,
				       bool *disabled);
	int (*webhook_delivery_skip)(struct ml_tx *tx, const char *id, const char *why);
};

/* Every backend's store and transaction start with these. */
struct ml_store {
	const struct ml_store_ops *ops;
	const struct ml_vault *vault; /* seals server secrets (ml_store_set_vault) */
};

struct ml_tx {
	struct ml_store *store;
};

int ml_store_sqlite_open(struct ml_store **out, const char *path);

/* Shared by backends: the table behind a kind, cursor encoding. */
const char *ml_store_kind_table(enum ml_kind kind);
/* Cursors carry a backend position (a sequence number) and the last id, base64url-wrapped. */
char *ml_store_cursor_encode(int64_t position, const char *id);
int ml_store_cursor_decode(const char *cursor, int64_t *position, char id[40]);

#endif
