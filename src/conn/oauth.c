/* OAuth 2.0 with Google, Zoom and Microsoft: endpoints, PKCE, requests and answers. */
#include "conn/oauth.h"
#include "core/json_in.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/url.h"
#include "core/utf8.h"
#include "http/http.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The smallest scopes that work: Meet needs calendar.events (+ openid email to
 * record the account); Zoom's scopes live on the app (meeting write, user read for the
 * email); Graph needs OnlineMeetings and Calendars, offline_access for a refresh token and
 * User.Read for /me. */
#define GOOGLE_SCOPES "openid email https://www.googleapis.com/auth/calendar.events"
#define ZOOM_SCOPES "meeting:write:meeting user:read:user"
#define TEAMS_SCOPES "offline_access User.Read OnlineMeetings.ReadWrite Calendars.ReadWrite"

static char *or_default(const char *v, const char *def)
{
	if (v && *v)
		return ml_strdup(v);
	return def ? ml_strdup(def) : NULL;
}

static void platform_free(struct ml_oauth_platform *p)
{
	free(p->authorize_url);
	free(p->token_url);
	free(p->revoke_url);
	free(p->account_url);
	free(p->api_base);
	free(p->client_id);
	if (p->client_secret) {
		memset(p->client_secret, 0, strlen(p->client_secret));
		free(p->client_secret);
	}
}

