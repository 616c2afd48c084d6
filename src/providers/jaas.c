/* 8x8 Jitsi as a Service: a local platform like jitsi, on https://8x8.vc/{appId}/{room}, where
 * every participant carries an RS256 JWT (header kid "<appId>/<key id>") minted when they ask
 * for their link, not eagerly: RSA signatures cost ~1 ms each (STACK.md).
 */
#include "core/error.h"
#include "core/jwt.h"
#include "core/mem.h"
#include "providers/provider.h"
#include "providers/room.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_DOMAIN "8x8.vc"

static const char *domain(const struct ml_platform_settings *s)
{
	return s->jaas_domain && *s->jaas_domain ? s->jaas_domain : DEFAULT_DOMAIN;
}

/* The account the links and tokens are made for: the organization's credential (PUT
 * /v1/credentials/jaas, lent in cx->creds) when it has one, else the server's
 * (MEETLINK_JAAS_*). The key is parsed only when a token is signed (`want_key`). */
struct account {
	const char *app_id, *kid;
	struct ml_jwt_key *key;   /* borrowed or `owned` */
	struct ml_jwt_key *owned; /* parsed from the credential: ml_jwt_key_free() */
	bool org;
};

static const char *cred_str(const struct ml_provider_ctx *cx, const char *name)
{
	return cx->creds ? json_string_value(json_object_get(cx->creds->extra, name)) : NULL;
}

static int account(const struct ml_provider_ctx *cx, bool want_key, struct account *a,
		   struct ml_perr *err)
{
	const struct ml_platform_settings *s = cx->settings;
	const char *what = NULL;
	memset(a, 0, sizeof *a);
	if (cred_str(cx, "app_id")) {
		a->org = true;
		a->app_id = cred_str(cx, "app_id");
		a->kid = cred_str(cx, "key_id");
		const char *pem = cred_str(cx, "private_key");
		if (want_key && pem && ml_jwt_key_rs256_pem(&a->owned, pem, strlen(pem)) == 0)
			a->key = a->owned;
	} else if (s) {
		a->app_id = s->jaas_app_id;
		a->kid = s->jaas_kid;
		a->key = s->jaas_key;
	}
	if (!a->app_id || !*a->app_id)
		what = "the JaaS app id";
	else if (!a->kid || !*a->kid)
		what = "the JaaS key id (kid)";
	else if (a->org ? !cred_str(cx, "private_key") || (want_key && !a->key) : !a->key)
		what = "the JaaS private key";
	else if (!s || !s->room_secret || !s->room_secret_len)
		what = "the room secret";
	if (!what)
		return 0;
	return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
			   "jaas is not configured %s: %s is missing",
			   a->org ? "in the organization's credential" : "on this server", what);
}

static void account_clear(struct account *a)
{
	ml_jwt_key_free(a->owned);
	memset(a, 0, sizeof *a);
}

static int jaas_create(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                       struct ml_meeting *out, struct ml_perr *err)
{
	const struct ml_platform_settings *s = cx->settings;
	struct account a;
	char room[ML_ROOM_MAX];
	int rc;

	if ((rc = account(cx, false, &a, err)) < 0)
		return rc;
	if (ml_room_name(room, s, req) < 0)
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
				   "jaas is not configured on this server: the room secret is missing");
	memset(out, 0, sizeof(*out));
	out->external_id = ml_strdup(room);
	out->join_url = ml_asprintf("https://%s/%s/%s", domain(s), a.app_id, room);
	out->host_url = ml_strdup(out->join_url);
	return 0;
}

static int jaas_update(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                       struct ml_meeting *out, struct ml_perr *err)
{
	return ml_room_keep(req, out) ? 0 : jaas_create(cx, req, out, err);
}

static bool setting_true(json_t *settings, const char *name)
{
	return json_is_true(json_object_get(settings, name));
}

/* Claims per developer.8x8.com/jaas/docs/api-keys-jwt; JaaS wants moderator and the feature
 * flags as the strings "true"/"false", and honours features only for moderators. */
static json_t *claims(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                      const char *app_id, const char *room, const struct ml_participant_ref *p)
{
	const struct ml_platform_settings *s = cx->settings;
	bool mod = ml_role_is_moderator(p->role);
	int64_t nbf, exp;
	json_t *user = json_object(), *context = json_object();

	ml_join_window(s, req, &nbf, &exp);
	if (p->id)
		json_object_set_new(user, "id", json_string(p->id));
	if (p->name)
		json_object_set_new(user, "name", json_string(p->name));
	if (p->email)
		json_object_set_new(user, "email", json_string(p->email));
	json_object_set_new(user, "moderator", json_string(mod ? "true" : "false"));
	json_object_set_new(context, "user", user);
	if (mod) {
		const char *rec = setting_true(req->settings, "recording") ? "true" : "false";
		json_object_set_new(context, "features",
		                    json_pack("{s:s, s:s, s:s, s:s}", "livestreaming", "false",
		                              "recording", rec, "transcription", rec,
		                              "outbound-call", "false"));
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:o}", "aud", "jitsi", "iss", "chat",
	                 "iat", (json_int_t)cx->now, "nbf", (json_int_t)nbf, "exp", (json_int_t)exp,
	                 "sub", app_id, "room", room, "context", context);
}

