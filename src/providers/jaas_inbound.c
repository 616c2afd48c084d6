/* 8x8 JaaS webhooks: POST /webhooks/jaas (specs/jitsi/jitsi-notes.json, jaas.webhooks).
 *
 * X-Jaas-Signature: t=<unix seconds>,v1=<base64 HMAC-SHA256(secret, t + "." + raw body)>,
 * possibly several v1 entries (secret rotation); schemes other than v1 are ignored. The
 * secret is the endpoint's signing secret from the JaaS console, a daemon setting
 * (MEETLINK_JAAS_WEBHOOK_SECRET): one JaaS app per deployment, like MEETLINK_JAAS_APP_ID.
 * Deliveries are de-duplicated by the payload's idempotencyKey (duplicates share it).
 */
#include "core/crypto.h"
#include "core/error.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_WINDOW_S 300
#define SIG_HEADER_MAX 1024

/* base64(HMAC-SHA256(secret, t + "." + body)) into out (>= 45 bytes). */
static int expected(const char *secret, const char *t, size_t tlen, const char *body, size_t n,
                    char out[64])
{
	size_t len = tlen + 1 + n;
	char *msg = malloc(len ? len : 1);
	uint8_t mac[32];
	if (!msg)
		return -1;
	memcpy(msg, t, tlen);
	msg[tlen] = '.';
	if (n)
		memcpy(msg + tlen + 1, body, n);
	ml_hmac_sha256(secret, strlen(secret), msg, len, mac);
	free(msg);
	char *b64 = ml_base64_encode(mac, sizeof mac);
	if (!b64)
		return -1;
	snprintf(out, 64, "%s", b64);
	free(b64);
	return 0;
}

static int refuse(const char *code, const char *msg)
{
	return ml_error_set(ML_EAUTH, code, NULL, "%s", msg);
}

/* Authentic when any v1 entry matches (constant-time) and t is within the replay window. */
static int jaas_verify(const char *secret, const struct ml_inbound_req *r)
{
	const char *h = r->header(r->arg, "x-jaas-signature");
	if (!h || !*h || strlen(h) > SIG_HEADER_MAX)
		return refuse("invalid_signature", "X-Jaas-Signature is required.");
	const char *t = NULL;
	size_t tlen = 0;
	for (const char *p = h; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 2 && strncmp(p, "t=", 2) == 0 && !t) {
			t = p + 2;
			tlen = n - 2;
		}
		p += n + (end ? 1 : 0);
	}
	if (!t || tlen == 0 || tlen > 19)
		return refuse("invalid_signature", "X-Jaas-Signature has no timestamp (t=).");
	char ts[20];
	memcpy(ts, t, tlen);
	ts[tlen] = '\0';
	char *tend;
	long long tv = strtoll(ts, &tend, 10);
	if (*tend || ts[0] < '0' || ts[0] > '9' || tv <= 0 ||
	    llabs((long long)r->now - tv) > REPLAY_WINDOW_S)
		return refuse("stale_request", "The request timestamp is outside the replay window.");
	char want[64];
	if (expected(secret, ts, tlen, r->body, r->body_len, want) < 0)
		return refuse("invalid_signature", "The signature cannot be checked.");
	bool ok = false;
	for (const char *p = h; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 3 && strncmp(p, "v1=", 3) == 0)
			ok |= ml_ct_equal(want, strlen(want), p + 3, n - 3);
		p += n + (end ? 1 : 0);
	}
	return ok ? 0 : refuse("invalid_signature", "The signature does not match.");
}

static bool clean(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n >= max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* A data member that is clean text, copied into out (else ""). */
static void take(json_t *data, const char *name, char *out, size_t max)
{
	const char *v = json_string_value(json_object_get(data, name));
	out[0] = '\0';
	if (v && clean(v, max))
		snprintf(out, max, "%s", v);
}

/* PARTICIPANT_JOINED / PARTICIPANT_LEFT: data names the participant (id: the token's
 * context.user.id, meetlink's participant id; participantJid / participantId: this stay). */
static int presence(json_t *body, bool joined, struct ml_inbound_event *out)
{
	json_t *data = json_object_get(body, "data");
	struct ml_inbound_presence *p = &out->presence;
	take(data, "participantJid", p->session, sizeof p->session);
	if (!p->session[0])
		take(data, "participantId", p->session, sizeof p->session);
	if (!p->session[0])
		take(data, "id", p->session, sizeof p->session);
	if (!p->session[0])
		return 0; /* nobody named: nothing to record (handled once all the same) */
	take(data, "id", p->identity, sizeof p->identity);
	take(data, "name", p->name, sizeof p->name);
	take(data, "email", p->email, sizeof p->email);
	json_t *ts = json_object_get(body, "timestamp");
	p->at_ms = json_is_integer(ts) && json_integer_value(ts) > 0 ? json_integer_value(ts) : 0;
	p->seq = -1;
	p->joined = joined;
	out->kind = ML_INBOUND_PRESENCE;
	return 0;
}

/* Every event is verified and handled once by idempotencyKey; the room is fqn's last part
 * ("<appId>/<room>"). PARTICIPANT_JOINED and PARTICIPANT_LEFT are presence. */
static int jaas_parse(const char *secret, const struct ml_inbound_req *r, json_t *body,
                      struct ml_inbound_event *out)
{
	(void)secret;
	(void)r;
	if (!json_is_object(body))
		return ml_error_set(ML_EINVAL, "invalid_field", "body", "The body must be a JSON object.");
	const char *key = json_string_value(json_object_get(body, "idempotencyKey"));
	const char *type = json_string_value(json_object_get(body, "eventType"));
	const char *fqn = json_string_value(json_object_get(body, "fqn"));
	if (!key || !clean(key, sizeof out->key))
		return ml_error_set(ML_EINVAL, "invalid_field", "idempotencyKey",
		                    "idempotencyKey is required (printable, under 200 characters).");
	if (!type || !clean(type, 64))
		return ml_error_set(ML_EINVAL, "invalid_field", "eventType", "eventType is required.");
	if (fqn) {
		const char *room = strrchr(fqn, '/');
		room = room ? room + 1 : fqn;
		if (clean(room, sizeof out->external_id))
			snprintf(out->external_id, sizeof out->external_id, "%s", room);
	}
	snprintf(out->key, sizeof out->key, "%s", key);
	out->kind = ML_INBOUND_IGNORE;
	bool joined = strcmp(type, "PARTICIPANT_JOINED") == 0;
	if ((joined || strcmp(type, "PARTICIPANT_LEFT") == 0) && out->external_id[0])
		return presence(body, joined, out);
	return 0;
}

const struct ml_inbound_info ml_jaas_inbound = {
    .secret_setting = "MEETLINK_JAAS_WEBHOOK_SECRET",
    .sandbox_secret = "jaas-sandbox-webhook-secret",
    .verify = jaas_verify,
    .parse = jaas_parse,
    .presence = true,
};
