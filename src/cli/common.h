/* What the subcommands share: opening the configured store with migrations applied. */
#ifndef ML_CLI_COMMON_H
#define ML_CLI_COMMON_H

#include "core/config.h"
#include "store/store.h"

/* Loads the config and opens + migrates the store; prints the error and returns non-zero on
 * failure. */
int ml_cli_open(struct ml_config **cfg, struct ml_store **store);

/* Creates an API key for organization `org` (created if new); writes the secret (shown once)
 * into key_out. */
int ml_cli_key_create(struct ml_store *store, const char *org, const char *secret_or_null,
		      char key_out[64]);

#endif
