/* Helpers shared by the local drivers (jitsi, jaas) and any driver that derives a provider-side
 * name from the booking: room names, URL escaping, the join window. */
#ifndef ML_PROVIDERS_ROOM_H
#define ML_PROVIDERS_ROOM_H

#include "providers/provider.h"

#include <stddef.h>

#define ML_ROOM_MAX 64

/* A deterministic, unguessable room name for the booking: a slug of the title (at most 24
 * characters of [a-z0-9-], "meeting" when empty) then '-' and 26 base32 characters (130 bits)
 * of HMAC-SHA256(room_secret, org_id, booking_id, generation). Only [a-z0-9-], so it is already
 * what jitsi's getBackendSafeRoomName() makes of it. Returns 0, or -1 when the settings have
 * no room secret. */
int ml_room_name(char out[ML_ROOM_MAX], const struct ml_platform_settings *s,
                 const struct ml_meeting_req *req);

#include "core/url.h"

/* The meeting window a personal token is valid for: [start - early, end + late]. */
void ml_join_window(const struct ml_platform_settings *s, const struct ml_meeting_req *req,
                    int64_t *nbf, int64_t *exp);

/* True for "host" and "admin". */
bool ml_role_is_moderator(const char *role);

/* A local room keeps its link across reschedules: when req carries the current meeting, fills
 * `out` with it and returns true; false when there is none yet (create one). */
bool ml_room_keep(const struct ml_meeting_req *req, struct ml_meeting *out);

/* Local rooms exist only while people are in them: there is nothing to delete. */
int ml_room_delete(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
		   struct ml_perr *err);

#endif
