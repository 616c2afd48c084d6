/* Webhook endpoints that fail for days are disabled.
 *
 * Every attempt of a delivery reports its outcome (ml_notify_endpoint_attempt, in the
 * transaction that records the attempt). The endpoint keeps the time of the first failure
 * since its last success; when an attempt fails and that time is at least
 * MEETLINK_WEBHOOK_DISABLE_AFTER_HOURS (72) old, the endpoint turns `disabled`, once:
 *   - `webhook_endpoint.disabled` goes on the organization's audit trail (actor "worker");
 *   - the same event is sent to the organization's other enabled endpoints that subscribe
 *     to it;
 *   - an `email.webhook_disabled` job tells the endpoint's `contact_email`, when it has one.
 * A disabled endpoint gets no new deliveries; queued ones are skipped when they come up
 * (failed, "skipped: the endpoint is disabled", redeliverable). PATCH
 * /v1/webhook-endpoints/{id} {"enabled": true} enables it again with a fresh clock.
 */
#ifndef ML_NOTIFY_ENDPOINT_HEALTH_H
#define ML_NOTIFY_ENDPOINT_HEALTH_H

#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ML_ENDPOINT_SKIPPED "skipped: the endpoint is disabled"

/* `endpoint` as the store shows it (borrowed); error: the failed attempt's (NULL when ok).
 * *disabled tells whether this attempt disabled it. Returns 0 or a store error. */
int ml_notify_endpoint_attempt(struct ml_tx *tx, const char *org_id, json_t *endpoint, bool ok,
                               int64_t at_ms, int64_t disable_after_ms, const char *error,
                               bool *disabled);

#endif
