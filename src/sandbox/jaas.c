/* 8x8 JaaS webhooks, emulated (specs/jitsi/jitsi-notes.json, jaas.webhooks): the sandbox
 * plays the JaaS side of a conference and sends its events, signed with X-Jaas-Signature,
 * to the configured URL. JaaS has no API for this; a test drives it through
 *
 *   POST /jaas/_webhooks {eventType, room, data?, url?, idempotencyKey?, timestamp?, forge?}
 *
 * which builds the payload JaaS sends (idempotencyKey, customerId, appId, eventType,
 * sessionId, timestamp in ms, fqn "<appId>/<room>", data), signs it with the configured
 * webhook_secret (forge: with another secret) and delivers it. Passing an earlier
 * idempotencyKey is a redelivery. Outbound fault rules ("direction": "out", `event` =
 * eventType) lose it (drop), send it twice (duplicate) or hold it until the next delivery
 * has gone (reorder); latency_ms is not applied here. Every delivery is kept in
 * root["webhooks"] (last 200) with each attempt's status and answer.
 */
#include "sandbox/sb_internal.h"
#include "sandbox/outbound.h"
#include "sandbox/webhook_sig.h"

#include "core/json_in.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JP "jaas"
#define KEEP 200

static const char *const events[] = {
    "ROOM_CREATED",     "PARTICIPANT_JOINED", "PARTICIPANT_LEFT",   "PARTICIPANT_JOINED_LOBBY",
    "PARTICIPANT_LEFT_LOBBY", "ROOM_DESTROYED", "RECORDING_STARTED", "RECORDING_ENDED", NULL,
};

static void err(struct ml_http_resp *resp, int status, const char *field, const char *msg)
{
	ml_resp_json(resp, status, json_pack("{s:s, s:s, s:s}", "error", "invalid_request",
	                                     "field", field, "message", msg));
}

static bool text_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void send_now(struct ml_sb_outbound *ob, json_t *root, json_t *rec)
{
	(void)root;
	const char *secret = json_is_true(json_object_get(rec, "forged"))
	                         ? "not-the-endpoint-secret"
	                         : ml_sb_cfg_str(JP, "webhook_secret", "");
	char *body = json_dumps(json_object_get(rec, "payload"), JSON_COMPACT);
	char *sig = ml_sbx_jaas_signature(secret, (long long)ml_sb_now(), body, strlen(body));
	char *h_sig = ml_asprintf("X-Jaas-Signature: %s", sig);
	const char *headers[] = {"Content-Type: application/json", h_sig,
	                         "User-Agent: jaas-webhooks-sandbox", NULL};
	ml_sb_outbound_post(ob, rec, ml_sb_str(rec, "url"), headers, body, strlen(body));
	free(h_sig);
	free(sig);
	free(body);
}

static struct ml_sb_outbound out = ML_SB_OUTBOUND_INIT(JP, "webhooks", "held", send_now);

static bool known_event(const char *e)
{
	for (const char *const *p = events; *p; p++)
		if (strcmp(*p, e) == 0)
			return true;
	return false;
}

static void send_webhook(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *in = ml_sb_json_body(req);
	const char *event = ml_sb_str(in, "eventType"), *room = ml_sb_str(in, "room");
	const char *url = ml_sb_str(in, "url"), *key = ml_sb_str(in, "idempotencyKey");
	const char *app = ml_sb_cfg_str(JP, "app_id", "vpaas-magic-cookie-sandbox");
	const char *session = ml_sb_str(in, "sessionId");
	json_t *data = json_object_get(in, "data"), *ts = json_object_get(in, "timestamp");
	if (!url)
		url = ml_sb_cfg_str(JP, "webhook_url", NULL);
	if (!json_is_object(in))
		err(resp, 400, "body", "The body must be a JSON object.");
	else if (!event || !known_event(event))
		err(resp, 400, "eventType", "eventType must be a JaaS event type.");
	else if (!text_ok(room, 128) || strchr(room, '/'))
		err(resp, 400, "room", "room is required (no spaces, slashes or control characters).");
	else if (!text_ok(url, 2000) || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
		err(resp, 400, "url", "url (or the webhook_url setting) must be an http(s) URL.");
	else if (key && !text_ok(key, 128))
		err(resp, 400, "idempotencyKey", "idempotencyKey must be printable, up to 128.");
	else if (session && !text_ok(session, 128))
		err(resp, 400, "sessionId", "sessionId must be printable, up to 128.");
	else if (data && !json_is_object(data))
		err(resp, 400, "data", "data must be an object.");
	else if (ts && !json_is_integer(ts))
		err(resp, 400, "timestamp", "timestamp must be milliseconds since the epoch.");
	else {
		char *k = key ? ml_strdup(key) : ml_sb_rand("", 32, ML_SB_HEX);
		char *fqn = ml_asprintf("%s/%s", app, room);
		json_t *list = json_object_get(root, "webhooks");
		json_int_t id = json_integer_value(json_object_get(root, "next_id")) + 1;
		json_object_set_new(root, "next_id", json_integer(id));
		json_t *payload = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o}", "idempotencyKey", k, "customerId",
		    app + (strncmp(app, "vpaas-magic-cookie-", 19) ? 0 : 19), "appId", app,
		    "eventType", event, "sessionId", session ? session : k, "timestamp",
		    ts ? json_integer_value(ts) : (json_int_t)ml_sb_now_ms(), "fqn", fqn, "data",
		    data ? json_incref(data) : json_object());
		json_t *rec = json_pack("{s:I, s:s, s:s, s:o, s:b, s:n, s:[]}", "id", id, "event",
		                        event, "url", url, "payload", payload, "forged",
		                        json_is_true(json_object_get(in, "forge")), "fault",
		                        "attempts");
		json_array_append_new(list, rec);
		while (json_array_size(list) > KEEP)
			json_array_remove(list, 0);
		ml_sb_outbound_deliver(&out, root, rec, event);
		ml_resp_json(resp, 201, json_deep_copy(rec));
		free(k);
		free(fqn);
	}
	json_decref(in);
}

static void jaas_seed(json_t *root)
{
	json_object_set_new(root, "webhooks", json_array());
	json_object_set_new(root, "held", json_array());
	json_object_set_new(root, "next_id", json_integer(0));
}

static const struct ml_route jaas_routes[] = {
    {"POST", "/_webhooks", send_webhook, 0},
    {NULL, NULL, NULL, 0},
};

const struct ml_sb_provider ml_sb_jaas = {
    .name = JP,
    .prefix = "/jaas",
    .routes = jaas_routes,
    .seed = jaas_seed,
    .defaults = "{\"webhook_url\":null,\"webhook_secret\":\"jaas-sandbox-webhook-secret\","
                "\"app_id\":\"vpaas-magic-cookie-sandbox\"}",
};
