/* Notifications of changes made at the provider (docs/provider-changes.md):
 * POST /webhooks/{path} of every platform with a calendar watch (ops->watch; the address of
 * every channel meetlink opens there), dispatched here by the inbound endpoint.
 *
 * The platform's parser reads the notification (400 naming the header otherwise). The
 * channel's secret is recomputed from its id and compared in constant time (401 otherwise,
 * before the store is read). The watch the channel belongs to is found by its id, the
 * notification handled once (by the key the parser gives, table inbound_events), and, when
 * it says something changed, the watch's sync is queued in the same transaction: answered
 * 200 at once, the work is the job's (meeting/provwatch.c). A channel meetlink no longer
 * keeps (stopped, or opened by an attempt that failed) is answered 200 and ignored: its
 * notifications stop when it expires.
 */
#include "api/api.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/provwatch.h"
#include "providers/watch.h"
#include "queue/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *req_header(const void *arg, const char *name)
{
	return ml_http_header(arg, name);
}

struct push_call {
	const struct ml_provider_ops *ops;
	const struct ml_watch_note *n;
	bool known, duplicate, queued;
};

static int push_fn(struct ml_tx *tx, void *arg)
{
	struct push_call *c = arg;
	json_t *watch = NULL;
	int rc = ml_tx_watch_find(tx, c->ops->name, c->n->channel_id, &watch);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	c->known = true;
	rc = ml_tx_inbound_event_first(tx, c->ops->name, c->n->key, ml_now_ms(),
				       30LL * 86400 * 1000);
	if (rc == 0)
		c->duplicate = true;
	if (rc > 0 && c->n->changed) {
		rc = ml_watch_sync_request(tx, watch);
		c->queued = rc == 0;
	}
	json_decref(watch);
	return rc < 0 ? rc : 0;
}

/* --- notifications that are JSON bodies naming what changed (ops->watch->notes_parse) --- */

#define NOTES_MAX 200

struct notes_call {
	const struct ml_provider_ops *ops;
	struct ml_watch_note *n;
	bool *ok; /* per note: its secret matched */
	size_t count;
	int accepted, duplicates, unknown;
	bool queued;
};

static int notes_fn(struct ml_tx *tx, void *arg)
{
	struct notes_call *c = arg;
	c->accepted = c->duplicates = c->unknown = 0;
	c->queued = false;
	for (size_t i = 0; i < c->count; i++) {
		const struct ml_watch_note *n = &c->n[i];
		json_t *watch = NULL;
		if (!c->ok[i])
			continue;
		int rc = ml_tx_watch_find(tx, c->ops->name, n->channel_id, &watch);
		if (rc == ML_ENOTFOUND) {
			ml_error_clear();
			c->unknown++;
			continue;
		}
		if (rc < 0)
			return rc;
		/* The subscription must be the watch's own (while it is being opened its id is
		 * not known yet: the secret alone vouches). */
		const char *sub = json_string_value(json_object_get(watch, "resource_id"));
		if (sub && strcmp(sub, n->subscription_id) != 0) {
			json_decref(watch);
			c->unknown++;
			continue;
		}
		rc = ml_tx_inbound_event_first(tx, c->ops->name, n->key, ml_now_ms(),
					       30LL * 86400 * 1000);
		bool queued = false;
		if (rc == 0)
			c->duplicates++;
		else if (rc > 0) {
			c->accepted++;
			rc = n->changed ? ml_watch_note_item(tx, watch, n->item, &queued) : 0;
		}
		c->queued |= queued;
		json_decref(watch);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The provider checks the address before it opens a subscription: POST ?<param>=<token>,
 * answered 200 text/plain with the token as it was (decoded), within seconds. Nothing is
 * read or written: any token is echoed, as plain text (printable, 1024 characters at most). */
static bool handshake(struct ml_http_req *req, struct ml_http_resp *resp,
		      const struct ml_watch_info *wi)
{
	const char *t = wi->handshake_param ? ml_http_query(req, wi->handshake_param) : NULL;
	if (!t)
		return false;
	size_t n = strlen(t);
	bool ok = n > 0 && n <= 1024;
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)t[i] >= 0x20 && t[i] != 0x7f;
	if (!ok) {
		ml_resp_error(resp, 400, "invalid_field", wi->handshake_param,
			      "The validation token must be 1-1024 printable characters.");
		return true;
	}
	ml_resp_body(resp, 200, "text/plain; charset=utf-8", t, n);
	return true;
}

static void webhooks_notes(struct ml_http_req *req, struct ml_http_resp *resp,
			   const struct ml_provider_ops *ops)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const struct ml_watch_info *wi = ops->watch;
	if (handshake(req, resp, wi))
		return;
	struct ml_watch_note *n = ml_calloc(NOTES_MAX, sizeof *n);
	bool *ok = ml_calloc(NOTES_MAX, sizeof *ok);
	size_t count = 0, good = 0;
	int rc = wi->notes_parse(ctx->body, n, NOTES_MAX, &count);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		goto out;
	}
	/* Each notification's secret, recomputed from the channel it names, in constant
	 * time, before the store is read; a forged one does nothing. */
	for (size_t i = 0; i < count; i++) {
		ok[i] = ml_watch_token_ok(&ctx->app->platforms, wi->label, n[i].channel_id,
					  n[i].token);
		explicit_bzero(n[i].token, sizeof n[i].token);
		good += ok[i];
	}
	if (good == 0) {
		ml_resp_error(resp, 401, "invalid_client_state", NULL,
			      "No notification carried the secret of its subscription.");
		goto out;
	}
	struct notes_call c = {ops, n, ok, count, 0, 0, 0, false};
	if ((rc = ml_store_write(ctx->app->store, notes_fn, &c)) < 0) {
		ml_resp_errno(resp, rc);
		goto out;
	}
	if (c.queued && ctx->app->worker)
		ml_worker_notify(ctx->app->worker);
	ml_resp_json(resp, 202,
		     json_pack("{s:i, s:i, s:i, s:i, s:i, s:b}", "received", (int)count, "accepted",
			       c.accepted, "duplicates", c.duplicates, "forged",
			       (int)(count - good), "unknown", c.unknown, "sync_queued",
			       c.queued));
out:
	free(ok);
	free(n);
}

void ml_api_webhooks_watch(struct ml_http_req *req, struct ml_http_resp *resp,
			   const struct ml_provider_ops *ops)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	if (ops->watch->notes_parse) {
		webhooks_notes(req, resp, ops);
		return;
	}
	struct ml_watch_note n;
	int rc = ops->watch->note_parse(req_header, req, &n);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	bool ok = ml_watch_token_ok(&ctx->app->platforms, ops->watch->label, n.channel_id, n.token);
	explicit_bzero(n.token, sizeof n.token);
	if (!ok) {
		ml_resp_error(resp, 401, "invalid_token", NULL,
			      "The notification's secret does not match its channel.");
		return;
	}
	struct push_call c = {ops, &n, false, false, false};
	if ((rc = ml_store_write(ctx->app->store, push_fn, &c)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	if (c.queued && ctx->app->worker)
		ml_worker_notify(ctx->app->worker);
	ml_resp_json(resp, 200,
		     json_pack("{s:b, s:b, s:b, s:b}", "received", 1, "known_channel", c.known,
			       "duplicate", c.duplicate, "sync_queued", c.queued));
}
