/* /v1/hosts/{id}/connect-links and /v1/hosts/{id}/connections: signed links to the hosted
 * connect page, the host's connections, and disconnecting one. */
#include "api/api.h"
#include "api/conn_api.h"
#include "api/validate.h"
#include "conn/connections.h"
#include "conn/links.h"
#include "conn/oauth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"
#include "meeting/provwatch.h"
#include "notify/nudge.h"

#include <stdlib.h>
#include <string.h>

static const char *const link_fields[] = {"platform", "expires_in_minutes", NULL};

char *ml_api_oauth_platform_names(void)
{
	struct ml_buf names = {0};
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++)
		if (ML_PROVIDER_HAS(*p, oauth))
			ml_buf_printf(&names, "%s%s", names.len ? ", " : "", (*p)->name);
	return names.data ? ml_buf_steal(&names) : ml_strdup("");
}

static int oauth_platform_check(const struct ml_env *app, const char *platform, const char *field)
{
	if (!ml_conn_is_oauth_platform(platform)) {
		char *names = ml_api_oauth_platform_names();
		int rc = ml_error_set(ML_EINVAL, "invalid_field", field,
				      "%s must be one of %s (the platforms a host connects by "
				      "OAuth).",
				      field, names);
		free(names);
		return rc;
	}
	if (!ml_oauth_configured(app->oauth, platform))
		return ml_error_set(ML_ECONFLICT, "platform_not_configured", field,
				    "%s has no OAuth client configured on this server "
				    "(MEETLINK_*_CLIENT_ID and MEETLINK_*_CLIENT_SECRET).",
				    platform);
	return 0;
}

struct link_arg {
	const char *platform;
	int64_t ttl;
};

static int link_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct link_arg *a = w->arg;
	const char *host_id = w->req->params[0];
	json_t *host;
	char *url = NULL, ts[ML_RFC3339_MAX];
	int64_t exp = 0;
	int rc = ml_api_doc_load(tx, w->ctx, ML_KIND_HOST, host_id, &host);
	if (rc < 0)
		return rc;
	json_decref(host);
	if ((rc = ml_conn_link_make(tx, w->ctx->app->cfg->public_url, w->ctx->org_id, host_id,
				    a->platform, a->ttl, &url, &exp)) < 0)
		return rc;
	ml_time_format(exp, ts);
	w->status = 201;
	w->result = json_pack("{s:s, s:s, s:s, s:s, s:s}", "object", "connect_link", "url", url,
			      "host_id", host_id, "platform", a->platform, "expires_at", ts);
	free(url);
	return 0;
}

void ml_api_connect_links_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct link_arg a = {NULL, ML_CONN_LINK_DEFAULT_TTL};
	int64_t minutes = 0;
	bool given = false;
	int rc;
	if ((rc = ml_v_known(ctx->body, NULL, link_fields)) < 0 ||
	    (rc = ml_v_string(ctx->body, "platform", "platform", true, 32, &a.platform)) < 0 ||
	    (rc = ml_v_int(ctx->body, "expires_in_minutes", "expires_in_minutes", 5, 7 * 24 * 60,
			   &minutes, &given)) < 0 ||
	    (rc = oauth_platform_check(ctx->app, a.platform, "platform")) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	if (given)
		a.ttl = minutes * 60;
	struct ml_api_write w = {ctx, req, &a, link_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

/* --- listing --- */

struct list_call {
	struct ml_api_ctx *ctx;
	const char *host_id;
	json_t *items;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct list_call *c = arg;
	struct ml_conn_row *rows = NULL;
	json_t *host;
	int n = 0;
	int rc = ml_api_doc_load(tx, c->ctx, ML_KIND_HOST, c->host_id, &host);
	if (rc < 0)
		return rc;
	json_decref(host);
	if ((rc = ml_tx_conn_list(tx, c->ctx->org_id, c->host_id, &rows, &n)) < 0)
		return rc;
	c->items = json_array();
	for (int i = 0; i < n; i++) {
		char *url = NULL;
		/* A connection the host must renew carries a fresh link to do it. */
		if (strcmp(rows[i].status, "reauth_required") == 0 &&
		    ml_conn_link_make(tx, c->ctx->app->cfg->public_url, c->ctx->org_id, c->host_id,
				      rows[i].platform, 0, &url, NULL) < 0)
			url = NULL;
		json_array_append_new(c->items, ml_conn_row_json(&rows[i], url));
		free(url);
		ml_conn_row_clear(&rows[i]);
	}
	free(rows);
	return 0;
}

void ml_api_connections_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct list_call c = {ML_API_CTX(req), req->params[0], NULL};
	int rc = ml_store_read(c.ctx->app->store, list_fn, &c);
	if (rc < 0) {
		json_decref(c.items);
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, c.items, NULL);
}

/* --- disconnecting --- */

struct load_call {
	const struct ml_env *app;
	const char *org_id, *host_id, *platform;
	struct ml_conn_row row;
	char *access, *refresh;
	json_t *watch; /* the host's calendar watch on the platform, or NULL */
};

static int load_fn(struct ml_tx *tx, void *arg)
{
	struct load_call *c = arg;
	json_t *host;
	int rc = ml_tx_doc_get(tx, ML_KIND_HOST, c->org_id, c->host_id, &host);
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No host with id %s.",
				    strlen(c->host_id) <= 64 ? c->host_id : "(too long)");
	if (rc < 0)
		return rc;
	json_decref(host);
	rc = ml_tx_conn_get(tx, c->org_id, c->host_id, c->platform, &c->row);
	if (rc == 0 && strcmp(c->row.status, "revoked") == 0) {
		ml_conn_row_clear(&c->row);
		rc = ML_ENOTFOUND;
	}
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL,
				    "This host has no %s connection.", c->platform);
	if (rc < 0)
		return rc;
	/* A token that does not decrypt any more (lost key) is simply not revoked. */
	if (ml_conn_row_tokens(c->app->vault, &c->row, &c->access, &c->refresh) < 0)
		c->access = c->refresh = NULL;
	if (ml_tx_watch_get(tx, c->org_id, c->host_id, c->platform, &c->watch) < 0) {
		ml_error_clear();
		c->watch = NULL;
	}
	return 0;
}

