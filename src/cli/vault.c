/* meetlink vault: the token vault's key ring.
 *
 *   meetlink vault rotate   re-encrypts every stored token and secret (connection tokens,
 *                           organization credentials, webhook endpoint secrets, server
 *                           secrets, PKCE verifiers in flight) under the current key
 *                           (the first of MEETLINK_VAULT_KEYS); older keys may then be
 *                           dropped from the ring.
 *   meetlink vault new-key [KID]   prints a fresh "kid:base64key" to put first in the ring.
 */
#include "cli/cli.h"
#include "cli/common.h"
#include "conn/connections.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rotate_call {
	const struct ml_vault *vault;
	int rewrapped;
};

/* Everything sealed, in one transaction: connection tokens and organization credentials,
 * then the store's other sealed values (server secrets, webhook endpoint secrets, PKCE
 * verifiers of sign-ins in flight). */
static int rotate_fn(struct ml_tx *tx, void *arg)
{
	struct rotate_call *c = arg;
	int conns = 0, others = 0;
	int rc = ml_conn_rekey(tx, c->vault, &conns);
	if (rc == 0)
		rc = ml_tx_sealed_rekey(tx, &others);
	if (rc == 0)
		c->rewrapped = conns + others;
	return rc;
}

static int usage(void)
{
	fputs("usage: meetlink vault rotate\n       meetlink vault new-key [KID]\n", stderr);
	return 2;
}

int ml_cmd_vault(int argc, char **argv)
{
	struct ml_config *cfg = NULL;
	struct ml_store *store = NULL;
	struct ml_vault *vault = NULL;
	int rc = 1;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "new-key") == 0) {
		char kid[32];
		snprintf(kid, sizeof kid, "%s", argc > 2 ? argv[2] : "");
		if (!kid[0])
			snprintf(kid, sizeof kid, "k%lld", (long long)ml_now());
		char *spec = ml_vault_new_key_spec(kid);
		struct ml_vault *check = NULL;
		if (ml_vault_new(&check, spec) < 0) {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
			ml_vault_wipe_free(spec, 0);
			return 2;
		}
		ml_vault_free(check);
		printf("%s\n", spec);
		ml_vault_wipe_free(spec, 0);
		return 0;
	}
	if (strcmp(argv[1], "rotate") != 0)
		return usage();
	if (ml_cli_open(&cfg, &store) != 0)
		goto done;
	if (ml_vault_load(&vault, cfg->vault_keys, cfg->db, NULL, NULL) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	struct rotate_call c = {vault, 0};
	ml_store_set_vault(store, vault);
	if (ml_store_write(store, rotate_fn, &c) < 0) {
		fprintf(stderr, "meetlink: vault rotate: %s\n", ml_error_message());
		goto done;
	}
	/* The ciphertexts under the old keys must not stay readable in free pages or the WAL.
	 * The rotation itself is committed whatever happens here. */
	if (ml_store_scrub(store) < 0)
		fprintf(stderr,
			"meetlink: vault rotate: warning: could not rewrite the store (%s); stop "
			"the daemons and run `meetlink vault rotate` again to remove the old "
			"ciphertexts from its files\n",
			ml_error_message());
	printf("re-encrypted %d secret(s) under key %s\n", c.rewrapped, ml_vault_current_kid(vault));
	rc = 0;
done:
	ml_vault_free(vault);
	ml_store_close(store);
	ml_config_free(cfg);
	return rc;
}
