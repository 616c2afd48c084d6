/* The waiting room's machine (SPEC §5, docs/waiting-room.md): where one participant of a
 * booking stands between asking to join and being in the meeting. Pure: no I/O.
 *
 *   (none)   --ask-->    waiting     the guest confirmed their name (asks = 1)
 *   waiting  --admit-->  admitted    a host (or the API) let them in; coming back goes
 *                                    straight in (ask again: no change)
 *   waiting  --reject--> rejected    with an optional reason
 *   rejected --ask-->    waiting     while asks < ML_WAITING_MAX_ASKS (asks + 1)
 *   waiting  --leave-->  left        the guest went away; asking again waits again
 *   left     --ask-->    waiting
 *   waiting  --close-->  closed      the booking was cancelled, rejected or completed
 *
 * A decision (admit, reject) applies only to someone waiting: of two host tabs deciding at
 * once, or an admit racing the guest's leave, the later one is refused with the state the
 * earlier one left.
 */
#ifndef ML_DOMAIN_WAITING_H
#define ML_DOMAIN_WAITING_H

#include <stdbool.h>

/* How many times one guest may ask to be let in (the first ask included). */
#define ML_WAITING_MAX_ASKS 3
/* How many times one guest may move themselves (ask, leave) in all: a guest toggling
 * leave and ask writes an audit entry and a webhook each time, so it is bounded too. */
#define ML_WAITING_MAX_GUEST_STEPS 20
/* A rejection's reason, at most this many bytes. */
#define ML_WAITING_REASON_MAX 500

enum ml_wr_action { ML_WR_ASK, ML_WR_LEAVE, ML_WR_ADMIT, ML_WR_REJECT, ML_WR_CLOSE };

enum ml_wr_verdict {
	ML_WR_MOVE,   /* *next is the new state */
	ML_WR_SAME,   /* nothing changes, and that is an answer (asking while admitted) */
	ML_WR_REFUSE, /* *why names the reason: "not_waiting", "asks_exhausted", "closed" */
};

/* What `action` does to a participant in `state` (NULL: never asked) who has asked `asks`
 * times. */
enum ml_wr_verdict ml_wr_next(const char *state, enum ml_wr_action action, int asks,
                              const char **next, const char **why);

/* True for the states a row can hold. */
bool ml_wr_state_valid(const char *state);

#endif
