/* Jitsi Meet: a local platform. The room is derived from the booking, so confirming twice (or
 * retrying after a crash) gives the same link and nobody is called.
 *
 * Public domain (meet.jit.si by default): anyone with the link can join; each participant's
 * personal link only presets their display name. Self-hosted with prosody token auth
 * (jitsi_app_id + jitsi_key): every participant needs a JWT (lib-jitsi-meet doc/tokens.md), so
 * the personal link carries one, valid for the meeting window only, the host as moderator.
 */
#include "core/jwt.h"
#include "core/mem.h"
#include "providers/provider.h"
#include "providers/room.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_DOMAIN "meet.jit.si"

static const char *domain(const struct ml_platform_settings *s)
{
	return s && s->jitsi_domain && *s->jitsi_domain ? s->jitsi_domain : DEFAULT_DOMAIN;
}

static bool token_auth(const struct ml_platform_settings *s)
{
	return s && s->jitsi_app_id && *s->jitsi_app_id && s->jitsi_key;
}

static int jitsi_create(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                        struct ml_meeting *out, struct ml_perr *err)
{
	char room[ML_ROOM_MAX];

	if (ml_room_name(room, cx->settings, req) < 0)
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
		                   "jitsi is not configured: the server has no room secret");
	memset(out, 0, sizeof(*out));
	out->external_id = ml_strdup(room);
	out->join_url = ml_asprintf("https://%s/%s", domain(cx->settings), room);
	out->host_url = ml_strdup(out->join_url);
	return 0;
}

/* The room lives as long as its link: a reschedule keeps it. */
static int jitsi_update(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                       struct ml_meeting *out, struct ml_perr *err)
{
	return ml_room_keep(req, out) ? 0 : jitsi_create(cx, req, out, err);
}

/* {"aud","iss","sub","room","exp","nbf","context":{"user":{...}},"moderator"} in the order of
 * the spec's computed example. */
static json_t *claims(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                      const char *room, const struct ml_participant_ref *p)
{
	const struct ml_platform_settings *s = cx->settings;
	int64_t nbf, exp;
	bool mod = ml_role_is_moderator(p->role);
	json_t *user = json_object();

	ml_join_window(s, req, &nbf, &exp);
	/* prosody rejects null or non-string user fields: leave absent ones out. */
	if (p->id)
		json_object_set_new(user, "id", json_string(p->id));
	if (p->name)
		json_object_set_new(user, "name", json_string(p->name));
	if (p->email)
		json_object_set_new(user, "email", json_string(p->email));
	/* mod_token_affiliation reads this; the top-level claim serves token_moderation. */
	json_object_set_new(user, "affiliation", json_string(mod ? "owner" : "member"));

	const char *aud = s->jitsi_audience && *s->jitsi_audience ? s->jitsi_audience : "jitsi";
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:{s:o}, s:b}", "aud", aud,
	                 "iss", s->jitsi_app_id, "sub", domain(s), "room", room, "exp",
	                 (json_int_t)exp, "nbf", (json_int_t)nbf, "context", "user", user,
	                 "moderator", mod);
}

static int jitsi_participant_url(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                                 const struct ml_meeting *m, const struct ml_participant_ref *p,
                                 char **url, struct ml_perr *err)
{
	struct ml_buf b = {0};

	if (!m->join_url)
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "meeting_not_ready",
		                   "the meeting has no link yet");
	ml_buf_puts(&b, m->join_url);
	if (token_auth(cx->settings)) {
		const char *room = m->external_id;
		char *tok = NULL;
		if (!room || !*room) {
			const char *slash = strrchr(m->join_url, '/');
			room = slash ? slash + 1 : "";
		}
		json_t *c = claims(cx, req, room, p);
		int rc = ml_jwt_sign(&tok, cx->settings->jitsi_key, NULL, NULL, c);
		json_decref(c);
		if (rc < 0) {
			ml_buf_free(&b);
			return ml_perr_set(err, ML_PERR_RETRY, 0, "token_failed",
			                   "could not sign the jitsi token");
		}
		ml_buf_puts(&b, "?jwt=");
		ml_buf_puts(&b, tok);
		free(tok);
	} else if (p->name && *p->name) {
		/* Jitsi parses each hash parameter as URL-encoded JSON. */
		json_t *js = json_string(p->name);
		char *q = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
		if (q) {
			ml_buf_puts(&b, "#userInfo.displayName=");
			ml_url_escape(&b, q);
		}
		free(q);
		json_decref(js);
	}
	*url = ml_buf_steal(&b);
	return 0;
}

/* Ending: with token auth nobody enters without a token the gateway mints; a public room
 * stays open to whoever has its address. */
static bool jitsi_tokens_required(const struct ml_provider_ctx *cx)
{
	return cx && cx->settings && token_auth(cx->settings);
}

static const struct ml_end_info jitsi_end = {ML_END_TOKENS, jitsi_tokens_required};

const struct ml_provider_ops ml_provider_jitsi = {
    .abi = ML_PROVIDER_ABI,
    .name = "jitsi",
    .label = "Jitsi Meet",
    .caps = ML_CAP_LOCAL | ML_CAP_UPDATE | ML_CAP_DELETE | ML_CAP_PERSONAL,
    .meeting_create = jitsi_create,
    .meeting_update = jitsi_update,
    .meeting_delete = ml_room_delete,
    .participant_url = jitsi_participant_url,
    .end = &jitsi_end,
};
