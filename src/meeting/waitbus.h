/* The waiting rooms' change signal: who is watching which booking, and the one call that
 * tells them something changed.
 *
 * The signal carries no state. ml_waiting_changed() is called after a commit that changed a
 * booking's waiting room (or its status); every subscriber of that booking is woken and
 * re-reads what it shows from the store. That is the seam for a store shared by several
 * daemons: there a LISTEN/NOTIFY listener calls ml_waiting_changed() for the commits of other
 * nodes, and nothing else changes.
 *
 * A subscriber costs no thread and no CPU while nothing changes: waking is a callback (the
 * live pages resume a suspended HTTP connection or signal a condition variable with it).
 */
#ifndef ML_MEETING_WAITBUS_H
#define ML_MEETING_WAITBUS_H

#include <stddef.h>

struct ml_waitbus;
struct ml_waitsub;

struct ml_waitbus *ml_waitbus_new(void);
/* Every subscription must be gone. Accepts NULL. */
void ml_waitbus_free(struct ml_waitbus *bus);

/* After a commit that changed the waiting room or the status of booking_id: wakes its
 * subscribers (each wake callback runs on the caller's thread, under the bus's lock: it must
 * only hand the signal on). Cheap when nobody watches. bus may be NULL (no live pages). */
void ml_waiting_changed(struct ml_waitbus *bus, const char *org_id, const char *booking_id);

/* Several daemons on one store: ml_waiting_changed also signals the other nodes (the store's
 * "waiting" signal, payload "org_id/booking_id"), whose subscription to it calls
 * ml_waitbus_remote(bus, payload): their local watchers of that booking are woken (all of
 * them with key NULL: after a reconnect, what changed meanwhile is unknown). */
struct ml_store;
void ml_waitbus_set_store(struct ml_waitbus *bus, struct ml_store *store);
void ml_waitbus_remote(struct ml_waitbus *bus, const char *key);

/* Watches booking_id of org_id: wake(arg) after each ml_waiting_changed of it. */
struct ml_waitsub *ml_waitbus_subscribe(struct ml_waitbus *bus, const char *org_id,
                                        const char *booking_id, void (*wake)(void *arg),
                                        void *arg);
/* Ends a subscription: once it returns, wake is not running and never runs again. Accepts
 * NULL. */
void ml_waitbus_unsubscribe(struct ml_waitsub *sub);

/* Subscriptions open now (all bookings). */
size_t ml_waitbus_count(struct ml_waitbus *bus);

#endif