int ml_oauth_config_load(struct ml_oauth_config **out, const struct ml_config *cfg)
{
	struct ml_oauth_config *c = ml_calloc(1, sizeof *c);
	const char *sb = cfg->sandbox_url;
	char *tenant = or_default(cfg->microsoft_tenant, "common");
	size_t sblen = sb ? strlen(sb) : 0;
	while (sblen && sb[sblen - 1] == '/')
		sblen--;
	int n = (int)sblen;

	c->sandbox = sb != NULL;
	c->timeout_ms = 15000;
	c->public_url = ml_strdup(cfg->public_url);

	struct ml_oauth_platform *g = &c->google, *z = &c->zoom, *t = &c->teams;
	g->name = "google_meet";
	g->label = "Google Meet";
	g->scopes = GOOGLE_SCOPES;
	z->name = "zoom";
	z->label = "Zoom";
	z->scopes = ZOOM_SCOPES;
	z->basic_auth = true;
	t->name = "teams";
	t->label = "Microsoft Teams";
	t->scopes = TEAMS_SCOPES;
	if (sb) {
		g->authorize_url = ml_asprintf("%.*s/google/o/oauth2/v2/auth", n, sb);
		g->token_url = ml_asprintf("%.*s/google/token", n, sb);
		g->revoke_url = ml_asprintf("%.*s/google/revoke", n, sb);
		g->account_url = ml_asprintf("%.*s/google/v1/userinfo", n, sb);
		g->api_base = ml_asprintf("%.*s/google", n, sb);
		z->authorize_url = ml_asprintf("%.*s/zoom/oauth/authorize", n, sb);
		z->token_url = ml_asprintf("%.*s/zoom/oauth/token", n, sb);
		z->revoke_url = ml_asprintf("%.*s/zoom/oauth/revoke", n, sb);
		z->account_url = ml_asprintf("%.*s/zoom/v2/users/me", n, sb);
		z->api_base = ml_asprintf("%.*s/zoom", n, sb);
		t->authorize_url =
			ml_asprintf("%.*s/microsoft/%s/oauth2/v2.0/authorize", n, sb, tenant);
		t->token_url = ml_asprintf("%.*s/microsoft/%s/oauth2/v2.0/token", n, sb, tenant);
		t->account_url = ml_asprintf("%.*s/microsoft/v1.0/me", n, sb);
		t->api_base = ml_asprintf("%.*s/microsoft", n, sb);
		c->twilio_base = ml_asprintf("%.*s/twilio", n, sb);
		c->meetingbaas_base = ml_asprintf("%.*s/meetingbaas", n, sb);
	} else {
		g->authorize_url = ml_strdup("https://accounts.google.com/o/oauth2/v2/auth");
		g->token_url = ml_strdup("https://oauth2.googleapis.com/token");
		g->revoke_url = ml_strdup("https://oauth2.googleapis.com/revoke");
		g->account_url = ml_strdup("https://openidconnect.googleapis.com/v1/userinfo");
		g->api_base = ml_strdup("https://www.googleapis.com");
		z->authorize_url = ml_strdup("https://zoom.us/oauth/authorize");
		z->token_url = ml_strdup("https://zoom.us/oauth/token");
		z->revoke_url = ml_strdup("https://zoom.us/oauth/revoke");
		z->account_url = ml_strdup("https://api.zoom.us/v2/users/me");
		z->api_base = ml_strdup("https://api.zoom.us");
		t->authorize_url = ml_asprintf(
			"https://login.microsoftonline.com/%s/oauth2/v2.0/authorize", tenant);
		t->token_url =
			ml_asprintf("https://login.microsoftonline.com/%s/oauth2/v2.0/token", tenant);
		t->account_url = ml_strdup("https://graph.microsoft.com/v1.0/me");
		t->api_base = ml_strdup("https://graph.microsoft.com");
		c->twilio_base = ml_strdup("https://video.twilio.com");
		c->meetingbaas_base = ml_strdup("https://api.meetingbaas.com");
	}
	free(tenant);
	/* Explicit base URLs win over both (a provider's regional endpoint, a local stub). */
	if (cfg->twilio_url) {
		free(c->twilio_base);
		c->twilio_base = ml_strdup(cfg->twilio_url);
	}
	if (cfg->meetingbaas_url) {
		free(c->meetingbaas_base);
		c->meetingbaas_base = ml_strdup(cfg->meetingbaas_url);
	}
	/* Client credentials: configured ones, else (sandbox only) the seeded test clients. */
	g->client_id = or_default(cfg->google_client_id,
			      sb ? "meetlink-sandbox.apps.googleusercontent.com" : NULL);
	g->client_secret = or_default(cfg->google_client_secret, sb ? "GOCSPX-sandbox-secret" : NULL);
	z->client_id = or_default(cfg->zoom_client_id, sb ? "zoom-sandbox-client-id" : NULL);
	z->client_secret =
		or_default(cfg->zoom_client_secret, sb ? "zoom-sandbox-client-secret" : NULL);
	t->client_id = or_default(cfg->microsoft_client_id,
			      sb ? "11111111-2222-3333-4444-555555555555" : NULL);
	t->client_secret =
		or_default(cfg->microsoft_client_secret, sb ? "sandbox~microsoft~secret" : NULL);
	for (struct ml_oauth_platform *p = g; p <= t; p++)
		if (!!p->client_id != !!p->client_secret) {
			int rc = ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_*_CLIENT_SECRET",
					      "%s needs both a client id and a client secret",
					      p->label);
			ml_oauth_config_free(c);
			return rc;
		}
	*out = c;
	return 0;
}

void ml_oauth_config_free(struct ml_oauth_config *c)
{
	if (!c)
		return;
	platform_free(&c->google);
	platform_free(&c->zoom);
	platform_free(&c->teams);
	free(c->twilio_base);
	free(c->meetingbaas_base);
	free(c->public_url);
	free(c);
}

void ml_oauth_config_set_public_url(struct ml_oauth_config *c, const char *public_url)
{
	free(c->public_url);
	c->public_url = ml_strdup(public_url);
}

const struct ml_oauth_platform *ml_oauth_platform(const struct ml_oauth_config *c,
						  const char *platform)
{
	if (!platform)
		return NULL;
	if (strcmp(platform, "google_meet") == 0)
		return &c->google;
	if (strcmp(platform, "zoom") == 0)
		return &c->zoom;
	if (strcmp(platform, "teams") == 0)
		return &c->teams;
	return NULL;
}

