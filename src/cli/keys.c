/* meetlink keys create --org NAME: prints a new API key once; only its hash is stored.
 * meetlink keys limit --org NAME --rps N [--burst M] | --default: the organization's rate limit. */
#include "cli/cli.h"
#include "cli/common.h"
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_USAGE                                                                          \
	"usage: meetlink keys create --org NAME\n"                                          \
	"       meetlink keys limit --org NAME (--rps N [--burst M] | --default)\n"

static int keys_create(const char *org)
{
	struct ml_config *cfg = NULL;
	struct ml_store *store = NULL;
	char key[64];
	int rc = 1;

	if (ml_cli_open(&cfg, &store) == 0) {
		if (ml_cli_key_create(store, org, NULL, key) == 0) {
			printf("%s\n", key);
			fprintf(stderr, "meetlink: API key for organization '%s' created; it is not "
					"shown again.\n",
				org);
			rc = 0;
		} else {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
		}
	}
	ml_store_close(store);
	ml_config_free(cfg);
	return rc;
}

struct limit_call {
	const char *org;
	struct ml_org_rate rate;
};

static int limit_fn(struct ml_tx *tx, void *arg)
{
	struct limit_call *l = arg;
	return ml_tx_org_rate_set(tx, l->org, &l->rate);
}

/* meetlink keys limit: the organization's own request rate limit, per API key. A running
 * daemon applies it within its key cache's lifetime (30 s). */
static int keys_limit(const char *org, const char *rps, const char *burst, bool clear)
{
	struct ml_config *cfg = NULL;
	struct ml_store *store = NULL;
	struct limit_call l = {org, {0}};
	char *end;
	int rc = 1;

	if (!clear) {
		l.rate.set = true;
		l.rate.rps = strtoll(rps, &end, 10);
		if (!*rps || *end || l.rate.rps < 0 || l.rate.rps > 1000000) {
			fputs("meetlink: --rps must be a number from 0 (no limit) to 1000000\n",
			      stderr);
			return 2;
		}
		l.rate.burst = 2 * l.rate.rps;
		if (burst) {
			l.rate.burst = strtoll(burst, &end, 10);
			if (!*burst || *end || l.rate.burst < 1 || l.rate.burst > 10000000) {
				fputs("meetlink: --burst must be a number from 1 to 10000000\n",
				      stderr);
				return 2;
			}
		}
	}
	if (ml_cli_open(&cfg, &store) == 0) {
		if (ml_store_write(store, limit_fn, &l) == 0) {
			if (clear)
				fprintf(stderr, "meetlink: organization '%s' follows the default "
						"rate limit\n", org);
			else if (l.rate.rps == 0)
				fprintf(stderr, "meetlink: organization '%s' has no rate limit\n",
					org);
			else
				fprintf(stderr, "meetlink: organization '%s': %lld requests a "
						"second per API key, bursts of %lld\n",
					org, (long long)l.rate.rps, (long long)l.rate.burst);
			rc = 0;
		} else {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
		}
	}
	ml_store_close(store);
	ml_config_free(cfg);
	return rc;
}

int ml_cmd_keys(int argc, char **argv)
{
	const char *org = NULL, *rps = NULL, *burst = NULL;
	bool clear = false;

	if (argc < 2 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "limit") != 0)) {
		fputs(KEYS_USAGE, stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--org") == 0 && i + 1 < argc)
			org = argv[++i];
		else if (strncmp(argv[i], "--org=", 6) == 0)
			org = argv[i] + 6;
		else if (strcmp(argv[i], "--rps") == 0 && i + 1 < argc)
			rps = argv[++i];
		else if (strcmp(argv[i], "--burst") == 0 && i + 1 < argc)
			burst = argv[++i];
		else if (strcmp(argv[i], "--default") == 0)
			clear = true;
		else {
			fputs(KEYS_USAGE, stderr);
			return 2;
		}
	}
	if (!org || !*org || strlen(org) > 200) {
		fputs(KEYS_USAGE, stderr);
		return 2;
	}
	if (strcmp(argv[1], "create") == 0)
		return rps || burst || clear ? (fputs(KEYS_USAGE, stderr), 2) : keys_create(org);
	if (clear == !!rps || (clear && burst)) {
		fputs(KEYS_USAGE, stderr);
		return 2;
	}
	return keys_limit(org, rps, burst, clear);
}
