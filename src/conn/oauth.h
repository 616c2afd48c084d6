/* OAuth 2.0 with the providers, without I/O policy: endpoints and client credentials per
 * platform (real ones, or the sandbox's), the authorization URL with PKCE S256, ready-to-run
 * libcurl requests for the code exchange, refresh, revocation and the account's identity, and
 * the parsing of token endpoint answers. Nothing here touches the store.
 *
 * The refresh request and the parser are declared in conn/connections.h (the pipeline's
 * contract); this header adds what the connect flow and the organization credentials need.
 */
#ifndef ML_CONN_OAUTH_H
#define ML_CONN_OAUTH_H

#include "conn/connections.h"
#include "core/config.h"
#include "providers/provider.h"

#include <curl/curl.h>
#include <stdbool.h>

/* One platform's connection settings, from its driver (ops->endpoints, ops->oauth,
 * ops->inbound) and the configuration. Strings owned by the config. */
struct ml_oauth_platform {
	const struct ml_provider_ops *ops;
	const char *name, *label;        /* the driver's */
	struct ml_endpoints ep;          /* NULL members where the platform has none */
	char *client_id, *client_secret; /* OAuth client; NULL when not configured */
	char *webhook_secret;            /* inbound webhooks' signing secret, NULL: off */
};

struct ml_oauth_config {
	struct ml_oauth_platform *platforms; /* every driver with endpoints, OAuth or webhooks */
	size_t n;
	char *public_url; /* redirect URIs are public_url/oauth/{p}/callback */
	bool sandbox;
	long timeout_ms; /* per call made for a request (connect callback, credential checks) */
	struct ml_worker *worker; /* makes those calls (ml_oauth_config_set_worker); NULL: tools */
	/* Tests only (ml_oauth_config_set_transport; no setting reaches it): answers the calls
	 * in place of the network. NULL in the daemon and the tools. */
	int (*transport)(void *ctx, CURL *easy, long *status, char **body);
	void *transport_ctx;
};

/* Builds the endpoints from the configuration: MEETLINK_SANDBOX_URL puts every endpoint under
 * the sandbox and, unless configured explicitly, uses its seeded test clients. */
int ml_oauth_config_load(struct ml_oauth_config **out, const struct ml_config *cfg);
void ml_oauth_config_free(struct ml_oauth_config *c);
/* Replaces the public URL (the daemon learns its port after binding). */
void ml_oauth_config_set_public_url(struct ml_oauth_config *c, const char *public_url);

/* The entry of `platform`, or NULL when its driver has no endpoints, OAuth or webhooks. */
const struct ml_oauth_platform *ml_oauth_platform(const struct ml_oauth_config *c,
						  const char *platform);
/* True when the platform is an OAuth platform with a client id and secret. */
bool ml_oauth_configured(const struct ml_oauth_config *c, const char *platform);
/* The platform's inbound webhook secret, NULL when its webhooks are off. Borrowed. */
const char *ml_oauth_webhook_secret(const struct ml_oauth_config *c, const char *platform);

/* PKCE (RFC 7636): a fresh 43-character verifier and its S256 challenge. */
void ml_oauth_pkce(char verifier[44], char challenge[44]);
/* The exact redirect URI: public_url + "/oauth/" + platform + "/callback". Caller frees. */
char *ml_oauth_redirect_uri(const struct ml_oauth_config *c, const char *platform);
/* The provider's authorization URL for a browser redirect. Caller frees. */
char *ml_oauth_authorize_url(const struct ml_oauth_config *c, const char *platform,
			     const char *state, const char *challenge);

/* Ready-to-run requests (no write callback set: hand to the worker or ml_oauth_perform). */
CURL *ml_oauth_code_easy(const struct ml_oauth_config *c, const char *platform,
			 const char *code, const char *verifier);
/* GET of the account's identity (userinfo, /users/me, Graph /me) with the access token. */
CURL *ml_oauth_account_easy(const struct ml_oauth_config *c, const char *platform,
			    const char *access_token);
/* The account email out of the identity answer. Caller frees; NULL when absent. */
char *ml_oauth_parse_account(const char *platform, const char *body);
/* The token request of an organization credential that mints tokens (ops->creds->token_grant,
 * e.g. Server-to-Server OAuth) from `cred` (config and secret merged); NULL otherwise. */
CURL *ml_oauth_grant_easy(const struct ml_oauth_config *c, const char *platform, json_t *cred);
/* A driver's HTTP step (credential checks) as a request; *headers (caller frees after the
 * request) holds its header list. NULL when a header value is unsafe (CR/LF). */
struct ml_phttp;
CURL *ml_oauth_step_easy(const struct ml_phttp *h, struct curl_slist **headers);
/* Revocation at the provider; NULL when the provider has none. */
CURL *ml_oauth_revoke_easy(const struct ml_oauth_config *c, const char *platform,
			   const char *token);

struct ml_worker;
/* The worker whose curl loop makes the calls of ml_oauth_perform (the daemon sets it once
 * the worker runs, before serving requests). */
void ml_oauth_config_set_worker(struct ml_oauth_config *c, struct ml_worker *w);
/* For in-process tests (the fuzz harnesses): every call of ml_oauth_perform goes to `fn`
 * instead of the worker or the network. `fn` answers as ml_oauth_perform does (*status,
 * *body the caller frees, ML_EUNAVAIL when there is no answer) and frees `easy`. Set by code
 * only: no configuration value reaches it. */
void ml_oauth_config_set_transport(struct ml_oauth_config *c,
				   int (*fn)(void *ctx, CURL *easy, long *status, char **body),
				   void *ctx);
/* Makes a request with the per-call timeouts and waits for it, then frees it: on the
 * worker's multi loop (this thread blocks on its answer, never on the network), or without a
 * worker (tools) on a loop of its own. *status is the HTTP status (0 when no answer), *body
 * the answer (caller frees). ML_EUNAVAIL when no answer came back (or easy is NULL). */
int ml_oauth_perform(const struct ml_oauth_config *c, CURL *easy, long *status, char **body);

#endif
