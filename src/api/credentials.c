/* /v1/credentials/{platform}: organization-level credentials, for platforms that work per
 * account rather than per host. Each is checked with the provider before it is saved
 * (a JaaS key pair, which no API can check, is checked by signing a token with it), stored
 * encrypted, and never shown again: answers carry only the non-secret settings.
 *
 * Which platforms take one, their fields and their check: each driver's ops->creds.
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
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

/* The organization credential of `platform` (its driver's ops->creds), or NULL. */
static const struct ml_cred_info *kind_of(const char *platform)
{
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	return ML_PROVIDER_HAS(ops, creds) ? ops->creds : NULL;
}

static int unknown_platform(void)
{
	struct ml_buf names = {0};
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++)
		if (ML_PROVIDER_HAS(*p, creds))
			ml_buf_printf(&names, "%s%s", names.len ? ", " : "", (*p)->name);
	int rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such credential platform (%s).",
			      names.data ? names.data : "");
	ml_buf_free(&names);
	return rc;
}

static json_t *cred_json(const struct ml_conn_row *r)
{
	char ts[ML_RFC3339_MAX];
	const struct ml_cred_info *k = kind_of(r->platform);
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

static int invalid_credentials(const char *label, long status)
{
	return ml_error_set(ML_EINVAL, "invalid_credentials", NULL,
			    "The provider rejected these %s credentials (HTTP %ld).", label,
			    status);
}

static int unreachable(const char *label, long status)
{
	return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
			    "The %s API could not confirm these credentials now (HTTP %ld); try "
			    "again later.",
			    label, status);
}

/* A credential exchanged for tokens is checked by asking for one (kept: it is saved). */
static int check_grant(const struct ml_env *app, const struct ml_provider_ops *ops, json_t *cfg,
		       json_t *sec, struct ml_oauth_tokens *tok)
{
	json_t *cred = json_deep_copy(cfg);
	json_object_update(cred, sec);
	CURL *e = ml_oauth_grant_easy(app->oauth, ops->name, cred);
	long status = 0;
	char *body = NULL;
	json_decref(cred);
	int rc = e ? ml_oauth_perform(app->oauth, e, &status, &body) : ML_EINVAL;
	if (rc == 0)
		rc = ml_oauth_parse_tokens(status, body, tok);
	free(body);
	if (rc == ML_EUNAVAIL)
		return unreachable(ops->label, status);
	if (rc < 0)
		return invalid_credentials(ops->label, status);
	return 0;
}

/* The driver's check (sans-IO): each HTTP step it asks for is made here, the answer handed
 * back, until it is done or has failed. */
#define CHECK_MAX_STEPS 4

static int check_steps(const struct ml_env *app, const struct ml_provider_ops *ops, json_t *cfg,
		       json_t *sec)
{
	struct ml_provider_ctx cx = {&app->platforms, ml_now(), NULL};
	struct ml_pcreds cr = {.api_base = ml_oauth_api_base(app->oauth, ops->name), .org_level = true};
	struct ml_pstep st = {0};
	struct ml_perr err = {0};
	struct ml_presp resp = {0};
	const struct ml_presp *rp = NULL;
	char *body = NULL;
	long status = 0;
	int rc = 0;

	for (int i = 0; i < CHECK_MAX_STEPS; i++) {
		ml_pstep_clear(&st);
		rc = ops->creds->check(&cx, &cr, cfg, sec, rp, &st, &err);
		free(body);
		body = NULL;
		if (rc < 0 || st.kind != ML_PSTEP_HTTP)
			break;
		struct curl_slist *h = NULL;
		CURL *e = ml_oauth_step_easy(&st.http, &h);
		if (!e) {
			rc = ml_error_set(ML_EINVAL, "invalid_field", NULL,
					  "The credentials must not contain control characters.");
			goto done;
		}
		int prc = ml_oauth_perform(app->oauth, e, &status, &body);
		curl_slist_free_all(h);
		resp = (struct ml_presp){prc == 0 ? ML_PT_OK : ML_PT_CONNECT, status, body,
					 strlen(body), NULL, ml_now()};
		rp = &resp;
	}
	if (rc == 0 && st.kind == ML_PSTEP_DONE)
		goto done;
	if (rc == 0)
		rc = unreachable(ops->label, status);
	else if (strcmp(err.code, "invalid_field") == 0)
		rc = ML_EINVAL; /* the driver named the field (ml_error_set) */
	else if (err.kind == ML_PERR_PERMANENT)
		rc = invalid_credentials(ops->label, err.http_status);
	else
		rc = unreachable(ops->label, err.http_status);
done:
	free(body);
	ml_pstep_clear(&st);
	return rc;
}

static int check_cred(const struct ml_env *app, const char *platform, json_t *cfg, json_t *sec,
		      struct ml_oauth_tokens *tok, bool *has_tok)
{
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	int rc = 0;
	if (ops->creds->check)
		rc = check_steps(app, ops, cfg, sec);
	else if (ops->creds->token_grant)
		*has_tok = (rc = check_grant(app, ops, cfg, sec, tok)) == 0;
	return rc;
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
	const char *platform;
	const struct ml_cred_info *k;
	json_t *cfg, *sec;
	struct ml_oauth_tokens tok;
	bool has_tok;
};

static int put_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct put_arg *a = w->arg;
	struct ml_conn_row r = {0};
	char id[40];
	int rc = ml_conn_save_org(tx, w->ctx->app->vault, w->ctx->org_id, a->platform,
				  a->k->kind, a->cfg, a->sec, a->has_tok ? &a->tok : NULL, id);
	if (rc < 0 || (rc = ml_tx_conn_get_id(tx, id, &r)) < 0)
		return rc;
	json_t *data = json_pack("{s:s, s:s}", "credential_id", id, "platform", a->platform);
	rc = ml_api_audit(tx, w->ctx, NULL, "credential.saved", data);
	json_decref(data);
	w->result = cred_json(&r);
	ml_conn_row_clear(&r);
	return rc;
}

void ml_api_credentials_put(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const struct ml_cred_info *k = kind_of(req->params[0]);
	struct put_arg a = {req->params[0], k, NULL, NULL, {0}, false};
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
		bool required = true;
		for (int o = 0; k->optional && k->optional[o]; o++)
			if (strcmp(k->optional[o], allowed[i]) == 0)
				required = false;
		v = NULL;
		if ((rc = (pem ? ml_v_text : ml_v_name)(ctx->body, allowed[i], allowed[i], required,
							secret ? k->secret_max : 256, &v)) < 0)
			goto fail;
		if (!v)
			continue;
		if ((rc = no_controls(allowed[i], v)) < 0)
			goto fail;
		json_object_set_new(secret ? a.sec : a.cfg, allowed[i], json_string(v));
	}
	rc = check_cred(ctx->app, a.platform, a.cfg, a.sec, &a.tok, &a.has_tok);
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
