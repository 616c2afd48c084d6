/* fuzz_webhooks: every webhook signature, inbound and outbound, with hostile inputs. The first
 * byte of an input picks the target; the rest is its input.
 *
 *   0-3  POST /webhooks/zoom through ml_api_dispatch, the body signed as the sandbox signs
 *        Zoom's events (ml_sbx_zoom_signature, a fresh timestamp; byte&1: an x-zm-trackingid).
 *        The signature must be accepted (never 401), and a url_validation answer's
 *        encryptedToken must be the one the sandbox computes for its plainToken.
 *   4    the same route with the input as a whole request (fuzz_common.h's format): forged,
 *        stale, malformed signatures and timestamps. Never a 2xx without a valid signature.
 *   5    the Standard Webhooks signer (ml_webhook_sign): lines secret, msg id, timestamp, then
 *        the body. A signature is "v1," + base64 of the HMAC-SHA256 OpenSSL computes itself
 *        with the decoded secret.
 *   6    the sandbox's Twilio signer: lines auth token, URL, then a form body; the value must
 *        be the one computed here (OpenSSL HMAC-SHA1, parameters sorted by name).
 *   7    endpoint event filters (ml_webhook_filter_check / _match): line event type, then a
 *        JSON filter; an accepted filter of "*" or the exact type matches.
 *   8    base64 and base64url: decode(encode(x)) == x, and decoding arbitrary text.
 *   9    MeetingBaas: the input is a webhook body. The driver's subject, verify and parse
 *        directly (a recording event names its bot and a known state; the same body gives
 *        the same key), then POST /webhooks/meetingbaas with an API key header: no
 *        organization owns any bot here, so never a 2xx.
 *   'J'  POST /webhooks/jaas, the body signed as the sandbox signs JaaS events
 *        (ml_sbx_jaas_signature, now): never 401. (Tested before the switch: no seed of the
 *        cases above starts with 'J' or 'j'.)
 *   'j'  the same route with the input as a whole request: never a 2xx unless some v1 of
 *        X-Jaas-Signature is the one the sandbox computes for its t.
 *   'F'  ml_form_parse (core/form.h): an accepted form is an object of at most
 *        ML_FORM_MAX_PARAMS strings, and its re-encoding parses back to the same object.
 *   'T'  Twilio status callbacks, the driver directly: line auth token, then a form body.
 *        Signed as the sandbox signs it (ml_sbx_twilio_signature) it verifies; under another
 *        token or for another URL it does not; parse gives the same key twice, and a
 *        presence event names its participant's session.
 *   't'  POST /webhooks/twilio with the input as a whole request: no organization owns any
 *        room here, so never a 2xx.
 */
#include "fuzz_app.h"

#include "core/crypto.h"
#include "core/error.h"
#include "core/form.h"
#include "core/url.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "notify/webhook.h"
#include "providers/provider.h"
#include "meeting/meeting.h"
#include "sandbox/webhook_sig.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZOOM_SECRET "fuzz-zoom-webhook-secret"
#define JAAS_SECRET "fuzz-jaas-webhook-secret"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("MEETLINK_ZOOM_WEBHOOK_SECRET", ZOOM_SECRET, 1);
	setenv("MEETLINK_JAAS_WEBHOOK_SECRET", JAAS_SECRET, 1);
	fz_app_get();
	return 0;
}

/* The next line of [*p, end) as a new string (without its LF); *p moves past it. */
static char *next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *e = nl ? nl : end;
	char *s = ml_strndup(*p, (size_t)(e - *p));
	*p = nl ? nl + 1 : end;
	return s;
}

