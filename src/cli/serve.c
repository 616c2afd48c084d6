/* meetlink serve: the daemon. */
#include "api/api.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/jwt.h"
#include "core/log.h"
#include "queue/kinds.h"
#include "queue/worker.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

static uint8_t room_secret[32];

static int secret_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	return ml_tx_secret_ensure(tx, "room_secret", room_secret, sizeof room_secret);
}

/* Loads the platform settings once: keys parsed here, never per request. */
static int platforms_load(struct ml_app *app)
{
	struct ml_config *c = app->cfg;
	struct ml_platform_settings *p = &app->platforms;
	int rc;

	p->public_url = c->public_url;
	p->jitsi_domain = c->jitsi_domain;
	p->join_early_seconds = c->join_early_seconds;
	p->join_late_seconds = 15 * 60;
	p->room_secret = room_secret;
	p->room_secret_len = sizeof room_secret;
	if (c->jitsi_app_id) {
		p->jitsi_app_id = c->jitsi_app_id;
		if ((rc = ml_jwt_key_hs256(&p->jitsi_key, c->jitsi_app_secret,
					   strlen(c->jitsi_app_secret))) < 0)
			return rc;
	}
	if (c->jaas_app_id || c->jaas_key_id || c->jaas_private_key_file) {
		if (!c->jaas_app_id || !c->jaas_key_id || !c->jaas_private_key_file)
			return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_JAAS_APP_ID",
					    "JaaS needs MEETLINK_JAAS_APP_ID, MEETLINK_JAAS_KEY_ID "
					    "and MEETLINK_JAAS_PRIVATE_KEY_FILE together");
		p->jaas_app_id = c->jaas_app_id;
		p->jaas_kid = c->jaas_key_id;
		p->jaas_domain = "8x8.vc";
		if ((rc = ml_jwt_key_rs256_file(&p->jaas_key, c->jaas_private_key_file)) < 0)
			return rc;
	}
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

int ml_cmd_serve(int argc, char **argv)
{
	struct ml_app app = {0};
	struct ml_http_server *srv = NULL;
	struct bootstrap boot = {false};
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

	if (ml_cli_open(&app.cfg, &app.store) != 0)
		goto done;
	if (ml_store_read(app.store, count_fn, &boot) < 0 ||
	    ml_store_write(app.store, secret_fn, NULL) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	if (boot.needed && app.cfg->bootstrap_api_key) {
		char key[64];
		if (strlen(app.cfg->bootstrap_api_key) < 16) {
			fputs("meetlink: MEETLINK_BOOTSTRAP_API_KEY must be at least 16 characters\n",
			      stderr);
			goto done;
		}
		if (ml_cli_key_create(app.store, "default", app.cfg->bootstrap_api_key, key) < 0) {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
			goto done;
		}
		ml_info("created organization 'default' with the bootstrap API key");
	}
	if (platforms_load(&app) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	struct ml_worker_config wc = {
		.store = app.store,
		.app = &app,
		.handlers = ml_job_handlers,
	};
	if (ml_worker_start(&app.worker, &wc) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	struct ml_http_config hc = {
		.listen = app.cfg->listen,
		.max_body = app.cfg->max_body,
		.pool = app.cfg->http_pool,
		.dispatch = ml_api_dispatch,
		.app = &app,
	};
	if (ml_http_start(&srv, &hc) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	{
		char host[64];
		const char *colon = strrchr(app.cfg->listen, ':');
		snprintf(host, sizeof host, "%.*s", (int)(colon - app.cfg->listen),
			 app.cfg->listen);
		printf("meetlink: listening on http://%s:%d\n", host[0] ? host : "0.0.0.0",
		       ml_http_port(srv));
		fflush(stdout);
	}
	ml_info("serving on port %d, store %s", ml_http_port(srv),
		strncmp(app.cfg->db, "sqlite:", 7) == 0 ? app.cfg->db : "postgres");
	sigwait(&set, &sig);
	ml_info("signal %d: shutting down", sig);
	rc = 0;
done:
	ml_http_stop(srv);
	ml_worker_stop(app.worker);
	ml_store_close(app.store);
	ml_jwt_key_free(app.platforms.jitsi_key);
	ml_jwt_key_free(app.platforms.jaas_key);
	ml_config_free(app.cfg);
	return rc;
}