struct erase_call {
	const char *conn_id, *org_id, *actor, *ip;
	bool at_provider;
	json_t *out;
};

static int erase_fn(struct ml_tx *tx, void *arg)
{
	struct erase_call *c = arg;
	struct ml_conn_row r = {0};
	int rc = ml_conn_erase(tx, c->conn_id, NULL);
	if (rc < 0 || (rc = ml_tx_conn_get_id(tx, c->conn_id, &r)) < 0)
		return rc;
	/* Its calendar watch goes with it (stopped at the provider just before). */
	if ((rc = ml_watch_forget(tx, c->org_id, r.host_id, r.platform)) < 0) {
		ml_conn_row_clear(&r);
		return rc;
	}
	c->out = ml_conn_row_json(&r, NULL);
	json_object_set_new(c->out, "revoked_at_provider", json_boolean(c->at_provider));
	json_t *data = json_pack("{s:s, s:s, s:s, s:b}", "connection_id", r.id, "host_id",
				 r.host_id, "platform", r.platform, "revoked_at_provider",
				 c->at_provider);
	struct ml_audit ev = {c->org_id, NULL, "connection.disconnected", c->actor, c->ip, data};
	rc = ml_tx_audit_append(tx, &ev);
	json_decref(data);
	ml_conn_row_clear(&r);
	return rc;
}

int ml_api_conn_disconnect(const struct ml_env *app, const char *org_id, const char *host_id,
			   const char *platform, const char *actor, const char *ip, json_t **out)
{
	struct load_call l = {app, org_id, host_id, platform, {{0}}, NULL, NULL, NULL};
	int rc = ml_store_read(app->store, load_fn, &l);
	if (rc < 0)
		return rc;
	/* The watch's channel or subscription first, while the token still works. */
	if (l.watch)
		ml_watch_stop_now(app, platform, l.watch, l.access);
	json_decref(l.watch);
	/* Revoking the refresh token revokes the whole grant where the provider has a
	 * revocation endpoint; where it has none (the user removes the app in their account),
	 * erasing the tokens is all that can be done. */
	bool at_provider = false;
	const char *tok = l.refresh ? l.refresh : l.access;
	CURL *e = tok ? ml_oauth_revoke_easy(app->oauth, platform, tok) : NULL;
	if (e) {
		long status = 0;
		char *body = NULL;
		if (ml_oauth_perform(app->oauth, e, &status, &body) == 0)
			/* 400 invalid_token: it was already dead there. */
			at_provider = (status >= 200 && status < 300) || status == 400;
		if (!at_provider)
			ml_warn("disconnect: %s did not confirm the revocation (HTTP %ld)", platform,
				status);
		free(body);
	}
	ml_vault_wipe_free(l.access, 0);
	ml_vault_wipe_free(l.refresh, 0);
	struct erase_call c = {l.row.id, org_id, actor, ip, at_provider, NULL};
	rc = ml_store_write(app->store, erase_fn, &c);
	ml_conn_row_clear(&l.row);
	if (rc < 0) {
		json_decref(c.out);
		return rc;
	}
	*out = c.out;
	return 0;
}

