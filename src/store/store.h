/* The store: one interface, two backends (SQLite embedded by default; PostgreSQL for several
 * nodes). Callers never see SQL or the backend.
 *
 * All changes happen inside ml_store_write(): the callback runs inside a durable transaction
 * and everything it did commits together or not at all (the transactional outbox of later
 * jobs relies on this). On SQLite, writes from many threads are funnelled to one writer thread
 * that commits them in batches (group commit): each callback runs in its own savepoint, so a
 * callback that fails rolls back alone, and the caller returns only once its batch is durable.
 *
 * Resources (hosts, services, bookings) are stored as JSON documents with their queryable
 * fields (org, id, external_id, status, host, service, start) also kept as indexed columns.
 *
 * A backend implements this API concern by concern (store/backend.h, docs/store.md): the
 * core (the functions up to ml_tx_store), then [docs], [jobs], [conn], [notify] and [audit],
 * the concern each section below belongs to.
 */
#ifndef ML_STORE_STORE_H
#define ML_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ml_store;
struct ml_tx;

/* Opens "sqlite:PATH" (creating the file and its directory) or a "postgres://" URL.
 * Returns ML_EINVAL for an unsupported URL, ML_ESTORE when it cannot be opened. */
int ml_store_open(struct ml_store **out, const char *url);
/* Finishes pending writes and closes. Accepts NULL. */
void ml_store_close(struct ml_store *s);

/* Applies pending migrations; returns how many were applied, or ML_ESTORE. */
int ml_store_migrate(struct ml_store *s);
/* 0 when the store answers and every migration is applied (readiness), else ML_EUNAVAIL. */
int ml_store_ready(struct ml_store *s);

typedef int (*ml_tx_fn)(struct ml_tx *tx, void *arg);

/* Copies the SQLite store at `path` into dst, an empty PostgreSQL store already migrated
 * (`meetlink migrate --from --to`): every table both schemas have, every value as stored
 * (secrets stay sealed), identity sequences moved past the rows, job leases reset (a job
 * the SQLite node was running is queued). *rows counts the rows copied. ML_EINVAL when dst
 * is not PostgreSQL, not empty, or lacks a table the SQLite store has. */
int ml_store_import_sqlite(struct ml_store *dst, const char *path, long *rows);

/* Runs fn inside a durable write transaction; returns fn's result (>= 0 commits, < 0 rolls
 * back fn's changes) or ML_ESTORE when the commit itself failed. fn must not block or call
 * ml_store_write/ml_store_read. */
int ml_store_write(struct ml_store *s, ml_tx_fn fn, void *arg);
/* Like ml_store_write, but fn may first run against a read snapshot on the calling thread,
 * recording its writes, so that the shared writer only validates and applies them (much less
 * work under one writer). When the snapshot proves stale, reset(reset_arg) undoes what fn
 * did to its own state and fn runs again the ordinary way. So fn may run twice and must have
 * no effect outside the transaction except through state reset() restores. A refusal fn
 * makes on the snapshot (rc < 0) is returned as is. Once it has committed, the documents fn
 * wrote may be shared with later transactions: the caller may still read them, never change
 * them. */
int ml_store_write_occ(struct ml_store *s, ml_tx_fn fn, void *arg, void (*reset)(void *),
		       void *reset_arg);
/* Like ml_store_write, without waiting for it: fn runs in a later batch of the writer, and
 * done(done_arg, rc) is called once that batch is durable (rc: fn's result) or has failed
 * (ML_ESTORE), on the writer's thread: done must only hand the outcome on, never wait. The
 * error detail fn sets does not reach done. For a caller that must not block (the worker's
 * event loop). Returns 0. */
int ml_store_write_async(struct ml_store *s, ml_tx_fn fn, void *arg,
			 void (*done)(void *arg, int rc), void *done_arg);
/* Runs fn on a consistent read snapshot; fn must only read. */
int ml_store_read(struct ml_store *s, ml_tx_fn fn, void *arg);

/* Runs fn in a nested savepoint of the current write transaction: fn's changes roll back
 * alone when it returns < 0 (used to commit many independent outcomes in one batch). */
int ml_tx_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg);
/* The store the transaction runs on. */
struct ml_store *ml_tx_store(struct ml_tx *tx);

