/* Live presence (issue 18, docs/presence.md): the platforms' joined/left events become facts
 * on the booking, matched to its participants where possible.
 *
 * A verified, first-seen presence event (api/inbound.c) is queued as a durable job
 * (presence.apply) in the transaction that records its key, and answered at once; the job
 * applies it in the transaction that finishes it (exactly once, even across a crash): the
 * stay is merged (domain/presence.h), the first join moves a confirmed booking to
 * in_progress (meeting.started), and participant.joined / participant.left go out as
 * webhooks, through the one save path. The live pages are told after the commit.
 */
#ifndef ML_MEETING_PRESENCE_H
#define ML_MEETING_PRESENCE_H

#include "meeting/booking.h"
#include "providers/provider.h"
#include "queue/worker.h"

#include <jansson.h>
#include <stdbool.h>

/* Queues ev (ML_INBOUND_PRESENCE) of `platform` for the booking whose meeting it names;
 * *queued false when no booking has that meeting (nothing to do). */
int ml_presence_enqueue(struct ml_tx *tx, const char *platform,
                        const struct ml_inbound_event *ev, bool *queued);

/* A local platform's room that reports presence is recorded as the booking's, so its events
 * find the booking (jaas: the room name). Called where a local meeting is made. */
int ml_presence_map_room(struct ml_tx *tx, const char *org_id, json_t *booking);

/* "platform" when the booking's platform reports who joins and leaves, else "gateway". */
const char *ml_presence_source(json_t *booking);

/* Sets state (invited|waiting|admitted|in_meeting|left), joined_at and left_at on the
 * participant object `o` of participant pid: from the platform's stays, else from the
 * waiting room (admission state, may be NULL) and the gateway's passes (first_pass: the
 * first pass's time, may be NULL). */
void ml_presence_describe(json_t *o, json_t *booking, const char *pid, const char *admission,
                          const char *first_pass);

/* The stays nobody matched (a new array): [{name, identity, email, platform, state,
 * joined_at, left_at}]. */
json_t *ml_presence_unmatched(json_t *booking);

/* Who is in the meeting now, for the host panel (a new array): [{participant_id, name,
 * platform, joined_at}]. */
json_t *ml_presence_now(json_t *booking);

extern const struct ml_job_handler ml_job_presence_apply;

#endif
