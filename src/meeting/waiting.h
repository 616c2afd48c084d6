/* The waiting room of a booking's meeting (SPEC §5, docs/waiting-room.md): who asked to
 * join and where each one stands. Every transition is decided by the domain's machine
 * (domain/waiting.h), written as the participant's admission row (store: admissions), one
 * audit entry with the step's actor, and the webhooks it calls for (participant.waiting,
 * participant.admitted, participant.rejected), all in the caller's transaction.
 *
 * After the commit the caller signals the change (meeting/waitbus.h: ml_waiting_changed),
 * and the live pages re-read the rows from the store.
 */
#ifndef ML_MEETING_WAITING_H
#define ML_MEETING_WAITING_H

#include "domain/waiting.h"
#include "meeting/booking.h"

#include <jansson.h>
#include <stdbool.h>

/* The participant `pid` of the booking (host, customer, attendee, or one the gateway added):
 * fills *out with borrowed strings and returns true, or false when the booking has none. */
bool ml_booking_participant(json_t *booking, const char *pid, struct ml_participant_ref *out);

/* Whether the booking's meeting holds a participant of `role` in the waiting room: the
 * service's settings.waiting_room, or, when the service leaves it null, the organization's
 * settings.waiting_room_default. Hosts and admins are never held. */
bool ml_waiting_enabled(json_t *service, json_t *org_settings);
bool ml_waiting_holds(json_t *service, json_t *org_settings, const char *role);

/* One participant's step. */
struct ml_waiting_change {
	enum ml_wr_action action;   /* ASK, LEAVE, ADMIT or REJECT */
	const char *participant_id;
	const char *name;   /* ASK: the name the guest confirmed (else the booking's) */
	const char *reason; /* REJECT: may be NULL */
};

/* Applies c to the booking's waiting room. *row (a new reference) is the participant's row
 * afterwards, also when the step is refused: ML_ECONFLICT with code "admission_conflict"
 * (not waiting: decided or left meanwhile), "asks_exhausted" or "booking_closed", so the
 * caller answers 409 with the current state. ML_ENOTFOUND: no such participant, or one who
 * never asked (ADMIT, REJECT, LEAVE). */
int ml_waiting_apply(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                     const struct ml_waiting_change *c, json_t **row);

/* Admits everyone waiting; *rows (a new array) holds the rows admitted (maybe none). */
int ml_waiting_admit_all(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                         json_t **rows);

/* The booking stopped being open (cancelled, rejected, completed, ended): everyone waiting
 * is told (their rows turn closed, the reason saying whether the meeting ended or was
 * cancelled). Called by ml_booking_apply and ml_booking_end. */
int ml_waiting_close(struct ml_tx *tx, const struct ml_step *st, json_t *booking);

/* A row as the API and the pages show it (a new object): participant_id, role, name,
 * state, since, decided_at, reason, asks, asks_left. */
json_t *ml_waiting_row_view(json_t *row);

#endif
