#include "domain/gateway.h"
#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void add(struct ml_participant_ref *out, size_t *n, const char *id, const char *role,
                const char *name, const char *email)
{
	if (!id || !*id)
		return;
	out[(*n)++] = (struct ml_participant_ref){id, role, name, email};
}

struct ml_participant_ref *ml_gateway_people(json_t *booking, json_t *host, size_t *n)
{
	json_t *att = json_object_get(booking, "attendees");
	json_t *extra = json_object_get(booking, "extra_participants");
	size_t cap = 2 + json_array_size(att) + json_array_size(extra), i;
	struct ml_participant_ref *out = ml_calloc(cap, sizeof *out);
	json_t *c = json_object_get(booking, "customer"), *a;

	*n = 0;
	add(out, n, str(booking, "host_participant_id"), "host", str(host, "name"),
	    str(host, "email"));
	add(out, n, str(c, "id"), "customer", str(c, "name"), str(c, "email"));
	json_array_foreach(att, i, a)
		add(out, n, str(a, "id"), "attendee", str(a, "name"), str(a, "email"));
	json_array_foreach(extra, i, a) {
		const char *role = str(a, "role");
		add(out, n, str(a, "id"), role ? role : "attendee", str(a, "name"), str(a, "email"));
	}
	return out;
}

bool ml_gateway_person(json_t *booking, json_t *host, const char *pid,
                       struct ml_participant_ref *out)
{
	size_t n;
	bool found = false;
	struct ml_participant_ref *all = ml_gateway_people(booking, host, &n);
	for (size_t i = 0; pid && i < n && !found; i++) {
		if (strcmp(all[i].id, pid) == 0) {
			*out = all[i];
			found = true;
		}
	}
	free(all);
	return found;
}

int64_t ml_gateway_generation(json_t *booking, const char *pid)
{
	return json_integer_value(json_object_get(json_object_get(booking, "link_generations"), pid));
}

void ml_gateway_generations_bump(json_t *booking, json_t *host)
{
	size_t n;
	json_t *g = json_object_get(booking, "link_generations");
	if (!json_is_object(g)) {
		g = json_object();
		json_object_set_new(booking, "link_generations", g);
	}
	struct ml_participant_ref *all = ml_gateway_people(booking, host, &n);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(g, all[i].id,
		                    json_integer(json_integer_value(json_object_get(g, all[i].id)) + 1));
	free(all);
}

int ml_gateway_token(char out[ML_GATEWAY_TOKEN_LEN + 1], const uint8_t *secret, size_t secret_len,
                     const char *org_id, const char *booking_id, const char *pid,
                     int64_t generation)
{
	uint8_t mac[32];
	char gen[24];
	if (!secret || secret_len == 0)
		return -1;
	/* NUL separators keep ("ab","c") and ("a","bc") apart. */
	snprintf(gen, sizeof gen, "%lld", (long long)generation);
	struct ml_buf in = {0};
	ml_buf_append(&in, "meetlink-gateway", 17);
	ml_buf_append(&in, org_id ? org_id : "", strlen(org_id ? org_id : "") + 1);
	ml_buf_append(&in, booking_id ? booking_id : "", strlen(booking_id ? booking_id : "") + 1);
	ml_buf_append(&in, pid ? pid : "", strlen(pid ? pid : "") + 1);
	ml_buf_append(&in, gen, strlen(gen));
	ml_hmac_sha256(secret, secret_len, in.data, in.len, mac);
	ml_buf_free(&in);
	char *b = ml_base64url_encode(mac, sizeof mac);
	snprintf(out, ML_GATEWAY_TOKEN_LEN + 1, "%s", b);
	free(b);
	return 0;
}

void ml_gateway_token_hash(const char *token, char out[65])
{
	ml_sha256_hex(token, strlen(token), out);
}

bool ml_gateway_token_shape(const char *s)
{
	size_t n = 0;
	for (; s && s[n]; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return s && n == ML_GATEWAY_TOKEN_LEN;
}

char *ml_gateway_url_of(const struct ml_platform_settings *s, const char *org_id,
                        const char *booking_id, const char *pid, int64_t generation)
{
	char tok[ML_GATEWAY_TOKEN_LEN + 1];
	if (!s || !pid || ml_gateway_token(tok, s->gateway_secret, s->gateway_secret_len, org_id,
	                                   booking_id, pid, generation) < 0)
		return NULL;
	char *url = ml_asprintf("%s/j/%s", s->public_url ? s->public_url : "", tok);
	memset(tok, 0, sizeof tok);
	return url;
}

char *ml_gateway_url(const struct ml_platform_settings *s, const char *org_id, json_t *booking,
                     const char *pid)
{
	return ml_gateway_url_of(s, org_id, str(booking, "id"), pid,
	                         ml_gateway_generation(booking, pid));
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

enum ml_gate ml_gate_decide(const struct ml_gate_in *in)
{
	bool exempt = is(in->role, "host") || is(in->role, "admin");
	if (is(in->booking_status, "cancelled") || is(in->booking_status, "rejected") ||
	    is(in->meeting_status, "cancelled"))
		return ML_GATE_CANCELLED;
	if (in->ended)
		return ML_GATE_ENDED;
	if (!exempt) {
		if (is(in->booking_status, "completed") || in->now > in->end + in->grace_s)
			return ML_GATE_ENDED;
		if (in->now < in->start - in->window_s)
			return ML_GATE_EARLY;
	}
	if (is(in->meeting_status, "ready"))
		return ML_GATE_OPEN;
	if (is(in->meeting_status, "error"))
		return ML_GATE_FAILED;
	return ML_GATE_NOT_READY;
}

const char *ml_gate_name(enum ml_gate g)
{
	static const char *const names[] = {"open",      "early",     "ended",
	                                    "cancelled", "not_ready", "failed"};
	return (unsigned)g < sizeof names / sizeof names[0] ? names[g] : "unknown";
}
