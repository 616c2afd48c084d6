/* Connections: a host's (or an organization's) authorised account on one platform, its
 * OAuth tokens encrypted at rest (core/vault.h), and the protocol every user of a token goes
 * through so that refreshes are single-flight across threads and nodes.
 *
 * This is the contract between the connections code (conn/, implements it) and the meeting
 * pipeline (queue/meeting_job.c, calls it from its jobs): change both sides together.
 *
 *   In a job: ml_conn_acquire() inside a write transaction (a read first where the token is
 *   simply valid is fine too) tells the job what to do:
 *     ML_CONN_VALID    out->access_token is good for at least 60 s (a quarter of its
 *                      lifetime for a token that lives less than 10 minutes; a token issued
 *                      in the last seconds, see connections.c, as it is): call the provider.
 *     ML_CONN_REFRESH  this caller now holds the connection's refresh lease (until
 *                      lease_ms): issue ml_oauth_refresh_easy() on the worker's curl multi,
 *                      parse the answer with ml_oauth_parse_tokens(), then in the job's
 *                      finishing transaction call ml_conn_refreshed() (persists the rotated
 *                      refresh token BEFORE the new access token is used: the job ends with
 *                      RETRY at once and its next run finds ML_CONN_VALID) or
 *                      ml_conn_refresh_failed() (invalid_grant → reauth_required).
 *     ML_CONN_BUSY     another job/node is refreshing: retry after *retry_ms (short).
 *     ML_CONN_REAUTH   the host must reconnect: end the job with ML_JOB_WAIT and
 *                      wait_key = out->conn_id; reconnecting calls ml_tx_job_wake(conn_id).
 *     ML_CONN_MISSING  no connection for this host/platform (nor an organization credential).
 */
#ifndef ML_CONN_CONNECTIONS_H
#define ML_CONN_CONNECTIONS_H

#include "store/store.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ml_vault;
struct ml_pcreds;

enum ml_conn_state {
	ML_CONN_VALID,
	ML_CONN_REFRESH,
	ML_CONN_BUSY,
	ML_CONN_REAUTH,
	ML_CONN_MISSING,
};

/* What a job gets to call the provider. Owned strings; free with ml_conn_token_clear(). */
struct ml_conn_token {
	char conn_id[40];
	char platform[16];
	bool org_level;        /* an organization credential (Zoom S2S, Twilio key, ...) */
	char *access_token;    /* VALID: the bearer token */
	char *refresh_token;   /* REFRESH: the refresh token to spend (user OAuth) */
	char *account_email;   /* the provider account it acts for (Zoom S2S: host email) */
	int64_t expires_at;    /* Unix seconds */
	json_t *extra;         /* platform specifics: Zoom account_id; Twilio account_sid,
				* api_key_sid, api_key_secret; ... (owned reference) */
};
void ml_conn_token_clear(struct ml_conn_token *t);

/* Inside a write transaction: the state of (org, host, platform)'s connection for a caller
 * wanting to use it at now_ms; see the contract above. *retry_ms is set for BUSY. In a
 * read-only transaction (ml_tx_writable() false) it returns 1, having changed nothing, when
 * the answer needs a write (taking the refresh lease): ask again in a write transaction. */
int ml_conn_acquire(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
		    const char *host_id, const char *platform, int64_t now_ms, int64_t lease_ms,
		    struct ml_conn_token *out, enum ml_conn_state *state, int64_t *retry_ms);

/* For a driver that computes with the organization's credential locally (JaaS and Twilio
 * tokens in participant_url, the JaaS app id in the link): when `platform` takes one
 * (ops->creds) and the organization has it connected, fills *tok and *cr (cr->extra: its
 * settings and secrets, decrypted) and returns true; else false, with nothing to free.
 * A read: usable in any transaction. Clear *tok with ml_conn_token_clear(). */
bool ml_conn_org_pcreds(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
			const char *host_id, const char *platform, struct ml_conn_token *tok,
			struct ml_pcreds *cr);

/* Tokens as a provider's token endpoint returned them. */
struct ml_oauth_tokens {
	char *access_token;
	char *refresh_token; /* NULL when the provider did not rotate it */
	int64_t expires_in;  /* seconds, 1..ML_OAUTH_EXPIRES_MAX */
	char *scope;
};
void ml_oauth_tokens_clear(struct ml_oauth_tokens *t);
/* The longest token lifetime believed (a year): a provider's larger expires_in (or a
 * non-expiring token's huge one) counts as this much, so that now + expires_in never
 * overflows and the token is still refreshed now and then. */
