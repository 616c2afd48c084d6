/* OAuth 2.0 with the providers: endpoints and clients per platform (from each driver's
 * ops->endpoints and ops->oauth), PKCE, requests and answers. */
#include "conn/oauth.h"
#include "core/json_in.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/url.h"
#include "core/utf8.h"
#include "http/http.h"
#include "http/outhdr.h"
#include "providers/provider.h"
#include "queue/curl_loop.h"
#include "queue/worker.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *or_default(const char *v, const char *def)
{
	if (v && *v)
		return ml_strdup(v);
	return def ? ml_strdup(def) : NULL;
}

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

static const char *cfg_setting(const void *arg, const char *name)
{
	return ml_config_get(arg, name);
}

/* One platform's entry: its endpoints, its OAuth client and its webhook secret, from the
 * driver's tables and the configuration. */
static int platform_load(struct ml_oauth_platform *p, const struct ml_provider_ops *ops,
			 const struct ml_config *cfg, const char *sandbox)
{
	const struct ml_endpoint_env env = {sandbox, cfg_setting, cfg};
	const struct ml_oauth_info *o = ops->oauth;
	const struct ml_inbound_info *in = ops->inbound;

	p->ops = ops;
	p->name = ops->name;
	p->label = ops->label;
	if (ops->endpoints && ops->endpoints(&env, &p->ep) < 0)
		return ml_error_set(ML_EINVAL, "invalid_config", NULL,
				    "%s: its endpoints are misconfigured", ops->label);
	if (o) {
		/* Configured client credentials, else (sandbox only) the seeded test client. */
		char id[96], secret[96];
		snprintf(id, sizeof id, "MEETLINK_%s_CLIENT_ID", o->env);
		snprintf(secret, sizeof secret, "MEETLINK_%s_CLIENT_SECRET", o->env);
		p->client_id =
		    or_default(ml_config_get(cfg, id), sandbox ? o->sandbox_client_id : NULL);
		p->client_secret = or_default(ml_config_get(cfg, secret),
					      sandbox ? o->sandbox_client_secret : NULL);
		if (!!p->client_id != !!p->client_secret)
			return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_*_CLIENT_SECRET",
					    "%s needs both a client id and a client secret",
					    ops->label);
	}
	/* (A platform signing with each organization's own credential has no setting.) */
	if (in && in->secret_setting)
		p->webhook_secret = or_default(ml_config_get(cfg, in->secret_setting),
					       sandbox ? in->sandbox_secret : NULL);
	return 0;
}

static void platform_free(struct ml_oauth_platform *p)
{
	ml_endpoints_clear(&p->ep);
	free(p->client_id);
	wipe_free(p->client_secret);
	wipe_free(p->webhook_secret);
}

int ml_oauth_config_load(struct ml_oauth_config **out, const struct ml_config *cfg)
{
	struct ml_oauth_config *c = ml_calloc(1, sizeof *c);
	const char *sb = cfg->sandbox_url;
	size_t sblen = sb ? strlen(sb) : 0, n = 0;
	char *sandbox = NULL;
	int rc = 0;
	while (sblen && sb[sblen - 1] == '/')
		sblen--;
	if (sb)
		sandbox = ml_asprintf("%.*s", (int)sblen, sb);

	c->sandbox = sb != NULL;
	c->timeout_ms = 15000;
	c->public_url = ml_strdup(cfg->public_url);
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++)
		n++;
	c->platforms = ml_calloc(n ? n : 1, sizeof *c->platforms);
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++) {
		if (!ML_PROVIDER_HAS(*p, endpoints) && !ML_PROVIDER_HAS(*p, oauth) &&
		    !ML_PROVIDER_HAS(*p, inbound))
			continue;
		if ((rc = platform_load(&c->platforms[c->n++], *p, cfg, sandbox)) < 0)
			break;
	}
	free(sandbox);
	if (rc < 0) {
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
	for (size_t i = 0; i < c->n; i++)
		platform_free(&c->platforms[i]);
	free(c->platforms);
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
	if (!platform || !c)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->platforms[i].name, platform) == 0)
			return &c->platforms[i];
	return NULL;
}

/* The entry of a platform a host connects by OAuth. */
static const struct ml_oauth_platform *oauth_of(const struct ml_oauth_config *c,
						const char *platform)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(c, platform);
	return p && ML_PROVIDER_HAS(p->ops, oauth) ? p : NULL;
}

