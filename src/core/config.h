/* Configuration from MEETLINK_* environment variables (README has the table). */
#ifndef ML_CORE_CONFIG_H
#define ML_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ml_config {
	char *listen;           /* MEETLINK_LISTEN, "127.0.0.1:8080" */
	char *public_url;       /* MEETLINK_PUBLIC_URL, default "http://" + listen */
	char *db;               /* MEETLINK_DB, "sqlite:./var/meetlink.db" */
	char *bootstrap_api_key;/* MEETLINK_BOOTSTRAP_API_KEY */
	char *sandbox_url;      /* MEETLINK_SANDBOX_URL */
	char *smtp_url;         /* MEETLINK_SMTP_URL */
	char *smtp_from;        /* MEETLINK_SMTP_FROM */
	char *vault_keys;       /* MEETLINK_VAULT_KEYS */
	char *google_client_id, *google_client_secret;       /* MEETLINK_GOOGLE_CLIENT_ID/SECRET */
	char *zoom_client_id, *zoom_client_secret;           /* MEETLINK_ZOOM_CLIENT_ID/SECRET */
	char *microsoft_client_id, *microsoft_client_secret; /* MEETLINK_MICROSOFT_CLIENT_ID/SECRET */
	char *microsoft_tenant;  /* MEETLINK_MICROSOFT_TENANT, "common" */
	char *twilio_url;        /* MEETLINK_TWILIO_URL: Twilio Video base URL override */
	char *meetingbaas_url;   /* MEETLINK_MEETINGBAAS_URL: MeetingBaas base URL override */
	int public_url_default;  /* 1 when MEETLINK_PUBLIC_URL was not set (derived from listen) */
	size_t max_body;        /* MEETLINK_MAX_BODY bytes, default 1 MiB */
	unsigned http_pool;     /* MEETLINK_HTTP_POOL: 0 thread per connection, N epoll threads */
	int sse_keepalive_ms;   /* MEETLINK_SSE_KEEPALIVE_MS: live pages' keep-alive, 15000 */
	char *jitsi_domain;     /* MEETLINK_JITSI_DOMAIN, "meet.jit.si" */
	char *jitsi_app_id;     /* MEETLINK_JITSI_APP_ID (self-hosted token auth) */
	char *jitsi_app_secret; /* MEETLINK_JITSI_APP_SECRET */
	char *jitsi_audience;   /* MEETLINK_JITSI_AUDIENCE, "jitsi" (the tokens' aud) */
	char *jaas_app_id;      /* MEETLINK_JAAS_APP_ID */
	char *jaas_key_id;      /* MEETLINK_JAAS_KEY_ID: the kid, "<appId>/<key id>" */
	char *jaas_private_key_file; /* MEETLINK_JAAS_PRIVATE_KEY_FILE (PEM) */
	int64_t join_early_seconds;  /* MEETLINK_JOIN_EARLY_MINUTES, default 15 */
	char *log_level;        /* MEETLINK_LOG_LEVEL: debug, info, warn, error */
	int64_t retry_base_ms;  /* MEETLINK_RETRY_BASE_MS: first retry delay of every job, 2000 */
	int64_t stop_grace_ms;  /* MEETLINK_STOP_GRACE_MS: calls in flight at a stop may finish, 5000 */
	bool realtime;          /* MEETLINK_REALTIME: the writer and the worker at real-time priority */
	bool allow_private_targets; /* MEETLINK_ALLOW_PRIVATE_TARGETS: webhooks to private/loopback */
	int64_t webhook_disable_after_ms; /* MEETLINK_WEBHOOK_DISABLE_AFTER_HOURS (72; 0: never) */
	int64_t rate_limit;     /* MEETLINK_RATE_LIMIT: requests a second per API key, 0 off; 1000 */
	int64_t rate_burst;     /* MEETLINK_RATE_BURST: requests at once per API key; 2 x the rate */
};

/* Reads the environment into a new config (caller frees with ml_config_free).
 * Returns ML_EINVAL with the variable named as the error field. */
int ml_config_load(struct ml_config **out);
void ml_config_free(struct ml_config *cfg);
/* A configuration value by its variable name ("MEETLINK_ZOOM_CLIENT_ID"): the loaded field
 * for the variables above, else the environment (platform drivers name their own variables,
 * read once at start). NULL when unset. Borrowed. */
const char *ml_config_get(const struct ml_config *cfg, const char *name);

#endif
