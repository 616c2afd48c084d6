/* Live presence (issue 18, docs/presence.md): who is in a booking's meeting, as the platforms
 * report it. Pure: no I/O.
 *
 * The booking keeps one "stay" per platform session (Twilio's ParticipantSid, Zoom's
 * participant_uuid, JaaS's participant jid): {session, platform, participant_id (or null:
 * an attendee meetlink could not match), name, identity, email, joined_ms, left_ms}. Facts
 * arrive in any order and any number of times; each side of a stay is set by the earliest
 * join and the latest leave the platform reported, so
 *
 *   joined then left, or left then joined   → the stay ends left, with both times
 *   the same fact twice                      → no change the second time
 *   a join after the stay's leave            → the stay is open again (a rejoin on the same
 *                                              session; platforms give a new one mostly)
 *   a leave older than the stay's join       → nothing (a stale leave of an earlier visit)
 */
#ifndef ML_DOMAIN_PRESENCE_H
#define ML_DOMAIN_PRESENCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* The most stays one booking keeps (later sessions are not recorded). */
#define ML_PRESENCE_MAX_STAYS 200

/* One fact, borrowed. */
struct ml_presence_fact {
	const char *platform;
	const char *session;
	bool joined;
	int64_t at_ms; /* the platform's time; 0: unknown (then `now_ms`) */
	const char *participant_id, *name, *identity, *email; /* may be NULL */
};

enum ml_presence_change {
	ML_PRESENCE_NONE = 0, /* nothing new (a repeat, a stale leave, no room for the stay) */
	ML_PRESENCE_JOINED,   /* the stay's join is recorded now (first time, or a rejoin) */
	ML_PRESENCE_LEFT,     /* the stay's leave is recorded now */
	ML_PRESENCE_MOVED,    /* a time moved (an earlier join, a later leave): no event */
};

/* Applies fact to `stays` (a JSON array, changed in place). *stay gets the stay it touched
 * (borrowed from stays), or NULL. */
enum ml_presence_change ml_presence_merge(json_t *stays, const struct ml_presence_fact *f,
                                          int64_t now_ms, json_t **stay);

/* Whether the stay is open (joined, not left). */
bool ml_presence_stay_open(json_t *stay);

#endif
