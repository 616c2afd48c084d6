/* The provider sandbox: offline emulations of the providers' HTTP APIs (SPEC §9, §11), each
 * under its own prefix, sharing one request log, one fault engine and one control API
 * (`/_sandbox/…`, see control.c).
 *
 * HOW TO ADD A PROVIDER (e.g. src/sandbox/zoom.c)
 *
 *  1. Write the handlers as plain ml_http_handler functions and list them in a route table
 *     whose patterns are RELATIVE to the prefix ("/v2/users/{userId}/meetings" is served at
 *     "/zoom/v2/users/{userId}/meetings"); terminate the table with {NULL}.
 *  2. Export one const descriptor and add it to the registry table in sandbox.c:
 *
 *         static void zoom_seed(json_t *root) { ...fill accounts, clients, users... }
 *         const struct ml_sb_provider ml_sb_zoom = {
 *             .name = "zoom", .prefix = "/zoom", .routes = zoom_routes,
 *             .seed = zoom_seed, .defaults = "{\"webhook_url\":null}",
 *             .not_found = zoom_not_found,   // optional: the provider's own 404/405 body
 *         };
 *
 *  3. State: every provider keeps ALL its state in one JSON object, its "root", owned by the
 *     framework. `seed(root)` fills a fresh, empty root at start and on POST /_sandbox/reset.
 *     Because state is JSON, GET /_sandbox/state, `--state FILE` persistence and reset work
 *     without further code. Put tokens under root["tokens"] (the ml_sb_token_* helpers do) so
 *     that POST /_sandbox/tokens/revoke works for your provider too.
 *  4. Locking: handlers run WITH the sandbox lock held (one global mutex): read and write the
 *     root freely, but never block or sleep in a handler (faults add latency before the lock is
 *     taken). Code on other threads (webhook completion callbacks) takes ml_sb_lock() itself.
 *     In a handler, `req->user` is the provider's root (borrowed; valid during the handler).
 *  5. Faults, latency, request recording and secret redaction are applied by the framework
 *     around your handler: do nothing for them.
 *  6. Errors: answer with the provider's own envelope (Google {"error":{code,message,errors,
 *     status}}, Zoom {code,message}, Graph {"error":{code,message,innerError}}, Twilio
 *     {code,message,more_info,status}) and status. Validate inputs the way the provider does.
 *  7. Add tests/e2e/test_sandbox_<name>.py and a section in docs/sandbox.md.
 *
 * Threading: handlers run on the HTTP layer's epoll pool, one at a time under the sandbox
 * lock, and must not block: a fault's latency defers the request (resp->defer_ms) rather than
 * sleeping. Everything here is thread-safe.
 */
#ifndef ML_SANDBOX_SANDBOX_H
#define ML_SANDBOX_SANDBOX_H

#include "http/http.h"
#include "http/router.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ml_sb_provider {
	const char *name;              /* "google": key in state, faults, requests and config */
	const char *prefix;            /* "/google": every path below it belongs to this provider */
	const struct ml_route *routes; /* patterns relative to prefix; NULL-method terminated */
	/* Fills a fresh empty root (seeded accounts, clients). Called with the lock held. */
	void (*seed)(json_t *root);
	/* Optional JSON object text: the provider's configuration defaults (see ml_sb_cfg_*). */
	const char *defaults;
	/* Optional: the provider's answer for a path no route matched (method_mismatch: some
	 * route matched the path under another method). Default: a JSON 404/405. */
	void (*not_found)(struct ml_http_req *req, struct ml_http_resp *resp, bool method_mismatch);
	/* Optional: the provider's own error body for `status` (used by faults that give a
	 * status but no body, e.g. 429 in the Google envelope). Default: {"error": message}. */
	void (*error)(struct ml_http_resp *resp, int status, const char *message);
	/* Optional: moves the provider's simulated world to the sandbox clock's now (bots that
	 * join, record and leave on their own). Called with the lock held before each of its
	 * requests, after POST /_sandbox/clock, and a few times a second by the ticker thread
	 * of `meetlink sandbox` (ml_sb_ticker_start). Must not block. */
	void (*tick)(json_t *root);
};

/* The registry (sandbox.c), NULL-terminated. */
extern const struct ml_sb_provider *const ml_sb_providers[];

/* ---- lifecycle (used by the CLI) ---------------------------------------------------- */

struct ml_sb_options {
	const char *state_file; /* --state: loaded at init when present, saved by ml_sb_save() */
	json_t *config;         /* --config: {"google": {...}, ...} overlaid on the defaults
	                         * (borrowed) */
	size_t log_capacity;    /* request-log ring size; 0: 10000 */
};

