/* The notification outbox: turns what happened to a booking (the `events` a lifecycle step
 * records in the audit trail) into durable jobs, inside the same transaction, so a message is
 * queued exactly when the change commits and never lost after it:
 *
 *   email.send        one per participant (host, customer, each attendee), each carrying the
 *                     participant's own join link: the invitation when the meeting is ready
 *                     (or on confirm for an offline booking), an update on reschedule or a
 *                     new link, the cancellation on cancel.
 *   webhook.deliver   one per subscribed endpoint per event (Standard Webhooks).
 *
 * Jobs of one recipient (one endpoint) for one booking share a group: they go out in order.
 * Call ml_notify_events() wherever booking events are written: the API's lifecycle and
 * meeting handlers and the pipeline worker's commit callbacks.
 */
#ifndef ML_NOTIFY_OUTBOX_H
#define ML_NOTIFY_OUTBOX_H

#include "providers/provider.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* Attempts and the longest wait between two: webhooks retry for more than a day (at least
 * ~28 h, typically ~2 days), mail for about half a day, a nudge for a few hours. */
#define ML_WEBHOOK_MAX_ATTEMPTS 40
#define ML_WEBHOOK_BACKOFF_CAP_MS (2 * 3600 * 1000LL)
#define ML_EMAIL_MAX_ATTEMPTS 24
#define ML_EMAIL_BACKOFF_CAP_MS (3600 * 1000LL)

/* Whether an SMTP server is configured (serve says so at start). Without one, booking mail is
 * queued already parked on the SMTP wait key, instead of being claimed only to park. */
void ml_notify_set_mail_configured(bool configured);

/* Queues the emails and webhook deliveries for `events` (an array of {type, data}) that just
 * happened to `booking` (its new state; service and host documents as loaded for the step,
 * host may be a placeholder). cx mints personal links. Returns 0 or a store error. */
int ml_notify_events(struct ml_tx *tx, const struct ml_provider_ctx *cx, const char *org_id,
                     json_t *booking, json_t *service, json_t *host, json_t *events);

/* Queues one webhook delivery of `type` per subscribed endpoint of the organization, with
 * payload {"type", "timestamp", "data"} (data borrowed). booking_id may be NULL. */
int ml_notify_webhook(struct ml_tx *tx, const char *org_id, const char *type,
                      const char *booking_id, json_t *data);

/* The same for an organization-level event, to every enabled endpoint but except_id. */
int ml_notify_webhook_others(struct ml_tx *tx, const char *org_id, const char *type,
                             json_t *data, const char *except_id);

/* Queues one `webhook.deliver` job: the delivery `delivery_id` of `body` (the serialized
 * event of `type`) to endpoint ep_id, in the endpoint's group for the booking (booking_id may
 * be NULL), so its messages arrive in order. Also what a redelivery queues again. */
int ml_notify_webhook_enqueue(struct ml_tx *tx, const char *org_id, const char *delivery_id,
                              const char *ep_id, const char *type, const char *booking_id,
                              const char *body);

/* Which email the events call for: "invitation", "update", "cancellation" or NULL. Pure. */
const char *ml_notify_email_plan(json_t *booking, json_t *events);

#endif