/* Signals between the nodes sharing a store (PostgreSQL's LISTEN/NOTIFY). A signal on
 * `channel` (a short name of [a-z_]) reaches the subscribers of every OTHER node (this one's
 * callers act locally); a node that lost the store's connection calls its subscribers once
 * with payload NULL after reconnecting (a signal may have been missed). On a one-node store
 * (SQLite) they do nothing. Subscribers run on the store's listener thread and must not
 * block. "jobs" is the store's own: it is signalled to every node, this one included, when a
 * transaction that enqueued or requeued a job due now commits. */
typedef void (*ml_store_signal_fn)(void *arg, const char *payload);
int ml_store_subscribe(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
		       void *arg);
/* Removes that subscription; once it returns, fn is not running and is not called again. */
int ml_store_unsubscribe(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
			 void *arg);
/* Outside any transaction (after the change it announces committed). payload <= 7000 bytes,
 * may be NULL. */
int ml_store_signal(struct ml_store *s, const char *channel, const char *payload);
/* Inside a write: sent when (and only if) the transaction commits. */
int ml_tx_signal(struct ml_tx *tx, const char *channel, const char *payload);
/* The backend's name ("sqlite", "postgres"); shared stores need a vault ring, etc. */
const char *ml_store_backend_name(struct ml_store *s);
/* True when several processes may share the store (PostgreSQL). */
bool ml_store_shared(struct ml_store *s);

/* --- Organizations and API keys [docs] --- */

/* Finds the organization named `name` or creates it; writes its id into org_id. */
int ml_tx_org_ensure(struct ml_tx *tx, const char *name, char org_id[40]);
/* Stores a key by the SHA-256 hex of its secret. */
int ml_tx_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id,
		     const char *hash_hex, const char *prefix);
/* ML_ENOTFOUND when no live key has that hash. */
int ml_tx_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40], char key_id[40]);
/* Number of API keys in the store. */
int ml_tx_key_count(struct ml_tx *tx);

/* An organization's request rate limit, per API key: `rps` requests a second with bursts of
 * `burst` (rps 0: no limit). `set` false: none stored, the daemon's default applies. */
struct ml_org_rate {
	bool set;
	int64_t rps, burst;
};
/* Stores (or, with rate->set false, clears) the rate limit of the organization named `name`.
 * ML_ENOTFOUND when no organization has that name. */
int ml_tx_org_rate_set(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate);
/* The rate limit stored for organization org_id (out->set false when none). */
int ml_tx_org_rate_get(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out);
/* The organization's settings (a new object; {} when none were ever set). */
int ml_tx_org_settings_get(struct ml_tx *tx, const char *org_id, json_t **out);
/* Replaces the organization's settings with `settings` (an object, borrowed). */
int ml_tx_org_settings_put(struct ml_tx *tx, const char *org_id, json_t *settings);

/* --- The waiting room's admissions (meeting/waiting.h) [docs] --- */

/* One participant's admission row of a booking (a new object: participant_id, seq, and what
 * the meeting room keeps there). ML_ENOTFOUND when the participant never asked to join. */
int ml_tx_admission_get(struct ml_tx *tx, const char *org_id, const char *booking_id,
			const char *participant_id, json_t **out);
/* Inserts or replaces the row of row.participant_id, giving it the booking's next seq
 * (written into row as "seq"). */
int ml_tx_admission_put(struct ml_tx *tx, const char *org_id, const char *booking_id,
			json_t *row);
/* The booking's rows changed after `after_seq` (0: all), by seq (a new array). */
int ml_tx_admission_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 int64_t after_seq, json_t **out);

/* --- Server secrets and other sealed values (core/vault.h) [conn] --- */

struct ml_vault;

/* The vault that seals the store's server secrets (borrowed: set it before the first
 * ml_tx_secret_ensure and keep it until the store is closed). */
void ml_store_set_vault(struct ml_store *s, const struct ml_vault *vault);

/* The server secret called `name`: n random bytes made on first use, stored sealed by the
 * store's vault (associated data "<name>/value"), then the same forever. A secret a store from
 * before migration 0010 kept raw is used as it is until ml_tx_sealed_upgrade() seals it.
 * ML_EINVAL when the store has no vault; ML_EAUTH when the stored secret does not open with
 * the ring (the key that sealed it left MEETLINK_VAULT_KEYS): it is never replaced by a new
 * one, which would void every connect link and room name. */