/* Seeds every provider (or loads the state file). Returns 0 or ML_EINVAL with detail. */
int ml_sb_init(const struct ml_sb_options *opt);
/* Waits for outbound webhooks in flight (bounded), frees everything. */
void ml_sb_shutdown(void);
/* Starts the thread that calls every provider's tick a few times a second, so a simulated
 * world moves without requests (ml_sb_shutdown stops it). The CLI starts it; the fuzz
 * harness does not, and ticks happen only on requests there. */
void ml_sb_ticker_start(void);
/* Calls every provider's tick now (takes the lock). */
void ml_sb_tick_all(void);
/* Writes every provider's state to the --state file (atomically). 0 or ML_EINTERNAL. */
int ml_sb_save(void);
/* The HTTP dispatch function: control API, faults, providers, recording. */
void ml_sb_dispatch(struct ml_http_req *req, struct ml_http_resp *resp);

/* ---- state and configuration -------------------------------------------------------- */

void ml_sb_lock(void);
void ml_sb_unlock(void);
/* The provider's root (borrowed; lock held). NULL for an unknown provider. */
json_t *ml_sb_root(const char *provider);
/* Bumped each time a reset or a --state load replaces a root: what an index kept beside a
 * root (sbindex.h) compares to know it is stale. */
uint64_t ml_sb_state_gen(void);
/* Configuration values of a provider (lock held): defaults < --config < POST
 * /_sandbox/config. Reset goes back to defaults + --config. */
json_int_t ml_sb_cfg_int(const char *provider, const char *key, json_int_t def);
bool ml_sb_cfg_bool(const char *provider, const char *key, bool def);
const char *ml_sb_cfg_str(const char *provider, const char *key, const char *def);

/* The sandbox clock: wall time plus the offset set by POST /_sandbox/clock. Use it for every
 * expiry and "created" time so tests can move time forward. */
int64_t ml_sb_now(void);
int64_t ml_sb_now_ms(void);

/* Whether an OAuth client/app (its "redirect_uris" array) accepts uri: exact match, as the
 * providers do; an empty list accepts any http(s) URI (a sandbox convenience). */
bool ml_sb_redirect_ok(json_t *client, const char *uri);

/* ---- ids and tokens ----------------------------------------------------------------- */

