/* The booking's and its meeting's life (SPEC §3): every transition the API and the worker
 * make, each deciding by the domain's state machines (domain/booking.h) and ending in the one
 * save path (ml_booking_save: the document, its audit entries, the mail and webhooks they
 * call for, all in the caller's transaction).
 *
 * The API's handlers parse, authorize (load the booking of the request's organization) and
 * call one of these; the meeting jobs (meeting_job.c, outcome.c) call the same. Nothing here
 * answers HTTP: a refused transition is ML_ECONFLICT "invalid_transition", a bad value
 * ML_EINVAL naming its field, with the detail in ml_error_set().
 */
#ifndef ML_MEETING_BOOKING_H
#define ML_MEETING_BOOKING_H

#include "domain/booking.h"
#include "providers/provider.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A booking lasts at most this long (seconds). */
#define ML_BOOKING_MAX_DURATION (7 * 24 * 3600)

/* Who changes a booking, and what the change needs. */
struct ml_step {
	const struct ml_platform_settings *platforms; /* links and tokens (providers/) */
	const char *org_id;
	const char *actor; /* on the audit trail: an API key id, "worker", "provider:zoom" */
	const char *ip;    /* the request's address, or NULL */
	bool wake;         /* out: work was queued; wake the worker once it is committed */
	/* The organization credentials of local platforms (JaaS: its app id and key), or NULL
	 * (then only the server's settings are used). */
	const struct ml_vault *vault;
	/* Conflicts (issue 18 §5): a booking confirmed (created so, confirmed, rescheduled while
	 * confirmed) may not overlap another confirmed or in_progress booking of its host unless
	 * allow_overlap; when it does the step fails ML_ECONFLICT "booking_conflict" and
	 * `conflict` names the other booking. */
	bool allow_overlap;
	bool has_conflict;              /* out */
	struct ml_booking_span conflict; /* out */
	struct ml_booking_span subject;  /* out: the booking refused */
};

/* The 409's detail for st->conflict: {"id", "start", "end"} (a new reference). */
json_t *ml_booking_conflict_json(const struct ml_step *st);
/* {"id", "start", "end"} of a span (a new reference). */
json_t *ml_booking_span_json(const struct ml_booking_span *b);

/* The conflict check of a confirmed booking at its own start and end against the other
 * confirmed and in_progress bookings of its (current) host_id; ML_ECONFLICT
 * "booking_conflict" naming `field` when one overlaps (st->conflict, st->subject filled). */
int ml_booking_check_overlap(struct ml_tx *tx, struct ml_step *st, json_t *booking,
                             const char *field);

/* The service and host documents of a booking (new references). A deleted service or host
 * yields a placeholder, so a booking stays workable after its service is gone. */
int ml_booking_related(struct ml_tx *tx, const char *org_id, json_t *booking, json_t **service,
                       json_t **host);

/* Writes what a step did, in tx: the booking (inserted when `insert`, else stamped and
 * updated), one audit event per entry of `events` ({type, data}, actor st->actor) and the
 * emails and webhooks they call for (notify/outbox.h). */
int ml_booking_save(struct ml_tx *tx, const struct ml_step *st, json_t *booking, json_t *service,
                    json_t *host, json_t *events, bool insert);

/* A new booking: `booking` holds what the request said (validated), service and host are
 * the documents it names. Fills in the host, organizer, title, timezone, times (without
 * has_end: the service's duration after start), participants and the meeting object;
 * confirms it at once when `confirm`; inserts it. */
int ml_booking_create(struct ml_tx *tx, struct ml_step *st, json_t *booking, json_t *service,
                      json_t *host, int64_t start, int64_t end, bool has_end, bool confirm);

/* One lifecycle step of SPEC §3 (confirm, reschedule, cancel, reject, complete). */
struct ml_booking_change {
	enum ml_booking_action action;
	int64_t start, end; /* reschedule: the new times (without has_end: same duration) */
	bool has_end;
	const char *timezone; /* reschedule, may be NULL */
	const char *reason;   /* cancel, reject, complete; may be NULL */
};

/* Applies `c` to `booking` (loaded by the caller, changed in place) and saves it. Confirming
 * a booking on a remote platform leaves its meeting pending (the pipeline makes it). */
int ml_booking_apply(struct ml_tx *tx, struct ml_step *st, json_t *booking,
                     const struct ml_booking_change *c);

/* Ends the booking's meeting for everyone (end.c; POST …/end and the host panel): the
 * booking turns completed, booking.ended records the end (and what the platform can do:
 * end.c, docs/providers.md), the join gateway closes, the waiting room is told, a platform
 * with an end call gets a meeting.end job (st->wake), one whose end is settled at once the
 * meeting.ended event; saved. *again: it was ended before, nothing is written and `booking`
 * stands as it is. ML_ECONFLICT booking_cancelled (cancelled or rejected),
 * invalid_transition (pending), no_meeting (not online). `reason` may be NULL. */
int ml_booking_end(struct ml_tx *tx, struct ml_step *st, json_t *booking, const char *reason,
                   bool *again);

/* What the API does to a booking's meeting by hand (change.c). */
enum ml_meeting_op {
	ML_MEETING_PUT,        /* a link typed by hand replaces the meeting */
	ML_MEETING_RETRY,      /* make a failed meeting again */
	ML_MEETING_REGENERATE, /* a new meeting replaces a ready or failed one */
};
struct ml_meeting_change {
	enum ml_meeting_op op;
	const char *join_url, *host_url, *passcode; /* PUT; host_url and passcode may be NULL */
};

/* Applies `c` to the meeting of `booking` (loaded by the caller, changed in place) and
 * saves it. A meeting left pending is made by the pipeline. */
int ml_booking_meeting_change(struct ml_tx *tx, struct ml_step *st, json_t *booking,
                              const struct ml_meeting_change *c);

/* After a service's platform or host changed (before/after: its documents): every open
 * booking of the service follows, its current meeting moved to meeting.history and deleted
 * at the provider, a new one made on the new platform/host. A confirmed booking moved to a
 * new host is checked for conflicts with that host's bookings first (issue 18 §5: 409
 * booking_conflict naming host_id unless st->allow_overlap). */
int ml_booking_follow_service(struct ml_tx *tx, struct ml_step *st, json_t *before, json_t *after);

/* The one path for a meeting deleted at the provider (SPEC §3, docs/pipeline.md §5): when
 * `meeting_id` is the booking's current meeting and `detected_by` may report it ("update":
 * a ready meeting; a provider's webhook: a ready or pending one), the meeting turns error
 * with code meeting_deleted_at_provider, the audit entry meeting.deleted_at_provider says
 * who saw it, the notifications go out, and the booking is saved. *reported says whether it
 * was (else nothing is written: our own delete of a replaced meeting, say). external_id
 * may be NULL (the meeting's own). */
int ml_meeting_deleted_at_provider(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                                   json_t *service, json_t *host, const char *meeting_id,
                                   const char *platform, const char *external_id,
                                   const char *detected_by, bool *reported);

#endif
