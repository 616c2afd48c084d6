/* The driver registry: one static table, one line per platform. Adding a platform means one
 * driver file and one line here (docs/providers.md). */
#include "core/error.h"
#include "core/utf8.h"
#include "providers/provider.h"

#include <pthread.h>
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
extern const struct ml_provider_ops ml_provider_meetingbaas;

static const struct ml_provider_ops *const registry[] = {
    &ml_provider_jitsi,
    &ml_provider_jaas,
    &ml_provider_manual,
    &ml_provider_google_meet,
    &ml_provider_zoom,
    &ml_provider_teams,
    &ml_provider_twilio,
    &ml_provider_meetingbaas,
    NULL,
};

/* Drivers added at start by test builds (ml_provider_register), after the table. */
#define EXTRA_MAX 8
static const struct ml_provider_ops *all[sizeof registry / sizeof *registry + EXTRA_MAX];
static size_t n_extra;

/* Every platform the API accepts; those without a driver yet fail at meeting time with
 * platform_not_available rather than at validation time. */
static const char *const known[] = {
    "jitsi", "jaas", "google_meet", "zoom", "teams", "twilio", "manual", NULL,
};

static const char *names_buf[sizeof known / sizeof *known + EXTRA_MAX];

static void names_init(void)
{
	size_t n = 0;
	for (size_t i = 0; known[i]; i++)
		names_buf[n++] = known[i];
	for (size_t i = 0; i < n_extra; i++)
		names_buf[n++] = all[sizeof registry / sizeof *registry - 1 + i]->name;
	names_buf[n] = NULL;
}

const struct ml_provider_ops *const *ml_provider_all(void)
{
	return n_extra ? all : registry;
}

const struct ml_provider_ops *ml_provider_find(const char *name)
{
	if (!name)
		return NULL;
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}

const struct ml_provider_ops *ml_provider_recorder(void)
{
	for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++)
		if (ML_PROVIDER_HAS(*p, recorder))
			return *p;
	return NULL;
}

int ml_provider_register(const struct ml_provider_ops *ops)
{
	size_t n = sizeof registry / sizeof *registry - 1;
	if (ml_provider_find(ops->name))
		return ml_error_set(ML_ECONFLICT, "conflict", NULL, "%s is registered already.",
				    ops->name);
	if (n_extra == EXTRA_MAX)
		return ml_error_set(ML_EINVAL, "invalid_config", NULL, "Too many extra drivers.");
	if (!n_extra)
		memcpy(all, registry, n * sizeof *registry);
	all[n + n_extra++] = ops;
	return 0;
}

const char *const *ml_platform_names(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, names_init);
	return names_buf;
}

bool ml_platform_known(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; known[i]; i++)
		if (strcmp(known[i], name) == 0)
			return true;
	/* A registered extra driver is known by being there. */
	for (size_t i = 0; i < n_extra; i++)
		if (strcmp(all[sizeof registry / sizeof *registry - 1 + i]->name, name) == 0)
			return true;
	return false;
}

void ml_endpoints_clear(struct ml_endpoints *e)
{
	if (!e)
		return;
	free(e->api_base);
	free(e->authorize_url);
	free(e->token_url);
	free(e->revoke_url);
	free(e->account_url);
	memset(e, 0, sizeof *e);
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
