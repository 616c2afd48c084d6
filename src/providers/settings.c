/* The local platforms' server settings (Jitsi self-hosted token auth, JaaS keys), read from
 * the configuration once at start: the keys are parsed here, never per request. They live
 * with the drivers, so the daemon's wiring (src/app) names no platform. */
#include "providers/settings.h"
#include "core/error.h"

#include <string.h>

int ml_platform_settings_load(struct ml_platform_settings *p, const struct ml_config *c)
{
	int rc;

	p->jitsi_domain = c->jitsi_domain;
	if (c->jitsi_app_id) {
		p->jitsi_app_id = c->jitsi_app_id;
		p->jitsi_audience = c->jitsi_audience;
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

void ml_platform_settings_free(struct ml_platform_settings *p)
{
	ml_jwt_key_free(p->jitsi_key);
	ml_jwt_key_free(p->jaas_key);
	p->jitsi_key = NULL;
	p->jaas_key = NULL;
}
