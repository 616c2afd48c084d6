/* Token buckets by key (an API key id): `rps` tokens a second, at most `burst` kept. The
 * buckets are spread over independently locked shards, so requests of different keys rarely
 * meet on a lock and one key's request holds its shard's lock for a few arithmetic
 * operations. A bucket lives as long as the table (keys are the store's API keys: bounded). */
#ifndef ML_CORE_RATELIMIT_H
#define ML_CORE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define ML_RATELIMIT_KEY_MAX 40 /* longer keys are cut: ids are shorter */

struct ml_ratelimit;

struct ml_ratelimit *ml_ratelimit_new(void);
/* Accepts NULL. */
void ml_ratelimit_free(struct ml_ratelimit *rl);

/* Takes one token from key's bucket at now_ms (a monotonic clock). True when there was one;
 * false with *retry_ms set to the wait until there is. A new bucket starts full. rps <= 0
 * always allows and keeps no state; burst < 1 counts as 1. */
bool ml_ratelimit_take(struct ml_ratelimit *rl, const char *key, int64_t rps, int64_t burst,
		       int64_t now_ms, int64_t *retry_ms);

#endif
