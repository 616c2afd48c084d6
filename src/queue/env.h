/* What the daemon hands to the code it runs: a job handler gets it from the engine
 * (run->env, set from ml_worker_config.env), a request handler from the API's context
 * (ml_api_ctx.app). Built once by the daemon's wiring (app/app.h) and never changed after
 * start-up, but for public_url once the port is bound (before any request or job runs).
 *
 * Defined here, below every folder that uses it, so that nothing needs the daemon's wiring
 * to reach the store or the configuration (the Janus janus_callbacks shape): the opaque
 * members are only handed on to the modules that own them.
 */
#ifndef ML_QUEUE_ENV_H
#define ML_QUEUE_ENV_H

#include "providers/provider.h"

struct ml_config;
struct ml_store;
struct ml_worker;
struct ml_vault;
struct ml_oauth_config;
struct ml_pipeline;
struct ml_ratelimit;
struct ml_waitbus;

struct ml_env {
	struct ml_config *cfg;
	struct ml_store *store;
	struct ml_platform_settings platforms;
	struct ml_worker *worker;      /* wake it after committing work (ml_worker_notify) */
	struct ml_vault *vault;        /* token encryption (core/vault.h) */
	struct ml_oauth_config *oauth; /* provider endpoints and clients (conn/oauth.h) */
	struct ml_pipeline *pipeline;  /* the meeting pipeline's settings (meeting/meeting.h) */
	struct ml_ratelimit *ratelimit; /* per API key request buckets (core/ratelimit.h); NULL:
	                                 * off */
	struct ml_waitbus *waitbus; /* the waiting rooms' change signal (meeting/waitbus.h) */
};

#endif
