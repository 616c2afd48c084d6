/* Microsoft identity platform v2.0 emulation (specs/msgraph/msgraph-notes.json "token"):
 * authorize with a consent page, the token endpoint (authorization_code with PKCE,
 * refresh_token, client_credentials) and its AADSTS error bodies. Graph is in microsoft.c. */
#include "sandbox/microsoft.h"

#include "core/html.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <strings.h>

/* Identity platform errors carry AADSTS codes in the description and in error_codes. */
static void aad_error(struct ml_http_resp *resp, int status, const char *error, int aadsts,
                      const char *message)
{
	char ts[ML_RFC3339_MAX];
	ml_time_format(ml_sb_now(), ts);
	ts[10] = ' ';
	ts[19] = 'Z';
	ts[20] = '\0';
	char *trace = guid(), *corr = guid();
	char *desc =
	    ml_asprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
	                aadsts, message, trace, corr, ts);
	char *uri = ml_asprintf("https://login.microsoftonline.com/error?code=%d", aadsts);
	ml_resp_json(resp, status,
	             json_pack("{s:s, s:s, s:[i], s:s, s:s, s:s, s:s}", "error", error,
	                       "error_description", desc, "error_codes", aadsts, "timestamp", ts,
	                       "trace_id", trace, "correlation_id", corr, "error_uri", uri));
	free(trace);
	free(corr);
	free(desc);
	free(uri);
}

/* ---- identity platform -------------------------------------------------------------- */

static json_t *app_of(json_t *root, const char *client_id)
{
	return client_id ? json_object_get(json_object_get(root, "apps"), client_id) : NULL;
}

static void redirect_to(struct ml_http_resp *resp, const char *uri, const char *code,
                        const char *error, const char *description, const char *state)
{
	const char *kv[] = {"code",      code,    "error", error, "error_description",
	                    description, "state", state};
	ml_sb_redirect(resp, uri, kv, 4);
}

/* What the consent form carries over to the decision. */
static const char *const authz_params[] = {
    "client_id",  "redirect_uri",   "response_type",         "scope",        "state", "prompt",
    "login_hint", "code_challenge", "code_challenge_method", "response_mode"};
#define N_AUTHZ (sizeof authz_params / sizeof *authz_params)

/* Answers an AADSTS error page when the request cannot be redirected back. */
static bool authz_check(json_t *root, json_t *p, struct ml_http_resp *resp)
{
	struct ml_buf b = {0};
	const char *cid = ml_sb_str(p, "client_id"), *ru = ml_sb_str(p, "redirect_uri");
	const char *err = NULL;
	json_t *app = app_of(root, cid);
	if (!cid)
		err = "AADSTS900144: The request body must contain the following parameter: "
		      "'client_id'.";
	else if (!app)
		err = "AADSTS700016: Application with identifier was not found in the directory.";
	else if (!ml_sb_redirect_ok(app, ru))
		err = "AADSTS50011: The redirect URI specified in the request does not match the "
		      "redirect URIs configured for the application.";
	if (err) {
		ml_buf_puts(&b, "<!doctype html><html><body><h1>Sign in</h1><p>Sorry, but we're "
		                "having trouble signing you in.</p><p>");
		ml_html_escape_buf(&b, err);
		ml_buf_puts(&b, "</p></body></html>");
		ml_sb_html(resp, 400, &b);
		return false;
	}
	const char *rt = ml_sb_str(p, "response_type"), *m = ml_sb_str(p, "code_challenge_method");
	if (!rt || strcmp(rt, "code") != 0) {
		redirect_to(
		    resp, ru, NULL, "unsupported_response_type",
		    "AADSTS700054: response_type 'id_token' is not enabled for the application.",
		    ml_sb_str(p, "state"));
		return false;
	}
	if (!ml_sb_str(p, "scope")) {
		redirect_to(
		    resp, ru, NULL, "invalid_request",
		    "AADSTS900144: The request body must contain the following parameter: 'scope'.",
		    ml_sb_str(p, "state"));
		return false;
	}
	if (m && strcmp(m, "S256") != 0 && strcmp(m, "plain") != 0) {
		redirect_to(resp, ru, NULL, "invalid_request",
		            "AADSTS501491: Invalid size of Code_Challenge parameter.",
		            ml_sb_str(p, "state"));
		return false;
	}
	return true;
}

static const char *pick_user(json_t *root, const char *hint)
{
	return ml_sb_pick_key(json_object_get(root, "users"), hint,
	                      ml_sb_cfg_str(P, "default_user", NULL));
}

