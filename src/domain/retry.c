#include "domain/retry.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int64_t ml_retry_delay_ms(int attempt, int64_t base_ms, int64_t cap_ms, int64_t retry_after_ms,
			  uint32_t rnd)
{
	int64_t window = base_ms;
	for (int i = 1; i < attempt && window < cap_ms; i++)
		window *= 2;
	if (window > cap_ms)
		window = cap_ms;
	/* "Equal jitter": half fixed, half random, so retries spread out but never bunch at 0. */
	int64_t delay = window / 2 + (int64_t)(rnd % (uint32_t)(window / 2 + 1));
	if (retry_after_ms > delay)
		delay = retry_after_ms;
	return delay;
}


/* IMF-fixdate, the only HTTP-date form servers may send (RFC 9110 §5.6.7). */
static int http_date(const char *s, int64_t *out)
{
	static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	char wd[4], mon[4], gmt[4];
	int d, y, h, mi, se;
	if (sscanf(s, "%3s, %d %3s %d %d:%d:%d %3s", wd, &d, mon, &y, &h, &mi, &se, gmt) != 8 ||
	    strcmp(gmt, "GMT") != 0)
		return -1;
	for (unsigned m = 0; m < 12; m++)
		if (strcmp(mon, months[m]) == 0) {
			*out = ml_days_from_civil(y, m + 1, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
			return 0;
		}
	return -1;
}

int ml_retry_after_parse(const char *value, int64_t now_s, int64_t *delay_ms)
{
	char *end;
	int64_t at;

	while (*value == ' ')
		value++;
	if (!*value)
		return -1;
	long long secs = strtoll(value, &end, 10);
	if (end != value && (*end == '\0' || *end == ' ') && secs >= 0) {
		*delay_ms = secs * 1000;
		return 0;
	}
	if (ml_time_parse(value, &at) == 0 || http_date(value, &at) == 0) {
		*delay_ms = at > now_s ? (at - now_s) * 1000 : 0;
		return 0;
	}
	return -1;
}
