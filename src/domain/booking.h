/* Booking and meeting state machines (SPEC §3). Pure: no I/O. */
#ifndef ML_DOMAIN_BOOKING_H
#define ML_DOMAIN_BOOKING_H

#include <jansson.h>
#include <stdbool.h>

enum ml_booking_action {
	ML_BK_CONFIRM,
	ML_BK_RESCHEDULE,
	ML_BK_CANCEL,
	ML_BK_REJECT,
	ML_BK_START,
	ML_BK_COMPLETE,
	ML_BK_END, /* the meeting ended for everyone (POST …/end): completed, and a completed
		    * booking stays so (ending is idempotent) */
};

/* The status a booking in `status` moves to under `action`, or NULL when the transition is
 * illegal (the API answers 409 with the current status). Reschedule keeps the status. */
const char *ml_booking_next(const char *status, enum ml_booking_action action);
/* True for a status name the API knows. */
bool ml_booking_status_valid(const char *status);
/* A booking is created pending, or confirmed at once when its create asks for it: true for a
 * status a create may ask for (pending, confirmed); *confirm says which. */
bool ml_booking_create_status(const char *status, bool *confirm);
/* The status every new booking starts in (pending). */
const char *ml_booking_status_new(void);
/* The statuses of a booking still to come or under way (pending, confirmed, in_progress),
 * NULL-terminated: a service or host with such bookings is in use. */
extern const char *const ml_booking_live[];
/* The action's name, for error messages ("confirm"). */
const char *ml_booking_action_name(enum ml_booking_action action);

/* What happens to a booking's meeting object. Each event moves it from one of a few statuses
 * to one status (the table in booking.c is the whole machine):
 *
 *   REQUEST         none|error → pending   the pipeline is asked to make it
 *   MADE            pending|error → ready  the pipeline's create (or open) finished; an error
 *                                          meeting is resumed by a job a reconnect woke
 *   FAILED          pending|error → error  the pipeline cannot make it (for now or for good)
 *   MADE_HERE       none|error → ready     made at once: a local platform, a lazy link, a
 *                                          link typed by hand
 *   FAILED_HERE     none|error → error     a local driver or a lazy link refused
 *   UPDATED         ready → ready          updated in place (same meeting)
 *   OPENED          ready → ready          a lazy platform's room opened near the start
 *   GONE            ready → error          an update found it deleted at the provider
 *   GONE_REPORTED   ready|pending → error  the provider's webhook reports it deleted
 *   CANCEL          none|pending|ready|error → cancelled
 *   RETRY           error → pending        POST …/meeting/retry (a local platform goes on to
 *                                          MADE_HERE or FAILED_HERE at once)
 *   REGENERATE      ready|error → pending  POST …/meeting/regenerate (a new meeting replaces
 *                                          it; a local one is made at once)
 */
enum ml_meeting_event {
	ML_MEV_REQUEST,
	ML_MEV_MADE,
	ML_MEV_FAILED,
	ML_MEV_MADE_HERE,
	ML_MEV_FAILED_HERE,
	ML_MEV_UPDATED,
	ML_MEV_OPENED,
	ML_MEV_GONE,
	ML_MEV_GONE_REPORTED,
	ML_MEV_CANCEL,
	ML_MEV_RETRY,
	ML_MEV_REGENERATE,
};

/* The status a meeting in `status` (may be NULL: none) moves to under `ev`, or NULL when
 * the event does not apply to it. */
const char *ml_meeting_next(const char *status, enum ml_meeting_event ev);
/* True when some event moves a meeting from `from` to `to`. */
bool ml_meeting_can(const char *from, const char *to);

/* What a meeting object's status says, for the rooms that only read it (the API's answer
 * code, the mail plan, the invitation); NULL or a meeting without a status is neither. */
bool ml_meeting_is_ready(json_t *meeting);   /* its link works */
bool ml_meeting_is_pending(json_t *meeting); /* the pipeline is making (or remaking) it */

#endif