static void issue_code(json_t *root, json_t *p, const char *upn, struct ml_http_resp *resp)
{
	char *code = ml_sb_rand("0.AXsb-", 60, ML_SB_ALNUM);
	json_t *rec = json_pack(
	    "{s:s, s:s, s:s, s:s, s:I, s:b}", "client_id", ml_sb_str(p, "client_id"),
	    "redirect_uri", ml_sb_str(p, "redirect_uri"), "user", upn, "scope",
	    ml_sb_str(p, "scope"), "expires_at", (json_int_t)(ml_sb_now() + 600), "used", 0);
	if (ml_sb_str(p, "code_challenge")) {
		json_object_set_new(rec, "code_challenge",
		                    json_string(ml_sb_str(p, "code_challenge")));
		json_object_set_new(rec, "code_challenge_method",
		                    json_string(ml_sb_str(p, "code_challenge_method")
		                                    ? ml_sb_str(p, "code_challenge_method")
		                                    : "plain"));
	}
	json_object_set_new(json_object_get(root, "codes"), code, rec);
	redirect_to(resp, ml_sb_str(p, "redirect_uri"), code, NULL, NULL, ml_sb_str(p, "state"));
	free(code);
}

static void q_cb(void *arg, const char *name, const char *value)
{
	json_object_set_new(arg, name, json_string(value));
}

/* GET /{tenant}/oauth2/v2.0/authorize */
void ml_sb_ms_authorize(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *p = json_object();
	ml_http_query_each(req, q_cb, p);
	if (!authz_check(root, p, resp))
		goto done;
	const char *upn = pick_user(root, ml_sb_str(p, "login_hint"));
	const char *autoq = ml_sb_str(p, "sandbox_auto");
	if (autoq && strcmp(autoq, "deny") == 0) {
		redirect_to(resp, ml_sb_str(p, "redirect_uri"), NULL, "access_denied",
		            "AADSTS65004: User declined to consent to access the app.",
		            ml_sb_str(p, "state"));
		goto done;
	}
	if (ml_sb_cfg_bool(P, "auto_approve", false) || (autoq && strcmp(autoq, "allow") == 0)) {
		issue_code(root, p, upn, resp);
		goto done;
	}
	struct ml_buf b = {0};
	ml_buf_puts(&b,
	            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Permissions "
	            "requested (sandbox)</title></head><body><h1>Permissions requested</h1><p>");
	ml_html_escape_buf(&b, ml_sb_str(app_of(root, ml_sb_str(p, "client_id")), "name"));
	ml_buf_puts(&b, " wants: ");
	ml_html_escape_buf(&b, ml_sb_str(p, "scope"));
	ml_buf_puts(&b, "</p>");
	const char *kv[2 * N_AUTHZ];
	for (size_t i = 0; i < N_AUTHZ; i++) {
		kv[2 * i] = authz_params[i];
		kv[2 * i + 1] = ml_sb_str(p, authz_params[i]);
	}
	char *action = ml_asprintf("%s/microsoft/%s/oauth2/v2.0/authorize/decision",
	                           ml_sb_base_url(), req->params[0]);
	ml_sb_consent_form(&b, action, json_object_get(root, "users"), upn, kv, N_AUTHZ, "Accept");
	free(action);
	ml_buf_puts(&b, "</body></html>");
	ml_sb_html(resp, 200, &b);
done:
	json_decref(p);
}

/* POST /{tenant}/oauth2/v2.0/authorize/decision */
void ml_sb_ms_decision(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *p = ml_sb_form_body(req);
	if (authz_check(root, p, resp)) {
		const char *d = ml_sb_str(p, "decision");
		if (d && strcmp(d, "allow") == 0)
			issue_code(root, p, pick_user(root, ml_sb_str(p, "account")), resp);
		else
			redirect_to(resp, ml_sb_str(p, "redirect_uri"), NULL, "access_denied",
			            "AADSTS65004: User declined to consent to access the app.",
			            ml_sb_str(p, "state"));
	}
	json_decref(p);
}

/* The scope as the token response shows it: Graph permissions without the resource prefix,
 * without the OIDC scopes. */