static void zoom_signed(struct fz_app *a, const char *body, size_t n, bool tracking)
{
	struct fz_req r;
	struct ml_http_resp resp;
	char ts[32], sig[ML_ZOOM_SIG_MAX];
	const char *head = "POST /webhooks/zoom\nContent-Type: application/json\n\n";

	fz_req_parse(&r, head, strlen(head));
	free(r.body);
	r.body = ml_malloc(n + 1);
	memcpy(r.body, body, n);
	r.body[n] = '\0';
	r.body_len = r.req.body_len = n;
	r.req.body = r.body;
	snprintf(ts, sizeof ts, "%" PRId64, (int64_t)ml_now());
	ml_sbx_zoom_signature(ZOOM_SECRET, ts, body, n, sig);
	fz_req_header(&r, "x-zm-request-timestamp", ts);
	fz_req_header(&r, "x-zm-signature", sig);
	if (tracking && n > 0) {
		char tid[65];
		ml_sha256_hex(body, n, tid);
		tid[16 + (body[0] & 15)] = '\0';
		fz_req_header(&r, "x-zm-trackingid", tid);
	}
	if (fz_app_send(a, &r, &resp)) {
		if (resp.status == 401)
			fz_fail("a body signed as the sandbox signs it was refused: %.*s",
				(int)resp.body_len, resp.body);
		json_t *j = resp.status == 200 ? fz_resp_json(&resp) : NULL;
		const char *plain = json_string_value(json_object_get(j, "plainToken"));
		const char *enc = json_string_value(json_object_get(j, "encryptedToken"));
		if (plain && enc) {
			char want[65];
			ml_sbx_zoom_url_token(ZOOM_SECRET, plain, want);
			if (strcmp(want, enc) != 0)
				fz_fail("encryptedToken %s, the sandbox computes %s", enc, want);
		}
		json_decref(j);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

static void zoom_raw(struct fz_app *a, const char *text, size_t n)
{
	struct fz_req r;
	struct ml_http_resp resp;
	if (!fz_req_parse(&r, text, n)) {
		fz_req_free(&r);
		return;
	}
	snprintf(r.method, sizeof r.method, "POST");
	free(r.path);
	r.path = ml_strdup("/webhooks/zoom");
	r.req.path = r.path;
	if (fz_app_send(a, &r, &resp)) {
		const char *ts = fz_req_value(&r, 1, "x-zm-request-timestamp");
		const char *sig = fz_req_value(&r, 1, "x-zm-signature");
		char want[ML_ZOOM_SIG_MAX] = "";
		if (ts)
			ml_sbx_zoom_signature(ZOOM_SECRET, ts, r.body, r.body_len, want);
		if (resp.status >= 200 && resp.status < 300 && (!sig || strcmp(sig, want) != 0))
			fz_fail("answered %d to a request without a valid signature", resp.status);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

static void jaas_signed(struct fz_app *a, const char *body, size_t n)
{
	struct fz_req r;
	struct ml_http_resp resp;
	const char *head = "POST /webhooks/jaas\nContent-Type: application/json\n\n";

	fz_req_parse(&r, head, strlen(head));
	free(r.body);
	r.body = ml_malloc(n + 1);
	memcpy(r.body, body, n);
	r.body[n] = '\0';
	r.body_len = r.req.body_len = n;
	r.req.body = r.body;
	char *sig = ml_sbx_jaas_signature(JAAS_SECRET, (long long)ml_now(), body, n);
	fz_req_header(&r, "x-jaas-signature", sig);
	free(sig);
	if (fz_app_send(a, &r, &resp)) {
		if (resp.status == 401)
			fz_fail("a JaaS body signed as the sandbox signs it was refused: %.*s",
				(int)resp.body_len, resp.body);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

/* Whether some v1 of the header is what the sandbox computes for its t and this body. */
static bool jaas_sig_valid(const char *h, const char *body, size_t n)
{
	const char *t = h && strncmp(h, "t=", 2) == 0 ? h : NULL;
	for (const char *c = h ? strchr(h, ',') : NULL; c && !t; c = strchr(c + 1, ','))
		if (strncmp(c + 1, "t=", 2) == 0)
			t = c + 1;
	if (!t)
		return false;
	char *want = ml_sbx_jaas_signature(JAAS_SECRET, strtoll(t + 2, NULL, 10), body, n);
	const char *v1 = strstr(want, ",v1=") + 4;
	bool ok = false;
	for (const char *p = strstr(h, "v1="); p; p = strstr(p + 3, "v1="))
		ok |= strncmp(p + 3, v1, strlen(v1)) == 0;
	free(want);
	return ok;
}

static void jaas_raw(struct fz_app *a, const char *text, size_t n)
{
	struct fz_req r;
	struct ml_http_resp resp;
	if (!fz_req_parse(&r, text, n)) {
		fz_req_free(&r);
		return;
	}
	snprintf(r.method, sizeof r.method, "POST");
	free(r.path);
	r.path = ml_strdup("/webhooks/jaas");
	r.req.path = r.path;
	if (fz_app_send(a, &r, &resp)) {
		const char *sig = fz_req_value(&r, 1, "x-jaas-signature");
		if (resp.status >= 200 && resp.status < 300 && !jaas_sig_valid(sig, r.body, r.body_len))
			fz_fail("answered %d to a JaaS request without a valid signature", resp.status);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

static void std_sign(const char *p, const char *end)
{
	char *secret = next_line(&p, end), *id = next_line(&p, end), *ts = next_line(&p, end);
	int64_t t = strtoll(ts, NULL, 10);
	char *sig = NULL;
	int rc = ml_webhook_sign(&sig, secret, id, t, p, (size_t)(end - p));
	ml_error_clear();
	if (rc == 0) {
		const char *k = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
		size_t klen = 0;
		uint8_t *key = ml_base64_decode(k, strlen(k), &klen);
		if (!key || !klen)
			fz_fail("signed with a secret that does not decode");
		char *head = ml_asprintf("%s.%lld.", id, (long long)t);
		size_t hl = strlen(head), bl = (size_t)(end - p);
		unsigned char *msg = ml_malloc(hl + bl + 1), mac[EVP_MAX_MD_SIZE];
		unsigned maclen = 0;
		memcpy(msg, head, hl);
		memcpy(msg + hl, p, bl);
		HMAC(EVP_sha256(), key, (int)klen, msg, hl + bl, mac, &maclen);
		char *b64 = ml_base64_encode(mac, maclen);
		if (strncmp(sig, "v1,", 3) != 0 || strcmp(sig + 3, b64) != 0 || strlen(sig) != 47)
			fz_fail("webhook-signature %s, OpenSSL computes v1,%s", sig, b64);
		free(b64);
		free(msg);
		free(head);
		free(key);
	} else if (sig) {
		fz_fail("ml_webhook_sign failed (%d) and set *out", rc);
	}
	free(sig);
	free(secret);
	free(id);
	free(ts);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void twilio_sign(const char *p, const char *end)
{
	char *token = next_line(&p, end), *url = next_line(&p, end);
	json_t *form = ml_form_decode(p, (size_t)(end - p));
	char *sig = ml_sbx_twilio_signature(token, url, form);
	size_t n = json_object_size(form), i = 0;
	const char **keys = ml_calloc(n ? n : 1, sizeof *keys), *k;
	json_t *v;
	struct ml_buf msg = {0};
	json_object_foreach(form, k, v)
		keys[i++] = k;
	qsort(keys, i, sizeof *keys, by_key);
	ml_buf_puts(&msg, url);
	for (size_t j = 0; j < i; j++) {
		ml_buf_puts(&msg, keys[j]);
		ml_buf_puts(&msg, json_string_value(json_object_get(form, keys[j])));
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	HMAC(EVP_sha1(), token, (int)strlen(token), (unsigned char *)(msg.data ? msg.data : ""),
	     msg.len, mac, &maclen);
	char *want = ml_base64_encode(mac, maclen);
	if (!sig || strcmp(sig, want) != 0)
		fz_fail("Twilio signature %s, OpenSSL computes %s", sig ? sig : "(null)", want);
	free(want);
	ml_buf_free(&msg);
	free(keys);
	free(sig);
	json_decref(form);
	free(token);
	free(url);
}

static void filters(const char *p, const char *end)
{
	char *type = next_line(&p, end);
	json_t *f = json_loadb(p, (size_t)(end - p), 0, NULL);
	if (f && ml_webhook_filter_check(f) == 0) {
		bool m = ml_webhook_filter_match(f, type);
		size_t i;
		json_t *e;
		json_array_foreach(f, i, e)
		{
			const char *t = json_string_value(e);
			if (t && (strcmp(t, "*") == 0 || strcmp(t, type) == 0) && !m)
				fz_fail("filter with \"%s\" does not match \"%s\"", t, type);
		}
	}
	ml_error_clear();
	ml_webhook_event_known(type);
	json_decref(f);
	free(type);
}

static void base64(const char *p, size_t n)
{
	size_t m = 0;
	char *e = ml_base64_encode(p, n);
	uint8_t *d = ml_base64_decode(e, strlen(e), &m);
	if (!d || m != n || (n && memcmp(d, p, n) != 0))
		fz_fail("base64 does not round-trip %zu bytes", n);
	free(d);
	free(e);
	e = ml_base64url_encode(p, n);
	if (strpbrk(e, "+/="))
		fz_fail("base64url with + / or =: %s", e);
	d = ml_base64url_decode(e, strlen(e), &m);
	if (!d || m != n || (n && memcmp(d, p, n) != 0))
		fz_fail("base64url does not round-trip %zu bytes", n);
	free(d);
	free(e);
	free(ml_base64_decode(p, n, &m));
	free(ml_base64url_decode(p, n, &m));
}

static const char *mb_header(const void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "x-meeting-baas-api-key") == 0 ? "fuzz-mb-key" : NULL;
}

static void meetingbaas(struct fz_app *a, const char *body, size_t n)
{
	static const char *const states[] = {"",           "joining",   "waiting_room", "recording",
	                                     "processing", "failed",    NULL};
	const struct ml_provider_ops *ops = ml_provider_find("meetingbaas");
	const struct ml_inbound_info *in = ML_PROVIDER_HAS(ops, inbound) ? ops->inbound : NULL;
	if (!in)
		fz_fail("the meetingbaas driver has no inbound webhooks");
	char *text = ml_strndup(body, n);
	json_t *j = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
	struct ml_inbound_req ir = {text, n, mb_header, NULL, ml_now()};
	char sub[64];
	if (j && in->subject(j, sub, sizeof sub) == 0 && (!sub[0] || strlen(sub) >= 64))
		fz_fail("subject %s", sub);
	if (in->verify("fuzz-mb-key", &ir) != 0 || in->verify("fuzz-mb-kez", &ir) == 0)
		fz_fail("the API key header is not what decides");
	struct ml_inbound_event ev = {0}, ev2 = {0};
	if (j && json_is_object(j) && in->parse("fuzz-mb-key", &ir, j, &ev) == 0) {
		bool known = false;
		for (int i = 0; states[i]; i++)
			known = known || strcmp(states[i], ev.state) == 0;
		if (!known || (ev.kind == ML_INBOUND_RECORDING && !ev.external_id[0]) ||
		    strlen(ev.key) != 64)
			fz_fail("event kind %d state %s bot %s key %s", ev.kind, ev.state,
				ev.external_id, ev.key);
		if (in->parse("fuzz-mb-key", &ir, j, &ev2) != 0 || strcmp(ev.key, ev2.key) != 0)
			fz_fail("the same body parsed twice differs");
		json_decref(ev.reply);
		json_decref(ev2.reply);
	}
	ml_error_clear();
	json_decref(j);

	struct fz_req r;
	struct ml_http_resp resp;
	const char *head = "POST /webhooks/meetingbaas\nContent-Type: application/json\n\n";
	fz_req_parse(&r, head, strlen(head));
	free(r.body);
	r.body = text;
	r.body_len = r.req.body_len = n;
	r.req.body = r.body;
	fz_req_header(&r, "x-meeting-baas-api-key", "fuzz-mb-key");
	if (fz_app_send(a, &r, &resp)) {
		if (resp.status >= 200 && resp.status < 300)
			fz_fail("answered %d to a webhook no organization can vouch for",
				resp.status);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

static void form_roundtrip(const char *p, size_t n)
{
	json_t *f = NULL;
	if (ml_form_parse(p, n, &f) < 0) {
		ml_error_clear();
		return;
	}
	if (!json_is_object(f) || json_object_size(f) > ML_FORM_MAX_PARAMS)
		fz_fail("ml_form_parse accepted %zu parameters", json_object_size(f));
	struct ml_buf b = {0};
	const char *k;
	json_t *v;
	ml_buf_puts(&b, "");
	json_object_foreach(f, k, v) {
		if (!json_is_string(v))
			fz_fail("form member %s is not a string", k);
		if (b.len)
			ml_buf_puts(&b, "&");
		ml_url_escape(&b, k);
		ml_buf_puts(&b, "=");
		ml_url_escape(&b, json_string_value(v));
	}
	json_t *g = NULL;
	if (ml_form_parse(b.data, b.len, &g) < 0 || !json_equal(f, g))
		fz_fail("a form's re-encoding did not parse back: %s", b.data);
	json_decref(g);
	json_decref(f);
	ml_buf_free(&b);
}

static const char *tw_sig_header;
static const char *tw_header(const void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "x-twilio-signature") == 0 ? tw_sig_header : NULL;
}

static void twilio_driver(const char *p, const char *end)
{
	const struct ml_inbound_info *in = ml_provider_find("twilio")->inbound;
	const char *url = "https://meetlink.example/webhooks/twilio";
	char *token = next_line(&p, end);
	json_t *form = NULL;
	if (!*token || ml_form_parse(p, (size_t)(end - p), &form) < 0) {
		ml_error_clear();
		free(token);
		return;
	}
	char *sig = ml_sbx_twilio_signature(token, url, form);
	char *other = ml_asprintf("%sx", token);
	struct ml_inbound_req r = {p, (size_t)(end - p), tw_header, NULL, ml_now(), url, form};
	tw_sig_header = sig;
	if (in->verify(token, &r) < 0)
		fz_fail("a callback signed as the sandbox signs it was refused: %s", ml_error_message());
	if (in->verify(other, &r) == 0)
		fz_fail("a callback verified under another auth token");
	r.url = "https://meetlink.example/webhooks/twilio?x";
	if (in->verify(token, &r) == 0)
		fz_fail("a callback verified for another URL");
	ml_error_clear();
	r.url = url;
	struct ml_inbound_event e1 = {0}, e2 = {0};
	int rc1 = in->parse(token, &r, form, &e1), rc2 = in->parse(token, &r, form, &e2);
	if (rc1 != rc2 || (rc1 == 0 && strcmp(e1.key, e2.key) != 0))
		fz_fail("the same callback parsed two ways");
	if (rc1 == 0 && (!e1.key[0] || !e1.external_id[0]))
		fz_fail("a parsed callback without a key or a room");
	if (rc1 == 0 && e1.kind == ML_INBOUND_PRESENCE && !e1.presence.session[0])
		fz_fail("a presence event without a session");
	char subject[64];
	in->subject(form, subject, sizeof subject);
	ml_error_clear();
	tw_sig_header = NULL;
	free(sig);
	free(other);
	free(token);
	json_decref(form);
}

static void twilio_raw(struct fz_app *a, const char *text, size_t n)
{
	struct fz_req r;
	struct ml_http_resp resp;
	if (!fz_req_parse(&r, text, n)) {
		fz_req_free(&r);
		return;
	}
	snprintf(r.method, sizeof r.method, "POST");
	free(r.path);
	r.path = ml_strdup("/webhooks/twilio");
	r.req.path = r.path;
	if (fz_app_send(a, &r, &resp)) {
		if (resp.status >= 200 && resp.status < 300)
			fz_fail("answered %d to a Twilio callback for a room nobody owns", resp.status);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_app *a = fz_app_get();
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	fz_app_input(a);
	if (data[0] == 'F') {
		form_roundtrip(p, (size_t)(end - p));
		return 0;
	}
	if (data[0] == 'T' || data[0] == 't') {
		if (data[0] == 'T')
			twilio_driver(p, end);
		else
			twilio_raw(a, p, (size_t)(end - p));
		return 0;
	}
	if (data[0] == 'J' || data[0] == 'j') {
		if (data[0] == 'J')
			jaas_signed(a, p, (size_t)(end - p));
		else
			jaas_raw(a, p, (size_t)(end - p));
		return 0;
	}
	switch (data[0] % 10) {
	case 0:
	case 1:
	case 2:
	case 3:
		zoom_signed(a, p, (size_t)(end - p), data[0] & 1);
		break;
	case 4:
		zoom_raw(a, p, (size_t)(end - p));
		break;
	case 5:
		std_sign(p, end);
		break;
	case 6:
		twilio_sign(p, end);
		break;
	case 7:
		filters(p, end);
		break;
	case 8:
		base64(p, (size_t)(end - p));
		break;
	case 9:
		meetingbaas(a, p, (size_t)(end - p));
		break;
	}
	return 0;
}
