/* Recording bots (docs/recordings.md): a booking whose service asks for recording gets a bot
 * from the recorder platform (the driver with ops->recorder) in its meeting, shortly before
 * the start, exactly once per meeting; the bot's webhooks move the recording's state; the
 * media and transcript are fetched once the recorder has them.
 *
 *   scheduled ─► joining ─► waiting_room ─► recording ─► processing ─► ready
 *        │           └───────────┴──────────────┴────────────┴──────► failed (reason)
 *        └─► cancelled (the booking or its meeting went before the bot did)
 *   ready/failed ─► deleted (DELETE /v1/recordings/{id}: the data at the recorder too)
 *
 * States only move forward (a late `joining` after `recording` changes nothing). Every move
 * is an audit entry on the booking; ready, failed and a new transcript are webhooks out.
 *
 * The planning (recording_plan.c) runs in the transaction of every booking step
 * (ml_booking_save); the jobs (recording_job.c) make the recorder's calls on the worker.
 */
#ifndef ML_MEETING_RECORDING_H
#define ML_MEETING_RECORDING_H

#include "meeting/booking.h"
#include "providers/provider.h"
#include "queue/worker.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>

/* The service settings of recording (settings.recording_options), validated: a new object
 * with every member set (defaults filled in) in *out, or ML_EINVAL naming the field
 * ("settings.recording_options.bot_name"). `in` may be NULL (all defaults). */
int ml_recording_options(json_t *in, json_t **out);

/* Whether a service on `platform` may record: a recorder exists and the platform's driver
 * has ML_CAP_BOT_JOINS. ML_EINVAL naming settings.recording otherwise. */
int ml_recording_allowed(const char *platform);

/* In the transaction of a booking step (ml_booking_save): makes what the booking now calls
 * for true. A confirmed (or in_progress) booking whose service records gets a recording of
 * its current meeting (state scheduled) and a recording.dispatch job at start − lead (moved
 * when the booking moves before the bot was sent; after, that bot is taken out and a new
 * recording, with the next key, gets one for the new time); a recording whose meeting went
 * (cancel, regenerate, a new platform) is cancelled before its bot is in the meeting, or
 * its bot is taken out (recording.leave). */
int ml_recording_plan(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                      json_t *service);

/* An instant meeting's recording (issue 18): plans the booking's recording as
 * ml_recording_plan does, the bot dispatched at once. */
int ml_recording_plan_now(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                          json_t *service);

/* A verified recorder webhook (ML_INBOUND_RECORDING), in the webhook's transaction: the
 * recording of bot `ev->external_id` moves forward to ev->state (an earlier state changes
 * nothing), and a recording.sync job fetches the media or transcript when ev->fetch asks.
 * *applied says whether anything changed. ML_ENOTFOUND: no recording has that bot. */
int ml_recording_on_event(struct ml_tx *tx, const char *platform,
                          const struct ml_inbound_event *ev, const char *ip, bool *applied);

/* A verified recorder webhook about a registered calendar (ML_INBOUND_CALENDAR): its
 * events changed at the calendar; the calendar notes when (synced_at). ML_ENOTFOUND: no
 * calendar has that id. */
int ml_recording_calendar_event(struct ml_tx *tx, const char *platform,
                                const struct ml_inbound_event *ev);

/* The organization that owns the recorder's object `subject` (a bot id), for verifying a
 * webhook signed with the organization's own credential. ML_ENOTFOUND. */
int ml_recording_owner(struct ml_tx *tx, const char *platform, const char *subject,
                       char org_id[40]);

/* API actions on a recording (loaded by the caller from its organization; changed in place
 * and saved). Retranscribe: a ready recording's transcript is made again (recording.
 * retranscribe job), ML_ECONFLICT otherwise. Delete: the recording's data is deleted at the
 * recorder (recording.delete job) and here (media, transcript), state deleted; a recording
 * whose bot is not sent yet is cancelled. */
int ml_recording_retranscribe(struct ml_tx *tx, const char *org_id, json_t *rec,
                              const char *actor, const char *ip);
int ml_recording_delete(struct ml_tx *tx, const char *org_id, json_t *rec, const char *actor,
                        const char *ip);

/* The recording as the API shows it (new reference): without the transcript when `brief`. */
json_t *ml_recording_view(json_t *rec, bool brief);

/* The recording's bot as a participant of its booking's meeting (GET /v1/bookings/{id}/
 * participants: role "recorder", its state following the bot's: invited until it is in
 * the platform's lobby (waiting), in_meeting while it records, left after), or NULL when
 * the recording has no bot to show (cancelled, deleted, told to leave, a calendar's). */
json_t *ml_recording_participant(json_t *rec);

/* WebVTT of a recording's transcript (caller frees). */
char *ml_recording_vtt(json_t *rec);

/* --- internal to recording_plan.c and recording_job.c --- */

/* recording_calendar.c: a calendar bot's first outcome webhook (ev->calendar_id set, the bot
 * unknown): a recording of the calendar's host is made for the bot and the bot mapped to it;
 * org and rid say which. ML_ENOTFOUND when no calendar has that id. */
int ml_rec_calendar_adopt(struct ml_tx *tx, const char *platform,
                          const struct ml_inbound_event *ev, char org[40], char rid[40]);
/* A calendar recording not linked yet becomes the booking's whose meeting it recorded (the
 * host's booking with that join URL, starting within a day); rec changed, not saved. */
int ml_rec_calendar_link(struct ml_tx *tx, json_t *rec, const char *meeting_url);

/* Whether a booking of `status` has a recording going: confirmed or in_progress. */
bool ml_recording_booking_live(const char *status);

/* Moves `rec` to `state` (with `reason`/`message` for failed) when that is forward; writes
 * the audit entry and the webhooks out; saves it. *moved may be NULL. */
int ml_rec_move(struct ml_tx *tx, json_t *rec, const char *state, const char *reason,
                const char *message, const char *actor, bool *moved);
/* Saves rec (updated_at stamped). */
int ml_rec_save(struct ml_tx *tx, json_t *rec);
/* Queues a job of the recording (kind "recording.*") with payload {recording_id, ...more}. */
int ml_rec_enqueue(struct ml_tx *tx, json_t *rec, const char *kind, int64_t run_at_ms,
                   json_t *more);
/* Seconds after the booking's end when a recording not yet ready is checked with the
 * recorder (MEETLINK_RECORDING_RECONCILE_SECONDS, 900), and how many times at most. */
int64_t ml_rec_reconcile_s(void);
int ml_rec_reconcile_max(void);

/* --- The job kinds (app/handlers.c lists them) --- */
extern const struct ml_job_handler ml_job_recording_dispatch;
extern const struct ml_job_handler ml_job_recording_leave;
extern const struct ml_job_handler ml_job_recording_sync;
extern const struct ml_job_handler ml_job_recording_retranscribe;
extern const struct ml_job_handler ml_job_recording_delete;

#endif