static char *granted_scope(const char *requested)
{
	struct ml_buf b = {0};
	char *s = ml_strdup(nz(requested)), *save = NULL;
	for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		const char *pre = "https://graph.microsoft.com/";
		if (strncmp(t, pre, strlen(pre)) == 0)
			t += strlen(pre);
		if (!strcmp(t, "offline_access") || !strcmp(t, "openid") || !strcmp(t, "profile") ||
		    !strcmp(t, "email") || !*t)
			continue;
		if (b.len)
			ml_buf_puts(&b, " ");
		ml_buf_puts(&b, t);
	}
	free(s);
	if (!b.len)
		ml_buf_puts(&b, "User.Read");
	return ml_buf_steal(&b);
}

static json_t *token_response(json_t *root, const char *cid, const char *user, const char *scope,
                              const char *grant, bool refresh)
{
	int64_t ttl = ml_sb_cfg_int(P, "access_token_ttl", 3599);
	char *granted = granted_scope(scope);
	const char *at = ml_sb_token_issue(root, "eyJ0eXAiOiJKV1QiLCJzYiI6MX0.sb-", "access", ttl,
	                                   json_pack("{s:s, s:s?, s:s, s:s, s:s}", "client_id", cid,
	                                             "account", user, "scope", granted, "grant",
	                                             grant, "kind", user ? "delegated" : "app"));
	json_t *out = json_pack("{s:s, s:s, s:I, s:I, s:s}", "token_type", "Bearer", "scope",
	                        granted, "expires_in", (json_int_t)ttl, "ext_expires_in",
	                        (json_int_t)ttl, "access_token", at);
	if (refresh) {
		const char *rt =
		    ml_sb_token_issue(root, "0.AXsb-rt-", "refresh", 90 * 86400,
		                      json_pack("{s:s, s:s, s:s, s:s}", "client_id", cid, "account",
		                                user, "scope", scope, "grant", grant));
		json_object_set_new(out, "refresh_token", json_string(rt));
	}
	free(granted);
	return out;
}

/* client_credentials: an app token for a /.default scope. */
static void app_grant(json_t *root, struct ml_http_resp *resp, json_t *f, const char *app_key)
{
	const char *scope = ml_sb_str(f, "scope");
	if (!scope || !strstr(scope, "/.default")) {
		aad_error(resp, 400, "invalid_scope", 1002012,
		          "The provided value for scope is not valid. Client credential flows "
		          "must have a scope value with /.default suffixed to the resource "
		          "identifier (application ID URI).");
		return;
	}
	char *grant = ml_sb_rand("app-", 12, NULL);
	json_t *out = token_response(
	    root, app_key, NULL, "Calendars.ReadWrite OnlineMeetings.ReadWrite.All", grant, false);
	json_object_set_new(out, "scope", json_string(scope));
	free(grant);
	ml_resp_json(resp, 200, out);
}

/* authorization_code: the code spent once, by its client, with its redirect URI and PKCE. */
static void code_grant(json_t *root, struct ml_http_resp *resp, json_t *f, const char *app_key)
{
	const char *code = ml_sb_str(f, "code");
	if (!code || !*code) {
		aad_error(resp, 400, "invalid_request", 900144,
		          "The request body must contain the following parameter: 'code'.");
		return;
	}
	json_t *rec = json_object_get(json_object_get(root, "codes"), code);
	if (!rec) {
		aad_error(resp, 400, "invalid_grant", 9002313,
		          "Invalid request. Request is malformed or invalid.");
		return;
	}
	if (json_is_true(json_object_get(rec, "used"))) {
		aad_error(resp, 400, "invalid_grant", 54005,
		          "OAuth2 Authorization code was already redeemed, please retry with "
		          "a new valid code or use an existing refresh token.");
		return;
	}
	if (json_integer_value(json_object_get(rec, "expires_at")) <= ml_sb_now()) {
		aad_error(resp, 400, "invalid_grant", 70008,
		          "The provided authorization code or refresh token has expired due "
		          "to inactivity. Send a new interactive authorization request for this "
		          "user and resource.");
		return;
	}
	if (strcmp(nz(ml_sb_str(rec, "client_id")), app_key) != 0) {
		aad_error(resp, 400, "invalid_grant", 70000,
		          "Provided grant is invalid or malformed.");
		return;
	}
	if (strcmp(nz(ml_sb_str(rec, "redirect_uri")), nz(ml_sb_str(f, "redirect_uri"))) != 0) {
		aad_error(resp, 400, "invalid_grant", 500112,
		          "The reply address does not match the reply address provided when "
		          "requesting Authorization code.");
		return;
	}
	const char *ch = ml_sb_str(rec, "code_challenge"), *ver = ml_sb_str(f, "code_verifier");
	if (ch && !ver) {
		aad_error(resp, 400, "invalid_grant", 50148,
		          "The code_verifier does not match the code_challenge supplied in "
		          "the authorization request for PKCE.");
		return;
	}
	if (ch && !ml_sb_pkce_verify(ver, ch, ml_sb_str(rec, "code_challenge_method"))) {
		aad_error(resp, 400, "invalid_grant", 501481,
		          "The Code_Verifier does not match the code_challenge supplied in "
		          "the authorization request.");
		return;
	}
	char *grant = ml_sb_rand("grant-", 16, NULL);
	json_object_set_new(rec, "used", json_true());
	json_object_set_new(rec, "grant", json_string(grant));
	const char *scope = ml_sb_str(rec, "scope");
	ml_resp_json(resp, 200,
	             token_response(root, app_key, ml_sb_str(rec, "user"), scope, grant,
	                            has_word(scope, "offline_access")));
	free(grant);
}