bool ml_oauth_configured(const struct ml_oauth_config *c, const char *platform)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(c, platform);
	return p && p->client_id && p->client_secret;
}

const char *ml_oauth_api_base(const struct ml_oauth_config *cfg, const char *platform)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(cfg, platform);
	if (p)
		return p->api_base;
	if (platform && strcmp(platform, "twilio") == 0)
		return cfg->twilio_base;
	if (platform && strcmp(platform, "meetingbaas") == 0)
		return cfg->meetingbaas_base;
	return NULL;
}

void ml_oauth_pkce(char verifier[44], char challenge[44])
{
	uint8_t raw[32], digest[32];
	ml_random(raw, sizeof raw);
	char *v = ml_base64url_encode(raw, sizeof raw); /* 43 characters of [A-Za-z0-9-_] */
	ml_sha256(v, strlen(v), digest);
	char *ch = ml_base64url_encode(digest, sizeof digest);
	snprintf(verifier, 44, "%s", v);
	snprintf(challenge, 44, "%s", ch);
	memset(v, 0, strlen(v));
	free(v);
	free(ch);
}

char *ml_oauth_redirect_uri(const struct ml_oauth_config *c, const char *platform)
{
	return ml_asprintf("%s/oauth/%s/callback", c->public_url, platform);
}

/* Appends name=value, escaped in place (no unwiped copy of a secret value left behind). */
static void param(struct ml_buf *b, const char *name, const char *value)
{
	ml_buf_printf(b, "%s%s=", b->len ? "&" : "", name);
	ml_url_escape(b, value);
}

char *ml_oauth_authorize_url(const struct ml_oauth_config *c, const char *platform,
			     const char *state, const char *challenge)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(c, platform);
	struct ml_buf q = {0};
	char *redirect = ml_oauth_redirect_uri(c, platform);

	param(&q, "response_type", "code");
	param(&q, "client_id", p->client_id);
	param(&q, "redirect_uri", redirect);
	if (p != &c->zoom) /* Zoom's scopes are the app's, not the request's */
		param(&q, "scope", p->scopes);
	param(&q, "state", state);
	param(&q, "code_challenge", challenge);
	param(&q, "code_challenge_method", "S256");
	if (p == &c->google) {
		/* A refresh token, and again on a reconnect (Google gives one on first consent
		 * only unless asked). */
		param(&q, "access_type", "offline");
		param(&q, "prompt", "consent");
		param(&q, "include_granted_scopes", "true");
	} else if (p == &c->teams) {
		param(&q, "response_mode", "query");
		param(&q, "prompt", "select_account");
	}
	char *url = ml_asprintf("%s%c%s", p->authorize_url, strchr(p->authorize_url, '?') ? '&' : '?',
				q.data);
	ml_buf_free(&q);
	free(redirect);
	return url;
}

static void set_timeouts(CURL *e, long timeout_ms)
{
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
}

/* A form POST to a token endpoint with the platform's client authentication. The body is
 * copied by libcurl and then wiped here: it holds secrets. */
static CURL *token_post(const struct ml_oauth_platform *p, const char *url, struct ml_buf *form,
			const char *client_id, const char *client_secret, bool basic)
{
	CURL *e = curl_easy_init();
	if (!e)
		abort();
	if (basic) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, client_id);
		curl_easy_setopt(e, CURLOPT_PASSWORD, client_secret);
	} else {
		param(form, "client_id", client_id);
		param(form, "client_secret", client_secret);
	}
	(void)p;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)form->len);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, form->data ? form->data : "");
	set_timeouts(e, 30000);
	if (form->data)
		memset(form->data, 0, form->len);
	ml_buf_free(form);
	return e;
}

