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
#include "core/timeutil.h"
#include "meeting/provwatch.h"
#include "providers/watch.h"
#include "queue/worker.h"

#include <stdio.h>
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

void ml_api_webhooks_watch(struct ml_http_req *req, struct ml_http_resp *resp,
			   const struct ml_provider_ops *ops)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
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