bool ml_oauth_configured(const struct ml_oauth_config *c, const char *platform)
{
	const struct ml_oauth_platform *p = oauth_of(c, platform);
	return p && p->client_id && p->client_secret;
}

const char *ml_oauth_api_base(const struct ml_oauth_config *cfg, const char *platform)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(cfg, platform);
	return p ? p->ep.api_base : NULL;
}

const char *ml_oauth_webhook_secret(const struct ml_oauth_config *cfg, const char *platform)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(cfg, platform);
	return p ? p->webhook_secret : NULL;
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
	const struct ml_oauth_platform *p = oauth_of(c, platform);
	const struct ml_oauth_info *o = p->ops->oauth;
	struct ml_buf q = {0};
	char *redirect = ml_oauth_redirect_uri(c, platform);

	param(&q, "response_type", "code");
	param(&q, "client_id", p->client_id);
	param(&q, "redirect_uri", redirect);
	if (!(o->flags & ML_OAUTH_APP_SCOPES))
		param(&q, "scope", o->scopes);
	param(&q, "state", state);
	param(&q, "code_challenge", challenge);
	param(&q, "code_challenge_method", "S256");
	for (int i = 0; o->authorize_params && o->authorize_params[i]; i += 2)
		param(&q, o->authorize_params[i], o->authorize_params[i + 1]);
	const char *base = p->ep.authorize_url;
	char *url = ml_asprintf("%s%c%s", base, strchr(base, '?') ? '&' : '?', q.data);
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
static CURL *token_post(const char *url, struct ml_buf *form, const char *client_id,
			const char *client_secret, bool basic)
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
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)form->len);
	curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, form->data ? form->data : "");
	set_timeouts(e, 30000);
	if (form->data)
		memset(form->data, 0, form->len);
	ml_buf_free(form);
	return e;
}

static bool basic_auth(const struct ml_oauth_platform *p)
{
	return (p->ops->oauth->flags & ML_OAUTH_BASIC_AUTH) != 0;
}

CURL *ml_oauth_code_easy(const struct ml_oauth_config *c, const char *platform,
			 const char *code, const char *verifier)
{
	const struct ml_oauth_platform *p = oauth_of(c, platform);
	struct ml_buf f = {0};
	if (!p)
		return NULL;
	char *redirect = ml_oauth_redirect_uri(c, platform);
	param(&f, "grant_type", "authorization_code");
	param(&f, "code", code);
	param(&f, "redirect_uri", redirect);
	param(&f, "code_verifier", verifier);
	if (p->ops->oauth->flags & ML_OAUTH_SCOPE_ON_TOKEN)
		param(&f, "scope", p->ops->oauth->scopes);
	free(redirect);
	return token_post(p->ep.token_url, &f, p->client_id, p->client_secret, basic_auth(p));
}

CURL *ml_oauth_grant_easy(const struct ml_oauth_config *cfg, const char *platform, json_t *cred)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(cfg, platform);
	const struct ml_cred_info *ci = p && ML_PROVIDER_HAS(p->ops, creds) ? p->ops->creds : NULL;
	struct ml_token_grant g = {0};
	struct ml_buf f = {0};
	if (!ci || !ci->token_grant || !p->ep.token_url || ci->token_grant(cred, &g) < 0)
		return NULL;
	for (int i = 0; g.params[i] && i + 1 < 8; i += 2)
		param(&f, g.params[i], g.params[i + 1]);
	return token_post(p->ep.token_url, &f, g.client_id, g.client_secret, true);
}

CURL *ml_oauth_refresh_easy(const struct ml_oauth_config *cfg, const struct ml_conn_token *t)
{
	const struct ml_oauth_platform *p = ml_oauth_platform(cfg, t->platform);
	struct ml_buf f = {0};
	if (!p)
		return NULL;
	if (t->org_level)
		/* An organization credential asks for a new token with its client secret. */
		return ml_oauth_grant_easy(cfg, t->platform, t->extra);
	if (!ML_PROVIDER_HAS(p->ops, oauth) || !t->refresh_token)
		return NULL;
	param(&f, "grant_type", "refresh_token");
	param(&f, "refresh_token", t->refresh_token);
	if (p->ops->oauth->flags & ML_OAUTH_SCOPE_ON_TOKEN)
		param(&f, "scope", p->ops->oauth->scopes);
	return token_post(p->ep.token_url, &f, p->client_id, p->client_secret, basic_auth(p));
}

