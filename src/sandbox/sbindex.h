/* Secondary indexes beside a provider's JSON state: a key (a Twilio room's UniqueName, a
 * Zoom host, a Teams user and externalId) → the ids of the objects stored under it, in the
 * order they were added. Lookups that walked every stored object under the sandbox lock
 * made it the bottleneck once it held thousands of them (make chaos, 20,000 bookings).
 *
 * An index lives outside the root, so GET /_sandbox/state, --state and reset see nothing of
 * it. It is tied to the root it was built for and the sandbox's state generation
 * (ml_sb_state_gen(): bumped when a reset or a --state load replaces a root), and empties
 * itself when either changes; the provider then rebuilds it from the root. It may hold ids
 * that no longer match (an object deleted, a room completed): callers check every candidate
 * against the stored object, so an index only has to be complete, never exact.
 *
 * Not thread-safe: used with the sandbox lock held, like the root. */
#ifndef ML_SANDBOX_SBINDEX_H
#define ML_SANDBOX_SBINDEX_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ml_sb_index {
	const json_t *root; /* the root it describes (compared, never dereferenced) */
	uint64_t gen;       /* ml_sb_state_gen() when built */
	json_t *map;        /* {key: [id, ...]}; NULL when empty or stale */
};

/* True when `ix` does not describe `root` as it is now: the index is then emptied and bound
 * to root, and the caller must add every stored object before its next lookup. */
bool ml_sb_index_stale(struct ml_sb_index *ix, const json_t *root);
/* Forgets everything (e.g. an object moved between keys): the next ml_sb_index_stale() is
 * true. */
void ml_sb_index_drop(struct ml_sb_index *ix);
/* Adds id under key (no-op when it is there already). */
void ml_sb_index_add(struct ml_sb_index *ix, const char *key, const char *id);
/* The ids under key, oldest first (a borrowed array), or NULL when none. */
json_t *ml_sb_index_get(const struct ml_sb_index *ix, const char *key);

#endif
