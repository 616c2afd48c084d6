/* Time: RFC 3339 parsing and formatting, the clock, and IANA time-zone names. */
#ifndef ML_CORE_TIMEUTIL_H
#define ML_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define ML_RFC3339_MAX 32

/* Parses "2026-12-01T15:00:00Z" / "...+01:00" / with fractional seconds (dropped) into Unix
 * seconds. An offset is required. Returns 0 or ML_EINVAL (no error detail set). */
int ml_time_parse(const char *s, int64_t *out);
/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
int64_t ml_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Formats Unix seconds as "2026-12-01T15:00:00Z". */
void ml_time_format(int64_t t, char out[ML_RFC3339_MAX]);
/* Wall clock in seconds and milliseconds; the monotonic clock in milliseconds. */
int64_t ml_now(void);
int64_t ml_now_ms(void);
int64_t ml_mono_ms(void);
/* Test hook: when non-zero, ml_now()/ml_now_ms() answer this fixed time. */
void ml_clock_set_fixed(int64_t seconds);

/* True when `name` is an IANA zone present in the system's tz database ("Europe/London", "UTC"). */
bool ml_tz_valid(const char *name);

#endif
