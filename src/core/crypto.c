#include "core/crypto.h"
#include "core/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ml_random(void *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1) {
		fputs("meetlink: no randomness available\n", stderr);
		abort();
	}
}

void ml_sha256(const void *data, size_t n, uint8_t out[32])
{
	SHA256(data, n, out);
}

void ml_sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t d[32];
	ml_sha256(data, n, d);
	ml_hex_encode(d, 32, out);
}

void ml_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[32])
{
	unsigned len = 32;
	HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len);
}

bool ml_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return false;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

void ml_hex_encode(const void *data, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *encode(const void *data, size_t n, const char *alpha, int pad)
{
	const uint8_t *p = data;
	char *out = ml_malloc(4 * ((n + 2) / 3) + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		*o++ = alpha[v >> 6 & 63];
		*o++ = alpha[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = alpha[v >> 18 & 63];
		*o++ = alpha[v >> 12 & 63];
		if (i + 1 < n)
			*o++ = alpha[v >> 6 & 63];
		else if (pad)
			*o++ = '=';
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *ml_base64_encode(const void *data, size_t n)
{
	return encode(data, n, b64, 1);
}

char *ml_base64url_encode(const void *data, size_t n)
{
	return encode(data, n, b64url, 0);
}

static int val(char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

static uint8_t *decode(const char *s, size_t slen, size_t *outlen, int url)
{
	while (slen > 0 && s[slen - 1] == '=')
		slen--;
	if (slen % 4 == 1)
		return NULL;
	uint8_t *out = ml_malloc(slen * 3 / 4 + 3), *o = out;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < slen; i++) {
		int v = val(s[i], url);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (uint8_t)(acc >> bits);
		}
	}
	*outlen = (size_t)(o - out);
	return out;
}

uint8_t *ml_base64_decode(const char *s, size_t slen, size_t *outlen)
{
	return decode(s, slen, outlen, 0);
}

uint8_t *ml_base64url_decode(const char *s, size_t slen, size_t *outlen)
{
	return decode(s, slen, outlen, 1);
}
