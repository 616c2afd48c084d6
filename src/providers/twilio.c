/* Twilio Video (sans-IO; see provider.h). An organization credential (API key).
 *
 * Rooms expire when nobody joins them, so the link is meetlink's own (known at confirm) and
 * the room is opened lazily, `open_lead_s` before the start, by a scheduled job
 * (ML_MOP_OPEN): POST /v1/Rooms with a UniqueName derived from the booking and its
 * generation. Twilio keeps UniqueName unique among in-progress rooms, so a repeat answers
 * 53113 "Room exists" and the existing room is fetched and used. Rooms carry no schedule:
 * an update changes nothing there (the pipeline moves the open job instead). Delete and end
 * for all: the in-progress room with the name is completed (Status=completed, which
 * disconnects everyone in it); none means already over.
 */
#include "core/crypto.h"
#include "core/jwt.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "providers/remote.h"
#include "providers/room.h"

#include <stdlib.h>
#include <string.h>

#define NAME "Twilio"

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://video.twilio.com";
}

static int unique_name(const struct ml_platform_settings *s, const struct ml_meeting_req *req,
                       char out[40])
{
	memcpy(out, "ml-", 3);
	return ml_provider_key(out + 3, 37, s, req, "twilio-room", ML_B32, 26);
}

static char *basic(const struct ml_pcreds *cr)
{
	const char *sid = json_string_value(json_object_get(cr->extra, "api_key_sid"));
	const char *sec = json_string_value(json_object_get(cr->extra, "api_key_secret"));
	char *pair = ml_asprintf("%s:%s", sid ? sid : "", sec ? sec : "");
	char *b64 = ml_base64_encode(pair, strlen(pair));
	memset(pair, 0, strlen(pair));
	free(pair);
	char *h = ml_asprintf("Basic %s", b64);
	memset(b64, 0, strlen(b64));
	free(b64);
	return h;
}

static int tw_create(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                     struct ml_meeting *out, struct ml_perr *err)
{
	char name[40];
	if (unique_name(cx->settings, req, name) < 0)
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
		                   "The server has no secret to derive room names from.");
	const char *pub = cx->settings->public_url ? cx->settings->public_url : "";
	out->external_id = ml_strdup(name);
	out->join_url = ml_asprintf("%s/video/%s", pub, name);
	out->host_url = ml_strdup(out->join_url);
	return 0;
}

/* A participant's personal link: meetlink's room page with a Twilio Access Token (HS256
 * under the API key secret, cty "twilio-fpa;v=1", grants.identity + grants.video.room) in
 * the fragment (never sent to a server, never in a log). Valid for the meeting window
 * (at most 24 h, Twilio's limit). Needs the organization's Twilio credential in cx->creds;
 * without it everyone gets the plain link. */
static int tw_participant_url(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                              const struct ml_meeting *m, const struct ml_participant_ref *p,
                              char **url, struct ml_perr *err)
{
	json_t *x = cx->creds ? cx->creds->extra : NULL;
	const char *sid = json_string_value(json_object_get(x, "api_key_sid"));
	const char *sec = json_string_value(json_object_get(x, "api_key_secret"));
	const char *acct = json_string_value(json_object_get(x, "account_sid"));
	const char *room = m->external_id;
	if (!sid || !sec || !acct || !room || !m->join_url) {
		*url = ml_strdup(m->join_url ? m->join_url : "");
		return 0;
	}
	int64_t nbf, exp;
	ml_join_window(cx->settings, req, &nbf, &exp);
	int64_t iat = cx->now;
	if (exp <= iat)
		exp = iat + 60;
	/* Twilio refuses a token that lives more than 24 h: count from when it becomes usable
	 * (a link minted days ahead must still open at the start, so not from iat). */
	int64_t from = nbf > iat ? nbf : iat;
	if (exp - from > 86400)
		exp = from + 86400;
	char jti[128], identity[96];
	snprintf(jti, sizeof jti, "%s-%lld", sid, (long long)iat);
	/* The participant id is stable and opaque; the name is for display only. */
	snprintf(identity, sizeof identity, "%s", p->id ? p->id : p->role);
	json_t *claims =
	    json_pack("{s:s, s:{s:s, s:{s:s}}, s:s, s:s, s:I, s:I, s:I}", "jti", jti, "grants",
	              "identity", identity, "video", "room", room, "iss", sid, "sub", acct, "iat",
	              (json_int_t)iat, "nbf", (json_int_t)nbf, "exp", (json_int_t)exp);
	json_t *hdr = json_pack("{s:s}", "cty", "twilio-fpa;v=1");
	struct ml_jwt_key *k = NULL;
	char *tok = NULL;
	int rc = ml_jwt_key_hs256(&k, sec, strlen(sec));
	if (rc == 0)
		rc = ml_jwt_sign(&tok, k, NULL, hdr, claims);
	ml_jwt_key_free(k);
	json_decref(claims);
	json_decref(hdr);
	if (rc < 0)
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "token_failed",
		                   "Could not sign the Twilio access token.");
	*url = ml_asprintf("%s#access_token=%s", m->join_url, tok);
	free(tok);
	return 0;
}

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	const char *msg = ml_pjs(body, "message");
	char code[32];
	json_int_t c = json_integer_value(json_object_get(body, "code"));
	snprintf(code, sizeof code, "twilio_%" JSON_INTEGER_FORMAT, c);
	return ml_perr_from_resp(err, r, NAME, c ? code : NULL, msg);
}

