#include "core/crypto.h"
#include "core/mem.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
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

/* A per-thread buffer of CSPRNG output refilled 1 KiB at a time: one RAND_bytes call per id
 * or token cost more than the rest of making it. */
void ml_random_pooled(void *out, size_t n)
{
	static _Thread_local uint8_t pool[1024];
	static _Thread_local size_t left;
	if (n > sizeof pool) {
		ml_random(out, n);
		return;
	}
	if (left < n) {
		ml_random(pool, sizeof pool);
		left = sizeof pool;
	}
	memcpy(out, pool + sizeof pool - left, n);
	/* Wipe what was handed out, so nothing later in the pool's life can repeat it. */
	memset(pool + sizeof pool - left, 0, n);
	left -= n;
}

/* SHA-256 through EVP with the algorithm fetched once and one digest context per thread:
 * SHA256() and HMAC() fetch the algorithm on every call (OpenSSL 3), which cost more than
 * hashing an API key. The per-thread context is freed when its thread ends. */
static EVP_MD *sha256_md;
static pthread_key_t ctx_key;
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void sha_init(void)
{
	if (!(sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL)) ||
	    pthread_key_create(&ctx_key, ctx_free) != 0) {
		fputs("meetlink: SHA-256 is not available\n", stderr);
		abort();
	}
}

static EVP_MD_CTX *sha_begin(void)
{
	pthread_once(&sha_once, sha_init);
	EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
	if (!ctx) {
		if (!(ctx = EVP_MD_CTX_new()) || pthread_setspecific(ctx_key, ctx) != 0)
			abort();
	}
	if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1)
		abort();
	return ctx;
}

static void sha_end(EVP_MD_CTX *ctx, uint8_t out[32])
{
	unsigned len = 32;
	if (EVP_DigestFinal_ex(ctx, out, &len) != 1)
		abort();
}

void ml_sha256(const void *data, size_t n, uint8_t out[32])
{
	EVP_MD_CTX *ctx = sha_begin();
	EVP_DigestUpdate(ctx, data, n);
	sha_end(ctx, out);
}

void ml_sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t d[32];
	ml_sha256(data, n, d);
	ml_hex_encode(d, 32, out);
}

/* HMAC as RFC 2104 defines it, over the same SHA-256: H((K ^ opad) || H((K ^ ipad) || m)),
 * K the key padded to the 64-byte block (hashed first when longer). */
void ml_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[32])
{
	uint8_t k[64] = {0}, pad[64], inner[32];
	if (keylen > sizeof k)
		ml_sha256(key, keylen, k);
	else if (keylen)
		memcpy(k, key, keylen);
	EVP_MD_CTX *ctx = sha_begin();
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	EVP_DigestUpdate(ctx, pad, sizeof pad);
	EVP_DigestUpdate(ctx, data, n);
	sha_end(ctx, inner);
	ctx = sha_begin();
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	EVP_DigestUpdate(ctx, pad, sizeof pad);
	EVP_DigestUpdate(ctx, inner, sizeof inner);
	sha_end(ctx, out);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(pad, sizeof pad);
	OPENSSL_cleanse(inner, sizeof inner);
}

void ml_hmac_sha1(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[20])
{
	unsigned len = 20;
	if (!HMAC(EVP_sha1(), key, (int)keylen, data, n, out, &len))
		memset(out, 0, 20);
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
