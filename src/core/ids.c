#include "core/ids.h"
#include "core/crypto.h"

#include <stdint.h>
#include <string.h>

static const char alpha[] = "0123456789abcdefghjkmnpqrstvwxyz";

void ml_id_new(char out[ML_ID_MAX], const char *prefix)
{
	uint8_t r[24];
	size_t n = strlen(prefix);
	if (n > 8)
		n = 8;
	ml_random(r, sizeof r);
	memcpy(out, prefix, n);
	out[n++] = '_';
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
