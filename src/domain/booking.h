/* Booking and meeting state machines (SPEC §3). Pure: no I/O. */
#ifndef ML_DOMAIN_BOOKING_H
#define ML_DOMAIN_BOOKING_H

#include <stdbool.h>

enum ml_booking_action {
	ML_BK_CONFIRM,
	ML_BK_RESCHEDULE,
	ML_BK_CANCEL,
	ML_BK_REJECT,
	ML_BK_START,
	ML_BK_COMPLETE,
};

/* The status a booking in `status` moves to under `action`, or NULL when the transition is
 * illegal (the API answers 409 with the current status). Reschedule keeps the status. */
const char *ml_booking_next(const char *status, enum ml_booking_action action);
/* True for a status name the API knows. */
bool ml_booking_status_valid(const char *status);
/* The action's name, for error messages ("confirm"). */
const char *ml_booking_action_name(enum ml_booking_action action);

/* Meeting statuses: none → pending → ready; pending → error; ready|pending|error → cancelled;
 * error → pending (retry); ready|error → pending (regenerate). */
bool ml_meeting_can(const char *from, const char *to);

#endif