void ml_api_connections_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	json_t *out = NULL;
	const char *platform = req->params[1];
	if (!ml_conn_is_oauth_platform(platform)) {
		char *names = ml_api_oauth_platform_names();
		char *msg = ml_asprintf("No such connection platform (%s).", names);
		ml_resp_error(resp, 404, "not_found", NULL, msg);
		free(msg);
		free(names);
		return;
	}
	int rc = ml_api_conn_disconnect(ctx->app, ctx->org_id, req->params[0], platform,
					ctx->key_id, ctx->ip, &out);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, out);
}

/* --- services: "connection_required" --- */

struct need_call {
	struct ml_api_ctx *ctx;
	const char *host_id, *platform;
	bool host_found, usable;
	char *url;
};

static int need_fn(struct ml_tx *tx, void *arg)
{
	struct need_call *c = arg;
	struct ml_conn_row r = {0};
	json_t *host;
	int rc = ml_tx_doc_get(tx, ML_KIND_HOST, c->ctx->org_id, c->host_id, &host);
	if (rc == ML_ENOTFOUND)
		return 0; /* the service's own validation names the missing host */
	if (rc < 0)
		return rc;
	json_decref(host);
	c->host_found = true;
	/* A connection that needs renewing still counts: its jobs wait for the host. */
	if (ml_tx_conn_get(tx, c->ctx->org_id, c->host_id, c->platform, &r) == 0 &&
	    strcmp(r.status, "revoked") != 0)
		c->usable = true;
	ml_conn_row_clear(&r);
	/* An organization credential makes meetings for every host (Server-to-Server). */
	if (!c->usable && ml_conn_is_org_platform(c->platform) &&
	    ml_tx_conn_get(tx, c->ctx->org_id, NULL, c->platform, &r) == 0 &&
	    strcmp(r.status, "connected") == 0)
		c->usable = true;
	ml_conn_row_clear(&r);
	ml_error_clear();
	if (c->usable)
		return 0;
	return ml_conn_link_make(tx, c->ctx->app->cfg->public_url, c->ctx->org_id, c->host_id,
				 c->platform, 0, &c->url, NULL);
}

bool ml_api_conn_required(struct ml_http_req *req, struct ml_http_resp *resp,
			  const char *host_id, const char *platform)
{
	struct need_call c = {ML_API_CTX(req), host_id, platform, false, false, NULL};
	if (!host_id || !ml_conn_is_oauth_platform(platform) ||
	    ml_store_read(c.ctx->app->store, need_fn, &c) < 0 || !c.host_found || c.usable) {
		free(c.url);
		return false;
	}
	json_t *err = json_pack("{s:s, s:s, s:s}", "code", "connection_required", "field",
				"platform", "message", "");
	char *msg = ml_asprintf("The host has no %s connection yet: send them the connect_url "
				"to connect their account, then try again.",
				platform);
	json_object_set_new(err, "message", json_string(msg));
	free(msg);
	if (c.url)
		json_object_set_new(err, "connect_url", json_string(c.url));
	free(c.url);
	ml_resp_json(resp, 409, json_pack("{s:o}", "error", err));
	return true;
}

/* --- hooks for the reconnect nudges (notify/nudge.h) --- */

static int nudge_still_broken(struct ml_tx *tx, const char *org_id, const char *conn_id)
{
	struct ml_conn_row r = {0};
	int rc = ml_tx_conn_get_id(tx, conn_id, &r);
	if (rc == ML_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	rc = strcmp(r.org_id, org_id) == 0 && strcmp(r.status, "reauth_required") == 0;
	ml_conn_row_clear(&r);
	return rc;
}

struct nudge_link {
	const struct ml_env *app;
	const char *org_id, *host_id, *platform;
	char *url;
};

static int nudge_link_fn(struct ml_tx *tx, void *arg)
{
	struct nudge_link *c = arg;
	return ml_conn_link_make(tx, c->app->cfg->public_url, c->org_id, c->host_id, c->platform,
				 7 * 24 * 3600, &c->url, NULL);
}

static char *nudge_connect_url(const struct ml_env *app, const char *org_id, const char *host_id,
			       const char *platform)
{
	struct nudge_link c = {app, org_id, host_id, platform, NULL};
	if (!host_id || ml_store_read(c.app->store, nudge_link_fn, &c) < 0) {
		free(c.url);
		return NULL;
	}
	return c.url;
}

const struct ml_nudge_hooks ml_api_nudge_hooks = {nudge_still_broken, nudge_connect_url};