/* `prefix` + n random characters from `alphabet` (NULL: [A-Za-z0-9]). Caller frees. */
char *ml_sb_rand(const char *prefix, size_t n, const char *alphabet);
/* The same n characters into out (no NUL added). */
void ml_sb_rand_fill(char *out, size_t n, const char *alphabet);
#define ML_SB_HEX "0123456789abcdef"
#define ML_SB_DIGITS "0123456789"
#define ML_SB_BASE32HEX "0123456789abcdefghijklmnopqrstuv"
#define ML_SB_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/* Issues a token: root["tokens"][tok] = info + {"type", "issued_at", "expires_at"(if ttl>0),
 * "revoked": false}. `info` is stolen (may be NULL); put "account" (the user it acts for),
 * "client_id", "scope", "grant" (a grant id shared by a code's access/refresh tokens) in it.
 * Returns the token string, borrowed from the state (valid while the lock is held). */
const char *ml_sb_token_issue(json_t *root, const char *prefix, const char *type,
                              int64_t ttl_seconds, json_t *info);
/* The token's record when it exists, has that type (NULL: any), is not revoked and not
 * expired; else NULL with *why set to "unknown", "revoked" or "expired" (why may be NULL).
 * Borrowed. */
json_t *ml_sb_token_check(json_t *root, const char *tok, const char *type, const char **why);
/* Marks tokens revoked: the one named, and (grant=true) every token of the same grant.
 * Returns how many were revoked. */
int ml_sb_token_revoke(json_t *root, const char *tok, bool grant);
/* Revokes every token whose info["account"] equals account. Returns the count. */
int ml_sb_token_revoke_account(json_t *root, const char *account);
/* The bearer token of the request ("Authorization: Bearer X") checked as above with type
 * "access"; NULL if absent or invalid (*why: "missing", "unknown", "revoked", "expired"). */
json_t *ml_sb_bearer(struct ml_http_req *req, json_t *root, const char **why);
/* Revokes every token of a grant id (e.g. what a replayed authorization code issued).
 * Returns how many were revoked. */
int ml_sb_token_revoke_grant(json_t *root, const char *grant);
/* Decodes "Authorization: Basic …" into user and password (caller frees both). */
bool ml_sb_basic_auth(struct ml_http_req *req, char **user, char **pass);
/* OAuth client authentication at a token endpoint: client_secret_basic when the request has
 * "Authorization: Basic …", else client_secret_post (form client_id, client_secret). Sets
 * *id and *secret to new strings, NULL when absent (caller frees both). */
void ml_sb_client_creds(struct ml_http_req *req, const json_t *form, char **id, char **secret);

/* Constant-time comparison of two NUL-terminated secrets (false when either is NULL). */
bool ml_sb_secret_equal(const char *a, const char *b);

/* PKCE (RFC 7636): true when `verifier` (43–128 unreserved chars) hashes to `challenge`
 * under `method` ("S256" or "plain"; NULL means "plain"). */
bool ml_sb_pkce_verify(const char *verifier, const char *challenge, const char *method);

/* ---- requests and helpers ----------------------------------------------------------- */

/* The body parsed as JSON (new reference), or NULL when it is empty or malformed. */
json_t *ml_sb_json_body(struct ml_http_req *req);
/* The body as x-www-form-urlencoded (new reference, an object; empty when no body). */
json_t *ml_sb_form_body(struct ml_http_req *req);
/* A JSON object's string member or NULL (also when it is not a string). */
const char *ml_sb_str(const json_t *obj, const char *key);
/* The public base URL the sandbox answers at ("http://127.0.0.1:PORT"), for links it emits
 * (consent page actions, resource URIs). Set by the CLI. */
const char *ml_sb_base_url(void);
void ml_sb_set_base_url(const char *url);

/* ---- OAuth pages and redirects ------------------------------------------------------ */

struct ml_buf;
/* 302 to `uri` with the query parameters kv[0]=kv[1], kv[2]=kv[3], … (npairs pairs,
 * URL-encoded, appended with '&' when uri already has a query); a NULL value is left out. */
void ml_sb_redirect(struct ml_http_resp *resp, const char *uri, const char *const *kv,
                    size_t npairs);
/* Answers the buffer's content as a text/html page (takes the buffer's data). */
void ml_sb_html(struct ml_http_resp *resp, int status, struct ml_buf *b);
/* Appends <input type="hidden" name="name" value="value"> (nothing when value is NULL). */
void ml_sb_html_hidden(struct ml_buf *b, const char *name, const char *value);
/* Appends a consent form posting to `action`: a <select name="account"> listing the keys of
 * `accounts` (`selected` preselected), hidden inputs for kv's pairs as above, and the buttons
 * name="decision" Cancel (value "deny", id="deny") and `allow_label` (value "allow",
 * id="allow"). */
void ml_sb_consent_form(struct ml_buf *b, const char *action, json_t *accounts,
                        const char *selected, const char *const *kv, size_t npairs,
                        const char *allow_label);
/* The key of `obj` to act for: `hint` when obj has it, else `def` when it has that, else its
 * first key (NULL when empty). Borrowed. */
const char *ml_sb_pick_key(json_t *obj, const char *hint, const char *def);

/* Glob match used by faults: `*` any run of characters (including '/'), `?` one character. */
bool ml_sb_glob(const char *pattern, const char *s);

/* True when `name` (a header, form or JSON field name) carries a secret that the request
 * log must redact. Case-insensitive. */
bool ml_sb_is_secret(const char *name);

/* ---- outbound webhooks -------------------------------------------------------------- */

/* Called on the sender thread without the lock: status 0 when the connection failed. */
typedef void (*ml_sb_post_done)(void *arg, long status, const char *body);

/* POSTs `body` to `url` on a background thread (libcurl, 5 s timeout) with `headers`
 * ("Name: value" strings, NULL-terminated; all copied). The attempt and its answer are
 * recorded in the request log with "direction":"out". `done` (may be NULL) is called with
 * the answer. Safe to call from a handler (does not block). */
void ml_sb_webhook_send(const char *provider, const char *url, const char *const *headers,
                        const char *body, size_t n, ml_sb_post_done done, void *arg);

/* ---- the providers ------------------------------------------------------------------ */

extern const struct ml_sb_provider ml_sb_google;
extern const struct ml_sb_provider ml_sb_microsoft;
extern const struct ml_sb_provider ml_sb_zoom;
extern const struct ml_sb_provider ml_sb_twilio;
extern const struct ml_sb_provider ml_sb_meetingbaas;
extern const struct ml_sb_provider ml_sb_jaas;

#endif
