/* meetlink serve: the daemon. */
#include "api/api.h"
#include "api/conn_api.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "core/error.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/mem.h"
#include "core/vault.h"
#include "conn/connections.h"
#include "conn/links.h"
#include "conn/oauth.h"
#include "notify/jobs.h"
#include "notify/outbox.h"
#include "queue/kinds.h"
#include "queue/meeting.h"
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

/* A non-negative integer from the environment, or def. */
static int64_t env_int(const char *name, int64_t def)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return def;
	long long n = strtoll(v, &end, 10);
	return *end || n < 0 ? def : (int64_t)n;
}

static uint8_t room_secret[32];

static int secret_fn(struct ml_tx *tx, void *arg)
{
	uint8_t link[ML_CONN_LINK_SECRET_LEN];
	int *sealed = arg;
	/* A store from before migration 0010 kept its server secrets (and webhook secrets
	 * made without a vault) raw: sealed now, with the same values, all in this one
	 * transaction, so a crash leaves them all raw and the next start does it again. */
	int rc = ml_tx_sealed_upgrade(tx, sealed);
	if (rc < 0)
		return rc;
	/* Made here, on the write path, so request threads can read them on snapshots. */
	rc = ml_tx_secret_ensure(tx, ML_CONN_LINK_SECRET, link, sizeof link);
	memset(link, 0, sizeof link);
	if (rc < 0)
		return rc;
	return ml_tx_secret_ensure(tx, "room_secret", room_secret, sizeof room_secret);
}

/* The server secrets, sealed by the vault (loaded first). */
static int secrets_load(struct ml_app *app)
{
	int sealed = 0;
	ml_store_set_vault(app->store, app->vault);
	if (ml_store_write(app->store, secret_fn, &sealed) < 0)
		return -1;
	if (sealed > 0) {
		ml_info("store: sealed %d secret(s) kept in plaintext by an older version", sealed);
		/* The plaintext must not linger in free pages or the WAL's older frames. A failure
		 * (no room for the rewrite) is not worth refusing to start over. */
		if (ml_store_scrub(app->store) < 0)
			ml_warn("store: could not rewrite the store after sealing (%s): the old raw "
				"secrets may stay in its free space until a VACUUM",
				ml_error_message());
	}
	return 0;
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
	p->poll_ms = env_int("MEETLINK_PROVIDER_POLL_MS", 1000);
	p->open_lead_s = env_int("MEETLINK_ROOM_OPEN_LEAD_SECONDS", 600);
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
	char *stale_public_url = NULL;
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
	if (ml_store_read(app.store, count_fn, &boot) < 0) {
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
	if (ml_pipeline_new(&app.pipeline) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
		if (platforms_load(&app) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	{
		bool generated = false;
		char *key_file = NULL;
		if (ml_vault_load(&app.vault, app.cfg->vault_keys, app.cfg->db, &generated,
				  &key_file) < 0 ||
		    ml_oauth_config_load(&app.oauth, app.cfg) < 0) {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
			free(key_file);
			goto done;
		}
		if (generated)
			ml_warn("MEETLINK_VAULT_KEYS is not set: tokens are encrypted with the key in "
				"%s; back that file up with the store, or set MEETLINK_VAULT_KEYS",
				key_file);
		free(key_file);
		ml_conn_configure(app.cfg->public_url);
		if (secrets_load(&app) < 0) {
			fprintf(stderr, "meetlink: %s\n", ml_error_message());
			goto done;
		}
	}
	/* A run's calls end a quarter of its lease early (worker.c): the lease leaves two
	 * provider timeouts to a run, and at least a minute. */
	int64_t lease = 2 * (int64_t)app.pipeline->timeout_ms + 10000;
	struct ml_worker_config wc = {
		.store = app.store,
		.app = &app,
		.handlers = ml_job_handlers,
		.lease_ms = lease > 60000 ? lease : 60000,
		.backoff_base_ms = app.cfg->retry_base_ms,
		.stop_grace_ms = app.cfg->stop_grace_ms,
	};
	/* Mail queued while no SMTP server was configured goes out now that there is one. */
	ml_notify_set_mail_configured(app.cfg->smtp_url != NULL);
	if (app.cfg->smtp_url) {
		int woken = ml_notify_smtp_wake(app.store);
		if (woken > 0)
			ml_info("%d message(s) queued without an SMTP server are sent now", woken);
	}
	ml_nudge_set_hooks(&ml_api_nudge_hooks); /* before the worker runs a nudge */
	if (ml_worker_start(&app.worker, &wc) < 0) {
		fprintf(stderr, "meetlink: %s\n", ml_error_message());
		goto done;
	}
	/* Calls made for a request (connect callback, credential checks) join its curl loop. */
	ml_oauth_config_set_worker(app.oauth, app.worker);
	app.ratelimit = ml_ratelimit_new();
	struct ml_http_config hc = {
		.listen = app.cfg->listen,
		.max_body = app.cfg->max_body,
		.pool = app.cfg->http_pool,
		.dispatch = ml_api_dispatch,
		.app = &app,
		.routes = ml_api_routes, /* names the {param} of a path refused for its bytes */
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
		/* The default public URL follows the port actually bound (port 0 picks one), so
		 * redirect URIs and links work; nobody knows the port before the line below. */
		if (app.cfg->public_url_default && strcmp(colon + 1, "0") == 0) {
			char *pub = ml_asprintf("http://%s:%d", host[0] ? host : "127.0.0.1",
						ml_http_port(srv));
			/* The old string may still be read by a worker job: freed at exit. */
			stale_public_url = app.cfg->public_url;
			app.cfg->public_url = pub;
			app.platforms.public_url = pub;
			ml_oauth_config_set_public_url(app.oauth, pub);
			ml_conn_configure(pub);
		}
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
	ml_pipeline_free(app.pipeline);
	ml_ratelimit_free(app.ratelimit);
	ml_store_close(app.store);
	ml_vault_free(app.vault);
	free(stale_public_url);
	ml_oauth_config_free(app.oauth);
	ml_conn_configure(NULL);
	ml_jwt_key_free(app.platforms.jitsi_key);
	ml_jwt_key_free(app.platforms.jaas_key);
	ml_config_free(app.cfg);
	return rc;
}
