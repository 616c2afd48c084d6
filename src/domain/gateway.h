/* The join gateway's pure rules (docs/gateway.md): who the participants of a booking are,
 * the personal link token of each, and the time gate. No I/O: the meeting room
 * (meeting/gateway.h) stores the links' hashes and records the passes. */
#ifndef ML_DOMAIN_GATEWAY_H
#define ML_DOMAIN_GATEWAY_H

#include "providers/provider.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A token is base64url (no padding) of the whole HMAC-SHA256: 43 characters, 256 bits. */
#define ML_GATEWAY_TOKEN_LEN 43

/* The participants of a booking, in a fixed order: the host (host_participant_id, with the
 * host document's name and email), the customer, the attendees, then the participants added
 * through the API with another role (booking.extra_participants: host, customer, admin).
 * Returns a new array (free() it; the strings are borrowed from the documents) and its
 * length in *n. A participant without an id is left out. */
struct ml_participant_ref *ml_gateway_people(json_t *booking, json_t *host, size_t *n);

/* Finds participant `pid` of the booking; false when it is not (or no longer) one. */
bool ml_gateway_person(json_t *booking, json_t *host, const char *pid,
                       struct ml_participant_ref *out);

/* The participant's link generation (booking.link_generations[pid], 0 when absent). */
int64_t ml_gateway_generation(json_t *booking, const char *pid);

/* Bumps the link generation of every participant of the booking (a regenerate): every
 * earlier link stops working once its stored hash is revoked. */
void ml_gateway_generations_bump(json_t *booking, json_t *host);

/* The personal token of participant `pid`: base64url(HMAC-SHA256(secret, "meetlink-gateway"
 * 0 org 0 booking 0 participant 0 generation)), NUL-terminated in out. Deterministic, so a
 * link can be shown again (lists, emails) while the store keeps only its SHA-256. Returns
 * 0, or -1 when there is no secret. */
int ml_gateway_token(char out[ML_GATEWAY_TOKEN_LEN + 1], const uint8_t *secret, size_t secret_len,
                     const char *org_id, const char *booking_id, const char *pid,
                     int64_t generation);

/* The hex SHA-256 of a token, as the store keeps it. */
void ml_gateway_token_hash(const char *token, char out[65]);

/* True when `s` has the shape of a token (43 base64url characters): anything else is not
 * looked up. */
bool ml_gateway_token_shape(const char *s);

/* PUBLIC_URL/j/{token} for participant `pid` (caller frees), or NULL when the settings have
 * no gateway secret. */
char *ml_gateway_url(const struct ml_platform_settings *s, const char *org_id, json_t *booking,
                     const char *pid);
/* The same from the parts (an email job, which carries no booking document). */
char *ml_gateway_url_of(const struct ml_platform_settings *s, const char *org_id,
                        const char *booking_id, const char *pid, int64_t generation);

/* --- The time gate --- */

enum ml_gate {
	ML_GATE_OPEN = 0,   /* go on: the hold step (waiting room), then the pass */
	ML_GATE_EARLY,      /* before the window opens: the countdown page */
	ML_GATE_ENDED,      /* past the end plus the grace, or the booking completed */
	ML_GATE_CANCELLED,  /* the booking was cancelled or rejected */
	ML_GATE_NOT_READY,  /* no meeting yet (a pending booking, a meeting being made) */
	ML_GATE_FAILED,     /* the meeting could not be made */
};

struct ml_gate_in {
	const char *booking_status; /* "pending", "confirmed", … */
	const char *meeting_status; /* "none", "pending", "ready", "error", "cancelled" */
	const char *role;           /* host and admin are never held by the time */
	int64_t start, end, now;    /* Unix seconds */
	int64_t window_s;           /* the gate opens this long before the start */
	int64_t grace_s;            /* and closes this long after the end */
	bool ended;                 /* the meeting was ended for everyone: closed to all */
};

/* Where a participant stands at `now`. Cancelled wins over everything; then a meeting ended
 * for everyone (hosts and admins included); then the time (for customers and attendees
 * only); then the meeting's own state. */
enum ml_gate ml_gate_decide(const struct ml_gate_in *in);

/* "open", "early", "ended", "cancelled", "not_ready", "failed". */
const char *ml_gate_name(enum ml_gate g);

#endif
