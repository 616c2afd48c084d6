/* /v1/credentials/{platform}: organization-level credentials, for platforms that work per
 * account rather than per host. Each is checked with the provider before it is saved
 * (a JaaS key pair, which no API can check, is checked by signing a token with it), stored
 * encrypted, and never shown again: answers carry only the non-secret settings.
 *
 *   zoom         Server-to-Server OAuth app: account_id, client_id, client_secret
 *   jaas         8x8 JaaS: app_id, key_id ("<app_id>/<key>"), private_key (PEM)
 *   twilio       Twilio Video: account_sid, api_key_sid, api_key_secret
 *   meetingbaas  MeetingBaas: api_key
 */
#include "api/api.h"
#include "api/validate.h"
#include "conn/connections.h"
#include "conn/oauth.h"
#include "core/error.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "http/outhdr.h"

#include <stdlib.h>
#include <string.h>

struct cred_kind {
	const char *platform, *kind;
	const char *const *config;  /* shown back */
	const char *const *secrets; /* encrypted, never shown */
	size_t secret_max;
};

static const char *const zoom_cfg[] = {"account_id", "client_id", NULL};
static const char *const zoom_sec[] = {"client_secret", NULL};
static const char *const jaas_cfg[] = {"app_id", "key_id", NULL};
static const char *const jaas_sec[] = {"private_key", NULL};
static const char *const twilio_cfg[] = {"account_sid", "api_key_sid", NULL};
static const char *const twilio_sec[] = {"api_key_secret", NULL};
static const char *const mb_cfg[] = {NULL};
static const char *const mb_sec[] = {"api_key", NULL};

static const struct cred_kind kinds[] = {
	{"zoom", "zoom_s2s", zoom_cfg, zoom_sec, 256},
	{"jaas", "jaas", jaas_cfg, jaas_sec, 16384},
	{"twilio", "twilio", twilio_cfg, twilio_sec, 256},
	{"meetingbaas", "meetingbaas", mb_cfg, mb_sec, 256},
	{NULL, NULL, NULL, NULL, 0},
};

static const struct cred_kind *kind_of(const char *platform)
{
	for (const struct cred_kind *k = kinds; k->platform; k++)
		if (strcmp(k->platform, platform) == 0)
			return k;
	return NULL;
}

static int unknown_platform(void)
{
	return ml_error_set(ML_ENOTFOUND, "not_found", NULL,
			    "No such credential platform (zoom, jaas, twilio, meetingbaas).");
}

