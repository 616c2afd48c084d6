/* The daemon's wiring (app.h): what `meetlink serve` builds, in order. */
#include "app/app.h"
#include "api/api.h"
#include "api/conn_api.h"
#include "app/handlers.h"
#include "core/config.h"
#include "core/error.h"
#include "core/jwt.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/mem.h"
#include "core/vault.h"
#include "conn/connections.h"
#include "conn/links.h"
#include "conn/oauth.h"
#include "notify/endpoints.h"
#include "notify/jobs.h"
#include "notify/outbox.h"
#include "meeting/meeting.h"
#include "meeting/waitbus.h"
#include "providers/settings.h"
#include "queue/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
static uint8_t gateway_secret[32];

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
	rc = ml_tx_secret_ensure(tx, "room_secret", room_secret, sizeof room_secret);
	if (rc < 0)
		return rc;
	/* The join gateway's link tokens are HMACs under it (meeting/gateway.h). */
	return ml_tx_secret_ensure(tx, "gateway_secret", gateway_secret, sizeof gateway_secret);
}

/* The server secrets, sealed by the vault (loaded first). */
static int secrets_load(struct ml_env *env)
{
	int sealed = 0;
	ml_store_set_vault(env->store, env->vault);
	if (ml_store_write(env->store, secret_fn, &sealed) < 0)
		return -1;
	if (sealed > 0) {
		ml_info("store: sealed %d secret(s) kept in plaintext by an older version", sealed);
		/* The plaintext must not linger in free pages or the WAL's older frames. A failure
		 * (no room for the rewrite) is not worth refusing to start over. */
		if (ml_store_scrub(env->store) < 0)
			ml_warn("store: could not rewrite the store after sealing (%s): the old raw "
				"secrets may stay in its free space until a VACUUM",
				ml_error_message());
	}
	return 0;
}

/* The store's listener thread: jobs were made due on some node. */
static void jobs_signalled(void *arg, const char *payload)
{
	(void)payload;
	ml_worker_notify(arg);
}

/* Another node changed a booking's waiting room (payload "org_id/booking_id"; NULL: maybe
 * several, while the listener was away). */
static void waiting_signalled(void *arg, const char *payload)
{
	ml_waitbus_remote(arg, payload);
}

/* Another node changed an organization's webhook endpoints. */
static void endpoints_signalled(void *arg, const char *payload)
{
	(void)arg;
	(void)payload;
	ml_notify_endpoints_changed();
}

/* Loads the platform settings once: keys parsed here, never per request. */
static int platforms_load(struct ml_env *env)
{
	struct ml_config *c = env->cfg;
	struct ml_platform_settings *p = &env->platforms;

	p->public_url = c->public_url;
	p->join_early_seconds = c->join_early_seconds;
	p->join_late_seconds = 15 * 60;
	p->room_secret = room_secret;
	p->room_secret_len = sizeof room_secret;
	p->gateway_secret = gateway_secret;
	p->gateway_secret_len = sizeof gateway_secret;
	p->poll_ms = env_int("MEETLINK_PROVIDER_POLL_MS", 1000);
	p->open_lead_s = env_int("MEETLINK_ROOM_OPEN_LEAD_SECONDS", 600);
	return ml_platform_settings_load(p, c);
}

int ml_app_env_open(struct ml_env *env)
{
	if (ml_pipeline_new(&env->pipeline) < 0 || platforms_load(env) < 0)
		return -1;
	bool generated = false;
	char *key_file = NULL;
	if (ml_vault_load(&env->vault, env->cfg->vault_keys, env->cfg->db, &generated, &key_file) <
		    0 ||
	    ml_oauth_config_load(&env->oauth, env->cfg) < 0) {
		free(key_file);
		return -1;
	}
	if (generated)
		ml_warn("MEETLINK_VAULT_KEYS is not set: tokens are encrypted with the key in "
			"%s; back that file up with the store, or set MEETLINK_VAULT_KEYS",
			key_file);
	free(key_file);
	ml_conn_configure(env->cfg->public_url);
	if (secrets_load(env) < 0)
		return -1;
	/* Mail queued while no SMTP server was configured goes out now that there is one. */
	ml_notify_set_mail_configured(env->cfg->smtp_url != NULL);
	if (env->cfg->smtp_url) {
		int woken = ml_notify_smtp_wake(env->store);
		if (woken > 0)
			ml_info("%d message(s) queued without an SMTP server are sent now", woken);
	}
	ml_nudge_set_hooks(&ml_api_nudge_hooks); /* before the worker runs a nudge */
	env->ratelimit = ml_ratelimit_new();
	env->waitbus = ml_waitbus_new();
	/* A guest's page on one node sees the host's admit made on another (docs/many-nodes.md). */
	ml_waitbus_set_store(env->waitbus, env->store);
	return 0;
}