CURL *ml_oauth_code_easy(const struct ml_oauth_config *c, const char *platform,
			 const char *code, const char *verifier)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(c, platform);
	struct ml_buf f = {0};
	if (!p)
		return NULL;
	char *redirect = ml_oauth_redirect_uri(c, platform);
	param(&f, "grant_type", "authorization_code");
	param(&f, "code", code);
	param(&f, "redirect_uri", redirect);
	param(&f, "code_verifier", verifier);
	if (p == &c->teams)
		param(&f, "scope", p->scopes);
	free(redirect);
	return token_post(p, p->token_url, &f, p->client_id, p->client_secret, p->basic_auth);
}

CURL *ml_oauth_refresh_easy(const struct ml_oauth_config *cfg, const struct ml_conn_token *t)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(cfg, t->platform);
	struct ml_buf f = {0};
	if (!p)
		return NULL;
	if (t->org_level) {
		/* Zoom Server-to-Server: a new access token for the account, no refresh token. */
		const char *acct = json_string_value(json_object_get(t->extra, "account_id"));
		const char *cid = json_string_value(json_object_get(t->extra, "client_id"));
		const char *sec = json_string_value(json_object_get(t->extra, "client_secret"));
		if (p != &cfg->zoom || !acct || !cid || !sec)
			return NULL;
		param(&f, "grant_type", "account_credentials");
		param(&f, "account_id", acct);
		return token_post(p, p->token_url, &f, cid, sec, true);
	}
	if (!t->refresh_token)
		return NULL;
	param(&f, "grant_type", "refresh_token");
	param(&f, "refresh_token", t->refresh_token);
	if (p == &cfg->teams)
		param(&f, "scope", p->scopes);
	return token_post(p, p->token_url, &f, p->client_id, p->client_secret, p->basic_auth);
}

CURL *ml_oauth_revoke_easy(const struct ml_oauth_config *c, const char *platform,
			   const char *token)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(c, platform);
	struct ml_buf f = {0};
	if (!p || !p->revoke_url || !token)
		return NULL;
	param(&f, "token", token);
	if (p == &c->google) {
		/* Google's revoke takes no client authentication. */
		CURL *e = curl_easy_init();
		if (!e)
			abort();
		curl_easy_setopt(e, CURLOPT_URL, p->revoke_url);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)f.len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, f.data);
		set_timeouts(e, 30000);
		memset(f.data, 0, f.len);
		ml_buf_free(&f);
		return e;
	}
	return token_post(p, p->revoke_url, &f, p->client_id, p->client_secret, true);
}

CURL *ml_oauth_account_easy(const struct ml_oauth_config *c, const char *platform,
			    const char *access_token)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(c, platform);
	if (!p)
		return NULL;
	CURL *e = curl_easy_init();
	if (!e)
		abort();
	curl_easy_setopt(e, CURLOPT_URL, p->account_url);
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, access_token);
	set_timeouts(e, 30000);
	return e;
}

