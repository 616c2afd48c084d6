/* meetlink keys create --org NAME: prints a new API key once; only its hash is stored. */
#include "cli/cli.h"
#include "cli/common.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>

int ml_cmd_keys(int argc, char **argv)
{
	const char *org = NULL;
	struct ml_config *cfg = NULL;
	struct ml_store *store = NULL;
	char key[64];
	int rc = 2;

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		fputs("usage: meetlink keys create --org NAME\n", stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--org") == 0 && i + 1 < argc)
			org = argv[++i];
		else if (strncmp(argv[i], "--org=", 6) == 0)
			org = argv[i] + 6;
	}
	if (!org || !*org || strlen(org) > 200) {
		fputs("usage: meetlink keys create --org NAME\n", stderr);
		return 2;
	}
	if (ml_cli_open(&cfg, &store) == 0) {
		if (ml_cli_key_create(store, org, NULL, key) == 0) {
			printf("%s\n", key);
			fprintf(stderr, "meetlink: API key for organization '%s' created; it is not "
					"shown again.\n",
				org);
			rc = 0;
		} else {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
			rc = 1;
		}
	} else {
		rc = 1;
	}
	ml_store_close(store);
	ml_config_free(cfg);
	return rc;
}

int ml_cmd_migrate(int argc, char **argv)
{
	struct ml_config *cfg = NULL;
	struct ml_store *store = NULL;
	(void)argc;
	(void)argv;
	int rc = ml_cli_open(&cfg, &store);
	if (rc == 0)
		printf("meetlink: store is up to date\n");
	ml_store_close(store);
	ml_config_free(cfg);
	return rc;
}
