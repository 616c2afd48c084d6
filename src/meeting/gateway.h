/* The join gateway (SPEC §5, docs/gateway.md): a participant's personal link
 * PUBLIC_URL/j/{token} resolved to who they are, the time gate, and the pass into the
 * meeting. The gateway's room is the meeting's: the links are made and revoked with the
 * booking's transitions (ml_booking_save, regenerate, participants added and removed), and
 * every pass is an entry on the booking's audit trail.
 *
 * The HTTP side (api/gateway_page.c) runs, for GET /j/{token} and GET /j/{token}/go:
 *
 *   ml_gateway_resolve()   token -> who, and where they stand (the gate)
 *   the gate               EARLY: countdown page; ENDED/CANCELLED: a closed page; …
 *   the hold step          the waiting room (one place: hold() in api/gateway_page.c)
 *   ml_gateway_pass()      records the pass, answers where to send them (303)
 *
 * Public paths: the gateway owns GET /j/{token} and GET /j/{token}/go; the waiting room owns
 * /j/{token}/wait, /j/{token}/events and /j/{token}/panel… (docs/gateway.md).
 */
#ifndef ML_MEETING_GATEWAY_H
#define ML_MEETING_GATEWAY_H

#include "domain/gateway.h"
#include "queue/env.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* How long a personal platform token minted at the gateway (Jitsi, JaaS, Twilio) is valid:
 * enough to open the meeting; coming back later goes through the gateway again. */
#define ML_GATEWAY_TOKEN_TTL_S 600

/* What a link resolves to. Strings are owned (ml_gateway_who_clear). */
struct ml_gateway_who {
	char org_id[40], booking_id[40], participant_id[40];
	char role[16];          /* host | customer | attendee | admin */
	char *name, *email;     /* the participant's, may be NULL */
	char *title;            /* the booking's title */
	char *timezone;         /* the booking's time zone (IANA), may be NULL */
	char *platform;         /* the meeting's platform, may be NULL */
	enum ml_gate gate;      /* where the participant stands now (host, admin: never early
	                         * or ended) */
	bool in_window;         /* now lies in [opens_at, closes_at], whatever the role */
	bool waiting_room;      /* the service asks for a waiting room (settings.waiting_room) */
	int64_t now;            /* Unix seconds, the server's clock at resolution */
	int64_t start, end;     /* the booking's */
	int64_t opens_at;       /* start - the service's join window (join_window_minutes) */
	int64_t closes_at;      /* end + the grace (join_grace_minutes) */
};

void ml_gateway_who_clear(struct ml_gateway_who *w);

/* Resolves a token (as it came in the path) on a read snapshot: ML_ENOTFOUND for a token of
 * the wrong shape, unknown, revoked, or whose participant, booking or link generation is gone
 * (the caller answers one 404 page for all). The token is never written anywhere. */
int ml_gateway_resolve(const struct ml_env *env, const char *token, struct ml_gateway_who *out);

/* Where a participant goes after the gate. */
struct ml_gateway_dest {
	char *url;        /* owned: the 303's Location; NULL while kind is "opening" */
	const char *kind; /* "host_url", "platform_url", "personal_token" (Jitsi/JaaS JWT,
	                   * minted now), "video_page" (Twilio: a video page, the access token
	                   * in the fragment); "opening": a lazy platform's room (Twilio) is
	                   * being opened now, nothing was recorded: ask again shortly */
};

void ml_gateway_dest_clear(struct ml_gateway_dest *d);

/* The request's side of a pass, for the record. */
struct ml_gateway_visit {
	const char *ip;         /* remote address, may be NULL */
	const char *user_agent; /* as sent, may be NULL: cut to 200 bytes, control characters
	                         * replaced, before it is stored */
	bool again;             /* asking again after an "opening": the open was asked for */
};

/* The pass: works out where `who` goes now (the host to the host/start URL; a personal
 * JWT or Twilio access token minted at this moment, valid ML_GATEWAY_TOKEN_TTL_S; a Twilio
 * room opened first when it is not yet), and records it: the audit entry
 * participant.passed {participant_id, role, destination, user_agent} with the visit's
 * address, actor "participant:<id>". The caller checked the gate and the hold. A Twilio
 * room not open yet is opened first: out->kind "opening" (no url, no pass recorded), and
 * the caller asks again shortly (api/gateway_page.c defers the request).
 * ML_EUNAVAIL (ml_error_set) when the meeting cannot be entered right now. */
int ml_gateway_pass(const struct ml_env *env, const struct ml_gateway_who *who,
                    const struct ml_gateway_visit *visit, struct ml_gateway_dest *out);

/* --- The links, kept with the booking (inside the caller's transaction) --- */

/* Records the hash of every participant's current link (a link already recorded is left as
 * it is). ml_booking_save calls it; a booking saved before the gateway existed gets its links
 * at its next save or when its participants are listed. */
int ml_gateway_links_sync(struct ml_tx *tx, const struct ml_platform_settings *ps,
                          const char *org_id, json_t *booking, json_t *host);

/* The participant's personal link PUBLIC_URL/j/{token} (caller frees), NULL without a
 * gateway secret. */
char *ml_gateway_link(const struct ml_platform_settings *ps, const char *org_id, json_t *booking,
                      const char *participant_id);

#endif
