/* The token vault: AES-256-GCM (OpenSSL EVP) under a key ring.
 *
 * Every secret meetlink keeps (OAuth access and refresh tokens, organization credentials) is
 * stored as a vault ciphertext, a printable string
 *
 *     mlv1:<kid>:<base64url(nonce[12] || ciphertext || tag[16])>
 *
 * that names the key it was sealed with, so any key of the ring opens it and `meetlink vault
 * rotate` can find what is not yet under the current key. The associated data binds a
 * ciphertext to where it lives ("<row id>/<column>"): a ciphertext copied into another row or
 * column does not open. The format version and the key id are authenticated too.
 *
 * The ring comes from MEETLINK_VAULT_KEYS, "kid:base64key,kid2:base64key" (32-byte keys; the
 * first is current, the others only decrypt), or from a key file made beside a SQLite store.
 */
#ifndef ML_CORE_VAULT_H
#define ML_CORE_VAULT_H

#include <stdbool.h>
#include <stddef.h>

struct ml_vault;

#define ML_VAULT_KID_MAX 32

/* Parses a ring "kid:base64key,...". ML_EINVAL (field MEETLINK_VAULT_KEYS) on a malformed
 * ring, a key that is not 32 bytes, a bad or repeated kid. */
int ml_vault_new(struct ml_vault **out, const char *ring);

/* The daemon's ring: `ring` when set; otherwise the key file beside the SQLite store of
 * db_url ("<dir>/vault.key", created with a fresh key, mode 0600, on first use). *generated
 * (may be NULL) tells whether the file was used, for the caller's warning; *key_file (may be
 * NULL) receives its path (caller frees). ML_EINVAL when there is no ring and no SQLite path. */
int ml_vault_load(struct ml_vault **out, const char *ring, const char *db_url, bool *generated,
		  char **key_file);

/* Frees the vault (keys are wiped). Accepts NULL. */
void ml_vault_free(struct ml_vault *v);

/* The current key's id. Borrowed. */
const char *ml_vault_current_kid(const struct ml_vault *v);

/* Seals n bytes under the current key, bound to aad. *out is a new NUL-terminated string. */
int ml_vault_encrypt(const struct ml_vault *v, const char *aad, const void *plain, size_t n,
		     char **out);

/* Opens a ciphertext with the ring key it names. *out is a new NUL-terminated buffer of *n
 * bytes (n may be NULL); free it with ml_vault_wipe_free(). ML_EAUTH when it does not open
 * (tampered, wrong associated data, unknown key id, not a vault ciphertext). */
int ml_vault_decrypt(const struct ml_vault *v, const char *aad, const char *ct, char **out,
		     size_t *n);

/* True when ct is sealed under the current key (rotation skips it). */
bool ml_vault_is_current(const struct ml_vault *v, const char *ct);

/* Re-seals ct under the current key (same aad). *out is new; ML_EAUTH as decrypt. */
int ml_vault_reseal(const struct ml_vault *v, const char *aad, const char *ct, char **out);

/* Overwrites s (its strlen, or n bytes when n > 0) and frees it. Accepts NULL. */
void ml_vault_wipe_free(char *s, size_t n);

/* A new random key as "kid:base64key" (caller frees), for MEETLINK_VAULT_KEYS. */
char *ml_vault_new_key_spec(const char *kid);

#endif
