/* Local wall-clock time in an IANA zone to UTC, read from the system's TZif files without
 * touching the process-wide TZ (handlers run on many threads). Providers such as Zoom accept
 * "2026-12-01T15:00:00" plus a "timezone" field. */
#ifndef ML_SANDBOX_TZLOCAL_H
#define ML_SANDBOX_TZLOCAL_H

#include <stdbool.h>
#include <stdint.h>

/* The UTC offset in seconds of zone `tz` at Unix time `t`. False when the zone is unknown. */
bool ml_sb_tz_offset(const char *tz, int64_t t, long *off);
/* Converts `local` (wall-clock seconds as if it were UTC) in zone `tz` to Unix time. */
bool ml_sb_tz_local_to_utc(const char *tz, int64_t local, int64_t *utc);

#endif
