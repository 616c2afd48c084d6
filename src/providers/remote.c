/* Helpers shared by the remote (sans-IO) drivers: steps, provider-side keys derived from the
 * booking, and the default classification of provider answers. */
#include "providers/remote.h"
#include "core/json_in.h"
#include "core/crypto.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

void ml_pstep_clear(struct ml_pstep *s)
{
	if (!s)
		return;
	free(s->http.url);
	free(s->http.body);
	if (s->http.authorization) {
		/* A token: do not leave it in freed memory. */
		memset(s->http.authorization, 0, strlen(s->http.authorization));
		free(s->http.authorization);
	}
	if (s->http.header_value) {
		memset(s->http.header_value, 0, strlen(s->http.header_value));
		free(s->http.header_value);
	}
	ml_meeting_clear(&s->meeting);
	memset(s, 0, sizeof *s);
}

char *ml_endpoint_base(const struct ml_endpoint_env *env, const char *setting,
		       const char *sandbox_path, const char *real)
{
	const char *v = setting && env->setting ? env->setting(env->arg, setting) : NULL;
	if (v && *v)
		return ml_strdup(v);
	if (env->sandbox)
		return ml_asprintf("%s%s", env->sandbox, sandbox_path);
	return real ? ml_strdup(real) : NULL;
}

void ml_pstep_http(struct ml_pstep *s, const char *method, char *url_owned, char *body_owned,
                   const char *content_type, char *authorization_owned)
{
	s->kind = ML_PSTEP_HTTP;
	snprintf(s->http.method, sizeof s->http.method, "%s", method);
	s->http.url = url_owned;
	s->http.body = body_owned;
	s->http.content_type = body_owned ? content_type : NULL;
	s->http.authorization = authorization_owned;
}

void ml_pstep_json(struct ml_pstep *s, const char *method, char *url_owned, json_t *body,
                   const struct ml_pcreds *cr)
{
	ml_pstep_http(s, method, url_owned, json_dumps(body, JSON_COMPACT), "application/json",
	              ml_pbearer(cr));
	json_decref(body);
}

int ml_pstep_end(struct ml_pstep *out, int rc, json_t *body)
{
	if (rc < 0)
		out->kind = ML_PSTEP_FAIL;
	json_decref(body);
	return rc;
}

int ml_perr_from_resp(struct ml_perr *err, const struct ml_presp *r, const char *provider,
                      const char *code, const char *message)
{
	const char *m = message && *message ? message : "no details";
	switch (r->transport) {
	case ML_PT_TIMEOUT:
		return ml_perr_set(err, ML_PERR_RETRY, 0, "provider_timeout",
		                   "%s did not answer in time.", provider);
	case ML_PT_DROPPED:
		return ml_perr_set(err, ML_PERR_RETRY, 0, "provider_connection_lost",
		                   "The connection to %s broke before it answered.", provider);
	case ML_PT_CONNECT:
		return ml_perr_set(err, ML_PERR_RETRY, 0, "provider_unreachable",
		                   "%s could not be reached.", provider);
	case ML_PT_OK:
		break;
	}
	int st = (int)r->status;
	if (st == 429)
		return ml_perr_set(err, ML_PERR_RETRY, st, "rate_limited",
		                   "%s asked us to slow down (%s).", provider, m);
	if (st == 408 || st == 425 || st >= 500)
		return ml_perr_set(err, ML_PERR_RETRY, st, "provider_unavailable",
		                   "%s answered %d (%s).", provider, st, m);
	if (st == 401)
		return ml_perr_set(err, ML_PERR_REAUTH, st, "reconnect_required",
		                   "%s refused the connection's credentials (%s).", provider, m);
	return ml_perr_set(err, ML_PERR_PERMANENT, st, code && *code ? code : "provider_rejected",
	                   "%s refused the request: %d %s.", provider, st, m);
}

int ml_provider_key(char *out, size_t cap, const struct ml_platform_settings *s,
                    const struct ml_meeting_req *req, const char *purpose, const char *alphabet,
                    size_t len)
{
	uint8_t mac[32];
	char gen[16];

	if (!s || !s->room_secret || !s->room_secret_len || len + 1 > cap || len > 51)
		return -1;
	snprintf(gen, sizeof gen, "%u", req->generation);
	const char *org = req->org_id ? req->org_id : "",
	           *bkg = req->booking_id ? req->booking_id : "";
	struct ml_buf in = {0};
	ml_buf_append(&in, purpose, strlen(purpose) + 1);
	ml_buf_append(&in, org, strlen(org) + 1);
	ml_buf_append(&in, bkg, strlen(bkg) + 1);
	ml_buf_append(&in, gen, strlen(gen));
	ml_hmac_sha256(s->room_secret, s->room_secret_len, in.data, in.len, mac);
	ml_buf_free(&in);
	for (size_t i = 0; i < len; i++) {
		size_t bit = i * 5, byte = bit / 8, off = bit % 8;
		unsigned v = (unsigned)mac[byte] << 8 | mac[byte + 1];
		out[i] = alphabet[(v >> (11 - off)) & 31];
	}
	out[len] = '\0';
	return 0;
}

json_t *ml_presp_json(const struct ml_presp *r)
{
	if (r->transport != ML_PT_OK || !r->body || !r->body_len)
		return NULL;
	return ml_json_parse(r->body, r->body_len, 0, ML_JSON_MAX_DEPTH, NULL);
}

const char *ml_pjs(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

bool ml_presp_ok(const struct ml_presp *r)
{
	return r->transport == ML_PT_OK && r->status >= 200 && r->status < 300;
}

bool ml_presp_gone(const struct ml_presp *r)
{
	return r->transport == ML_PT_OK && (r->status == 404 || r->status == 410);
}

bool ml_presp_settles(const char *phase, const struct ml_presp *r, struct ml_pstep *out)
{
	bool update = strcmp(phase, "update") == 0, gone = ml_presp_gone(r);
	if (!update && strcmp(phase, "delete") != 0)
		return false;
	if (!gone && !ml_presp_ok(r))
		return false;
	out->kind = ML_PSTEP_DONE;
	out->provider_cancelled = update && gone;
	return true;
}

char *ml_pbearer(const struct ml_pcreds *cr)
{
	return ml_asprintf("Bearer %s", cr->access_token ? cr->access_token : "");
}

void ml_pphase(json_t *state, const char *phase)
{
	json_object_set_new(state, "phase", json_string(phase));
}

int ml_pcheck_answer(const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	if (resp->transport == ML_PT_OK && resp->status >= 200 && resp->status < 300) {
		out->kind = ML_PSTEP_DONE;
		return 0;
	}
	out->kind = ML_PSTEP_FAIL;
	if (resp->transport == ML_PT_OK && (resp->status == 401 || resp->status == 403))
		return ml_perr_set(err, ML_PERR_PERMANENT, (int)resp->status,
		                   "invalid_credentials", "refused");
	return ml_perr_set(err, ML_PERR_RETRY, (int)resp->status, "provider_unavailable",
	                   "unavailable");
}
