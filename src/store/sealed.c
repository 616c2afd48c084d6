/* Server secrets and the other sealed values of the store (store.h, "Server secrets and
 * other sealed values"): sealing and opening with the vault, the upgrade of plaintext left by
 * a store from before migration 0010, and the vault rotation of these values. The backend
 * only reads and writes the ciphertexts. */
#include "store/backend.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/vault.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The column each kind's value lives in: the associated data is "<id>/<column>", as for
 * connection tokens (conn/connections.h ml_conn_aad) and webhook secrets (notify/webhook.h
 * ml_notify_secret_aad), so a ciphertext moved to another row or table does not open. */
static const char *const columns[ML_SEALED__COUNT] = {"value", "secret", "verifier"};

static void aad_of(char *out, size_t n, enum ml_sealed_kind kind, const char *id)
{
	snprintf(out, n, "%s/%s", id, columns[kind]);
}

void ml_store_set_vault(struct ml_store *s, const struct ml_vault *vault)
{
	s->vault = vault;
}

void ml_sealed_clear(struct ml_sealed *v)
{
	if (!v)
		return;
	free(v->value);
	if (v->plain) {
		OPENSSL_cleanse(v->plain, v->plain_n);
		free(v->plain);
	}
	memset(v, 0, sizeof *v);
}

int ml_tx_sealed_list(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items, int *n)
{
	return tx->store->backend->conn->sealed_list(tx, kind, items, n);
}

int ml_tx_sealed_set(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id, const char *value)
{
	return tx->store->backend->conn->sealed_set(tx, kind, id, value);
}

static int no_vault(void)
{
	return ml_error_set(ML_EINVAL, "no_vault", NULL,
	                    "the store has no vault to seal its secrets with");
}

/* Seals `plain` for (kind, id) and stores it. */
static int seal_store(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id, const void *plain,
                      size_t n)
{
	char aad[96], *ct = NULL;
	aad_of(aad, sizeof aad, kind, id);
	int rc = ml_vault_encrypt(tx->store->vault, aad, plain, n, &ct);
	if (rc == 0)
		rc = ml_tx_sealed_set(tx, kind, id, ct);
	free(ct);
	return rc;
}

int ml_tx_secret_ensure(struct ml_tx *tx, const char *name, uint8_t *out, size_t n)
{
	const struct ml_vault *vault = tx->store->vault;
	struct ml_sealed v;
	char aad[96], *plain = NULL;
	size_t len = 0;
	if (!vault)
		return no_vault();
	int rc = tx->store->backend->conn->sealed_get(tx, ML_SEALED_SERVER_SECRET, name, &v);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		uint8_t fresh[64];
		if (n > sizeof fresh)
			return ml_error_set(ML_EINVAL, "invalid_secret", NULL,
			                    "a server secret is at most %zu bytes", sizeof fresh);
		ml_random(fresh, n);
		rc = seal_store(tx, ML_SEALED_SERVER_SECRET, name, fresh, n);
		if (rc == 0)
			memcpy(out, fresh, n);
		OPENSSL_cleanse(fresh, sizeof fresh);
		return rc;
	}
	if (rc < 0)
		return rc;
	if (v.plain) {
		/* Not sealed yet (ml_tx_sealed_upgrade runs at start): the same secret. */
		len = v.plain_n;
		if (len == n)
			memcpy(out, v.plain, n);
	} else {
		aad_of(aad, sizeof aad, ML_SEALED_SERVER_SECRET, name);
		if ((rc = ml_vault_decrypt(vault, aad, v.value, &plain, &len)) < 0) {
			ml_sealed_clear(&v);
			return ml_error_set(ML_EAUTH, "secret_sealed", "MEETLINK_VAULT_KEYS",
			                    "the server secret %s does not open with the vault's "
			                    "keys (was the key that sealed it removed?)",
			                    name);
		}
		if (len == n)
			memcpy(out, plain, n);
		ml_vault_wipe_free(plain, len);
	}
	ml_sealed_clear(&v);
	if (len != n)
		return ml_error_set(ML_ESTORE, "secret_size", NULL,
		                    "the server secret %s is %zu bytes, not %zu", name, len, n);
	return 0;
}

/* Seals (with reseal false: only plaintext) or re-seals under the current key every value
 * of one kind; *count grows by the values written. */
static int rewrap_kind(struct ml_tx *tx, enum ml_sealed_kind kind, bool reseal, int *count)
{
	const struct ml_vault *vault = tx->store->vault;
	struct ml_sealed *items = NULL;
	int n = 0, rc = ml_tx_sealed_list(tx, kind, &items, &n);
	if (rc < 0)
		return rc;
	for (int i = 0; i < n && rc == 0; i++) {
		struct ml_sealed *v = &items[i];
		if (v->plain) {
			if ((rc = seal_store(tx, kind, v->id, v->plain, v->plain_n)) == 0)
				(*count)++;
			continue;
		}
		if (!reseal || !v->value || ml_vault_is_current(vault, v->value))
			continue;
		char aad[96], *fresh = NULL;
		aad_of(aad, sizeof aad, kind, v->id);
		if ((rc = ml_vault_reseal(vault, aad, v->value, &fresh)) == 0 &&
		    (rc = ml_tx_sealed_set(tx, kind, v->id, fresh)) == 0)
			(*count)++;
		free(fresh);
	}
	for (int i = 0; i < n; i++)
		ml_sealed_clear(&items[i]);
	free(items);
	return rc;
}

int ml_tx_sealed_upgrade(struct ml_tx *tx, int *sealed)
{
	int rc = 0, k = 0;
	if (!tx->store->vault)
		return no_vault();
	for (int kind = 0; kind < ML_SEALED__COUNT && rc == 0; kind++)
		rc = rewrap_kind(tx, (enum ml_sealed_kind)kind, false, &k);
	if (rc == 0)
		*sealed = k;
	return rc;
}

int ml_tx_sealed_rekey(struct ml_tx *tx, int *rewrapped)
{
	int rc = 0, k = 0;
	if (!tx->store->vault)
		return no_vault();
	for (int kind = 0; kind < ML_SEALED__COUNT && rc == 0; kind++)
		rc = rewrap_kind(tx, (enum ml_sealed_kind)kind, true, &k);
	if (rc == 0)
		*rewrapped = k;
	return rc;
}

int ml_store_scrub(struct ml_store *s)
{
	return s->backend->scrub ? s->backend->scrub(s) : 0;
}
