/* Twilio Video status callbacks, emulated (specs/twilio/twilio-video-notes.json,
 * status_callbacks): every room event is POSTed form-encoded to the room's StatusCallback,
 * signed with X-Twilio-Signature (HMAC-SHA1 under the account's auth token over the URL and
 * the sorted parameters). Each is kept in root["callbacks"] (last 1000: url, params, fault,
 * attempts with each answer's status and body).
 *
 * Faults, as the JaaS and MeetingBaas senders take them: outbound rules ("direction": "out",
 * `event` = StatusCallbackEvent) lose a callback (drop), send it twice (duplicate) or hold it
 * until the next callback has gone (reorder). The setting twilio.forge_callbacks (POST
 * /_sandbox/config) signs with a wrong token instead, for testing the receiver's refusal.
 */
#include "sandbox/twilio_internal.h"

#include "sandbox/outbound.h"
#include "sandbox/sb_internal.h"
#include "sandbox/webhook_sig.h"

#include "core/json_in.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEEP 1000

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void send_now(struct ml_sb_outbound *ob, json_t *root, json_t *rec)
{
	json_t *p = json_object_get(rec, "params"), *v;
	const char *to = ml_sb_str(rec, "url"), *k;
	json_t *acct = json_object_get(json_object_get(root, "accounts"),
	                               ml_sb_str(p, "AccountSid"));
	const char *token = json_is_true(json_object_get(rec, "forged"))
	                        ? "not-the-account-auth-token"
	                        : ml_sb_str(acct, "auth_token");
	struct ml_buf body = {0};
	ml_buf_puts(&body, "");
	json_object_foreach(p, k, v) {
		char *ek = ml_url_encode(k), *ev = ml_url_encode(json_string_value(v));
		ml_buf_printf(&body, "%s%s=%s", body.len ? "&" : "", ek, ev);
		free(ek);
		free(ev);
	}
	char *sig = ml_sbx_twilio_signature(token ? token : "", to, p);
	char *h_sig = ml_asprintf("X-Twilio-Signature: %s", sig);
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", h_sig,
	                         "User-Agent: TwilioProxy/1.1", NULL};
	ml_sb_outbound_post(ob, rec, to, headers, body.data, body.len);
	free(h_sig);
	free(sig);
	ml_buf_free(&body);
}

static struct ml_sb_outbound out = ML_SB_OUTBOUND_INIT(TP, "callbacks", "held", send_now);

void ml_tw_callback(json_t *root, json_t *room, const char *event, json_t *extra)
{
	const char *to = ml_sb_str(room, "status_callback");
	json_t *p = json_object();
	char ts[ML_RFC3339_MAX + 8], seq[24];
	int64_t ms = ml_sb_now_ms();

	json_int_t n = json_integer_value(json_object_get(room, "_sequence"));
	json_object_set_new(room, "_sequence", json_integer(n + 1));
	snprintf(seq, sizeof seq, "%lld", (long long)n);
	ml_time_format(ms / 1000, ts);
	/* Twilio's callback Timestamp carries milliseconds: 2023-11-14T22:13:20.000Z. */
	snprintf(ts + 19, sizeof ts - 19, ".%03dZ", (int)(ms % 1000));
	set_str(p, "AccountSid", ml_sb_str(room, "account_sid"));
	set_str(p, "RoomName", ml_sb_str(room, "unique_name"));
	set_str(p, "RoomSid", ml_sb_str(room, "sid"));
	set_str(p, "RoomStatus", ml_sb_str(room, "status"));
	set_str(p, "RoomType", ml_sb_str(room, "type"));
	set_str(p, "StatusCallbackEvent", event);
	set_str(p, "Timestamp", ts);
	set_str(p, "SequenceNumber", seq);
	if (extra) {
		json_object_update(p, extra);
		json_decref(extra);
	}
	/* A room without a UniqueName has none to send. */
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(p, tmp, k, v)
		if (!json_is_string(v))
			json_object_del(p, k);
	json_t *log = json_object_get(root, "callbacks");
	json_int_t id = json_integer_value(json_object_get(root, "next_callback_id")) + 1;
	json_object_set_new(root, "next_callback_id", json_integer(id));
	json_t *rec = json_pack("{s:I, s:s, s:s?, s:o, s:b, s:n, s:[]}", "id", id, "event", event,
	                        "url", to, "params", p, "forged",
	                        ml_sb_cfg_bool(TP, "forge_callbacks", false), "fault", "attempts");
	json_array_append_new(log, rec);
	if (to && *to)
		ml_sb_outbound_deliver(&out, root, rec, event);
	while (json_array_size(log) > KEEP)
		json_array_remove(log, 0);
}