static json_t *cred_json(const struct ml_conn_row *r)
{
	char ts[ML_RFC3339_MAX];
	const struct cred_kind *k = kind_of(r->platform);
	json_t *settings = r->config ? json_loads(r->config, 0, NULL) : NULL;
	if (!json_is_object(settings)) {
		json_decref(settings);
		settings = json_object();
	}
	json_t *fields = json_array();
	for (int i = 0; k && k->secrets[i]; i++)
		json_array_append_new(fields, json_string(k->secrets[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", r->id, "object",
			      "credential", "platform", r->platform, "status", r->status, "settings",
			      settings, "secret_fields", fields);
	ml_time_format(r->connected_at / 1000, ts);
	json_object_set_new(o, "verified_at", json_string(ts));
	ml_time_format(r->created_at / 1000, ts);
	json_object_set_new(o, "created_at", json_string(ts));
	ml_time_format(r->updated_at / 1000, ts);
	json_object_set_new(o, "updated_at", json_string(ts));
	return o;
}

/* --- checking with the provider --- */

static int invalid_credentials(const char *platform, long status)
{
	return ml_error_set(ML_EINVAL, "invalid_credentials", NULL,
			    "The provider rejected these %s credentials (HTTP %ld).", platform,
			    status);
}

static int unreachable(const char *platform, long status)
{
	return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
			    "The %s API could not confirm these credentials now (HTTP %ld); try "
			    "again later.",
			    platform, status);
}

static CURL *get_easy(const char *url)
{
	CURL *e = curl_easy_init();
	if (!e)
		abort();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	return e;
}

static int check_zoom(const struct ml_env *app, json_t *cfg, json_t *sec, struct ml_oauth_tokens *tok)
{
	struct ml_conn_token t = {.org_level = true};
	snprintf(t.platform, sizeof t.platform, "zoom");
	t.extra = json_deep_copy(cfg);
	json_object_update(t.extra, sec);
	CURL *e = ml_oauth_refresh_easy(app->oauth, &t);
	long status = 0;
	char *body = NULL;
	json_decref(t.extra);
	int rc = ml_oauth_perform(app->oauth, e, &status, &body);
	if (rc == 0)
		rc = ml_oauth_parse_tokens(status, body, tok);
	free(body);
	if (rc == ML_EUNAVAIL)
		return unreachable("Zoom", status);
	if (rc < 0)
		return invalid_credentials("Zoom", status);
	return 0;
}

static int check_twilio(const struct ml_env *app, json_t *cfg, json_t *sec)
{
	char *url = ml_asprintf("%s/v1/Rooms?PageSize=1", app->oauth->twilio_base);
	CURL *e = get_easy(url);
	free(url);
	curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(e, CURLOPT_USERNAME, json_string_value(json_object_get(cfg, "api_key_sid")));
	curl_easy_setopt(e, CURLOPT_PASSWORD,
			 json_string_value(json_object_get(sec, "api_key_secret")));
	long status = 0;
	char *body = NULL;
	int rc = ml_oauth_perform(app->oauth, e, &status, &body);
	free(body);
	if (rc == 0 && status >= 200 && status < 300)
		return 0;
	if (rc == 0 && (status == 401 || status == 403))
		return invalid_credentials("Twilio", status);
	return unreachable("Twilio", status);
}

static int check_meetingbaas(const struct ml_env *app, json_t *sec)
{
	char *url = ml_asprintf("%s/bots/bots_with_metadata", app->oauth->meetingbaas_base);
	struct curl_slist *h = NULL;
	if (ml_outhdr_append(&h, "x-meeting-baas-api-key",
			     json_string_value(json_object_get(sec, "api_key"))) < 0) {
		free(url);
		return ml_error_set(ML_EINVAL, "invalid_field", "api_key",
				    "api_key must not contain control characters.");
	}
	CURL *e = get_easy(url);
	free(url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	long status = 0;
	char *body = NULL;
	int rc = ml_oauth_perform(app->oauth, e, &status, &body);
	curl_slist_free_all(h);
	free(body);
	if (rc == 0 && status >= 200 && status < 300)
		return 0;
	if (rc == 0 && (status == 401 || status == 403))
		return invalid_credentials("MeetingBaas", status);
	return unreachable("MeetingBaas", status);
}

/* No JaaS API takes a key pair: check that it signs, and that the kid names the app. */
static int check_jaas(json_t *cfg, json_t *sec)
{
	const char *app_id = json_string_value(json_object_get(cfg, "app_id"));
	const char *kid = json_string_value(json_object_get(cfg, "key_id"));
	const char *pem = json_string_value(json_object_get(sec, "private_key"));
	size_t n = strlen(app_id);
	if (strncmp(kid, app_id, n) != 0 || kid[n] != '/' || !kid[n + 1])
		return ml_error_set(ML_EINVAL, "invalid_field", "key_id",
				    "key_id must be \"<app_id>/<key id>\" for this app_id.");
	struct ml_jwt_key *key = NULL;
	if (ml_jwt_key_rs256_pem(&key, pem, strlen(pem)) < 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "private_key",
				    "private_key must be an RSA private key (PEM, 2048 bits or more).");
	char *tok = NULL;
	json_t *claims = json_pack("{s:s, s:s, s:s}", "aud", "jitsi", "iss", "chat", "sub", app_id);
	int rc = ml_jwt_sign(&tok, key, kid, NULL, claims);
	json_decref(claims);
	free(tok);
	ml_jwt_key_free(key);
	return rc < 0 ? ml_error_set(ML_EINVAL, "invalid_field", "private_key",
				     "private_key cannot sign a token.")
		      : 0;
}

/* A credential ends up in a header, a form or a token: a control character in it could add
 * a header of its own ("k1\r\nX-Injected: yes"). Refused in every field; only a PEM key
 * (which is parsed, never sent) keeps its line breaks. */
static int no_controls(const char *field, const char *v)
{
	bool pem = strcmp(field, "private_key") == 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (pem && (*p == '\n' || *p == '\r'))
			continue;
		if (*p < 0x20 || *p == 0x7f)
			return ml_error_set(ML_EINVAL, "invalid_field", field,
					    "%s must not contain control characters.", field);
	}
	return 0;
}

/* --- PUT --- */

struct put_arg {
	const struct cred_kind *k;
	json_t *cfg, *sec;
	struct ml_oauth_tokens tok;
	bool has_tok;
};

static int put_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct put_arg *a = w->arg;
	struct ml_conn_row r = {0};
	char id[40];
	int rc = ml_conn_save_org(tx, w->ctx->app->vault, w->ctx->org_id, a->k->platform,
				  a->k->kind, a->cfg, a->sec, a->has_tok ? &a->tok : NULL, id);
	if (rc < 0 || (rc = ml_tx_conn_get_id(tx, id, &r)) < 0)
		return rc;
	json_t *data = json_pack("{s:s, s:s}", "credential_id", id, "platform", a->k->platform);
	rc = ml_api_audit(tx, w->ctx, NULL, "credential.saved", data);
	json_decref(data);
	w->result = cred_json(&r);
	ml_conn_row_clear(&r);
	return rc;
}