#define ML_OAUTH_EXPIRES_MAX ((int64_t)366 * 24 * 3600)

/* Persists refreshed tokens (rotated refresh token first) and releases the refresh lease. */
int ml_conn_refreshed(struct ml_tx *tx, const struct ml_vault *vault, const char *conn_id,
		      const struct ml_oauth_tokens *t);
/* Releases the lease after a failed refresh; reauth=true turns the connection
 * reauth_required (records why, enqueues the reconnect nudges and the
 * connection.reauth_required webhook); otherwise the next caller may try again. */
int ml_conn_refresh_failed(struct ml_tx *tx, const char *conn_id, bool reauth,
			   const char *why);

/* Provider endpoints and client credentials (real ones, or the sandbox's when
 * MEETLINK_SANDBOX_URL is set); loaded once at start. */
struct ml_oauth_config;
/* A ready-to-run refresh request (POST to the platform's token endpoint with the right client
 * authentication) for the token in t (REFRESH state), or a client-credentials request for an
 * organization credential (Zoom S2S account_credentials). Caller hands it to the worker. */
CURL *ml_oauth_refresh_easy(const struct ml_oauth_config *cfg, const struct ml_conn_token *t);
/* Parses a token endpoint answer: 0 with tokens; ML_EAUTH when the grant is gone
 * (invalid_grant / revoked: the host must reconnect); ML_EUNAVAIL for a transient failure
 * (5xx, 429, network); ML_EINVAL otherwise. */
int ml_oauth_parse_tokens(long status, const char *body, struct ml_oauth_tokens *out);

/* The provider API base URL of a platform ("https://www.googleapis.com" or
 * "<sandbox>/google"), for drivers. Borrowed. */
const char *ml_oauth_api_base(const struct ml_oauth_config *cfg, const char *platform);


/* --- The connect flow, the API and the CLI --- */

/* The daemon's public URL, for the connect_url of a connection that needs reconnecting
 * (ml_conn_refresh_failed). Call once at start (and again if it changes). */
void ml_conn_configure(const char *public_url);

/* A host connects an account by OAuth (the driver has ops->oauth). */
bool ml_conn_is_oauth_platform(const char *platform);
/* The organization may store a credential (the driver has ops->creds). */
bool ml_conn_is_org_platform(const char *platform);
/* The associated data binding a ciphertext to its row and column: "<row id>/<column>". */
void ml_conn_aad(char *out, size_t n, const char *row_id, const char *column);

/* After a successful OAuth callback: stores the tokens (encrypted) for (org, host, platform),
 * status connected, the account email recorded, and wakes the jobs waiting on it. The
 * connection keeps its id across reconnects. conn_id receives it. */
int ml_conn_save_oauth(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
		       const char *host_id, const char *platform, const struct ml_oauth_tokens *t,
		       const char *account_email, char conn_id[40]);
/* Stores an organization credential: `config` (non-secret, shown by the API) and `secret`
 * (encrypted, never shown) JSON objects, borrowed; t (may be NULL) an access token obtained
 * while validating it (Zoom Server-to-Server). */
int ml_conn_save_org(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
		     const char *platform, const char *kind, json_t *config, json_t *secret,
		     const struct ml_oauth_tokens *t, char conn_id[40]);
/* Disconnect: erases every token and secret of the connection, status revoked; `why` (may be
 * NULL) is recorded as its last error. */
int ml_conn_erase(struct ml_tx *tx, const char *conn_id, const char *why);
/* The decrypted tokens of a row (either may come back NULL); free with ml_vault_wipe_free. */
int ml_conn_row_tokens(const struct ml_vault *vault, const struct ml_conn_row *r,
		       char **access_token, char **refresh_token);
/* Vault rotation: re-encrypts every connection secret not under the current key.
 * *rewrapped counts the ciphertexts re-sealed. */
int ml_conn_rekey(struct ml_tx *tx, const struct ml_vault *vault, int *rewrapped);
/* The API's view of a connection (no secret in it). connect_url may be NULL. */
json_t *ml_conn_row_json(const struct ml_conn_row *r, const char *connect_url);

#endif