int ml_app_start(struct ml_app *app)
{
	struct ml_env *env = &app->env;

	if (ml_app_env_open(env) < 0)
		return -1;
	/* A run's calls end a quarter of its lease early (worker.c): the lease leaves two
	 * provider timeouts to a run, and at least a minute. */
	int64_t lease = 2 * (int64_t)env->pipeline->timeout_ms + 10000;
	struct ml_worker_config wc = {
		.store = env->store,
		.env = env,
		.handlers = ml_job_handlers,
		/* MEETLINK_JOB_LEASE_MS (per node): how long a job claimed by a node that died
		 * waits before another node takes it over. */
		.lease_ms = env_int("MEETLINK_JOB_LEASE_MS", lease > 60000 ? lease : 60000),
		.backoff_base_ms = env->cfg->retry_base_ms,
		.stop_grace_ms = env->cfg->stop_grace_ms,
	};
	if (ml_worker_start(&env->worker, &wc) < 0)
		return -1;
	/* On a shared store, a job enqueued on any node wakes this node's worker (NOTIFY). */
	if (ml_store_subscribe(env->store, "jobs", jobs_signalled, env->worker) < 0 ||
	    ml_store_subscribe(env->store, "endpoints", endpoints_signalled, NULL) < 0)
		ml_warn("store: no signals from other nodes (%s)", ml_error_message());
	/* Calls made for a request (connect callback, credential checks) join its curl loop. */
	ml_oauth_config_set_worker(env->oauth, env->worker);
	if (ml_store_subscribe(env->store, "waiting", waiting_signalled, env->waitbus) < 0)
		ml_warn("store: no waiting-room signals from other nodes (%s)", ml_error_message());
	struct ml_http_config hc = {
		.listen = env->cfg->listen,
		.max_body = env->cfg->max_body,
		.pool = env->cfg->http_pool,
		.stream_idle_ms = env->cfg->sse_keepalive_ms,
		.dispatch = ml_api_dispatch,
		.app = env,
		.routes = ml_api_routes, /* names the {param} of a path refused for its bytes */
	};
	if (ml_http_start(&app->srv, &hc) < 0)
		return -1;
	const char *colon = strrchr(env->cfg->listen, ':');
	/* The default public URL follows the port actually bound (port 0 picks one), so
	 * redirect URIs and links work; nobody knows the port before this. */
	if (env->cfg->public_url_default && strcmp(colon + 1, "0") == 0) {
		char host[64];
		snprintf(host, sizeof host, "%.*s", (int)(colon - env->cfg->listen),
			 env->cfg->listen);
		char *pub = ml_asprintf("http://%s:%d", host[0] ? host : "127.0.0.1",
					ml_http_port(app->srv));
		/* The old string may still be read by a worker job: freed at exit. */
		app->stale_public_url = env->cfg->public_url;
		env->cfg->public_url = pub;
		env->platforms.public_url = pub;
		ml_oauth_config_set_public_url(env->oauth, pub);
		ml_conn_configure(pub);
	}
	return 0;
}

void ml_app_stop(struct ml_app *app)
{
	struct ml_env *env = &app->env;
	ml_http_stop(app->srv);
	if (env->store)
		ml_store_unsubscribe(env->store, "jobs", jobs_signalled, env->worker);
	if (env->store)
		ml_store_unsubscribe(env->store, "endpoints", endpoints_signalled, NULL);
	if (env->store && env->waitbus)
		ml_store_unsubscribe(env->store, "waiting", waiting_signalled, env->waitbus);
	ml_worker_stop(env->worker);
	ml_pipeline_free(env->pipeline);
	ml_ratelimit_free(env->ratelimit);
	ml_waitbus_free(env->waitbus); /* after the server: its live pages are closed */
	ml_store_close(env->store);
	ml_vault_free(env->vault);
	free(app->stale_public_url);
	ml_oauth_config_free(env->oauth);
	ml_conn_configure(NULL);
	ml_platform_settings_free(&env->platforms);
	ml_config_free(env->cfg);
	memset(app, 0, sizeof *app);
}
