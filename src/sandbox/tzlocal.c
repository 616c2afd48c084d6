#include "sandbox/tzlocal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static bool safe_name(const char *tz)
{
	if (!tz || !*tz || tz[0] == '/' || strstr(tz, ".."))
		return false;
	for (const char *c = tz; *c; c++)
		if (!(*c == '/' || *c == '_' || *c == '-' || *c == '+' || (*c >= '0' && *c <= '9') ||
		      (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z')))
			return false;
	return true;
}

bool ml_sb_tz_offset(const char *tz, int64_t t, long *off)
{
	unsigned char *d = NULL;
	size_t len = 0, cap = 0, pos, tsz = 4;
	bool ok = false;
	char path[512];
	FILE *f;

	if (!safe_name(tz))
		return false;
	if (!strcmp(tz, "UTC") || !strcmp(tz, "GMT") || !strcmp(tz, "Etc/UTC")) {
		*off = 0;
		return true;
	}
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
	if (!(f = fopen(path, "rb")))
		return false;
	for (;;) {
		d = ml_grow(d, len, &cap, 1, 8192);
		size_t r = fread(d + len, 1, cap - len, f);
		if (!r)
			break;
		len += r;
		if (len > (1u << 20))
			break;
	}
	fclose(f);
	if (len < 44 || memcmp(d, "TZif", 4) != 0)
		goto done;
	pos = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint32_t isut = be32(d + pos + 20), isstd = be32(d + pos + 24), leap = be32(d + pos + 28),
			 timecnt = be32(d + pos + 32), typecnt = be32(d + pos + 36),
			 charcnt = be32(d + pos + 40);
		size_t body = timecnt * tsz + timecnt + typecnt * 6 + charcnt + leap * (tsz + 4) +
			      isstd + isut;
		if (pass == 0 && d[4] >= '2') {
			/* Skip the 32-bit block; the 64-bit one follows with its own header. */
			pos += 44 + body;
			tsz = 8;
			if (pos + 44 > len || memcmp(d + pos, "TZif", 4) != 0)
				goto done;
			continue;
		}
		if (pos + 44 + body > len || typecnt == 0)
			goto done;
		const unsigned char *times = d + pos + 44, *idx = times + timecnt * tsz,
				    *types = idx + timecnt;
		size_t type = 0;
		/* Before the first transition: the first standard-time type. */
		for (size_t i = 0; i < typecnt; i++)
			if (!types[i * 6 + 4]) {
				type = i;
				break;
			}
		for (size_t i = 0; i < timecnt; i++) {
			int64_t tt = tsz == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
			if (tt > t)
				break;
			type = idx[i] < typecnt ? idx[i] : type;
		}
		*off = (long)(int32_t)be32(types + type * 6);
		ok = true;
		break;
	}
done:
	free(d);
	return ok;
}

bool ml_sb_tz_local_to_utc(const char *tz, int64_t local, int64_t *utc)
{
	long o1, o2;
	if (!ml_sb_tz_offset(tz, local, &o1))
		return false;
	/* Two steps settle every instant except the skipped/repeated hour around a change. */
	if (!ml_sb_tz_offset(tz, local - o1, &o2))
		return false;
	*utc = local - o2;
	return true;
}
