#include "core/ids.h"
#include "core/crypto.h"
#include "core/timeutil.h"

#include <stdint.h>
#include <string.h>

static const char alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* The first TIME_CHARS characters are the creation time in milliseconds (45 bits, base32,
 * most significant first), the rest randomness: ids made close in time sort close together,
 * so the store's indexes on them take new entries on the same few pages instead of one
 * random page each. */
#define TIME_CHARS 9
#define RAND_CHARS (24 - TIME_CHARS)

void ml_id_new(char out[ML_ID_MAX], const char *prefix)
{
	uint8_t r[RAND_CHARS];
	size_t n = strlen(prefix);
	if (n > 8)
		n = 8;
	ml_random_pooled(r, sizeof r);
	memcpy(out, prefix, n);
	out[n++] = '_';
	uint64_t ms = (uint64_t)ml_now_ms();
	for (int i = TIME_CHARS - 1; i >= 0; i--)
		out[n++] = alpha[(ms >> (5 * i)) & 31];
	for (size_t i = 0; i < sizeof r; i++)
		out[n++] = alpha[r[i] & 31];
	out[n] = '\0';
}

bool ml_id_valid(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(s, prefix, n) != 0 || s[n] != '_')
		return false;
	s += n + 1;
	if (strlen(s) != 24)
		return false;
	for (; *s; s++)
		if (!strchr(alpha, *s))
			return false;
	return true;
}