int ml_tx_secret_ensure(struct ml_tx *tx, const char *name, uint8_t *out, size_t n);

/* Every sealed value the store keeps outside the connections table (connection tokens and
 * credentials are conn/'s: ml_conn_rekey), each bound to "<id>/<column>". */
enum ml_sealed_kind {
	ML_SEALED_SERVER_SECRET,  /* server_secrets: id = name, column "value" */
	ML_SEALED_WEBHOOK_SECRET, /* webhook endpoints' signing secrets: id = endpoint, "secret" */
	ML_SEALED_OAUTH_VERIFIER, /* PKCE verifiers in flight: id = state hash, "verifier" */
	ML_SEALED__COUNT,
};

/* One sealed value as the store holds it. */
struct ml_sealed {
	char id[72];
	char *value;    /* the vault ciphertext; NULL while the row still holds plaintext */
	char *plain;    /* that plaintext (a store from before 0010; NUL-terminated), else NULL */
	size_t plain_n;
};
/* Frees the strings (the plaintext wiped). Accepts NULL. */
void ml_sealed_clear(struct ml_sealed *v);
/* Every value of `kind`; *items is a new array of *n. */
int ml_tx_sealed_list(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items,
		      int *n);
/* Stores the ciphertext `value` as the row's (a server secret is created when absent),
 * dropping any plaintext the row held. ML_ENOTFOUND when the row is gone. */
int ml_tx_sealed_set(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     const char *value);
/* Seals with the store's vault every value still held in plaintext (server secrets and
 * webhook secrets of a store from before 0010); *sealed counts them. Idempotent, and all or
 * nothing with the caller's transaction (crash-safe). The secrets keep their values. */
int ml_tx_sealed_upgrade(struct ml_tx *tx, int *sealed);
/* Rotation: re-seals under the vault's current key every value sealed under another one
 * (and seals plaintext ones); *rewrapped counts them. ML_EAUTH when one does not open. */
int ml_tx_sealed_rekey(struct ml_tx *tx, int *rewrapped);
/* After values were sealed or re-sealed: what they replaced is left nowhere in the store's
 * files (SQLite: the database is rewritten (VACUUM), the WAL checkpointed and truncated).
 * Slow on a big store: for an upgrade or a rotation, not for every day. Call it outside any
 * transaction, with no other transaction running. */
int ml_store_scrub(struct ml_store *s);

/* --- Documents [docs] --- */

enum ml_kind { ML_KIND_HOST, ML_KIND_SERVICE, ML_KIND_BOOKING, ML_KIND__COUNT };

/* Inserts `doc` (fields "id", "created_at", "updated_at" required; "external_id",
 * "status", "host_id", "service_id", "start" indexed when present). ML_ECONFLICT with code
 * "external_id_taken" when another document of the organization has that external_id. */
int ml_tx_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
/* Replaces the stored document with `doc` (same id); ML_ENOTFOUND, ML_ECONFLICT as above.
 * After inserting or updating, a transaction must not change `doc` again except to write it
 * again (optimistic runs keep a reference to it). */
int ml_tx_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc);
/* The text this transaction stores for `doc` (a document it inserted or updated, unchanged
 * since), as a new string, when the backend has serialized it already; NULL otherwise. The
 * text is ml_json_text(doc): an answer can send it instead of serializing the document
 * again. */
char *ml_tx_doc_text(struct ml_tx *tx, const json_t *doc);
/* Reads one document (new reference in *out). ML_ENOTFOUND when absent or another org's. */
int ml_tx_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		  json_t **out);
/* Like ml_tx_doc_get, for a caller that only reads the document: *out may be shared with the
 * store's cache and other threads, so it must never be changed (still decref it). */
int ml_tx_doc_peek(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		   json_t **out);
int ml_tx_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id);
/* Number of documents of `kind` whose `column` ("host_id", "service_id") equals value and,
 * when statuses is non-NULL, whose status is one of the NULL-terminated list. */
int ml_tx_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			const char *column, const char *value, const char *const *statuses);

