/* JSON Web Tokens (compact JWS): HS256 and RS256 over OpenSSL EVP.
 *
 * A key is loaded once (at startup) and then shared read-only by every thread: the HS256 MAC
 * context is initialised with the secret once and duplicated per signature, the RS256 private
 * key is parsed once and used with a fresh EVP_DigestSign context per signature (STACK.md:
 * re-parsing the key per call costs 3x). All functions here are safe to call concurrently on
 * the same key.
 */
#ifndef ML_CORE_JWT_H
#define ML_CORE_JWT_H

#include <jansson.h>
#include <stddef.h>

struct ml_jwt_key;

/* An HS256 key from a raw secret (any length, copied). Returns 0 or ML_EINVAL (empty secret). */
int ml_jwt_key_hs256(struct ml_jwt_key **out, const void *secret, size_t n);
/* An RS256 key from a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY"),
 * `n` bytes of `pem` (need not be NUL-terminated). Returns 0 or ML_EINVAL (unparsable, not
 * RSA, or fewer than 2048 bits), detail in ml_error_message(). */
int ml_jwt_key_rs256_pem(struct ml_jwt_key **out, const char *pem, size_t n);
/* The same, reading the PEM from a file. ML_EINVAL also when the file cannot be read. */
int ml_jwt_key_rs256_file(struct ml_jwt_key **out, const char *path);
/* Frees a key; NULL is fine. */
void ml_jwt_key_free(struct ml_jwt_key *k);
/* "HS256" or "RS256". */
const char *ml_jwt_key_alg(const struct ml_jwt_key *k);

/* Signs `claims` (borrowed, serialised compactly in insertion order) into a compact JWS
 * "header.payload.signature", base64url without padding. The header is
 * {"alg":..,"typ":"JWT"[,"kid":kid]} followed by the members of `header_extra` (borrowed, may
 * be NULL; it cannot override alg/typ/kid). `*out` is the caller's (free()).
 * Returns 0, ML_EINVAL (claims not an object) or ML_EINTERNAL (OpenSSL failure). */
int ml_jwt_sign(char **out, const struct ml_jwt_key *k, const char *kid, json_t *header_extra,
                json_t *claims);

/* Verifies the signature of `token` with `k` (HS256: constant-time comparison; RS256: the
 * public half of the private key) and that the header's alg matches the key. Does NOT check
 * exp/nbf: callers that enforce a window read the claims. On success `*claims` (may be NULL)
 * receives the payload object, the caller's reference. Returns 0 or ML_EAUTH. */
int ml_jwt_verify(json_t **claims, const struct ml_jwt_key *k, const char *token);
/* Convenience: ml_jwt_verify with an HS256 key made from `secret`. */
int ml_jwt_verify_hs256(json_t **claims, const void *secret, size_t n, const char *token);

/* Decodes header and payload without verifying anything (tests, diagnostics). Either out may
 * be NULL. Returns 0 or ML_EINVAL (not a compact JWS with JSON object parts). */
int ml_jwt_decode(json_t **header, json_t **claims, const char *token);

#endif
