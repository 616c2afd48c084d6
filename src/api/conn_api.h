/* What the connection handlers share (connections.c, connect_page.c, credentials.c and the
 * services' connection check). Internal to src/api. */
#ifndef ML_API_CONN_API_H
#define ML_API_CONN_API_H

#include "api/api.h"
#include "notify/nudge.h"

/* Disconnects the host's connection on `platform`: revokes the grant at the provider (when
 * it has a revocation endpoint; a provider that cannot be reached does not stop the
 * disconnect), erases every token, status revoked, audit event. *out is the connection as
 * the API shows it, with "revoked_at_provider". ML_ENOTFOUND when there is no live one. */
int ml_api_conn_disconnect(const struct ml_env *app, const char *org_id, const char *host_id,
			   const char *platform, const char *actor, const char *ip, json_t **out);

/* The platforms a host connects by OAuth, "a, b, c" (for messages). Caller frees. */
char *ml_api_oauth_platform_names(void);
/* For an online service on an OAuth platform: answers 409
 * connection_required with a connect_url and returns true when the host (an existing host
 * of the organization) has no usable connection and, for Zoom, the organization has no
 * Server-to-Server credential either. False (nothing answered) otherwise. */
bool ml_api_conn_required(struct ml_http_req *req, struct ml_http_resp *resp,
			  const char *host_id, const char *platform);

/* How a reconnect nudge checks its connection and mints a fresh link (set at start-up). */
extern const struct ml_nudge_hooks ml_api_nudge_hooks;

#endif
