/* Inbound provider webhooks: POST /webhooks/{platform}, for every platform whose driver has
 * ops->inbound.
 *
 * The driver verifies the request (signature, replay window) and turns it into a
 * platform-neutral event; we refuse what it refuses (401), handle each event once (by the
 * delivery key it gives), answer challenges with its reply, and act on the event. A meeting
 * deleted at the provider, when it is the current meeting of a booking, is reported on the
 * booking (meeting.status error, code meeting_deleted_at_provider, audit entry, webhooks
 * out): never hidden. Our own deletes (cancel, regenerate, platform change) concern meetings
 * that are no longer current and change nothing.
 */
#include "api/api.h"
#include "conn/oauth.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/meeting.h"
#include "meeting/presence.h"
#include "meeting/recording.h"
#include "conn/connections.h"
#include "core/vault.h"
#include "providers/provider.h"
#include "providers/watch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *req_header(const void *arg, const char *name)
{
	return ml_http_header(arg, name);
}

struct inbound_call {
	struct ml_api_ctx *ctx;
	const struct ml_provider_ops *ops;
	const struct ml_inbound_event *ev;
	bool duplicate, reported, queued;
};

static int deleted_fn(struct ml_tx *tx, void *arg)
{
	struct inbound_call *z = arg;
	const struct ml_env *app = z->ctx->app;
	const char *platform = z->ops->name;
	char org[40], bkg[40], mtg[40];
	json_t *booking = NULL, *service = NULL, *host = NULL;
	int rc = ml_tx_inbound_event_first(tx, platform, z->ev->key, ml_now_ms(),
	                                   7 * 86400 * 1000LL);
	if (rc <= 0) {
		z->duplicate = rc == 0;
		return rc;
	}
	if (z->ev->kind == ML_INBOUND_PRESENCE) {
		/* Answered now; applied by a durable job (meeting/presence.h). */
		rc = ml_presence_enqueue(tx, platform, z->ev, &z->reported);
		z->queued = z->reported;
		return rc;
	}
	if (z->ev->kind == ML_INBOUND_ROOM_ENDED)
		return ml_meeting_room_ended(tx, &z->ctx->app->platforms, platform,
		                             z->ev->external_id, z->ev->room, z->ctx->ip,
		                             &z->reported);
	if (z->ev->kind == ML_INBOUND_RECORDING || z->ev->kind == ML_INBOUND_CALENDAR) {
		rc = z->ev->kind == ML_INBOUND_CALENDAR
		         ? ml_recording_calendar_event(tx, platform, z->ev)
		         : ml_recording_on_event(tx, platform, z->ev, z->ctx->ip, &z->reported);
		if (rc == ML_ENOTFOUND) {
			ml_error_clear();
			rc = 0;
		}
		return rc;
	}
	if (z->ev->kind != ML_INBOUND_MEETING_DELETED || !z->ev->external_id[0])
		return 0;
	rc = ml_tx_provider_meeting_find(tx, platform, z->ev->external_id, org, bkg, mtg);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc < 0 || (rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, org, bkg, &booking)) < 0) {
		if (rc == ML_ENOTFOUND) {
			ml_error_clear();
			rc = 0;
		}
		return rc;
	}
	/* The service and host as the notifications show them (placeholders when gone). */
	ml_tx_doc_get(tx, ML_KIND_SERVICE, org, str(booking, "service_id"), &service);
	ml_tx_doc_get(tx, ML_KIND_HOST, org, str(booking, "host_id"), &host);
	ml_error_clear();
	if (!service)
		service = json_pack("{s:b, s:{}}", "is_online", 1, "settings");
	if (!host)
		host = json_pack("{s:s, s:s}", "name", "", "email", "");
	char actor[64], detected[64];
	snprintf(actor, sizeof actor, "provider:%s", platform);
	snprintf(detected, sizeof detected, "%s_webhook", platform);
	struct ml_step st = {&app->platforms, org, actor, z->ctx->ip, false, app->vault};
	rc = ml_meeting_deleted_at_provider(tx, &st, booking, service, host, mtg, platform,
	                                    z->ev->external_id, detected, &z->reported);
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

static void inbound_verified(struct ml_api_ctx *ctx, struct ml_http_resp *resp,
                             const struct ml_provider_ops *ops, const char *secret,
                             const struct ml_inbound_req *r);

/* A platform that signs with the organization's own credential (ml_inbound_info.cred_secret):
 * the organization that owns the request's subject, and that credential's secret. */
struct owner_call {
	const struct ml_env *app;
	const struct ml_provider_ops *ops;
	const char *subject;
	char *secret;
};

