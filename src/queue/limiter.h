/* Per-connection limits of provider calls (worker thread only; see limiter.c). */
#ifndef ML_QUEUE_LIMITER_H
#define ML_QUEUE_LIMITER_H

#include <stdint.h>

struct ml_limiter;

struct ml_limiter *ml_limiter_new(void);
void ml_limiter_free(struct ml_limiter *l);

/* Takes a slot for one job on connection `key`: 0 when taken (give it back with
 * ml_limiter_give), -1 when max_inflight jobs already hold one, or the milliseconds until
 * the rate (qps, a token bucket with a one-second burst) allows the next call. Limits <= 0
 * are off (and nothing needs giving back then, though giving is harmless). */
int64_t ml_limiter_take(struct ml_limiter *l, const char *key, int max_inflight, double qps,
                        int64_t now_ms);
/* ml_limiter_take for a job that goes first (an instant meeting's create, issue 18 §4): when
 * it must wait, the key is held for it (ordinary takes answer -1) until it takes a slot or
 * `hold_ms` pass, so the next free slot is its, whatever else is waiting. */
int64_t ml_limiter_take_first(struct ml_limiter *l, const char *key, int max_inflight,
                              double qps, int64_t now_ms, int64_t hold_ms);
/* Counts one more call against the rate of a slot already held (a second request of a job). */
void ml_limiter_spend(struct ml_limiter *l, const char *key, double qps, int64_t now_ms);
void ml_limiter_give(struct ml_limiter *l, const char *key);

#endif