/* The room's create form. Status callbacks (participants joining and leaving) come to
 * POST /webhooks/twilio (twilio_inbound.c). */
static char *open_form(const struct ml_provider_ctx *cx, const char *name, int64_t lead_min)
{
	struct ml_buf form = {0};
	ml_buf_printf(&form, "UniqueName=%s&Type=group&UnusedRoomTimeout=%lld&EmptyRoomTimeout=15",
	              name, (long long)lead_min);
	if (cx->settings->public_url && *cx->settings->public_url) {
		char *cb = ml_asprintf("%s/webhooks/twilio", cx->settings->public_url);
		ml_buf_puts(&form, "&StatusCallbackMethod=POST&StatusCallback=");
		ml_url_escape(&form, cb);
		free(cb);
	}
	return ml_buf_steal(&form);
}

static int tw_step(const struct ml_provider_ctx *cx, enum ml_mop op,
                   const struct ml_meeting_req *req, const struct ml_pcreds *cr, json_t *state,
                   const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err)
{
	char name[40];
	int rc = 0;
	memset(out, 0, sizeof *out);
	if (unique_name(cx->settings, req, name) < 0) {
		out->kind = ML_PSTEP_FAIL;
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
		                   "The server has no secret to derive room names from.");
	}
	if (!resp) {
		switch (op) {
		case ML_MOP_CREATE:
		case ML_MOP_UPDATE:
			/* Nothing at Twilio until the room opens. */
			out->kind = ML_PSTEP_DONE;
			return 0;
		case ML_MOP_OPEN: {
			/* Unused rooms complete after UnusedRoomTimeout minutes: cover the lead. */
			int64_t lead_min = cx->settings->open_lead_s / 60 + 15;
			if (lead_min > 60)
				lead_min = 60;
			ml_pphase(state, "open");
			ml_pstep_http(out, "POST", ml_asprintf("%s/v1/Rooms", base(cr)),
			              open_form(cx, name, lead_min),
			              "application/x-www-form-urlencoded", basic(cr));
			return 0;
		}
		case ML_MOP_RECONCILE:
			out->kind = ML_PSTEP_DONE; /* ids make repeats harmless */
			return 0;
		case ML_MOP_DELETE:
		case ML_MOP_END:
			/* Both complete the in-progress room with the name (participants are
			 * disconnected); none (never opened, or completed by an earlier attempt
			 * whose answer was lost) is done. */
			ml_pphase(state, "find");
			ml_pstep_http(out, "GET", ml_asprintf("%s/v1/Rooms/%s", base(cr), name),
			              NULL, NULL, basic(cr));
			return 0;
		}
	}
	json_t *body = ml_presp_json(resp);
	bool answered = resp->transport == ML_PT_OK;
	bool ok = ml_presp_ok(resp);
	const char *ph = ml_pjs(state, "phase");
	ph = ph ? ph : "";
	if ((strcmp(ph, "open") == 0 || strcmp(ph, "get") == 0) && ok) {
		out->kind = ML_PSTEP_DONE;
		out->meeting.external_id =
		    ml_strdup(ml_pjs(body, "sid") ? ml_pjs(body, "sid") : name);
		goto done;
	}
	if (strcmp(ph, "open") == 0 && answered && resp->status == 400 &&
	    json_integer_value(json_object_get(body, "code")) == 53113) {
		/* Made by an earlier attempt: use it. */
		ml_pphase(state, "get");
		ml_pstep_http(out, "GET", ml_asprintf("%s/v1/Rooms/%s", base(cr), name), NULL, NULL,
		              basic(cr));
		goto done;
	}
	if (strcmp(ph, "find") == 0) {
		if (answered && resp->status == 404) {
			out->kind = ML_PSTEP_DONE;
			goto done;
		}
		if (ok) {
			const char *st = ml_pjs(body, "status"), *sid = ml_pjs(body, "sid");
			if (!sid || (st && strcmp(st, "in-progress") != 0)) {
				out->kind = ML_PSTEP_DONE;
				goto done;
			}
			ml_pphase(state, "complete");
			ml_pstep_http(out, "POST", ml_asprintf("%s/v1/Rooms/%s", base(cr), sid),
			              ml_strdup("Status=completed"),
			              "application/x-www-form-urlencoded", basic(cr));
			goto done;
		}
	}
	if (strcmp(ph, "complete") == 0 &&
	    (ok || (answered && (resp->status == 404 ||
	                         json_integer_value(json_object_get(body, "code")) == 53118)))) {
		out->kind = ML_PSTEP_DONE;
		goto done;
	}
	rc = classify(err, resp, body);
