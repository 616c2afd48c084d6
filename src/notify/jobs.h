/* The job kinds of notify/ and what they share. Internal to notify/ and the kinds registry. */
#ifndef ML_NOTIFY_JOBS_H
#define ML_NOTIFY_JOBS_H

#include "notify/email.h"
#include "queue/worker.h"

#include <jansson.h>
#include <stdbool.h>

/* Mail waits on this key while MEETLINK_SMTP_URL is unset. */
#define ML_NOTIFY_SMTP_WAIT_KEY "smtp:unconfigured"
#define ML_NOTIFY_SMTP_WAIT_REASON "MEETLINK_SMTP_URL is not set: the message waits until it is"

extern const struct ml_job_handler ml_job_email_send;
extern const struct ml_job_handler ml_job_email_nudge;
extern const struct ml_job_handler ml_job_webhook_deliver;
extern const struct ml_job_handler ml_job_email_webhook_disabled;

/* Requeues the mail that waited for an SMTP server (serve calls it when one is configured);
 * returns how many. */
int ml_notify_smtp_wake(struct ml_store *store);

/* The placeholders of a booking email for one recipient ({role, name, email, join_url}). */
json_t *ml_notify_booking_vars(json_t *booking, json_t *host, json_t *recipient);
/* The organization's template `name`, or the default (new reference). */
int ml_notify_template_load(struct ml_store *store, const char *org_id, const char *name,
                            json_t **out);

/* One message in flight: becomes run->state (freed by the handlers' release). */
struct mail;
struct mail *ml_notify_mail_new(const char *to, const char *tpl, const char *booking_id,
                                const char *job_id, const char *public_url);
/* Builds msg and hands it to SMTP on the worker's multi; the outcome comes to on_http. */
int ml_notify_mail_send(struct ml_job_run *run, struct mail *m, const struct ml_email *msg);
/* Sends one notice (not a booking's invitation) from the configured sender to `to` (name may
 * be NULL), as the mail in run->state; a message that cannot be built fails the job. */
void ml_notify_mail_notice(struct ml_job_run *run, const char *to_name, const char *to,
                           const char *subject, const char *text, const char *html);
/* Finishes the job from the SMTP outcome: done, retry with backoff, or failed (on the trail). */
void ml_notify_mail_outcome(struct ml_job_run *run, const struct ml_http_result *res);
/* Parks the job when no SMTP server is configured; true when it did. */
bool ml_notify_mail_wait_unconfigured(struct ml_job_run *run);
/* Fails the job for good, recording email.failed when run->state is a mail. */
void ml_notify_mail_fail(struct ml_job_run *run, const char *why);
/* Frees the mail in run->state (a mail job's release). */
void ml_notify_mail_release(struct ml_job_run *run);
/* The message id of the mail in flight (for headers). Borrowed. */
const char *ml_notify_mail_id(const struct mail *m);

#endif
