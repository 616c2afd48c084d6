/* Webhooks out, the pure part: Standard Webhooks signatures and secrets, and the event types
 * an endpoint can subscribe to. (Deliveries are jobs: notify/job_webhook.c.) */
#ifndef ML_NOTIFY_WEBHOOK_H
#define ML_NOTIFY_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every event type meetlink sends, NULL-terminated. */
extern const char *const ml_webhook_event_types[];

/* True when `type` is sent to endpoints (booking.*, meeting.ready|updated|failed|cancelled|
 * fallback_used, connection.reauth_required, …). */
bool ml_webhook_event_known(const char *type);

/* Checks an endpoint's filter: a non-empty array of known types, "prefix.*" for a family
 * ("booking.*") or "*" for all. ML_EINVAL naming "events[i]". */
int ml_webhook_filter_check(json_t *events);
/* True when an endpoint with this filter wants `type`. */
bool ml_webhook_filter_match(json_t *events, const char *type);

/* The vault's associated data for an endpoint's stored secret ("<endpoint id>/secret"): a
 * sealed secret copied to another row does not open. */
void ml_notify_secret_aad(char *out, size_t n, const char *endpoint_id);

/* A new signing secret: "whsec_" + base64 of 32 random bytes. Caller frees. */
char *ml_webhook_secret_new(void);

/* The webhook-signature value "v1,<base64(HMAC-SHA256(key, id.timestamp.body))>", the key
 * being the base64-decoded secret (with or without its "whsec_" prefix). Caller frees *out.
 * ML_EINVAL for an empty or malformed secret, or an id containing '.'. */
int ml_webhook_sign(char **out, const char *secret, const char *msg_id, int64_t timestamp,
                    const char *body, size_t body_len);

#endif
