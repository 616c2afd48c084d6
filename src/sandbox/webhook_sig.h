/* Signatures the emulated providers put on the webhooks they send, as pure functions so the
 * unit tests can check them against the vectors in specs/ (zoom-auth-webhooks-ratelimits.json,
 * twilio-video-notes.json, jitsi-notes.json). */
#ifndef ML_SANDBOX_WEBHOOK_SIG_H
#define ML_SANDBOX_WEBHOOK_SIG_H

#include <jansson.h>
#include <stddef.h>

/* Zoom: "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)). `out` holds 68 bytes. */
#define ML_ZOOM_SIG_MAX 68
void ml_sbx_zoom_signature(const char *secret, const char *ts, const char *body, size_t body_len,
			   char out[ML_ZOOM_SIG_MAX]);
/* Zoom endpoint.url_validation: hex(HMAC-SHA256(secret, plainToken)). `out` holds 65 bytes. */
void ml_sbx_zoom_url_token(const char *secret, const char *plain_token, char out[65]);

/* Twilio: base64(HMAC-SHA1(auth_token, url + for each param sorted by name: name + value)).
 * `params` is a JSON object of strings (other values are skipped). Caller frees. */
char *ml_sbx_twilio_signature(const char *auth_token, const char *url, const json_t *params);

/* JaaS: "t=<t>,v1=" + base64(HMAC-SHA256(secret, t + "." + body)) (X-Jaas-Signature).
 * Caller frees. */
char *ml_sbx_jaas_signature(const char *secret, long long t, const char *body, size_t body_len);

#endif
