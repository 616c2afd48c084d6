/* /v1/webhook-endpoints: outbound webhook subscriptions (SPEC §6), their delivery log and
 * redelivery. The signing secret is shown once, in the answer to the create. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/vault.h"
#include "notify/endpoints.h"
#include "notify/outbox.h"
#include "notify/target.h"
#include "notify/webhook.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int not_found(const char *what, const char *id)
{
	return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No %s with id %s.", what,
	                    strlen(id) <= 64 ? id : "(too long)");
}

/* --- create --- */

struct create {
	json_t *ep;
	char *secret;
	char *sealed; /* what the store keeps: the secret under the vault, when there is one */
};

static int create_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct create *c = w->arg;
	json_t *stored = NULL;
	int rc = ml_tx_webhook_endpoint_insert(tx, w->ctx->org_id, c->ep,
	                                       c->sealed ? c->sealed : c->secret);
	if (rc == 0)
		rc =
		    ml_tx_webhook_endpoint_get(tx, w->ctx->org_id, str(c->ep, "id"), &stored, NULL);
	if (rc == 0) {
		json_t *data = json_pack("{s:s, s:s}", "endpoint_id", str(c->ep, "id"), "url",
		                         str(c->ep, "url"));
		rc = ml_api_audit(tx, w->ctx, NULL, "webhook_endpoint.created", data);
		json_decref(data);
	}
	if (rc < 0) {
		json_decref(stored);
		return rc;
	}
	/* The only time the secret leaves the store. */
	json_object_set_new(stored, "secret", json_string(c->secret));
	w->status = 201;
	w->result = stored;
	return 0;
}

void ml_api_webhook_endpoints_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"url", "events", "description", "contact_email",
	                                     NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const char *url, *desc, *mail;
	json_t *events = json_object_get(ctx->body, "events");
	int rc;

	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_string(ctx->body, "url", "url", true, 2048, &url)) < 0 ||
	    (rc = ml_v_url(url, "url")) < 0 ||
	    (rc = ml_target_url_check(url, "url", ctx->app->cfg->allow_private_targets)) < 0 ||
	    (rc = ml_v_string(ctx->body, "description", "description", false, 500, &desc)) < 0 ||
	    (rc = ml_v_string(ctx->body, "contact_email", "contact_email", false, 320, &mail)) <
	        0 ||
	    (mail && (rc = ml_v_email(mail, "contact_email")) < 0) ||
	    (events && (rc = ml_webhook_filter_check(events)) < 0)) {
		ml_resp_errno(resp, rc);
		return;
	}
	char id[ML_ID_MAX];
	ml_id_new(id, "whe");
	json_t *filter = events ? json_incref(events) : json_pack("[s]", "*");
	struct create c = {json_pack("{s:s, s:s, s:o}", "id", id, "url", url, "events", filter),
	                   ml_webhook_secret_new()};
	if (desc)
		json_object_set_new(c.ep, "description", json_string(desc));
	if (mail)
		json_object_set_new(c.ep, "contact_email", json_string(mail));
	/* Sealed like every other secret meetlink keeps, bound to this endpoint's row. */
	if (ctx->app->vault) {
		char aad[64];
		ml_notify_secret_aad(aad, sizeof aad, id);
		if ((rc = ml_vault_encrypt(ctx->app->vault, aad, c.secret, strlen(c.secret),
		                           &c.sealed)) < 0) {
			ml_resp_errno(resp, rc);
			json_decref(c.ep);
			ml_vault_wipe_free(c.secret, 0);
			return;
		}
	}
	struct ml_api_write w = {ctx, req, &c, create_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	ml_notify_endpoints_changed_everywhere(ctx->app->store); /* committed (or not), not answered yet */
	json_decref(c.ep);
	free(c.sealed);
	ml_vault_wipe_free(c.secret, 0);
}

/* --- read, list, delete --- */

struct one {
	struct ml_api_ctx *ctx;
	const char *id;
	json_t *ep;
	struct ml_list_query q;
	json_t *items;
	char *next;
};

static int get_fn(struct ml_tx *tx, void *arg)
{
	struct one *o = arg;
	int rc = ml_tx_webhook_endpoint_get(tx, o->ctx->org_id, o->id, &o->ep, NULL);
	return rc == ML_ENOTFOUND ? not_found("webhook endpoint", o->id) : rc;
}

void ml_api_webhook_endpoints_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct one o = {ML_API_CTX(req), req->params[0]};
	int rc = ml_store_read(o.ctx->app->store, get_fn, &o);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, o.ep);
}

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct one *o = arg;
	return ml_tx_webhook_endpoint_list(tx, o->ctx->org_id, &o->q, &o->items, &o->next);
}

void ml_api_webhook_endpoints_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct one o = {ML_API_CTX(req)};
	int rc = ml_api_list_query(req, &o.q);
	if (rc == 0)
		rc = ml_store_read(o.ctx->app->store, list_fn, &o);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, o.items, o.next);
}

static int delete_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *id = w->req->params[0];
	int rc = ml_tx_webhook_endpoint_delete(tx, w->ctx->org_id, id);
	if (rc == ML_ENOTFOUND)
		return not_found("webhook endpoint", id);
	if (rc < 0)
		return rc;
	json_t *data = json_pack("{s:s}", "endpoint_id", id);
	rc = ml_api_audit(tx, w->ctx, NULL, "webhook_endpoint.deleted", data);
	json_decref(data);
	if (rc < 0)
		return rc;
	w->result =
	    json_pack("{s:s, s:s, s:b}", "id", id, "object", "webhook_endpoint", "deleted", 1);
	return 0;
}