CURL *ml_oauth_revoke_easy(const struct ml_oauth_config *c, const char *platform,
			   const char *token)
{
	const struct ml_oauth_platform *p = oauth_of(c, platform);
	struct ml_buf f = {0};
	if (!p || !p->ep.revoke_url || !token)
		return NULL;
	param(&f, "token", token);
	if (p->ops->oauth->flags & ML_OAUTH_REVOKE_PUBLIC) {
		CURL *e = curl_easy_init();
		if (!e)
			abort();
		curl_easy_setopt(e, CURLOPT_URL, p->ep.revoke_url);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)f.len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, f.data);
		set_timeouts(e, 30000);
		memset(f.data, 0, f.len);
		ml_buf_free(&f);
		return e;
	}
	return token_post(p->ep.revoke_url, &f, p->client_id, p->client_secret, true);
}

CURL *ml_oauth_account_easy(const struct ml_oauth_config *c, const char *platform,
			    const char *access_token)
{
	const struct ml_oauth_platform *p = oauth_of(c, platform);
	if (!p || !p->ep.account_url)
		return NULL;
	CURL *e = curl_easy_init();
	if (!e)
		abort();
	curl_easy_setopt(e, CURLOPT_URL, p->ep.account_url);
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
	curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, access_token);
	set_timeouts(e, 30000);
	return e;
}

char *ml_oauth_parse_account(const char *platform, const char *body)
{
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	if (ML_PROVIDER_HAS(ops, oauth) && ops->oauth->parse_account)
		return ops->oauth->parse_account(body);
	json_t *j = body ? ml_json_parse(body, strlen(body), 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
	const char *email = json_string_value(json_object_get(j, "email"));
	char *out = NULL;
	if (email && *email && strlen(email) < 320)
		out = ml_strdup(email);
	json_decref(j);
	return out;
}

CURL *ml_oauth_step_easy(const struct ml_phttp *h, struct curl_slist **headers)
{
	CURL *e = curl_easy_init();
	if (!e)
		abort();
	*headers = NULL;
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	if (strcmp(h->method, "GET") != 0) {
		if (strcmp(h->method, "POST") == 0)
			curl_easy_setopt(e, CURLOPT_POST, 1L);
		else
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(h->body ? strlen(h->body) : 0));
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, h->body ? h->body : "");
	}
	/* A credential with CR/LF in it would add headers of its own: never sent. */
	if ((h->authorization && ml_outhdr_append(headers, "Authorization", h->authorization) < 0) ||
	    (h->header_name && ml_outhdr_append(headers, h->header_name,
						h->header_value ? h->header_value : "") < 0) ||
	    (h->content_type && ml_outhdr_append(headers, "Content-Type", h->content_type) < 0)) {
		curl_slist_free_all(*headers);
		*headers = NULL;
		curl_easy_cleanup(e);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *headers);
	set_timeouts(e, 30000);
	return e;
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
		if (out->expires_in > ML_OAUTH_EXPIRES_MAX)
			out->expires_in = ML_OAUTH_EXPIRES_MAX;
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

void ml_oauth_config_set_worker(struct ml_oauth_config *c, struct ml_worker *w)
{
	c->worker = w;
}

void ml_oauth_config_set_transport(struct ml_oauth_config *c,
				   int (*fn)(void *ctx, CURL *easy, long *status, char **body),
				   void *ctx)
{
	c->transport = fn;
	c->transport_ctx = ctx;
}

int ml_oauth_perform(const struct ml_oauth_config *c, CURL *easy, long *status, char **body)
{
	if (!easy) {
		*status = 0;
		*body = ml_strdup("");
		return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
				    "No request could be made.");
	}
	if (c) {
		curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
		curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
				 c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
	}
	if (c && c->transport)
		return c->transport(c->transport_ctx, easy, status, body);
	/* The daemon's calls join the worker's multi loop; this thread only waits. */
	if (c && c->worker)
		return ml_worker_http_wait(c->worker, easy, status, body);
	struct ml_buf b = {0};
	ml_buf_puts(&b, "");
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
	CURLcode cc = ml_curl_loop_perform(easy);
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