struct ml_list_query {
	int limit;               /* 1..200 */
	const char *cursor;      /* opaque, from a previous page; NULL for the first */
	const char *external_id; /* filters, NULL for none */
	const char *status;
	const char *host_id;
	const char *service_id;
	int64_t start_from, start_to; /* bookings by start (Unix seconds) */
	bool has_start_from, has_start_to;
};

/* A page of documents in creation order. *items is a new array; *next_cursor a new string or
 * NULL on the last page. ML_EINVAL (field "cursor") for a cursor that is not ours. */
int ml_tx_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
		   const struct ml_list_query *q, json_t **items, char **next_cursor);

/* --- Audit trail [audit] --- */

struct ml_audit {
	const char *org_id;
	const char *booking_id; /* may be NULL for org-level events */
	const char *type;       /* "booking.created", "meeting.ready", ... */
	const char *actor;      /* "key_…", "system", "worker" */
	const char *ip;         /* remote address, may be NULL */
	json_t *data;           /* borrowed, may be NULL */
};
int ml_tx_audit_append(struct ml_tx *tx, const struct ml_audit *ev);
/* The booking's events, oldest first, as a new array. */
int ml_tx_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
		     json_t **items);

/* --- Idempotency keys [docs] --- */

struct ml_idem {
	char body_hash[65]; /* hex SHA-256 of method, path and body */
	int status;
	char *response; /* owned when read back */
};
/* ML_ENOTFOUND when the key is new. */
int ml_tx_idem_get(struct ml_tx *tx, const char *org_id, const char *key, struct ml_idem *out);
int ml_tx_idem_put(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec);

/* --- Jobs (the durable queue; src/queue/ drives them) [jobs] --- */

/* The claim takes due jobs in run_at order (then enqueue order): a job due at the epoch's
 * first millisecond goes before every job due now (an instant meeting's create). */
#define ML_JOB_RUN_FIRST 1

struct ml_job_new {
	const char *org_id;
	const char *kind;         /* "email.send", "webhook.deliver", "meeting.create", ... */
	const char *group_key;    /* jobs with the same key run one at a time, in order */
	const char *coalesce_key; /* replaces a still-queued job with the same key */
	json_t *payload;          /* borrowed */
	int64_t run_at_ms;        /* 0: now; ML_JOB_RUN_FIRST: before every job due now */
	int max_attempts;         /* 0: 8 */
	const char *wait_key;     /* non-NULL: the job starts parked, waiting on this key */
	const char *wait_reason;  /* why it waits (shown as the job's last_error) */
	const char *payload_text; /* instead of payload: its JSON text (a JSON object) */
};

struct ml_job {
	char id[40];
	char org_id[40];
	char kind[48];
	char *group_key; /* may be NULL */
	json_t *payload; /* NULL after a claim until ml_job_load() (parsed off the writer) */
	char *payload_text;
	int attempts; /* including this one */
	int max_attempts;
	int64_t lease; /* the claim's lease token: its renewals and its outcome present it, so
	                * a holder whose lease was taken over changes nothing (0: the backend
	                * keeps none, and the worker name alone fences) */
};
/* Parses the claimed job's payload into j->payload (an empty object if unparsable). The claim
 * leaves that to the caller so the single writer thread never parses JSON. */
void ml_job_load(struct ml_job *j);
void ml_job_free(struct ml_job *j);

enum ml_job_outcome {
	ML_JOB_DONE,  /* finished; `result` kept */
	ML_JOB_RETRY, /* try again at run_at_ms (failed when attempts are used up) */
	ML_JOB_FAIL,  /* permanent failure: failed now */
	ML_JOB_WAIT,  /* park until ml_tx_job_wake(wait_key) (e.g. the host reconnects) */
	ML_JOB_DEFER, /* not run after all (rate limit, poll later): queued again at run_at_ms,
		       * the attempt not counted */
};

struct ml_job_finish {
	enum ml_job_outcome outcome;
	int64_t run_at_ms;    /* RETRY */
	const char *wait_key; /* WAIT */
	const char *error;    /* RETRY/FAIL/WAIT: why, shown in the job list */
	json_t *result;       /* DONE: borrowed, may be NULL */
	json_t *payload;      /* non-NULL: replaces the job's payload in the same write (its
			       * progress, e.g. a driver's state); borrowed */
	int64_t lease;        /* the claim's ml_job.lease (0: not checked) */
};