void ml_api_webhook_endpoints_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, delete_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	ml_notify_endpoints_changed_everywhere(w.ctx->app->store);
}

/* --- update: enable, disable, contact, description, events --- */

static int update_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *id = w->req->params[0];
	json_t *before = NULL, *after = NULL;
	int rc = ml_tx_webhook_endpoint_get(tx, w->ctx->org_id, id, &before, NULL);
	if (rc == ML_ENOTFOUND)
		return not_found("webhook endpoint", id);
	if (rc == 0)
		rc = ml_tx_webhook_endpoint_update(tx, w->ctx->org_id, id, w->arg);
	if (rc == 0)
		rc = ml_tx_webhook_endpoint_get(tx, w->ctx->org_id, id, &after, NULL);
	if (rc == 0) {
		/* Enabling and disabling are events of their own on the trail. */
		const char *was = str(before, "status"), *is = str(after, "status");
		const char *type = strcmp(was, is) == 0         ? "webhook_endpoint.updated"
		                   : strcmp(is, "enabled") == 0 ? "webhook_endpoint.enabled"
		                                                : "webhook_endpoint.disabled";
		json_t *data = json_pack("{s:s, s:O}", "endpoint_id", id, "changes", w->arg);
		rc = ml_api_audit(tx, w->ctx, NULL, type, data);
		json_decref(data);
	}
	json_decref(before);
	if (rc < 0) {
		json_decref(after);
		return rc;
	}
	w->result = after;
	return 0;
}

void ml_api_webhook_endpoints_update(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"enabled", "description", "contact_email", "events",
	                                     NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const char *desc, *mail;
	bool enabled, has_enabled, has_desc, has_mail;
	json_t *events = json_object_get(ctx->body, "events");
	int rc;
	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_bool(ctx->body, "enabled", "enabled", &enabled, &has_enabled)) < 0 ||
	    (rc = ml_v_string_or_null(ctx->body, "description", "description", 500, &desc,
	                              &has_desc)) < 0 ||
	    (rc = ml_v_string_or_null(ctx->body, "contact_email", "contact_email", 320, &mail,
	                              &has_mail)) < 0 ||
	    (mail && (rc = ml_v_email(mail, "contact_email")) < 0) ||
	    (events && (rc = ml_webhook_filter_check(events)) < 0)) {
		ml_resp_errno(resp, rc);
		return;
	}
	struct ml_api_write w = {ctx, req, ctx->body, update_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	ml_notify_endpoints_changed_everywhere(ctx->app->store);
}

/* --- deliveries --- */

static int deliveries_fn(struct ml_tx *tx, void *arg)
{
	struct one *o = arg;
	int rc = ml_tx_webhook_endpoint_get(tx, o->ctx->org_id, o->id, &o->ep, NULL);
	if (rc == ML_ENOTFOUND)
		return not_found("webhook endpoint", o->id);
	if (rc < 0)
		return rc;
	return ml_tx_webhook_delivery_list(tx, o->ctx->org_id, o->id, &o->q, &o->items, &o->next);
}

void ml_api_webhook_deliveries_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct one o = {ML_API_CTX(req), req->params[0]};
	int rc = ml_api_list_query(req, &o.q);
	if (rc == 0)
		rc = ml_store_read(o.ctx->app->store, deliveries_fn, &o);
	json_decref(o.ep);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, o.items, o.next);
}

static int redeliver_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *ep_id = w->req->params[0], *id = w->req->params[1];
	json_t *d = NULL;
	char *body = NULL;
	json_t *ep = NULL;
	int rc = ml_tx_webhook_delivery_get(tx, w->ctx->org_id, id, &d, &body);
	if (rc == 0 && strcmp(str(d, "endpoint_id"), ep_id) != 0)
		rc = ML_ENOTFOUND;
	if (rc == ML_ENOTFOUND)
		rc = not_found("delivery", id);
	if (rc == 0 && (rc = ml_tx_webhook_endpoint_get(tx, w->ctx->org_id, ep_id, &ep, NULL)) == 0 &&
	    strcmp(str(ep, "status"), "disabled") == 0)
		rc = ml_error_set(ML_ECONFLICT, "endpoint_disabled", NULL,
		                  "The endpoint is disabled; enable it first (PATCH with "
		                  "{\"enabled\": true}).");
	json_decref(ep);
	if (rc == 0)
		rc = ml_tx_webhook_delivery_requeue(tx, w->ctx->org_id, id);
	/* The same message again: same webhook-id and body, so a receiver that already
	 * processed it can tell; a fresh timestamp and signature. */
	if (rc == 0)
		rc = ml_notify_webhook_enqueue(tx, w->ctx->org_id, id, ep_id, str(d, "event_type"),
		                               str(d, "booking_id"), body);
	if (rc == 0)
		w->wake = true;
	if (rc == 0) {
		json_t *data = json_pack("{s:s, s:s}", "endpoint_id", ep_id, "delivery_id", id);
		rc = ml_api_audit(tx, w->ctx, str(d, "booking_id"), "webhook.redelivered", data);
		json_decref(data);
	}
	free(body);
	if (rc < 0) {
		json_decref(d);
		return rc;
	}
	json_object_set_new(d, "state", json_string("pending"));
	w->status = 202;
	w->result = d;
	return 0;
}

void ml_api_webhook_deliveries_redeliver(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, redeliver_fn, 0, NULL};
	int rc = ml_v_none(w.ctx->body);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_write_run(&w, resp);
}
