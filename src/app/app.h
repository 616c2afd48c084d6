/* The daemon's wiring: what `meetlink serve` builds on an open configuration and store, and
 * in which order (pipeline settings, platform keys, vault and OAuth clients, server secrets,
 * the worker with the job-handler table, the HTTP server with the API's dispatch), and how it
 * comes down again. The top of the house: it includes every room, none includes it.
 */
#ifndef ML_APP_APP_H
#define ML_APP_APP_H

#include "http/http.h"
#include "queue/env.h"

struct ml_app {
	struct ml_env env; /* what jobs and request handlers are handed; cfg and store are
	                    * set by the caller before ml_app_start */
	struct ml_http_server *srv;
	char *stale_public_url; /* the default public URL replaced once the port is bound */
};

/* Everything but the worker and the HTTP server, on env->cfg and env->store (opened by the
 * caller): pipeline and platform settings, vault, OAuth clients, the server secrets (made and
 * sealed on the write path), mail state, nudge hooks, rate limits, the waiting room's bus.
 * ml_app_start begins with it; the fuzz harnesses call it alone, so they see the daemon's
 * state and not one of their own. < 0 on failure, the detail in ml_error_message(). */
int ml_app_env_open(struct ml_env *env);
/* Builds and starts the daemon on app->env.cfg and app->env.store (opened by the caller):
 * the worker runs and the server listens when it returns 0. On failure (< 0, the detail in
 * ml_error_message()) whatever was started is left for ml_app_stop. */
int ml_app_start(struct ml_app *app);
/* Stops the server, then the worker, and frees everything ml_app_start made, the store and
 * the configuration included. Accepts a half-started app. */
void ml_app_stop(struct ml_app *app);

#endif
