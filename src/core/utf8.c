#include "core/utf8.h"

#include <string.h>

/* The length of the valid sequence at s[0..n), or 0 when it is invalid or incomplete. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xBF; /* bounds of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

size_t ml_utf8_cut(const char *s, size_t n, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0;

	if (n > max)
		n = max; /* a character that does not fit whole is incomplete here */
	while (at < n) {
		size_t k = seq_len(p + at, n - at);
		if (k == 0)
			break;
		at += k;
	}
	return at;
}

bool ml_utf8_valid(const char *s, size_t n)
{
	return ml_utf8_cut(s, n, n) == n;
}

size_t ml_utf8_copy(char *dst, size_t cap, const char *src)
{
	if (!src)
		src = "";
	size_t n = ml_utf8_cut(src, strnlen(src, cap), cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return n;
}

size_t ml_utf8_clip(char *s)
{
	size_t n = strlen(s);
	size_t k = ml_utf8_cut(s, n, n);
	s[k] = '\0';
	return k;
}

bool ml_text_is_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t at = 0;

	while (at < n) {
		size_t k = seq_len(p + at, n - at);
		if (k == 0 || p[at] < 0x20 || p[at] == 0x7F ||
		    (p[at] == 0xC2 && p[at + 1] <= 0x9F))
			return false;
		at += k;
	}
	return true;
}
