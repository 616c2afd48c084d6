/* The driver registry: one static table, one line per platform. Adding a platform means one
 * driver file and one line here (docs/providers.md). */
#include "core/error.h"
#include "core/utf8.h"
#include "providers/provider.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct ml_provider_ops ml_provider_jitsi;
extern const struct ml_provider_ops ml_provider_jaas;
extern const struct ml_provider_ops ml_provider_manual;
extern const struct ml_provider_ops ml_provider_google_meet;
extern const struct ml_provider_ops ml_provider_zoom;
extern const struct ml_provider_ops ml_provider_teams;
extern const struct ml_provider_ops ml_provider_twilio;

static const struct ml_provider_ops *const registry[] = {
    &ml_provider_jitsi,
    &ml_provider_jaas,
    &ml_provider_manual,
    &ml_provider_google_meet,
    &ml_provider_zoom,
    &ml_provider_teams,
    &ml_provider_twilio,
    NULL,
};

/* Every platform the API accepts; those without a driver yet fail at meeting time with
 * platform_not_available rather than at validation time. */
static const char *const known[] = {
    "jitsi", "jaas", "google_meet", "zoom", "teams", "twilio", "manual", NULL,
};

const struct ml_provider_ops *ml_provider_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; registry[i]; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct ml_provider_ops *const *ml_provider_all(void)
{
	return registry;
}

bool ml_platform_known(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; known[i]; i++)
		if (strcmp(known[i], name) == 0)
			return true;
	return false;
}

void ml_meeting_clear(struct ml_meeting *m)
{
	if (!m)
		return;
	free(m->external_id);
	free(m->join_url);
	free(m->host_url);
	free(m->passcode);
	memset(m, 0, sizeof(*m));
}

int ml_perr_set(struct ml_perr *err, enum ml_perr_kind kind, int http_status, const char *code,
                const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	err->http_status = http_status;
	err->retry_after_ms = 0;
	/* A provider's own text goes into these: cut whole characters only. */
	ml_utf8_copy(err->code, sizeof(err->code), code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	ml_utf8_clip(err->message);
	switch (kind) {
	case ML_PERR_NONE:
		return 0;
	case ML_PERR_RETRY:
		return ML_EUNAVAIL;
	case ML_PERR_REAUTH:
		return ML_EAUTH;
	case ML_PERR_GONE:
		return ML_ENOTFOUND;
	case ML_PERR_PERMANENT:
	default:
		return ML_EINTERNAL;
	}
}