static int owner_fn(struct ml_tx *tx, void *arg)
{
	struct owner_call *c = arg;
	char org[40];
	struct ml_conn_token tok = {0};
	enum ml_conn_state state;
	int64_t busy;
	int rc = ml_recording_owner(tx, c->ops->name, c->subject, org);
	if (rc < 0)
		return rc;
	rc = ml_conn_acquire(tx, c->app->vault, org, NULL, c->ops->name, ml_now_ms(), 0, &tok,
	                     &state, &busy);
	const char *s = json_string_value(json_object_get(tok.extra, c->ops->inbound->cred_secret));
	if (rc == 0 && state == ML_CONN_VALID && s)
		c->secret = ml_strdup(s);
	ml_conn_token_clear(&tok);
	return rc < 0 ? rc : 0;
}

static char *owner_secret(struct ml_api_ctx *ctx, const struct ml_provider_ops *ops)
{
	char subject[64];
	if (!json_is_object(ctx->body) ||
	    ops->inbound->subject(ctx->body, subject, sizeof subject) < 0)
		return NULL;
	struct owner_call c = {ctx->app, ops, subject, NULL};
	if (ml_store_read(ctx->app->store, owner_fn, &c) < 0) {
		ml_error_clear();
		free(c.secret);
		return NULL;
	}
	return c.secret;
}

void ml_api_webhooks_inbound(struct ml_http_req *req, struct ml_http_resp *resp)
{
	/* A calendar watch's notifications (provider_push.c): /webhooks/<its path>. */
	const struct ml_provider_ops *watcher =
	    ml_provider_find(req->params[0]) ? NULL : ml_provider_by_watch_path(req->params[0]);
	if (watcher) {
		ml_api_webhooks_watch(req, resp, watcher);
		return;
	}

	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const struct ml_provider_ops *ops = ml_provider_find(req->params[0]);
	const struct ml_inbound_info *in = ML_PROVIDER_HAS(ops, inbound) ? ops->inbound : NULL;
	/* The URL the provider signed (Twilio): the public one, not the one we listen on. */
	char *url = ml_asprintf("%s%s", ctx->app->cfg->public_url, req->path);
	json_t *form = ctx->form ? ctx->body : NULL;
	if (in && in->cred_secret) {
		char *s = owner_secret(ctx, ops);
		struct ml_inbound_req r = {req->body, req->body_len, req_header, req, ml_now(), url,
		                           form};
		/* Unknown subject, or no credential: nothing can vouch for the request. */
		int rc = s ? 0
		           : ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                          "The request could not be authenticated.");
		if (rc == 0)
			rc = in->verify(s, &r);
		if (rc < 0) {
			if (s)
				ml_vault_wipe_free(s, 0);
			ml_resp_errno(resp, rc);
			free(url);
			return;
		}
		inbound_verified(ctx, resp, ops, s, &r);
		ml_vault_wipe_free(s, 0);
		free(url);
		return;
	}
	const char *secret = in ? ml_oauth_webhook_secret(ctx->app->oauth, ops->name) : NULL;
	struct ml_inbound_req r = {req->body, req->body_len, req_header, req, ml_now(), url, form};
	int rc;

	if (!in) {
		ml_resp_error(resp, 404, "not_found", NULL, "No such webhook endpoint.");
	} else if (!secret) {
		char *msg = ml_asprintf("%s webhooks are not set up on this server (%s).", ops->label,
		                        in->secret_setting);
		ml_resp_error(resp, 404, "not_configured", NULL, msg);
		free(msg);
	} else if ((rc = in->verify(secret, &r)) < 0) {
		ml_resp_errno(resp, rc);
	} else {
		inbound_verified(ctx, resp, ops, secret, &r);
	}
	free(url);
}

/* A verified request: parsed, handled once, answered. */
static void inbound_verified(struct ml_api_ctx *ctx, struct ml_http_resp *resp,
                             const struct ml_provider_ops *ops, const char *secret,
                             const struct ml_inbound_req *r)
{
	const struct ml_inbound_info *in = ops->inbound;
	struct ml_inbound_event ev = {0};
	int rc;
	if ((rc = in->parse(secret, r, ctx->body, &ev)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	if (ev.kind == ML_INBOUND_REPLY) {
		ml_resp_json(resp, 200, ev.reply ? ev.reply : json_object());
		return;
	}
	struct inbound_call z = {ctx, ops, &ev, false, false, false};
	if ((rc = ml_store_write(ctx->app->store, deleted_fn, &z)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	if (z.queued)
		ml_worker_notify(ctx->app->worker);
	ml_resp_json(resp, 200,
	             json_pack("{s:b, s:b, s:b}", "received", 1, "duplicate", z.duplicate,
	                       "reported", z.reported));
}