/* refresh_token: a new refresh token comes back each time; the old one stays valid
 * (Microsoft does not revoke it on use). */
static void refresh_grant(json_t *root, struct ml_http_resp *resp, json_t *f, const char *app_key)
{
	const char *rt = ml_sb_str(f, "refresh_token");
	if (!rt || !*rt) {
		aad_error(
		    resp, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: 'refresh_token'.");
		return;
	}
	const char *why = NULL;
	json_t *rec = ml_sb_token_check(root, rt, "refresh", &why);
	if (!rec) {
		if (strcmp(why, "revoked") == 0)
			aad_error(
			    resp, 400, "invalid_grant", 50173,
			    "The provided grant has expired due to it being revoked, a fresh "
			    "auth token is needed. The user might have changed or reset their "
			    "password.");
		else if (strcmp(why, "expired") == 0)
			aad_error(resp, 400, "invalid_grant", 700082,
			          "The refresh token has expired due to inactivity.");
		else
			aad_error(resp, 400, "invalid_grant", 9002313,
			          "Invalid request. Request is malformed or invalid.");
		return;
	}
	if (strcmp(nz(ml_sb_str(rec, "client_id")), app_key) != 0) {
		aad_error(resp, 400, "invalid_grant", 70000,
		          "Provided grant is invalid or malformed.");
		return;
	}
	ml_resp_json(resp, 200,
	             token_response(root, app_key, ml_sb_str(rec, "account"),
	                            ml_sb_str(rec, "scope"), ml_sb_str(rec, "grant"), true));
}

/* POST /{tenant}/oauth2/v2.0/token */
void ml_sb_ms_token(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *f = ml_sb_form_body(req);
	const char *gt = ml_sb_str(f, "grant_type");
	char *cid, *secret;
	ml_sb_client_creds(req, f, &cid, &secret);
	json_t *app = app_of(root, cid);
	if (!gt) {
		aad_error(resp, 400, "invalid_request", 900144,
		          "The request body must contain the following parameter: 'grant_type'.");
		goto done;
	}
	if (strcmp(gt, "authorization_code") && strcmp(gt, "refresh_token") &&
	    strcmp(gt, "client_credentials")) {
		aad_error(resp, 400, "unsupported_grant_type", 70003,
		          "The app requested an unsupported grant type.");
		goto done;
	}
	if (!cid) {
		aad_error(resp, 400, "invalid_request", 900144,
		          "The request body must contain the following parameter: 'client_id'.");
		goto done;
	}
	if (!app) {
		aad_error(resp, 400, "unauthorized_client", 700016,
		          "Application was not found in the directory 'sandbox'.");
		goto done;
	}
	if (!secret) {
		aad_error(
		    resp, 401, "invalid_client", 7000218,
		    "The request body must contain the following parameter: 'client_assertion' "
		    "or 'client_secret'.");
		goto done;
	}
	if (!ml_sb_secret_equal(secret, ml_sb_str(app, "client_secret"))) {
		aad_error(resp, 401, "invalid_client", 7000215, "Invalid client secret provided.");
		goto done;
	}
	const char *app_key =
	    json_object_iter_key(json_object_iter_at(json_object_get(root, "apps"), cid));
	if (strcmp(gt, "client_credentials") == 0)
		app_grant(root, resp, f, app_key);
	else if (strcmp(gt, "authorization_code") == 0)
		code_grant(root, resp, f, app_key);
	else
		refresh_grant(root, resp, f, app_key);
done:
	free(cid);
	free(secret);
	json_decref(f);
}
