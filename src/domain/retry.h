/* Retry policy: exponential backoff with jitter, and the provider's Retry-After. Pure. */
#ifndef ML_DOMAIN_RETRY_H
#define ML_DOMAIN_RETRY_H

#include <stdint.h>

/* The delay before attempt `attempt + 1` after `attempt` failed (attempt >= 1): full jitter
 * over an exponential window (base * 2^(attempt-1), capped), never below half the window; a
 * provider's retry_after_ms (> 0) wins when it asks for longer. `rnd` is any 32-bit random. */
int64_t ml_retry_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms,
			  uint32_t rnd);

/* Parses a Retry-After value: delay seconds ("120"), an HTTP date ("Wed, 21 Oct 2015 07:28:00
 * GMT") or an ISO-8601 / RFC 3339 time ("2026-11-22T00:00:00Z", Zoom's daily limit), relative
 * to now_s. Returns 0 with *delay_ms >= 0, or -1 when it is none of those. */
int ml_retry_after_parse(const char *value, int64_t now_s, int64_t *delay_ms);

#endif