/* Writes a new job (same transaction as the change that causes it). id_out may be NULL. */
int ml_tx_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40]);
/* A worker of this process that takes jobs straight from the transactions that enqueue them,
 * instead of finding them with its next claim (one store cycle less between a booking's
 * change and the call it causes). A job is handed over when its transaction commits if it is
 * new, due now, not waiting, first of its group among unfinished jobs, and reserve() says
 * yes: it commits already claimed (`running`, leased to `worker`, its attempt counted) in
 * that same transaction, so a crash leaves it exactly as a claimed job (recovered at start,
 * or when its lease expires). reserve(), deliver() and release() run on the store's writer
 * and must not block. */
struct ml_job_taker {
	/* Whether the worker takes a job of `kind` now (room is reserved for it). */
	bool (*reserve)(void *arg, const char *kind);
	/* The job reserved for is committed, claimed: the taker owns *job (ml_job_free). */
	void (*deliver)(void *arg, struct ml_job *job);
	/* The job reserved for was not handed over after all (its transaction rolled back, or
	 * it was no longer eligible when the transaction ended). */
	void (*release)(void *arg);
	void *arg;
	char worker[40]; /* the claims' owner name */
	int64_t lease_ms;
};
/* Sets (or with NULL removes) the store's job taker; returns once no transaction still
 * uses the previous one. A backend without the feature ignores it and returns 1: its jobs
 * are claimed, and the workers must heed the store's notifications (ml_worker_notify). */
int ml_store_set_job_taker(struct ml_store *s, const struct ml_job_taker *t);
/* False in a read-only transaction (ml_store_read): a caller that would write there must
 * not try (e.g. a job's prepare, see queue/worker.h). */
bool ml_tx_writable(struct ml_tx *tx);
/* Claims up to max runnable jobs for `worker` with a lease: queued and due (or running with an
 * expired lease), and first in their group. *jobs is a new array of *n jobs (NULL when none). */
int ml_tx_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n);
/* Replaces a job's payload (the job's own progress, e.g. a driver's state). */
int ml_tx_job_set_payload(struct ml_tx *tx, const char *id, json_t *payload);
/* Records the outcome of a claimed job; ML_ECONFLICT when the lease was lost meanwhile. */
int ml_tx_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts);
/* Makes jobs orphaned by a process that died runnable again, at start-up: on SQLite (one node
 * by definition) every running job; a shared store relies on leases instead. */
int ml_tx_job_recover(struct ml_tx *tx);
/* Requeues the jobs `worker` still holds running (its process stops cleanly with calls cut):
 * on a shared store they run again at once on any node instead of when their leases run out.
 * Returns how many; 0 where recover does it at the next start (SQLite). */
int ml_tx_job_release(struct ml_tx *tx, const char *worker);
/* A lease a worker holds, for ml_tx_job_renew. */
enum ml_lease_state {
	ML_LEASE_RENEWED, /* extended */
	ML_LEASE_BUSY,    /* still held, but another transaction has the job locked right now
	                   * (its outcome being written): not extended this time */
	ML_LEASE_LOST,    /* no longer held (finished, released, or claimed again after it
	                   * expired): the holder must not call anyone for it any more */
};
struct ml_job_lease {
	const char *id;
	int64_t lease; /* ml_job.lease */
	enum ml_lease_state state; /* out */
};
/* Extends to until_ms the leases `worker` holds among l[0..n) (the worker's heartbeat, while
 * the jobs are in flight and until their outcomes are written) and says of each whether it
 * is still held. Returns how many were renewed; a backend without the operation renews none
 * (every one BUSY: the holder gives up at its lease's end, as before). */
int ml_tx_job_renew(struct ml_tx *tx, const char *worker, int64_t until_ms,
		    struct ml_job_lease *l, int n);
