#include "core/config.h"
#include "core/error.h"
#include "core/mem.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static char *env_dup(const char *name, const char *def)
{
	const char *v = getenv(name);
	if (v && *v)
		return ml_strdup(v);
	return def ? ml_strdup(def) : NULL;
}

static int env_num(const char *name, long long def, long long min, long long max,
		   long long *out)
{
	const char *v = getenv(name);
	char *end;
	long long n;

	if (!v || !*v) {
		*out = def;
		return 0;
	}
	n = strtoll(v, &end, 10);
	if (*end || n < min || n > max)
		return ml_error_set(ML_EINVAL, "invalid_config", name,
				    "%s must be a number between %lld and %lld", name, min, max);
	*out = n;
	return 0;
}

/* Hours, fractions allowed ("0.001": 3.6 s, for tests), 0 to 8760, as milliseconds. */
static int env_hours(const char *name, double def, int64_t *out_ms)
{
	const char *v = getenv(name);
	char *end;
	double h = def;
	if (v && *v) {
		h = strtod(v, &end);
		if (*end || !(h >= 0 && h <= 8760))
			return ml_error_set(ML_EINVAL, "invalid_config", name,
					    "%s must be a number of hours between 0 and 8760", name);
	}
	*out_ms = (int64_t)(h * 3600.0 * 1000.0);
	return 0;
}

int ml_config_load(struct ml_config **out)
{
	struct ml_config *c = ml_calloc(1, sizeof *c);
	long long n = 0;
	int rc;

	c->listen = env_dup("MEETLINK_LISTEN", "127.0.0.1:8080");
	c->public_url = env_dup("MEETLINK_PUBLIC_URL", NULL);
	if (!c->public_url) {
		c->public_url = ml_asprintf("http://%s", c->listen);
		c->public_url_default = 1;
	}
	/* No trailing slash: links are built as public_url + "/path". */
	size_t pl = strlen(c->public_url);
	while (pl > 0 && c->public_url[pl - 1] == '/')
		c->public_url[--pl] = '\0';
	c->db = env_dup("MEETLINK_DB", "sqlite:./var/meetlink.db");
	c->bootstrap_api_key = env_dup("MEETLINK_BOOTSTRAP_API_KEY", NULL);
	c->sandbox_url = env_dup("MEETLINK_SANDBOX_URL", NULL);
	c->smtp_url = env_dup("MEETLINK_SMTP_URL", NULL);
	c->smtp_from = env_dup("MEETLINK_SMTP_FROM", "meetlink@localhost");
	c->vault_keys = env_dup("MEETLINK_VAULT_KEYS", NULL);
	c->google_client_id = env_dup("MEETLINK_GOOGLE_CLIENT_ID", NULL);
	c->google_client_secret = env_dup("MEETLINK_GOOGLE_CLIENT_SECRET", NULL);
	c->zoom_client_id = env_dup("MEETLINK_ZOOM_CLIENT_ID", NULL);
	c->zoom_client_secret = env_dup("MEETLINK_ZOOM_CLIENT_SECRET", NULL);
	c->microsoft_client_id = env_dup("MEETLINK_MICROSOFT_CLIENT_ID", NULL);
	c->microsoft_client_secret = env_dup("MEETLINK_MICROSOFT_CLIENT_SECRET", NULL);
	c->microsoft_tenant = env_dup("MEETLINK_MICROSOFT_TENANT", "common");
	c->twilio_url = env_dup("MEETLINK_TWILIO_URL", NULL);
	c->meetingbaas_url = env_dup("MEETLINK_MEETINGBAAS_URL", NULL);
	c->jitsi_domain = env_dup("MEETLINK_JITSI_DOMAIN", "meet.jit.si");
	c->jitsi_app_id = env_dup("MEETLINK_JITSI_APP_ID", NULL);
	c->jitsi_app_secret = env_dup("MEETLINK_JITSI_APP_SECRET", NULL);
	c->jitsi_audience = env_dup("MEETLINK_JITSI_AUDIENCE", "jitsi");
	c->jaas_app_id = env_dup("MEETLINK_JAAS_APP_ID", NULL);
	c->jaas_key_id = env_dup("MEETLINK_JAAS_KEY_ID", NULL);
	c->jaas_private_key_file = env_dup("MEETLINK_JAAS_PRIVATE_KEY_FILE", NULL);
	c->log_level = env_dup("MEETLINK_LOG_LEVEL", "info");
	if ((rc = env_num("MEETLINK_MAX_BODY", 1 << 20, 1024, 64 << 20, &n)) < 0)
		goto fail;
	c->max_body = (size_t)n;
	if ((rc = env_num("MEETLINK_HTTP_POOL", 0, 0, 256, &n)) < 0)
		goto fail;
	c->http_pool = (unsigned)n;
	/* Live pages (Server-Sent Events): a keep-alive comment after this much quiet. */
	if ((rc = env_num("MEETLINK_SSE_KEEPALIVE_MS", 15000, 100, 600000, &n)) < 0)
		goto fail;
	c->sse_keepalive_ms = (int)n;
	if ((rc = env_num("MEETLINK_JOIN_EARLY_MINUTES", 15, 0, 24 * 60, &n)) < 0)
		goto fail;
	c->join_early_seconds = n * 60;
	/* Tests shorten every backoff with it; production keeps the default. */
	if ((rc = env_num("MEETLINK_RETRY_BASE_MS", 2000, 1, 3600 * 1000, &n)) < 0)
		goto fail;
	c->retry_base_ms = n;
	/* A stop lets the calls in flight finish for this long (a mail being accepted). */
	if ((rc = env_num("MEETLINK_STOP_GRACE_MS", 5000, 0, 600 * 1000, &n)) < 0)
		goto fail;
	c->stop_grace_ms = n;
	if ((rc = env_num("MEETLINK_REALTIME", 0, 0, 1, &n)) < 0)
		goto fail;
	c->realtime = n == 1;
	/* Development and tests only: webhook endpoints on loopback or private addresses. */
	if ((rc = env_num("MEETLINK_ALLOW_PRIVATE_TARGETS", 0, 0, 1, &n)) < 0)
		goto fail;
	c->allow_private_targets = n == 1;
	if ((rc = env_hours("MEETLINK_WEBHOOK_DISABLE_AFTER_HOURS", 72, &c->webhook_disable_after_ms)) <
	    0)
		goto fail;
	/* High enough for any one booking platform's normal traffic (the benchmarks turn it off:
	 * one key drives the whole box there); low enough that one runaway client leaves most
	 * of the daemon to the others. */
	if ((rc = env_num("MEETLINK_RATE_LIMIT", 1000, 0, 1000000, &n)) < 0)
		goto fail;
	c->rate_limit = n;
	if ((rc = env_num("MEETLINK_RATE_BURST", 0, 0, 10000000, &n)) < 0)
		goto fail;
	c->rate_burst = n ? n : 2 * c->rate_limit;
	if (!!c->jitsi_app_id != !!c->jitsi_app_secret) {
		rc = ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_JITSI_APP_SECRET",
				  "MEETLINK_JITSI_APP_ID and MEETLINK_JITSI_APP_SECRET go together");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	ml_config_free(c);
	return rc;
}

