/* Small cryptographic primitives over OpenSSL: randomness, hashes, MACs, encodings and
 * constant-time comparison. JWT signing lives in core/jwt.h, the token vault in core/vault.h. */
#ifndef ML_CORE_CRYPTO_H
#define ML_CORE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Cryptographically secure random bytes; aborts if the system cannot provide them. */
void ml_random(void *out, size_t n);
/* The same, served from a per-thread pool: for the many small draws of ids and tokens. */
void ml_random_pooled(void *out, size_t n);

void ml_sha256(const void *data, size_t n, uint8_t out[32]);
/* Lowercase hex of SHA-256; `out` holds 65 bytes. */
void ml_sha256_hex(const void *data, size_t n, char out[65]);
void ml_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[32]);
/* HMAC-SHA1: only where a provider signs with it (Twilio's X-Twilio-Signature). */
void ml_hmac_sha1(const void *key, size_t keylen, const void *data, size_t n, uint8_t out[20]);

/* Constant-time equality of two byte strings (length differences leak only the length). */
bool ml_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Base64 (standard, padded) and base64url (no padding). Caller frees the result.
 * Decoders return NULL on malformed input; *outlen receives the decoded length. */
char *ml_base64_encode(const void *data, size_t n);
char *ml_base64url_encode(const void *data, size_t n);
uint8_t *ml_base64_decode(const char *s, size_t slen, size_t *outlen);
uint8_t *ml_base64url_decode(const char *s, size_t slen, size_t *outlen);

void ml_hex_encode(const void *data, size_t n, char *out /* 2n+1 */);

#endif
