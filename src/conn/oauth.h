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

#include <curl/curl.h>
#include <stdbool.h>

/* One OAuth platform's endpoints and client. Strings owned by the config. */
struct ml_oauth_platform {
	const char *name;  /* "google_meet", "zoom", "teams" */
	const char *label; /* "Google Meet" */
	char *authorize_url, *token_url, *revoke_url, *account_url, *api_base;
	char *client_id, *client_secret; /* NULL when not configured */
	const char *scopes;              /* space-separated, the smallest that work */
	bool basic_auth;                 /* client authentication by HTTP Basic (Zoom) */
};

struct ml_oauth_config {
	struct ml_oauth_platform google, zoom, teams;
	char *twilio_base, *meetingbaas_base; /* organization-credential providers */
	char *public_url;                     /* redirect URIs are public_url/oauth/{p}/callback */
	bool sandbox;
	long timeout_ms; /* per blocking call (connect callback, credential checks) */
};

/* Builds the endpoints from the configuration: MEETLINK_SANDBOX_URL puts every endpoint under
 * the sandbox and, unless configured explicitly, uses its seeded test clients. */
int ml_oauth_config_load(struct ml_oauth_config **out, const struct ml_config *cfg);
void ml_oauth_config_free(struct ml_oauth_config *c);
/* Replaces the public URL (the daemon learns its port after binding). */
void ml_oauth_config_set_public_url(struct ml_oauth_config *c, const char *public_url);

/* The OAuth platform called `platform`, or NULL when it is not a user-OAuth platform. */
const struct ml_oauth_platform *ml_oauth_platform(const struct ml_oauth_config *c,
						  const char *platform);
/* True when the platform has a client id and secret. */
bool ml_oauth_configured(const struct ml_oauth_config *c, const char *platform);

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
/* Revocation at the provider; NULL when the provider has none (Microsoft). */
CURL *ml_oauth_revoke_easy(const struct ml_oauth_config *c, const char *platform,
			   const char *token);

/* Runs a request to completion on this thread with the blocking timeouts, then frees it.
 * *status is the HTTP status (0 when no answer), *body the answer (caller frees).
 * ML_EUNAVAIL when no answer came back. */
int ml_oauth_perform(const struct ml_oauth_config *c, CURL *easy, long *status, char **body);

#endif
