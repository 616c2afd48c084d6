#include "core/timeutil.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/mem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t fixed_now;

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant). */
int64_t ml_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

int ml_time_parse(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	size_t n = strlen(s);

	if (n < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		return ML_EINVAL;
	s += 19;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return ML_EINVAL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (digits(s + 1, 2, &oh) || s[3] != ':' || digits(s + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return ML_EINVAL;
		s += 6;
	} else {
		return ML_EINVAL;
	}
	if (*s || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || se > 60)
		return ML_EINVAL;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return ML_EINVAL;
	if (se == 60)
		se = 59; /* leap second: clamp, as most systems do */
	int64_t t = ml_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
	t -= (int64_t)sign * (oh * 3600 + om * 60);
	if (!ml_time_in_range(t))
		return ML_EINVAL;
	*out = t;
	return 0;
}

bool ml_time_in_range(int64_t t)
{
	return t >= ML_TIME_MIN && t <= ML_TIME_MAX;
}

void ml_time_format(int64_t t, char out[ML_RFC3339_MAX])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, ML_RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ml_clock_set_fixed(int64_t seconds)
{
	fixed_now = seconds;
}

int64_t ml_now(void)
{
	int64_t f = fixed_now;
	return f ? f : (int64_t)time(NULL);
}

int64_t ml_now_ms(void)
{
	struct timespec ts;
	int64_t f = fixed_now;
	if (f)
		return f * 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ml_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool tz_file_valid(const char *name)
{
	char path[256], magic[4];
	size_t n = strlen(name);
	FILE *f;

	if (n == 0 || n > 64 || name[0] == '/' || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("_+-/", *p)))
			return false;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
	if (!(f = fopen(path, "rb")))
		return false;
	n = fread(magic, 1, 4, f);
	fclose(f);
	return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* The names tz_file_valid() accepted, so that validating a time zone (every booking, every
 * sandbox event) does not open a zoneinfo file each time. Only acceptances are kept: a zone
 * does not disappear under a running process, while a name refused now may be installed
 * later; and however many names clients send, the accepted ones are bounded by the zoneinfo
 * files. Readers take no lock: an entry is complete before it is published at the head of
 * its bucket, and never freed. */
#define TZ_BUCKETS 256

struct tz_name {
	struct tz_name *next;
	char name[];
};

static struct tz_name *_Atomic tz_known[TZ_BUCKETS];

bool ml_tz_valid(const char *name)
{
	_Atomic(struct tz_name *) *bucket = &tz_known[ml_hash_str(name, 0) % TZ_BUCKETS];
	struct tz_name *head = atomic_load_explicit(bucket, memory_order_acquire);
	for (struct tz_name *e = head; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return true;
	if (!tz_file_valid(name))
		return false;
	size_t n = strlen(name) + 1;
	struct tz_name *e = ml_malloc(sizeof *e + n);
	memcpy(e->name, name, n);
	/* Two threads may both add a new name: a duplicate entry is harmless. */
	e->next = head;
	while (!atomic_compare_exchange_weak_explicit(bucket, &e->next, e, memory_order_release,
						      memory_order_acquire))
		;
	return true;
}