char *ml_oauth_parse_account(const char *platform, const char *body)
{
	json_t *j = body ? ml_json_parse(body, strlen(body), 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
	const char *email = NULL;
	char *out = NULL;
	if (!j)
		return NULL;
	if (platform && strcmp(platform, "teams") == 0) {
		email = json_string_value(json_object_get(j, "mail"));
		if (!email)
			email = json_string_value(json_object_get(j, "userPrincipalName"));
	} else {
		email = json_string_value(json_object_get(j, "email"));
	}
	if (email && *email && strlen(email) < 320)
		out = ml_strdup(email);
	json_decref(j);
	return out;
}

void ml_oauth_tokens_clear(struct ml_oauth_tokens *t)
{
	if (!t)
		return;
	if (t->access_token) {
		memset(t->access_token, 0, strlen(t->access_token));
		free(t->access_token);
	}
	if (t->refresh_token) {
		memset(t->refresh_token, 0, strlen(t->refresh_token));
		free(t->refresh_token);
	}
	free(t->scope);
	memset(t, 0, sizeof *t);
}

/* "invalid_grant" and its kin mean the grant itself is gone: only the host can fix that. */
static bool grant_gone(const char *error)
{
	static const char *const gone[] = {"invalid_grant", "interaction_required",
					   "consent_required", "unauthorized_client", NULL};
	for (int i = 0; error && gone[i]; i++)
		if (strcmp(error, gone[i]) == 0)
			return true;
	return false;
}

static bool token_chars_ok(const char *t)
{
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

int ml_oauth_parse_tokens(long status, const char *body, struct ml_oauth_tokens *out)
{
	json_t *j = body ? ml_json_parse(body, strlen(body), 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
	int rc;

	if (status >= 200 && status < 300) {
		const char *at = json_string_value(json_object_get(j, "access_token"));
		const char *rt0 = json_string_value(json_object_get(j, "refresh_token"));
		if (!at || !*at) {
			rc = ml_error_set(ML_EINVAL, "provider_error", NULL,
					  "The token endpoint answered without an access token.");
			goto done;
		}
		/* Tokens are sent back in headers (Authorization: Bearer): one with a CR, LF or
		 * any other byte outside RFC 6749's VSCHAR (a hostile or broken provider) would
		 * add headers of its own. Refused before it is stored or used. */
		if (!token_chars_ok(at) || (rt0 && !token_chars_ok(rt0))) {
			rc = ml_error_set(ML_EINVAL, "provider_error", NULL,
					  "The token endpoint answered with a malformed token.");
			goto done;
		}
		memset(out, 0, sizeof *out);
		out->access_token = ml_strdup(at);
		const char *rt = json_string_value(json_object_get(j, "refresh_token"));
		if (rt && *rt)
			out->refresh_token = ml_strdup(rt);
		json_t *ei = json_object_get(j, "expires_in");
		out->expires_in = json_is_integer(ei)  ? (int64_t)json_integer_value(ei)
				  : json_is_string(ei) ? strtoll(json_string_value(ei), NULL, 10)
						       : 3600;
		if (out->expires_in <= 0)
			out->expires_in = 3600;
		const char *sc = json_string_value(json_object_get(j, "scope"));
		if (sc)
			out->scope = ml_strdup(sc);
		rc = 0;
		goto done;
	}
	if (status == 0 || status == 429 || status == 408 || status >= 500) {
		rc = ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
				  "The provider's token endpoint is unavailable (HTTP %ld).", status);
		goto done;
	}
	/* Error codes and descriptions only: they never carry the token itself. */
	const char *err = json_string_value(json_object_get(j, "error"));
	const char *desc = json_string_value(json_object_get(j, "error_description"));
	if (!desc)
		desc = json_string_value(json_object_get(j, "reason"));
	char shortdesc[160];
	ml_utf8_copy(shortdesc, sizeof shortdesc, desc);
	char *nl = strpbrk(shortdesc, "\r\n");
	if (nl)
		*nl = '\0';
	if (grant_gone(err))
		rc = ml_error_set(ML_EAUTH, err, NULL, "The provider refused the grant (%s%s%s).",
				  err, *shortdesc ? ": " : "", shortdesc);
	else
		rc = ml_error_set(ML_EINVAL, "provider_error", NULL,
				  "The token endpoint answered HTTP %ld (%s%s%s).", status,
				  err ? err : "no error code", *shortdesc ? ": " : "", shortdesc);
done:
	json_decref(j);
	return rc;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct ml_buf *b = arg;
	if (b->len + size * n > (1u << 20))
		return 0; /* an identity or token answer is never this big */
	ml_buf_append(b, p, size * n);
	return size * n;
}

int ml_oauth_perform(const struct ml_oauth_config *c, CURL *easy, long *status, char **body)
{
	struct ml_buf b = {0};
	ml_buf_puts(&b, "");
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
	if (c) {
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
				 c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
	}
	CURLcode cc = curl_easy_perform(easy);
	*status = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(easy);
	*body = ml_buf_steal(&b);
	if (cc != CURLE_OK)
		return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
				    "The provider could not be reached (%s).", curl_easy_strerror(cc));
	return 0;
}
