/* meetlink serve: the daemon's process (signals, limits, the bootstrap key) around the
 * wiring in app/app.c. */
#include "app/app.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/log.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

struct bootstrap {
	bool needed;
};

static int count_fn(struct ml_tx *tx, void *arg)
{
	struct bootstrap *b = arg;
	int n = ml_tx_key_count(tx);
	if (n < 0)
		return n;
	b->needed = n == 0;
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The organization 'default' with MEETLINK_BOOTSTRAP_API_KEY, on a store without keys. */
static int bootstrap_key(struct ml_config *cfg, struct ml_store *store)
{
	struct bootstrap boot = {false};
	char key[64];
	if (ml_store_read(store, count_fn, &boot) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		return -1;
	}
	if (!boot.needed || !cfg->bootstrap_api_key)
		return 0;
	if (strlen(cfg->bootstrap_api_key) < 16) {
		fputs("meetlink: MEETLINK_BOOTSTRAP_API_KEY must be at least 16 characters\n",
		      stderr);
		return -1;
	}
	if (ml_cli_key_create(store, "default", cfg->bootstrap_api_key, key) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		return -1;
	}
	ml_info("created organization 'default' with the bootstrap API key");
	return 0;
}

int ml_cmd_serve(int argc, char **argv)
{
	struct ml_app app = {0};
	sigset_t set;
	int sig, rc = 1;
	(void)argc;
	(void)argv;

	/* Signals are taken synchronously below; block them before any thread starts. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();

	if (ml_cli_open(&app.env.cfg, &app.env.store) != 0 ||
	    bootstrap_key(app.env.cfg, app.env.store) < 0)
		goto done;
	if (ml_app_start(&app) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	{
		char host[64];
		const char *listen = app.env.cfg->listen;
		const char *colon = strrchr(listen, ':');
		snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
		printf("meetlink: listening on http://%s:%d\n", host[0] ? host : "0.0.0.0",
		       ml_http_port(app.srv));
		fflush(stdout);
	}
	ml_info("serving on port %d, store %s", ml_http_port(app.srv),
	        strncmp(app.env.cfg->db, "sqlite:", 7) == 0 ? app.env.cfg->db : "postgres");
	sigwait(&set, &sig);
	ml_info("signal %d: shutting down", sig);
	rc = 0;
done:
	ml_app_stop(&app);
	return rc;
}
