/* The local platforms' server settings, loaded once by the daemon (settings.c). */
#ifndef ML_PROVIDERS_SETTINGS_H
#define ML_PROVIDERS_SETTINGS_H

#include "core/config.h"
#include "core/jwt.h"
#include "providers/provider.h"

/* Fills the platform-specific parts of p from c (Jitsi's domain and token key, JaaS's app,
 * key id and private key). ML_EINVAL with the setting named when they are incomplete; an
 * error from the key parser when a key does not load. */
int ml_platform_settings_load(struct ml_platform_settings *p, const struct ml_config *c);

/* Frees the keys ml_platform_settings_load parsed (the rest is borrowed from the config). */
void ml_platform_settings_free(struct ml_platform_settings *p);

#endif
