/* FNV-1a over a NUL-terminated string, for the in-memory tables (document cache, endpoint
 * lists, rate limiter): fast, not for anything an attacker could exploit beyond a slower
 * lookup (entries are always compared in full). */
#ifndef ML_CORE_HASH_H
#define ML_CORE_HASH_H

#include <stdint.h>

static inline uint32_t ml_hash_str(const char *s, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

#endif
