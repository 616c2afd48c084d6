/* The meeting pipeline: the durable jobs that create, update, delete and open meetings at
 * remote providers (Google Meet, Zoom, Teams, Twilio), exactly once per booking.
 *
 * The API plans (meeting_plan.c): inside the transaction that changes the booking it sets the
 * meeting's status and enqueues the work, grouped by booking (one at a time, in order: a
 * cancel never overtakes the create it follows), updates coalesced. The worker runs it
 * (meeting_job.c): each job loads the booking and takes a token in the transaction that
 * claims it, drives the platform's sans-IO driver over the worker's curl multi, and commits
 * the meeting's new state together with the job's outcome. docs/pipeline.md tells the story.
 */
#ifndef ML_MEETING_MEETING_H
#define ML_MEETING_MEETING_H

#include "core/config.h"
#include "queue/worker.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

struct ml_platform_settings;
struct ml_limiter;

struct ml_provider_ops;
#define ML_PIPELINE_LIMITS_MAX 16

/* Settings of the pipeline (environment, read once) and its worker-thread state. */
struct ml_pipeline {
	long timeout_ms;        /* MEETLINK_PROVIDER_TIMEOUT_MS: one provider call, 30000 */
	int max_attempts;       /* MEETLINK_MEETING_MAX_ATTEMPTS: then the meeting is in error, 8 */
	int64_t defer_ms;       /* how long a job waits for a busy connection, 250 */
	int conn_max_inflight;  /* MEETLINK_CONN_MAX_INFLIGHT: calls at once per connection
	                         * for platforms without their own limit, 0 = no limit */
	/* Per-platform limits from the configuration (a driver's remote info names the
	 * variables, e.g. calls per second per connection): a positive value wins. */
	struct ml_pipeline_limit {
		const struct ml_provider_ops *ops;
		int max_inflight;
		double qps;
	} limits[ML_PIPELINE_LIMITS_MAX];
	int nlimits;
	int64_t reconcile_delay_ms; /* MEETLINK_RECONCILE_DELAY_MS: 2 x timeout + 1 s */
	struct ml_limiter *limiter; /* worker thread only */
};

/* Reads the MEETLINK_* pipeline variables. ML_EINVAL names a bad one. */
int ml_pipeline_new(struct ml_pipeline **out);
void ml_pipeline_free(struct ml_pipeline *p);

/* True when meetings on `platform` are made by the pipeline (a remote driver). */
bool ml_pipeline_remote(const char *platform);

/* --- Planning: inside the transaction of the booking change (API side) --- */

/* The booking was just confirmed (or a failed meeting retried, or a new meeting planned after
 * a regenerate or a platform change): meeting.status becomes pending and meeting.create is
 * queued; lazy platforms (Twilio) get their link now and a meeting.open job shortly before
 * the start. `events` gets the audit entries. */
int ml_pipeline_plan_create(struct ml_tx *tx, const struct ml_platform_settings *ps,
                            const char *org_id, json_t *booking, json_t *service, json_t *host,
                            json_t *events);
/* The booking moved: the meeting is updated in place (coalesced with a queued update). */
int ml_pipeline_plan_update(struct ml_tx *tx, const struct ml_platform_settings *ps,
                            const char *org_id, json_t *booking, json_t *events);
/* A lazy platform's room is wanted now (someone arrived at the gateway before the open
 * planned near the start): the booking's meeting.open job runs at once. */
int ml_pipeline_plan_open_now(struct ml_tx *tx, const char *org_id, json_t *booking);
/* The meeting object `meeting` (the current one, or one just moved to history) must go:
 * meeting.delete is queued after whatever the booking has queued before it. host_id is the
 * host whose connection made it. */
int ml_pipeline_plan_delete(struct ml_tx *tx, const char *org_id, const char *booking_id,
                            json_t *meeting, const char *host_id);

/* The booking's meeting is to be ended at the provider (POST …/end, ML_END_CALL): a queued
 * open (a lazy room not opened yet) is cancelled, and meeting.end is queued after whatever
 * the booking has queued before it (a create still running: the end follows it). */
int ml_pipeline_plan_end(struct ml_tx *tx, const char *org_id, json_t *booking);

/* A lazy platform's room (platform, UniqueName `name`, sid `room_sid`) completed at the
 * provider on its own (Twilio's room-ended callback, api/inbound.c): when it is the booking's
 * open room and the booking is still to be met (confirmed or in progress, not ended for
 * everyone), the meeting is marked not open (`opened_at` removed, `room_ended_at` set, audit
 * meeting.room_ended) so the next arrival at the gateway opens a room again; *closed says so.
 * Anything else (another room, an ended meeting, an unknown name) changes nothing. */
int ml_meeting_room_ended(struct ml_tx *tx, const struct ml_platform_settings *ps,
                          const char *platform, const char *name, const char *room_sid,
                          const char *ip, bool *closed);

/* --- The job kinds (app/handlers.c lists them) --- */
extern const struct ml_job_handler ml_job_meeting_create;
extern const struct ml_job_handler ml_job_meeting_update;
extern const struct ml_job_handler ml_job_meeting_delete;
extern const struct ml_job_handler ml_job_meeting_open;
extern const struct ml_job_handler ml_job_meeting_reconcile;
extern const struct ml_job_handler ml_job_meeting_end;

#endif
