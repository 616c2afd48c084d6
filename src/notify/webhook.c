#include "notify/webhook.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ml_webhook_event_types[] = {"booking.created",
                                              "booking.confirmed",
                                              "booking.rescheduled",
                                              "booking.cancelled",
                                              "booking.rejected",
                                              "booking.completed",
                                              "meeting.ready",
                                              "meeting.updated",
                                              "meeting.failed",
                                              "meeting.cancelled",
                                              "meeting.fallback_used",
                                              "meeting.ended",
                                              "connection.reauth_required",
                                              "webhook_endpoint.disabled",
                                              "participant.waiting",
                                              "participant.admitted",
                                              "participant.rejected",
                                              "participant.joined",
                                              "participant.left",
                                              "meeting.started",
                                              "recording.ready",
                                              "recording.failed",
                                              "transcript.ready",
                                              "meeting.deleted_at_provider",
                                              "meeting.moved_at_provider",
                                              NULL};

bool ml_webhook_event_known(const char *type)
{
	for (int i = 0; type && ml_webhook_event_types[i]; i++)
		if (strcmp(ml_webhook_event_types[i], type) == 0)
			return true;
	return false;
}

/* "booking.*": the family prefix "booking." has at least one known type. */
static bool family_known(const char *pattern)
{
	size_t n = strlen(pattern);
	if (n < 3 || strcmp(pattern + n - 2, ".*") != 0)
		return false;
	for (int i = 0; ml_webhook_event_types[i]; i++)
		if (strncmp(ml_webhook_event_types[i], pattern, n - 1) == 0)
			return true;
	return false;
}

int ml_webhook_filter_check(json_t *events)
{
	if (!json_is_array(events) || json_array_size(events) == 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "events",
		                    "events must be a non-empty array of event types (\"*\" for "
		                    "all of them).");
	if (json_array_size(events) > 64)
		return ml_error_set(ML_EINVAL, "invalid_field", "events",
		                    "An endpoint subscribes to at most 64 event types.");
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		const char *t = json_string_value(e);
		char field[32];
		snprintf(field, sizeof field, "events[%zu]", i);
		if (!t)
			return ml_error_set(ML_EINVAL, "invalid_field", field,
			                    "%s must be a string.", field);
		if (strcmp(t, "*") != 0 && !ml_webhook_event_known(t) && !family_known(t))
			return ml_error_set(ML_EINVAL, "unknown_event_type", field,
			                    "%.*s is not an event type meetlink sends.",
			                    (int)ml_utf8_cut(t, strlen(t), 80), t);
	}
	return 0;
}

bool ml_webhook_filter_match(json_t *events, const char *type)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		const char *t = json_string_value(e);
		if (!t)
			continue;
		size_t n = strlen(t);
		if (strcmp(t, "*") == 0 || strcmp(t, type) == 0)
			return true;
		if (n >= 2 && strcmp(t + n - 2, ".*") == 0 && strncmp(t, type, n - 1) == 0)
			return true;
	}
	return false;
}

void ml_notify_secret_aad(char *out, size_t n, const char *endpoint_id)
{
	snprintf(out, n, "%s/secret", endpoint_id);
}

char *ml_webhook_secret_new(void)
{
	uint8_t key[32];
	ml_random(key, sizeof key);
	char *b64 = ml_base64_encode(key, sizeof key);
	char *s = ml_asprintf("whsec_%s", b64);
	free(b64);
	return s;
}

int ml_webhook_sign(char **out, const char *secret, const char *msg_id, int64_t timestamp,
                    const char *body, size_t body_len)
{
	if (!secret || !msg_id || strchr(msg_id, '.'))
		return ml_error_set(ML_EINVAL, "invalid_field", "secret",
		                    "A signature needs a secret and a message id without '.'.");
	if (strncmp(secret, "whsec_", 6) == 0)
		secret += 6;
	size_t klen = 0;
	uint8_t *key = *secret ? ml_base64_decode(secret, strlen(secret), &klen) : NULL;
	if (!key || klen == 0) {
		free(key);
		return ml_error_set(ML_EINVAL, "invalid_field", "secret",
		                    "The signing secret is not base64.");
	}
	struct ml_buf msg = {0};
	ml_buf_printf(&msg, "%s.%lld.", msg_id, (long long)timestamp);
	ml_buf_append(&msg, body, body_len);
	uint8_t mac[32];
	ml_hmac_sha256(key, klen, msg.data, msg.len, mac);
	ml_buf_free(&msg);
	/* The key never outlives the call. */
	memset(key, 0, klen);
	free(key);
	char *b64 = ml_base64_encode(mac, sizeof mac);
	*out = ml_asprintf("v1,%s", b64);
	free(b64);
	return 0;
}
