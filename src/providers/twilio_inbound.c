/* Twilio Video status callbacks: POST /webhooks/twilio (specs/twilio/twilio-video-notes.json,
 * status_callbacks). Rooms are opened with StatusCallback = PUBLIC_URL/webhooks/twilio.
 *
 * X-Twilio-Signature = base64(HMAC-SHA1(auth token, full URL + every POST parameter, sorted
 * by name, as name + value)), compared in constant time. The auth token is the account's,
 * kept in the organization's Twilio credential (member auth_token): the callback's RoomName
 * (the room's UniqueName, derived from the booking and recorded at confirm) finds the
 * organization, whose token then verifies it. Twilio signs no timestamp: a replay is caught by de-duplication, each event
 * being handled once by RoomSid, ParticipantSid, StatusCallbackEvent and SequenceNumber
 * (the room's event counter). Besides joins and leaves, `room-ended` is taken: a room that
 * completed on its own is opened again at the next arrival (meeting/room_ended.c).
 */
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_HEADER_MAX 256

static int refuse(const char *msg)
{
	return ml_error_set(ML_EAUTH, "invalid_signature", NULL, "%s", msg);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* base64(HMAC-SHA1(token, url + sorted name+value pairs)); caller frees. */
static char *expected(const char *token, const char *url, json_t *form)
{
	size_t n = json_object_size(form), i = 0;
	const char **keys = ml_calloc(n ? n : 1, sizeof *keys);
	const char *k;
	json_t *v;
	struct ml_buf msg = {0};
	uint8_t mac[20];
	json_object_foreach(form, k, v)
		keys[i++] = k;
	qsort(keys, i, sizeof *keys, cmp_key);
	ml_buf_puts(&msg, url);
	for (size_t j = 0; j < i; j++) {
		json_t *val = json_object_get(form, keys[j]);
		ml_buf_puts(&msg, keys[j]);
		ml_buf_append(&msg, json_string_value(val), json_string_length(val));
	}
	ml_hmac_sha1(token, strlen(token), msg.data ? msg.data : "", msg.len, mac);
	ml_buf_free(&msg);
	free(keys);
	return ml_base64_encode(mac, sizeof mac);
}

static int tw_verify(const char *secret, const struct ml_inbound_req *r)
{
	const char *h = r->header(r->arg, "x-twilio-signature");
	if (!h || !*h || strlen(h) > SIG_HEADER_MAX)
		return refuse("X-Twilio-Signature is required.");
	if (!r->form || !r->url)
		return refuse("Twilio signs form-encoded callbacks: send "
		              "application/x-www-form-urlencoded.");
	char *want = expected(secret, r->url, r->form);
	bool ok = want && ml_ct_equal(want, strlen(want), h, strlen(h));
	free(want);
	return ok ? 0 : refuse("The signature does not match.");
}

static const char *param(json_t *form, const char *name)
{
	return json_string_value(json_object_get(form, name));
}

/* A parameter that is printable, 1..max-1 bytes, copied into out; else "" (false). */
static bool take(json_t *form, const char *name, char *out, size_t max)
{
	const char *v = param(form, name);
	size_t n = v ? strlen(v) : 0;
	out[0] = '\0';
	if (n == 0 || n >= max || !ml_text_is_clean(v, n))
		return false;
	memcpy(out, v, n + 1);
	return true;
}

/* The organization is found by the room's UniqueName (meetlink's, recorded at confirm). */
static int tw_subject(json_t *body, char *out, size_t n)
{
	if (!take(body, "RoomName", out, n))
		return ml_error_set(ML_EINVAL, "invalid_field", "RoomName", "RoomName is required.");
	return 0;
}

/* "2023-11-14T22:13:20.000Z" in milliseconds; 0 when unreadable. */
static int64_t when_ms(const char *ts)
{
	int64_t s;
	if (!ts || ml_time_parse(ts, &s) < 0)
		return 0;
	int64_t ms = 0;
	if (strlen(ts) > 20 && ts[19] == '.')
		for (int i = 20, d = 100; i < 23 && ts[i] >= '0' && ts[i] <= '9'; i++, d /= 10)
			ms += (ts[i] - '0') * d;
	return s * 1000 + ms;
}

static int tw_parse(const char *secret, const struct ml_inbound_req *r, json_t *body,
                    struct ml_inbound_event *out)
{
	(void)secret;
	json_t *form = r->form ? r->form : body;
	char event[40], room_sid[64], psid[64], seq[24];
	if (!json_is_object(form))
		return ml_error_set(ML_EINVAL, "invalid_field", "body", "The body must be a form.");
	if (!take(form, "StatusCallbackEvent", event, sizeof event))
		return ml_error_set(ML_EINVAL, "invalid_field", "StatusCallbackEvent",
		                    "StatusCallbackEvent is required.");
	if (!take(form, "RoomSid", room_sid, sizeof room_sid))
		return ml_error_set(ML_EINVAL, "invalid_field", "RoomSid", "RoomSid is required.");
	if (!take(form, "RoomName", out->external_id, sizeof out->external_id))
		return ml_error_set(ML_EINVAL, "invalid_field", "RoomName", "RoomName is required.");
	take(form, "ParticipantSid", psid, sizeof psid);
	const char *sq = param(form, "SequenceNumber");
	char *end = NULL;
	long long n = sq && *sq ? strtoll(sq, &end, 10) : -1;
	if (sq && (!*sq || *end || n < 0))
		return ml_error_set(ML_EINVAL, "invalid_field", "SequenceNumber",
		                    "SequenceNumber must be a whole number.");
	/* Without a sequence number, the event's timestamp tells repeats apart. */
	if (n >= 0)
		snprintf(seq, sizeof seq, "%lld", n);
	else if (!take(form, "Timestamp", seq, sizeof seq))
		return ml_error_set(ML_EINVAL, "invalid_field", "SequenceNumber",
		                    "SequenceNumber (or Timestamp) is required.");
	snprintf(out->key, sizeof out->key, "%s:%s:%s:%s", room_sid, psid, event, seq);
	if (strcmp(event, "room-ended") == 0) {
		/* Completed: by its timeouts (empty, unused) or an end (meeting/room_ended.c). */
		out->kind = ML_INBOUND_ROOM_ENDED;
		snprintf(out->room, sizeof out->room, "%s", room_sid);
		return 0;
	}
	bool joined = strcmp(event, "participant-connected") == 0;
	if (!joined && strcmp(event, "participant-disconnected") != 0) {
		out->kind = ML_INBOUND_IGNORE;
		return 0;
	}
	struct ml_inbound_presence *p = &out->presence;
	if (!psid[0])
		return ml_error_set(ML_EINVAL, "invalid_field", "ParticipantSid",
		                    "ParticipantSid is required.");
	out->kind = ML_INBOUND_PRESENCE;
	p->joined = joined;
	snprintf(p->session, sizeof p->session, "%s", psid);
	take(form, "ParticipantIdentity", p->identity, sizeof p->identity);
	p->at_ms = when_ms(param(form, "Timestamp"));
	p->seq = n;
	return 0;
}

const struct ml_inbound_info ml_twilio_inbound = {
    .secret_setting = NULL,
    .sandbox_secret = NULL,
    .verify = tw_verify,
    .parse = tw_parse,
    .cred_secret = "auth_token",
    .subject = tw_subject,
    .presence = true,
};
