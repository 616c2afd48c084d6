/* meetlink: one binary, several subcommands. */
#include "cli/cli.h"

#include <curl/curl.h>

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"serve", ml_cmd_serve, "run the daemon"},
	{"sandbox", ml_cmd_sandbox, "run the offline provider emulators"},
	{"migrate", ml_cmd_migrate,
	 "apply store migrations and exit; --from sqlite:PATH --to postgres://...: copy a "
	 "SQLite store into an empty PostgreSQL one"},
	{"keys", ml_cmd_keys,
	 "keys create --org NAME: print a new API key once; keys limit --org NAME --rps N "
	 "[--burst M] | --default: the organization's request rate limit per key"},
	{"vault", ml_cmd_vault, "rotate: re-encrypt stored tokens under the current key"},
	{"version", ml_cmd_version, "print the version"},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fputs("usage: meetlink COMMAND [options]\n\ncommands:\n", f);
	for (int i = 0; commands[i].name; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fputs("\nConfiguration is read from MEETLINK_* environment variables (see README).\n", f);
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	/* libcurl's global state must exist before any thread starts (worker, sandbox). */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; commands[i].name; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			int rc = commands[i].fn(argc - 1, argv + 1);
			curl_global_cleanup();
			return rc;
		}
	fprintf(stderr, "meetlink: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