done:
	return ml_pstep_end(out, rc, body);
}

/* --- the organization credential --- */

static int tw_endpoints(const struct ml_endpoint_env *env, struct ml_endpoints *out)
{
	out->api_base = ml_endpoint_base(env, "MEETLINK_TWILIO_URL", "/twilio",
	                                 "https://video.twilio.com");
	return 0;
}

/* A key pair is checked by listing one room with it. */
static int tw_check(const struct ml_provider_ctx *cx, const struct ml_pcreds *cr,
                    json_t *config, json_t *secret, const struct ml_presp *resp,
                    struct ml_pstep *out, struct ml_perr *err)
{
	if (!resp) {
		const char *sid = json_string_value(json_object_get(config, "api_key_sid"));
		const char *sec = json_string_value(json_object_get(secret, "api_key_secret"));
		char *pair = ml_asprintf("%s:%s", sid ? sid : "", sec ? sec : "");
		char *b64 = ml_base64_encode(pair, strlen(pair));
		memset(pair, 0, strlen(pair));
		free(pair);
		ml_pstep_http(out, "GET", ml_asprintf("%s/v1/Rooms?PageSize=1", cr->api_base), NULL,
		              NULL, ml_asprintf("Basic %s", b64));
		memset(b64, 0, strlen(b64));
		free(b64);
		return 0;
	}
	return ml_pcheck_answer(resp, out, err);
}

static const char *const tw_cred_config[] = {"account_sid", "api_key_sid", NULL};
/* auth_token: the account's, which signs the status callbacks (twilio_inbound.c); optional,
 * the callbacks are refused without it. */
static const char *const tw_cred_secrets[] = {"api_key_secret", "auth_token", NULL};
static const char *const tw_cred_optional[] = {"auth_token", NULL};

static const struct ml_cred_info tw_creds = {
    .kind = "twilio",
    .config = tw_cred_config,
    .secrets = tw_cred_secrets,
    .secret_max = 256,
    .check = tw_check,
    .optional = tw_cred_optional,
};

extern const struct ml_inbound_info ml_twilio_inbound; /* twilio_inbound.c */

static const struct ml_remote_info info = {
    .max_inflight_per_conn = 0,
    .qps_per_conn = 0,
    .open_lead_s = 600,
};

/* meetlink's own video page (docs/gateway.md): the twilio-video SDK from npm. Its dynamic
 * import() is made with `new Function`, which the page's CSP (no 'unsafe-eval') refuses and
 * which fails the whole SDK at load: the same import as an arrow function instead. */
static const struct ml_video_page_info tw_video_page = {
    .sdk_name = "twilio-video.min.js",
    .sdk_path = "twilio-video/dist/twilio-video.min.js",
    .connect_src = "https://*.twilio.com wss://*.twilio.com",
    .sdk_from = "new Function(\"url\",\"return import(url);\")",
    .sdk_to = "(url=>import(url))",
};

/* Ending: the room is completed (ML_MOP_END). */
static const struct ml_end_info tw_end = {ML_END_CALL, NULL};

const struct ml_provider_ops ml_provider_twilio = {
    .abi = ML_PROVIDER_ABI,
    .name = "twilio",
    .label = "Twilio Video",
    .caps = ML_CAP_REMOTE | ML_CAP_ORG_CREDS | ML_CAP_LAZY | ML_CAP_DELETE | ML_CAP_UPDATE |
            ML_CAP_PERSONAL,
    .meeting_create = tw_create,
    .participant_url = tw_participant_url,
    .remote_step = tw_step,
    .remote = &info,
    .endpoints = tw_endpoints,
    .creds = &tw_creds,
    .inbound = &ml_twilio_inbound,
    .video_page = &tw_video_page,
    .end = &tw_end,
};
