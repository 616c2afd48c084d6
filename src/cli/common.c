#include "cli/common.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/priority.h"

#include <stdio.h>
#include <string.h>

int ml_cli_open(struct ml_config **cfg, struct ml_store **store)
{
	int rc;
	if ((rc = ml_config_load(cfg)) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		return 1;
	}
	if (strcmp((*cfg)->log_level, "debug") == 0)
		ml_log_set_level(ML_LOG_DEBUG);
	else if (strcmp((*cfg)->log_level, "warn") == 0)
		ml_log_set_level(ML_LOG_WARN);
	else if (strcmp((*cfg)->log_level, "error") == 0)
		ml_log_set_level(ML_LOG_ERROR);
	ml_thread_realtime((*cfg)->realtime); /* before the store starts its writer */
	if ((rc = ml_store_open(store, (*cfg)->db)) < 0 || (rc = ml_store_migrate(*store)) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		return 1;
	}
	return 0;
}

struct key_call {
	const char *org;
	const char *secret;
	char key_id[40];
};

static int key_fn(struct ml_tx *tx, void *arg)
{
	struct key_call *k = arg;
	char org_id[40], hash[65], prefix[16];
	int rc;
	if ((rc = ml_tx_org_ensure(tx, k->org, org_id)) < 0)
		return rc;
	ml_sha256_hex(k->secret, strlen(k->secret), hash);
	snprintf(prefix, sizeof prefix, "%.8s", k->secret);
	ml_id_new(k->key_id, "key");
	return ml_tx_key_insert(tx, k->key_id, org_id, hash, prefix);
}

int ml_cli_key_create(struct ml_store *store, const char *org, const char *secret_or_null,
		      char key_out[64])
{
	struct key_call k = {org, NULL, ""};
	if (secret_or_null) {
		snprintf(key_out, 64, "%s", secret_or_null);
	} else {
		/* "mlk_" + 40 base32 characters: 200 bits from the system's CSPRNG. */
		char id[ML_ID_MAX], id2[ML_ID_MAX];
		ml_id_new(id, "x");
		ml_id_new(id2, "x");
		snprintf(key_out, 64, "mlk_%s%.16s", id + 2, id2 + 2);
	}
	k.secret = key_out;
	return ml_store_write(store, key_fn, &k);
}