/* Requeues every job waiting on wait_key; returns how many. */
int ml_tx_job_wake(struct ml_tx *tx, const char *wait_key);
/* Cancels queued/waiting jobs of a group and kind (e.g. a create superseded by a cancel). */
int ml_tx_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind);
/* The earliest run_at among queued jobs (0 when none). */
int ml_tx_job_next_due(struct ml_tx *tx, int64_t *run_at_ms);
/* A page of the organization's jobs (state may be NULL), oldest first. */
int ml_tx_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor);
/* Requeues a failed job now with fresh attempts; ML_ENOTFOUND, ML_ECONFLICT if not failed. */
int ml_tx_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job);

/* --- The meeting pipeline (queue/meeting*.c, api/inbound.c) [docs] --- */

/* Records that the provider's meeting (platform, external_id) is the booking's meeting
 * meeting_id (replacing an earlier record of the same provider id). */
int ml_tx_provider_meeting_put(struct ml_tx *tx, const char *platform, const char *external_id,
			       const char *org_id, const char *booking_id, const char *meeting_id);
/* Which booking a provider's meeting belongs to (inbound webhooks); ML_ENOTFOUND. */
int ml_tx_provider_meeting_find(struct ml_tx *tx, const char *platform, const char *external_id,
				char org_id[40], char booking_id[40], char meeting_id[40]);
/* Records an inbound provider event by its key: 1 the first time, 0 for a repeat. Keys older
 * than keep_ms are forgotten. */
int ml_tx_inbound_event_first(struct ml_tx *tx, const char *provider, const char *key,
			      int64_t now_ms, int64_t keep_ms);

/* --- The join gateway's personal links (meeting/gateway.h) [docs] --- */

/* One link: the hex SHA-256 of its token (the token itself is never stored) and what it
 * lets in. */
struct ml_gateway_link {
	char token_hash[65];
	char org_id[40], booking_id[40], participant_id[40];
	char role[16];
	int64_t generation;
};
/* Records a link; a link already recorded (same hash) is left as it is. */
int ml_tx_gateway_link_put(struct ml_tx *tx, const struct ml_gateway_link *l);
/* The link whose token hashes to token_hash (hex); ML_ENOTFOUND when unknown or revoked. */
int ml_tx_gateway_link_find(struct ml_tx *tx, const char *token_hash, struct ml_gateway_link *out);
/* Revokes the links of one participant of a booking, or of every participant when
 * participant_id is NULL. */
int ml_tx_gateway_link_revoke(struct ml_tx *tx, const char *org_id, const char *booking_id,
			      const char *participant_id);
/* --- Recordings (meeting/recording*.c, api/recordings.c) [docs] --- */

/* Inserts or replaces the recording `doc` ("id", "booking_id", "meeting_id", "state" and
 * "created_at" required; "host_id", "bot_id" indexed). ML_ECONFLICT when the meeting has
 * another recording. */
int ml_tx_recording_put(struct ml_tx *tx, const char *org_id, json_t *doc);
/* One recording (new reference); ML_ENOTFOUND when absent or another organization's. */
int ml_tx_recording_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **out);

struct ml_recording_query {
	int limit;          /* 1..200 */
	const char *cursor; /* opaque, from a previous page */
	const char *booking_id, *meeting_id, *host_id, *state; /* filters, NULL for none */
	int64_t created_from, created_to; /* Unix seconds */
	bool has_from, has_to;
};
/* A page of recordings in creation order (as ml_tx_doc_list). */
int ml_tx_recording_list(struct ml_tx *tx, const char *org_id, const struct ml_recording_query *q,
			 json_t **items, char **next_cursor);

/* A host's calendar registered with the recorder ("id", "host_id", "external_id" (the
 * recorder's id), "created_at"): insert or replace; one; the host's (a new array, at most
 * 200, oldest first); delete. ML_ENOTFOUND when absent or another organization's. */
int ml_tx_recording_calendar_put(struct ml_tx *tx, const char *org_id, json_t *doc);
int ml_tx_recording_calendar_get(struct ml_tx *tx, const char *org_id, const char *id,
				 json_t **out);
int ml_tx_recording_calendar_list(struct ml_tx *tx, const char *org_id, const char *host_id,
				  json_t **items);
int ml_tx_recording_calendar_delete(struct ml_tx *tx, const char *org_id, const char *id);

