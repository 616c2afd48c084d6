/* Time: RFC 3339 parsing and formatting, the clock, and IANA time-zone names. */
#ifndef ML_CORE_TIMEUTIL_H
#define ML_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stdint.h>

#define ML_RFC3339_MAX 32

/* The instants meetlink keeps: what Unix time, RFC 3339 and an invitation can all carry.
 * libical 3.0 writes no DATE-TIME past the year 3000 (DTSTART comes out as 00000000T000000),
 * and from about 2584 its expansion of a VTIMEZONE's rules (ours and that of any reader
 * built on it) puts December in summer time; up to 2500 every zone round-trips. Every time
 * from outside, and every time computed from one (a booking's end), is checked against
 * these; docs/openapi.json says the same. */
#define ML_TIME_MIN INT64_C(0)           /* 1970-01-01T00:00:00Z */
#define ML_TIME_MAX INT64_C(16725225599) /* 2499-12-31T23:59:59Z */
#define ML_TIME_MAX_YEAR 2500            /* local wall-clock years an invitation may hold */
#define ML_TIME_RANGE_TEXT "between 1970-01-01T00:00:00Z and 2499-12-31T23:59:59Z"

/* Parses "2026-12-01T15:00:00Z" / "...+01:00" / with fractional seconds (dropped) into Unix
 * seconds. An offset is required, and the instant (in UTC, after the offset) must lie in
 * ML_TIME_MIN..ML_TIME_MAX: "1970-01-01T00:00:00+01:00" is refused. Returns 0 or ML_EINVAL
 * (no error detail set); *out is untouched on failure. */
int ml_time_parse(const char *s, int64_t *out);
/* Whether t lies in ML_TIME_MIN..ML_TIME_MAX. */
bool ml_time_in_range(int64_t t);
/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
int64_t ml_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Formats Unix seconds as "2026-12-01T15:00:00Z"; t must be in range (ml_time_in_range). */
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