static int jaas_participant_url(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
                                const struct ml_meeting *m, const struct ml_participant_ref *p,
                                char **url, struct ml_perr *err)
{
	struct account a;
	char *tok = NULL;
	int rc;

	if (!m->join_url)
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "meeting_not_ready",
		                   "the meeting has no link yet");
	if ((rc = account(cx, true, &a, err)) < 0) {
		account_clear(&a);
		return rc;
	}
	const char *room = m->external_id;
	if (!room || !*room) {
		const char *slash = strrchr(m->join_url, '/');
		room = slash ? slash + 1 : "";
	}
	json_t *c = claims(cx, req, a.app_id, room, p);
	rc = ml_jwt_sign(&tok, a.key, a.kid, NULL, c);
	json_decref(c);
	account_clear(&a);
	if (rc < 0)
		return ml_perr_set(err, ML_PERR_RETRY, 0, "token_failed",
		                   "could not sign the jaas token");
	*url = ml_asprintf("%s?jwt=%s", m->join_url, tok);
	free(tok);
	return 0;
}

/* Services may use JaaS once the organization has its credential (PUT /v1/credentials/jaas,
 * lent in cx->creds) or the server has a key (MEETLINK_JAAS_*). */
static int jaas_ready(const struct ml_provider_ctx *cx, struct ml_perr *err)
{
	if ((cx->settings && cx->settings->jaas_key) || cred_str(cx, "app_id"))
		return 0;
	return ml_perr_set(err, ML_PERR_PERMANENT, 0, "platform_not_configured",
	                   "JaaS needs the organization's credential (PUT /v1/credentials/jaas) "
	                   "or MEETLINK_JAAS_APP_ID, MEETLINK_JAAS_KEY_ID and "
	                   "MEETLINK_JAAS_PRIVATE_KEY_FILE on the server.");
}

/* No JaaS API takes a key pair: check that it signs, and that the kid names the app. */
static int jaas_check(const struct ml_provider_ctx *cx, const struct ml_pcreds *cr,
                      json_t *config, json_t *secret, const struct ml_presp *resp,
                      struct ml_pstep *out, struct ml_perr *err)
{
	const char *app_id = json_string_value(json_object_get(config, "app_id"));
	const char *kid = json_string_value(json_object_get(config, "key_id"));
	const char *pem = json_string_value(json_object_get(secret, "private_key"));
	size_t n = strlen(app_id);
	out->kind = ML_PSTEP_FAIL;
	if (strncmp(kid, app_id, n) != 0 || kid[n] != '/' || !kid[n + 1]) {
		ml_error_set(ML_EINVAL, "invalid_field", "key_id",
		             "key_id must be \"<app_id>/<key id>\" for this app_id.");
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_field", "key_id");
	}
	struct ml_jwt_key *key = NULL;
	if (ml_jwt_key_rs256_pem(&key, pem, strlen(pem)) < 0) {
		ml_error_set(ML_EINVAL, "invalid_field", "private_key",
		             "private_key must be an RSA private key (PEM, 2048 bits or more).");
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_field", "private_key");
	}
	char *tok = NULL;
	json_t *claims = json_pack("{s:s, s:s, s:s}", "aud", "jitsi", "iss", "chat", "sub", app_id);
	int rc = ml_jwt_sign(&tok, key, kid, NULL, claims);
	json_decref(claims);
	free(tok);
	ml_jwt_key_free(key);
	if (rc < 0) {
		ml_error_set(ML_EINVAL, "invalid_field", "private_key",
		             "private_key cannot sign a token.");
		return ml_perr_set(err, ML_PERR_PERMANENT, 0, "invalid_field", "private_key");
	}
	out->kind = ML_PSTEP_DONE;
	return 0;
}

extern const struct ml_inbound_info ml_jaas_inbound; /* jaas_inbound.c */

static const char *const jaas_cred_config[] = {"app_id", "key_id", NULL};
static const char *const jaas_cred_secrets[] = {"private_key", NULL};

static const struct ml_cred_info jaas_creds = {
    .kind = "jaas",
    .config = jaas_cred_config,
    .secrets = jaas_cred_secrets,
    .secret_max = 16384,
    .check = jaas_check,
};

/* Ending: JaaS admits only with a token the gateway mints. */
static const struct ml_end_info jaas_end = {ML_END_TOKENS, NULL};

const struct ml_provider_ops ml_provider_jaas = {
    .abi = ML_PROVIDER_ABI,
    .name = "jaas",
    .label = "Jitsi (8x8 JaaS)",
    .caps = ML_CAP_LOCAL | ML_CAP_UPDATE | ML_CAP_DELETE | ML_CAP_PERSONAL,
    .meeting_create = jaas_create,
    .meeting_update = jaas_update,
    .meeting_delete = ml_room_delete,
    .participant_url = jaas_participant_url,
    .creds = &jaas_creds,
    .ready = jaas_ready,
    .inbound = &ml_jaas_inbound,
    .end = &jaas_end,
};