/* A booking as the overlap check names it: its id and times (Unix seconds). */
struct ml_booking_span {
	char id[40];
	int64_t start, end;
};
/* The host's conflicting booking (issue 18 §5): the earliest-starting booking of host_id in
 * the organization whose status is confirmed or in_progress, other than except_id (NULL for
 * none), whose [start, end) overlaps [start, end) (Unix seconds; a booking ending when the
 * other starts does not overlap). 1 with *out filled when there is one, 0 when none.
 * Isolation: the answer must hold until the caller's transaction commits, i.e. the query sees
 * every booking committed before it and no other transaction can commit a booking of this host
 * in between (SQLite: it runs only on the single writer; docs/store.md says what another
 * backend must do). A booking lasts at most 7 days: the range read is bounded. */
int ml_tx_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out);

/* --- Messages out: email templates, webhook endpoints and deliveries (notify/) [notify] --- */

/* An organization's replacement of a built-in email template, as {"subject","text","html",
 * "updated_at"} (new reference). ML_ENOTFOUND when the organization uses the default. */
int ml_tx_template_get(struct ml_tx *tx, const char *org_id, const char *name, json_t **out);
/* Stores tpl's "subject", "text" and "html" as the organization's template `name`. */
int ml_tx_template_put(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl);
/* Drops the replacement (the default applies again); ML_ENOTFOUND when there was none. */
int ml_tx_template_delete(struct ml_tx *tx, const char *org_id, const char *name);

/* A webhook endpoint {"id","url","events":[…],"description"} with its secret kept apart. */
int ml_tx_webhook_endpoint_insert(struct ml_tx *tx, const char *org_id, json_t *ep,
				  const char *secret);
/* The endpoint as {"id","object","url","events","description","created_at","updated_at"}
 * (new reference) and, when secret is non-NULL, its secret (caller frees). ML_ENOTFOUND. */
int ml_tx_webhook_endpoint_get(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t **ep, char **secret);
/* A page of the organization's endpoints, oldest first; q NULL: all of them, no cursor. */
int ml_tx_webhook_endpoint_list(struct ml_tx *tx, const char *org_id,
				const struct ml_list_query *q, json_t **items, char **next_cursor);
/* Removes the endpoint; its delivery log goes with it. ML_ENOTFOUND. */
int ml_tx_webhook_endpoint_delete(struct ml_tx *tx, const char *org_id, const char *id);

struct ml_webhook_delivery_new {
	const char *id; /* "msg_…", the webhook-id of every attempt */
	const char *org_id, *endpoint_id, *event_type;
	const char *booking_id; /* may be NULL */
	const char *body;       /* the exact JSON bytes to sign and send */
};
/* Writes the delivery's log entry (state pending); nothing when it exists already. */
int ml_tx_webhook_delivery_insert(struct ml_tx *tx, const struct ml_webhook_delivery_new *d);
/* The delivery with its attempts (new reference) and, when body is non-NULL, the bytes to
 * send (caller frees). ML_ENOTFOUND. */
int ml_tx_webhook_delivery_get(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t **delivery, char **body);
/* A page of an endpoint's deliveries, newest first, each with its attempts. */
int ml_tx_webhook_delivery_list(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
				const struct ml_list_query *q, json_t **items, char **next_cursor);

struct ml_webhook_attempt {
	const char *delivery_id;
	int64_t at_ms;
	long status;        /* HTTP status, 0 when no answer came back */
	int64_t duration_ms;
	const char *error;  /* NULL on success */
	const char *state;  /* the delivery's state after it: pending | delivered | failed */
};
/* Appends an attempt to the delivery's log and moves the delivery to a->state. */
int ml_tx_webhook_attempt_record(struct ml_tx *tx, const struct ml_webhook_attempt *a);
/* Marks a delivered or failed delivery pending again (a redelivery is about to be queued);
 * ML_ENOTFOUND, ML_ECONFLICT when it is still pending. */
int ml_tx_webhook_delivery_requeue(struct ml_tx *tx, const char *org_id, const char *id);
/* Changes an endpoint's settings: the members of `patch` that are present among "enabled"
 * (bool: enabling clears the failure clock), "description", "contact_email" (string or
 * null) and "events" (array). ML_ENOTFOUND. */
int ml_tx_webhook_endpoint_update(struct ml_tx *tx, const char *org_id, const char *id,
				  json_t *patch);
