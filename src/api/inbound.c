/* Inbound provider webhooks: POST /webhooks/zoom.
 *
 * Zoom signs every event: x-zm-signature = "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" +
 * body)) with ts = x-zm-request-timestamp. We refuse a bad signature (constant-time compare)
 * and a timestamp outside the replay window (5 minutes), handle each event once (by
 * x-zm-trackingid, or a digest of the body), and answer Zoom's endpoint.url_validation
 * challenge. A `meeting.deleted` for the current meeting of a booking is reported on the
 * booking (meeting.status error, code meeting_deleted_at_provider, audit entry, webhooks
 * out): never hidden. Our own deletes (cancel, regenerate, platform change) concern meetings
 * that are no longer current and change nothing.
 */
#include "api/api.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/meeting.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_WINDOW_S 300

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void hmac_hex(const char *secret, const char *msg, size_t n, char out[65])
{
	uint8_t mac[32];
	ml_hmac_sha256(secret, strlen(secret), msg, n, mac);
	ml_hex_encode(mac, sizeof mac, out);
}

/* 0 when the request carries a valid, fresh signature. */
static int verify(struct ml_http_req *req, const char *secret)
{
	const char *ts = ml_http_header(req, "x-zm-request-timestamp");
	const char *sig = ml_http_header(req, "x-zm-signature");
	char *end;
	if (!ts || !sig)
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "x-zm-signature and x-zm-request-timestamp are required.");
	long long t = strtoll(ts, &end, 10);
	if (*end || t <= 0 || llabs((long long)ml_now() - t) > REPLAY_WINDOW_S)
		return ml_error_set(ML_EAUTH, "stale_request", NULL,
		                    "The request timestamp is outside the replay window.");
	struct ml_buf msg = {0};
	ml_buf_printf(&msg, "v0:%s:", ts);
	ml_buf_append(&msg, req->body, req->body_len);
	char hex[65], want[70];
	hmac_hex(secret, msg.data, msg.len, hex);
	ml_buf_free(&msg);
	snprintf(want, sizeof want, "v0=%s", hex);
	if (!ml_ct_equal(want, strlen(want), sig, strlen(sig)))
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "The signature does not match.");
	return 0;
}

struct zoom_event {
	struct ml_api_ctx *ctx;
	const char *key;
	const char *type;
	char meeting_id[32];
	bool duplicate, reported;
};

static int deleted_fn(struct ml_tx *tx, void *arg)
{
	struct zoom_event *z = arg;
	const struct ml_env *app = z->ctx->app;
	char org[40], bkg[40], mtg[40];
	json_t *booking = NULL, *service = NULL, *host = NULL;
	int rc = ml_tx_inbound_event_first(tx, "zoom", z->key, ml_now_ms(), 7 * 86400 * 1000LL);
	if (rc <= 0) {
		z->duplicate = rc == 0;
		return rc;
	}
	if (strcmp(z->type, "meeting.deleted") != 0 || !z->meeting_id[0])
		return 0;
	rc = ml_tx_provider_meeting_find(tx, "zoom", z->meeting_id, org, bkg, mtg);
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
	struct ml_step st = {&app->platforms, org, "provider:zoom", z->ctx->ip, false};
	rc = ml_meeting_deleted_at_provider(tx, &st, booking, service, host, mtg, "zoom",
	                                    z->meeting_id, "zoom_webhook", &z->reported);
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

void ml_api_webhooks_zoom(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const char *secret = ctx->app->pipeline ? ctx->app->pipeline->zoom_webhook_secret : NULL;
	int rc;

	if (!secret) {
		ml_resp_error(resp, 404, "not_configured", NULL,
		              "Zoom webhooks are not set up on this server "
		              "(MEETLINK_ZOOM_WEBHOOK_SECRET).");
		return;
	}
	if ((rc = verify(req, secret)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	const char *type = str(ctx->body, "event");
	json_t *payload = json_object_get(ctx->body, "payload");
	if (!type) {
		ml_resp_error(resp, 400, "invalid_field", "event", "event is required.");
		return;
	}
	if (strcmp(type, "endpoint.url_validation") == 0) {
		const char *plain = str(payload, "plainToken");
		if (!plain) {
			ml_resp_error(resp, 400, "invalid_field", "payload.plainToken",
			              "payload.plainToken is required.");
			return;
		}
		char hex[65];
		hmac_hex(secret, plain, strlen(plain), hex);
		ml_resp_json(resp, 200,
		             json_pack("{s:s, s:s}", "plainToken", plain, "encryptedToken", hex));
		return;
	}
	struct zoom_event z = {ctx, NULL, type, "", false, false};
	json_t *id = json_object_get(json_object_get(payload, "object"), "id");
	if (json_is_integer(id))
		snprintf(z.meeting_id, sizeof z.meeting_id, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(id));
	else if (json_is_string(id))
		snprintf(z.meeting_id, sizeof z.meeting_id, "%s", json_string_value(id));
	/* Zoom's delivery id when it sends one; else the signed body itself identifies it. */
	char digest[65];
	const char *tracking = ml_http_header(req, "x-zm-trackingid");
	if (tracking && *tracking && strlen(tracking) < 200) {
		z.key = tracking;
	} else {
		ml_sha256_hex(req->body, req->body_len, digest);
		z.key = digest;
	}
	if ((rc = ml_store_write(ctx->app->store, deleted_fn, &z)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_resp_json(resp, 200,
	             json_pack("{s:b, s:b, s:b}", "received", 1, "duplicate", z.duplicate,
	                       "reported", z.reported));
}