const char *ml_config_get(const struct ml_config *c, const char *name)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
	    {"MEETLINK_PUBLIC_URL", offsetof(struct ml_config, public_url)},
	    {"MEETLINK_SANDBOX_URL", offsetof(struct ml_config, sandbox_url)},
	    {"MEETLINK_GOOGLE_CLIENT_ID", offsetof(struct ml_config, google_client_id)},
	    {"MEETLINK_GOOGLE_CLIENT_SECRET", offsetof(struct ml_config, google_client_secret)},
	    {"MEETLINK_ZOOM_CLIENT_ID", offsetof(struct ml_config, zoom_client_id)},
	    {"MEETLINK_ZOOM_CLIENT_SECRET", offsetof(struct ml_config, zoom_client_secret)},
	    {"MEETLINK_MICROSOFT_CLIENT_ID", offsetof(struct ml_config, microsoft_client_id)},
	    {"MEETLINK_MICROSOFT_CLIENT_SECRET",
	     offsetof(struct ml_config, microsoft_client_secret)},
	    {"MEETLINK_MICROSOFT_TENANT", offsetof(struct ml_config, microsoft_tenant)},
	    {"MEETLINK_TWILIO_URL", offsetof(struct ml_config, twilio_url)},
	    {"MEETLINK_MEETINGBAAS_URL", offsetof(struct ml_config, meetingbaas_url)},
	};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		if (strcmp(fields[i].name, name) == 0)
			return *(char *const *)((const char *)c + fields[i].off);
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

void ml_config_free(struct ml_config *c)
{
	if (!c)
		return;
	free(c->listen);
	free(c->public_url);
	free(c->db);
	free(c->bootstrap_api_key);
	free(c->sandbox_url);
	free(c->smtp_url);
	free(c->smtp_from);
	free(c->vault_keys);
	free(c->google_client_id);
	free(c->google_client_secret);
	free(c->zoom_client_id);
	free(c->zoom_client_secret);
	free(c->microsoft_client_id);
	free(c->microsoft_client_secret);
	free(c->microsoft_tenant);
	free(c->twilio_url);
	free(c->meetingbaas_url);
	free(c->jitsi_domain);
	free(c->jitsi_app_id);
	free(c->jitsi_app_secret);
	free(c->jitsi_audience);
	free(c->jaas_app_id);
	free(c->jaas_key_id);
	free(c->jaas_private_key_file);
	free(c->log_level);
	free(c);
}