/* Records an attempt's outcome for the endpoint's health: a success clears the failure clock;
 * a failure at at_ms starts it when it is not running, and disables the endpoint (*disabled
 * true, once) when every attempt since the clock started has failed for disable_after_ms
 * (0: never). */
int ml_tx_webhook_endpoint_health(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
				  int64_t at_ms, int64_t disable_after_ms, bool *disabled);
/* A pending delivery that will not be attempted (its endpoint is disabled): failed, with
 * `why` as its last error, no attempt added. */
int ml_tx_webhook_delivery_skip(struct ml_tx *tx, const char *id, const char *why);

/* --- Connections (conn/connections.h drives them) [conn] --- */

/* One connection row. Secret columns are vault ciphertexts (never plaintext). Strings are
 * owned; free with ml_conn_row_clear(). host_id is "" for an organization credential. */
struct ml_conn_row {
	char id[40], org_id[40], host_id[40];
	char platform[16], kind[16], status[20];
	char *account_email, *scopes, *config; /* config: JSON text of non-secret settings */
	char *access_token, *refresh_token, *secret;
	char *last_error, *last_error_code;
	int64_t expires_at;                    /* Unix seconds, 0 when unknown */
	int64_t lease_until;                   /* ms, 0 when no refresh is in flight */
	int64_t last_error_at, connected_at, refreshed_at, created_at, updated_at; /* ms */
};
void ml_conn_row_clear(struct ml_conn_row *r);

/* The connection of (org, host, platform); host_id NULL: the organization credential.
 * ML_ENOTFOUND. */
int ml_tx_conn_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out);
/* By id (any organization: ids come from jobs, never from a request). ML_ENOTFOUND. */
int ml_tx_conn_get_id(struct ml_tx *tx, const char *id, struct ml_conn_row *out);
/* Inserts or replaces the row with r->id (created_at kept). */
int ml_tx_conn_put(struct ml_tx *tx, const struct ml_conn_row *r);
/* The rows of a host (host_id non-NULL) or the organization credentials (host_id NULL), or
 * with org_id NULL every row of the store (vault rotation); *rows is a new array of *n. */
int ml_tx_conn_list(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n);
/* Takes the refresh lease of connection id until lease_until_ms when it is free at now_ms:
 * 1 when taken, 0 when another caller holds it. */
int ml_tx_conn_lease(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms);

/* Provider watches (docs/provider-changes.md) [conn]: one per host connection whose calendar
 * is watched, a document {id, org_id, host_id, platform, channel_id, prev_channel_id, ...}
 * (put inserts or replaces it by id). find looks a notification's channel (or subscription)
 * id up among the current and previous ones of every organization: the caller then checks
 * the notification's secret against that watch. */
int ml_tx_watch_put(struct ml_tx *tx, json_t *doc);
int ml_tx_watch_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, json_t **out);
int ml_tx_watch_find(struct ml_tx *tx, const char *platform, const char *channel_id,
		     json_t **out);
int ml_tx_watch_delete(struct ml_tx *tx, const char *org_id, const char *id);

/* An OAuth authorization in flight (the state is kept as its SHA-256 hex). */
struct ml_oauth_state_row {
	char state_hash[65], org_id[40], host_id[40], platform[16], cookie_hash[65];
	char *verifier;      /* vault ciphertext; owned when read back */
	int64_t link_expires; /* Unix seconds */
	int64_t expires_at;  /* ms */
};
/* Stores a new state (and drops long-expired ones). */
int ml_tx_oauth_state_put(struct ml_tx *tx, const struct ml_oauth_state_row *r);
/* Consumes a state, but only for the browser that started it: when its cookie hash (compared
 * in constant time) and platform match, fills *out and marks it used. ML_ENOTFOUND when
 * unknown, ML_ECONFLICT when already used (a replay), ML_EAUTH when the cookie or the
 * platform does not match: then the state is left as it was, so someone who saw the state
 * (in a log, a Referer) cannot spend the host's sign-in. */
int ml_tx_oauth_state_take(struct ml_tx *tx, const char *state_hash, const char *cookie_hash,
			   const char *platform, int64_t now_ms, struct ml_oauth_state_row *out);

#endif
