/* The booking's meeting object: making, updating and cancelling it through a driver, and
 * keeping `meeting.history`. Works on the booking's JSON document; never does I/O itself
 * (local drivers compute links; remote drivers are driven by the worker instead). */
#ifndef ML_DOMAIN_MEETING_H
#define ML_DOMAIN_MEETING_H

#include "domain/booking.h"
#include "providers/provider.h"

#include <jansson.h>
#include <stdbool.h>

/* Moves the meeting object `meeting` under `ev` by the machine of domain/booking.h: sets
 * its status and returns true, or leaves it and returns false when `ev` does not apply to
 * its status. How the meeting room writes a meeting's status. */
bool ml_meeting_move(json_t *meeting, enum ml_meeting_event ev);

/* The meeting object of a new booking: {"status":"none","platform":…,…}. */
json_t *ml_meeting_new(const char *platform);

/* Fills req from the booking, its service and host documents (all borrowed). */
void ml_meeting_req_fill(struct ml_meeting_req *req, const char *org_id, json_t *booking,
			 json_t *service, json_t *host);

/* Makes the meeting now with the platform's local driver and records the outcome in
 * booking.meeting (ready, or error with code and message; a permanent failure falls back to
 * settings.fallback when the service names one, visibly). Appends {"type","data"} audit
 * entries to `events`. Returns 0, or ML_EINVAL when the platform has no local driver. */
int ml_meeting_make(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		    json_t *service, json_t *host, json_t *events);

/* The meeting could not be made on `platform` (err): with `permanent` (the provider refused,
 * or retries are exhausted) and a local fallback platform named by the service, the fallback
 * link is made, visibly (meeting.fallback_used, requested_platform, fallback_reason, audit
 * entry meeting.fallback_used); otherwise meeting.status = error with err's code and message
 * (and meeting.failed). Appends the audit entries to `events`. Returns 0. */
int ml_meeting_fail(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		    json_t *service, json_t *host, const char *platform,
		    const struct ml_perr *err, bool permanent, json_t *events);

/* After a reschedule: lets the driver update the meeting in place (same link). */
int ml_meeting_update(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		      json_t *service, json_t *host, json_t *events);

/* Cancels the meeting (driver delete for local platforms) and marks it cancelled. */
int ml_meeting_cancel(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		      json_t *service, json_t *host, json_t *events);

/* Moves the current meeting into meeting.history and resets it to status "none" on
 * `platform`, bumping meeting.generation so a local room changes. */
void ml_meeting_archive(json_t *booking, const char *platform, const char *reason);

/* The personal link of one participant (caller frees), or NULL when the meeting has none
 * (not ready, or ended for everyone: no more tokens). */
char *ml_meeting_participant_url(const struct ml_provider_ctx *cx, const char *org_id,
				 json_t *booking, json_t *service, json_t *host,
				 const struct ml_participant_ref *p);

/* The same, minted for someone entering now (the join gateway): a personal token is valid
 * from a minute before cx->now until ttl_s after it, instead of the meeting's window. */
char *ml_meeting_participant_url_ttl(const struct ml_provider_ctx *cx, const char *org_id,
				     json_t *booking, json_t *service, json_t *host,
				     const struct ml_participant_ref *p, int64_t ttl_s);

#endif
