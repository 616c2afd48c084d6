/* meetlink migrate: the store's schema, and moving a store.
 *
 *   meetlink migrate                               applies MEETLINK_DB's pending migrations
 *   meetlink migrate --from sqlite:PATH --to postgres://...
 *                                                  copies a SQLite store into an empty
 *                                                  PostgreSQL one (docs/many-nodes.md)
 */
#include "cli/cli.h"
#include "cli/common.h"
#include "core/config.h"
#include "core/error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fputs("usage: meetlink migrate\n"
	      "       meetlink migrate --from sqlite:PATH --to postgres://...\n", stderr);
	return 2;
}

static int copy_store(const char *from, const char *to)
{
	struct ml_store *dst = NULL;
	long rows = 0;
	int rc;
	if (strncmp(from, "sqlite:", 7) != 0 || !from[7] ||
	    (strncmp(to, "postgres://", 11) != 0 && strncmp(to, "postgresql://", 13) != 0)) {
		fputs("meetlink: --from must be sqlite:PATH and --to a postgres:// URL\n", stderr);
		return 2;
	}
	if (access(from + 7, R_OK) != 0) {
		fprintf(stderr, "meetlink: cannot read %s\n", from + 7);
		return 1;
	}
	if ((rc = ml_store_open(&dst, to)) < 0 || (rc = ml_store_migrate(dst)) < 0 ||
	    (rc = ml_store_import_sqlite(dst, from + 7, &rows)) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		ml_store_close(dst);
		return 1;
	}
	ml_store_close(dst);
	printf("meetlink: copied %ld row(s) from %s; secrets are still sealed: start every node "
	       "with the SQLite node's MEETLINK_VAULT_KEYS",
	       rows, from + 7);
	/* A SQLite store made without MEETLINK_VAULT_KEYS keeps its ring in a file beside it. */
	const char *slash = strrchr(from + 7, '/');
	char keyfile[4096];
	snprintf(keyfile, sizeof keyfile, "%.*svault.key",
		 slash ? (int)(slash - (from + 7)) + 1 : 0, from + 7);
	if (access(keyfile, F_OK) == 0)
		printf(" (the contents of %s)", keyfile);
	printf("\n");
	return 0;
}

int ml_cmd_migrate(int argc, char **argv)
{
	const char *from = NULL, *to = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			from = argv[++i];
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			to = argv[++i];
		else
			return usage();
	}
	if (from || to)
		return from && to ? copy_store(from, to) : usage();
	struct ml_config *cfg = NULL;
	struct ml_store *store = NULL;
	int rc = ml_cli_open(&cfg, &store);
	if (rc == 0)
		printf("meetlink: store is up to date\n");
	ml_store_close(store);
	ml_config_free(cfg);
	return rc;
}
