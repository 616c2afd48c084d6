/* The invitation of a booking: turns the booking document into the iCalendar event
 * (notify/ics.h) the same way for GET …/invite.ics and for every email. */
#ifndef ML_NOTIFY_INVITE_H
#define ML_NOTIFY_INVITE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ml_invite {
	json_t *booking;        /* the booking document (borrowed) */
	json_t *host;           /* {name, email} of the organizer (borrowed) */
	const char *public_url; /* MEETLINK_PUBLIC_URL: its host names the UID's domain */
	int64_t dtstamp;        /* Unix seconds: when the invitation is made */
	bool personal;          /* true: use join_url below (a recipient's own link, may be
	                         * NULL for none) instead of the meeting's shared link */
	const char *join_url;
};

/* Builds the invitation: METHOD:CANCEL for a cancelled booking, else REQUEST; the UID is
 * "<booking id>@<public host>" for the booking's whole life and SEQUENCE its `sequence`.
 * *method (may be NULL) receives "REQUEST" or "CANCEL". Caller frees *out. ML_ECONFLICT for a
 * rejected booking (it has no invitation); ML_EINVAL from ml_ics_build(). */
int ml_invite_build(char **out, const char **method, const struct ml_invite *inv);

/* "Jitsi Meet" for "jitsi", … (the driver's label); the name itself when unknown; "" for
 * NULL. Borrowed. */
const char *ml_invite_platform_label(const char *platform);

#endif