void ml_api_credentials_put(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const struct cred_kind *k = kind_of(req->params[0]);
	struct put_arg a = {k, NULL, NULL, {0}, false};
	const char *allowed[8];
	int n = 0, rc;
	if (!k) {
		ml_resp_errno(resp, unknown_platform());
		return;
	}
	for (int i = 0; k->config[i]; i++)
		allowed[n++] = k->config[i];
	for (int i = 0; k->secrets[i]; i++)
		allowed[n++] = k->secrets[i];
	allowed[n] = NULL;
	if ((rc = ml_v_known(ctx->body, NULL, allowed)) < 0)
		goto fail;
	a.cfg = json_object();
	a.sec = json_object();
	for (int i = 0; allowed[i]; i++) {
		const char *v;
		bool secret = false;
		for (int s = 0; k->secrets[s]; s++)
			if (strcmp(k->secrets[s], allowed[i]) == 0)
				secret = true;
		/* A PEM key spans lines; every other value goes into a header or a URL and is
		 * one line (ml_v_name refuses CR and LF). */
		bool pem = secret && strcmp(allowed[i], "private_key") == 0;
		if ((rc = (pem ? ml_v_text : ml_v_name)(ctx->body, allowed[i], allowed[i], true,
							secret ? k->secret_max : 256, &v)) < 0)
			goto fail;
		if ((rc = no_controls(allowed[i], v)) < 0)
			goto fail;
		json_object_set_new(secret ? a.sec : a.cfg, allowed[i], json_string(v));
	}
	if (strcmp(k->platform, "zoom") == 0)
		rc = check_zoom(ctx->app, a.cfg, a.sec, &a.tok), a.has_tok = rc == 0;
	else if (strcmp(k->platform, "twilio") == 0)
		rc = check_twilio(ctx->app, a.cfg, a.sec);
	else if (strcmp(k->platform, "meetingbaas") == 0)
		rc = check_meetingbaas(ctx->app, a.sec);
	else
		rc = check_jaas(a.cfg, a.sec);
	if (rc < 0) {
		if (rc == ML_EINVAL && strcmp(ml_error_code(), "invalid_credentials") == 0) {
			ml_resp_errno(resp, rc);
			resp->status = 422;
			goto done;
		}
		goto fail;
	}
	struct ml_api_write w = {ctx, req, &a, put_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	goto done;
fail:
	ml_resp_errno(resp, rc);
done:
	ml_oauth_tokens_clear(&a.tok);
	json_decref(a.cfg);
	if (a.sec) {
		/* Best effort: the secret strings live in jansson's allocations until freed. */
		const char *key;
		json_t *v;
		json_object_foreach(a.sec, key, v)
		{
			const char *s = json_string_value(v);
			if (s)
				memset((char *)s, 0, strlen(s));
		}
		json_decref(a.sec);
	}
}

/* --- GET, list, DELETE --- */

struct read_call {
	struct ml_api_ctx *ctx;
	const char *platform;
	json_t *out;
};

static int get_fn(struct ml_tx *tx, void *arg)
{
	struct read_call *c = arg;
	struct ml_conn_row r = {0};
	int rc = ml_tx_conn_get(tx, c->ctx->org_id, NULL, c->platform, &r);
	if (rc == 0 && strcmp(r.status, "revoked") == 0)
		rc = ML_ENOTFOUND;
	if (rc == ML_ENOTFOUND)
		rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL,
				  "No %s credentials are set for this organization.", c->platform);
	if (rc == 0)
		c->out = cred_json(&r);
	ml_conn_row_clear(&r);
	return rc;
}

void ml_api_credentials_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct read_call c = {ML_API_CTX(req), req->params[0], NULL};
	int rc = kind_of(c.platform) ? ml_store_read(c.ctx->app->store, get_fn, &c)
				     : unknown_platform();
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, c.out);
}

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct read_call *c = arg;
	struct ml_conn_row *rows = NULL;
	int n = 0, rc = ml_tx_conn_list(tx, c->ctx->org_id, NULL, &rows, &n);
	if (rc < 0)
		return rc;
	c->out = json_array();
	for (int i = 0; i < n; i++) {
		if (strcmp(rows[i].status, "revoked") != 0)
			json_array_append_new(c->out, cred_json(&rows[i]));
		ml_conn_row_clear(&rows[i]);
	}
	free(rows);
	return 0;
}

void ml_api_credentials_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct read_call c = {ML_API_CTX(req), NULL, NULL};
	int rc = ml_store_read(c.ctx->app->store, list_fn, &c);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_api_send_list(resp, c.out, NULL);
}

static int delete_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *platform = w->req->params[0];
	struct ml_conn_row r = {0};
	int rc = ml_tx_conn_get(tx, w->ctx->org_id, NULL, platform, &r);
	if (rc == 0 && strcmp(r.status, "revoked") == 0)
		rc = ML_ENOTFOUND;
	if (rc == ML_ENOTFOUND)
		rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL,
				  "No %s credentials are set for this organization.", platform);
	if (rc == 0 && (rc = ml_conn_erase(tx, r.id, NULL)) == 0) {
		json_t *data = json_pack("{s:s, s:s}", "credential_id", r.id, "platform", platform);
		rc = ml_api_audit(tx, w->ctx, NULL, "credential.deleted", data);
		json_decref(data);
		w->result = json_pack("{s:s, s:s, s:s, s:b}", "id", r.id, "object", "credential",
				      "platform", platform, "deleted", 1);
	}
	ml_conn_row_clear(&r);
	return rc;
}

void ml_api_credentials_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	if (!kind_of(req->params[0])) {
		ml_resp_errno(resp, unknown_platform());
		return;
	}
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, delete_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
