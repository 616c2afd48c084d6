/* Google OAuth 2.0 emulation (specs/google/google-oauth2.json): the authorize endpoint with a
 * consent page, the token endpoint (authorization_code with PKCE, refresh_token), revoke,
 * userinfo and the OpenID discovery document. Calendar is in google.c. */
#include "sandbox/google.h"
#include "core/html.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------------------ */

static void oauth_error(struct ml_http_resp *resp, int status, const char *error,
                        const char *description)
{
	ml_resp_json(resp, status,
	             json_pack("{s:s, s:s}", "error", error, "error_description", description));
}

static json_t *client_of(json_t *root, const char *client_id)
{
	return client_id ? json_object_get(json_object_get(root, "clients"), client_id) : NULL;
}

static void html_error(struct ml_http_resp *resp, int status, const char *error, const char *detail)
{
	struct ml_buf b = {0};
	ml_buf_puts(&b, "<!doctype html><html><head><meta charset=\"utf-8\"><title>Error</title>"
	                "</head><body><h1>Access blocked: authorization error</h1><p>Error ");
	ml_buf_printf(&b, "%d: ", status);
	ml_html_escape_buf(&b, error);
	ml_buf_puts(&b, "</p><p>");
	ml_html_escape_buf(&b, detail);
	ml_buf_puts(&b, "</p></body></html>");
	ml_sb_html(resp, status, &b);
}

static void redirect_with(struct ml_http_resp *resp, const char *uri, const char *code,
                          const char *error, const char *scope, const char *state)
{
	const char *kv[] = {"state", state, "code", code, "scope", code ? scope : NULL,
	                    "error", error};
	ml_sb_redirect(resp, uri, kv, 4);
}

/* The authorize parameters, from the query (GET) or the consent form (POST). */
struct authz {
	const char *client_id, *redirect_uri, *response_type, *scope, *state, *access_type, *prompt,
	    *login_hint, *challenge, *method;
};

static void authz_from(struct authz *a, const char *(*get)(void *, const char *), void *arg)
{
	a->client_id = get(arg, "client_id");
	a->redirect_uri = get(arg, "redirect_uri");
	a->response_type = get(arg, "response_type");
	a->scope = get(arg, "scope");
	a->state = get(arg, "state");
	a->access_type = get(arg, "access_type");
	a->prompt = get(arg, "prompt");
	a->login_hint = get(arg, "login_hint");
	a->challenge = get(arg, "code_challenge");
	a->method = get(arg, "code_challenge_method");
}

static const char *get_query(void *arg, const char *name)
{
	const char *v = ml_http_query(arg, name);
	return v && *v ? v : NULL;
}

static const char *get_form(void *arg, const char *name)
{
	const char *v = ml_sb_str(arg, name);
	return v && *v ? v : NULL;
}

/* Validates what must be valid before anything is shown or redirected. Returns false after
 * answering: errors that cannot be redirected go to an HTML page, like Google's. */
static bool authz_check(json_t *root, const struct authz *a, struct ml_http_resp *resp)
{
	json_t *client = client_of(root, a->client_id);
	if (!a->client_id) {
		html_error(resp, 400, "invalid_request", "Missing required parameter: client_id");
		return false;
	}
	if (!client) {
		html_error(resp, 401, "invalid_client", "The OAuth client was not found.");
		return false;
	}
	if (!a->redirect_uri) {
		html_error(resp, 400, "invalid_request",
		           "Missing required parameter: redirect_uri");
		return false;
	}
	if (!ml_sb_redirect_ok(client, a->redirect_uri)) {
		html_error(resp, 400, "redirect_uri_mismatch",
		           "The redirect URI in the request does not match the ones authorized "
		           "for the OAuth client.");
		return false;
	}
	if (!a->response_type || strcmp(a->response_type, "code") != 0) {
		html_error(resp, 400, "unsupported_response_type",
		           "Only response_type=code is emulated.");
		return false;
	}
	if (!a->scope) {
		html_error(resp, 400, "invalid_request", "Missing required parameter: scope");
		return false;
	}
	if (a->method && strcmp(a->method, "S256") != 0 && strcmp(a->method, "plain") != 0) {
		html_error(resp, 400, "invalid_request",
		           "Invalid code_challenge_method: use S256 or plain.");
		return false;
	}
	if (a->method && !a->challenge) {
		html_error(resp, 400, "invalid_request",
		           "Missing required parameter: code_challenge");
		return false;
	}
	return true;
}

static const char *pick_account(json_t *root, const char *hint)
{
	return ml_sb_pick_key(json_object_get(root, "accounts"), hint,
	                      ml_sb_cfg_str("google", "default_account", NULL));
}

static void issue_code(json_t *root, const struct authz *a, const char *account,
                       struct ml_http_resp *resp)
{
	char *code = ml_sb_rand("4/sb-", 40, ML_SB_ALNUM);
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b}", "client_id", a->client_id,
	                        "redirect_uri", a->redirect_uri, "account", account, "scope",
	                        a->scope, "expires_at", (json_int_t)(ml_sb_now() + 600), "used", 0);
	if (a->challenge) {
		json_object_set_new(rec, "code_challenge", json_string(a->challenge));
		json_object_set_new(rec, "code_challenge_method",
		                    json_string(a->method ? a->method : "plain"));
	}
	json_object_set_new(rec, "offline",
	                    json_boolean(a->access_type && strcmp(a->access_type, "offline") == 0));
	json_t *codes = json_object_get(root, "codes");
	json_object_set_new(codes, code, rec);
	redirect_with(resp, a->redirect_uri, code, NULL, a->scope, a->state);
	free(code);
}

/* GET /o/oauth2/v2/auth (and /o/oauth2/auth): the consent page, or with the auto_approve
 * switch (config, or sandbox_auto=allow|deny in the query) an immediate redirect. */
void ml_sb_google_authorize(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	struct authz a;
	authz_from(&a, get_query, req);
	if (!authz_check(root, &a, resp))
		return;
	const char *account = pick_account(root, a.login_hint);
	const char *autoq = ml_http_query(req, "sandbox_auto");
	bool auto_allow = ml_sb_cfg_bool("google", "auto_approve", false);
	if (autoq && strcmp(autoq, "deny") == 0) {
		redirect_with(resp, a.redirect_uri, NULL, "access_denied", NULL, a.state);
		return;
	}
	if (auto_allow || (autoq && strcmp(autoq, "allow") == 0)) {
		issue_code(root, &a, account, resp);
		return;
	}
	json_t *client = client_of(root, a.client_id);
	struct ml_buf b = {0};
	ml_buf_puts(&b, "<!doctype html><html><head><meta charset=\"utf-8\">"
	                "<title>Sign in - Google Accounts (sandbox)</title></head><body>"
	                "<h1>Choose an account</h1><p><b>");
	ml_html_escape_buf(&b, ml_sb_str(client, "name"));
	ml_buf_puts(&b, "</b> wants to access your Google Account</p><p>Scopes: ");
	ml_html_escape_buf(&b, a.scope);
	ml_buf_puts(&b, "</p>");
	/* clang-format off */
	const char *kv[] = {"client_id", a.client_id, "redirect_uri", a.redirect_uri,
	                    "response_type", a.response_type, "scope", a.scope,
	                    "state", a.state, "access_type", a.access_type, "prompt", a.prompt,
	                    "code_challenge", a.challenge, "code_challenge_method", a.method};
	/* clang-format on */
	char *action = ml_asprintf("%s/google/o/oauth2/v2/auth/decision", ml_sb_base_url());
	ml_sb_consent_form(&b, action, json_object_get(root, "accounts"), account, kv, 9, "Allow");
	free(action);
	ml_buf_puts(&b, "</body></html>");
	ml_sb_html(resp, 200, &b);
}

/* POST /o/oauth2/v2/auth/decision: the consent form's Allow / Cancel. */
void ml_sb_google_decision(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *form = ml_sb_form_body(req);
	struct authz a;
	authz_from(&a, get_form, form);
	if (authz_check(root, &a, resp)) {
		const char *d = get_form(form, "decision");
		const char *account = pick_account(root, get_form(form, "account"));
		if (d && strcmp(d, "allow") == 0 && account)
			issue_code(root, &a, account, resp);
		else
			redirect_with(resp, a.redirect_uri, NULL, "access_denied", NULL, a.state);
	}
	json_decref(form);
}

/* Client authentication: client_secret_basic or client_secret_post. */
static json_t *auth_client(struct ml_http_req *req, json_t *root, json_t *form,
                           const char **client_id_out)
{
	char *cid, *secret;
	json_t *client = NULL;
	ml_sb_client_creds(req, form, &cid, &secret);
	json_t *c = client_of(root, cid);
	const char *want = ml_sb_str(c, "client_secret");
	if (c && secret && want && ml_sb_secret_equal(secret, want)) {
		client = c;
		*client_id_out = json_object_iter_key(
		    json_object_iter_at(json_object_get(root, "clients"), cid));
	}
	free(cid);
	free(secret);
	return client;
}

static json_t *token_answer(json_t *root, const char *client_id, const char *account,
                            const char *scope, const char *grant, bool with_refresh)
{
	int64_t ttl = ml_sb_cfg_int("google", "access_token_ttl", 3599);
	const char *at =
	    ml_sb_token_issue(root, "ya29.sb-", "access", ttl,
	                      json_pack("{s:s, s:s, s:s, s:s}", "client_id", client_id, "account",
	                                account, "scope", scope, "grant", grant));
	json_t *out = json_pack("{s:s, s:I, s:s, s:s}", "access_token", at, "expires_in",
	                        (json_int_t)ttl, "scope", scope, "token_type", "Bearer");
	if (with_refresh) {
		const char *rt = ml_sb_token_issue(root, "1//sb-", "refresh", 0,
		                                   json_pack("{s:s, s:s, s:s, s:s}", "client_id",
		                                             client_id, "account", account, "scope",
		                                             scope, "grant", grant));
		json_object_set_new(out, "refresh_token", json_string(rt));
	}
	return out;
}

/* POST /token (also /oauth2/token, /oauth2/v4/token). */
void ml_sb_google_token(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *form = ml_sb_form_body(req);
	const char *gt = ml_sb_str(form, "grant_type");
	const char *client_id = NULL;
	json_t *client;

	if (!gt) {
		oauth_error(resp, 400, "unsupported_grant_type", "Invalid grant_type: ");
		goto done;
	}
	if (strcmp(gt, "authorization_code") != 0 && strcmp(gt, "refresh_token") != 0) {
		char *m = ml_asprintf("Invalid grant_type: %s", gt);
		oauth_error(resp, 400, "unsupported_grant_type", m);
		free(m);
		goto done;
	}
	if (!(client = auth_client(req, root, form, &client_id))) {
		oauth_error(resp, 401, "invalid_client", "The OAuth client was not found.");
		goto done;
	}
	if (strcmp(gt, "authorization_code") == 0) {
		const char *code = ml_sb_str(form, "code");
		const char *redirect = ml_sb_str(form, "redirect_uri");
		if (!code || !*code) {
			oauth_error(resp, 400, "invalid_request",
			            "Missing required parameter: code");
			goto done;
		}
		if (!redirect) {
			oauth_error(resp, 400, "invalid_request",
			            "Missing required parameter: redirect_uri");
			goto done;
		}
		json_t *rec = json_object_get(json_object_get(root, "codes"), code);
		if (!rec) {
			oauth_error(resp, 400, "invalid_grant", "Malformed auth code.");
			goto done;
		}
		if (json_is_true(json_object_get(rec, "used"))) {
			/* A replayed code revokes what it issued (RFC 6749 §4.1.2). */
			ml_sb_token_revoke_grant(root, ml_sb_str(rec, "grant"));
			oauth_error(resp, 400, "invalid_grant", "Bad Request");
			goto done;
		}
		if (json_integer_value(json_object_get(rec, "expires_at")) <= ml_sb_now()) {
			oauth_error(resp, 400, "invalid_grant",
			            "Token has been expired or revoked.");
			goto done;
		}
		if (strcmp(ml_sb_str(rec, "client_id"), client_id) != 0) {
			oauth_error(resp, 400, "invalid_grant", "Bad Request");
			goto done;
		}
		if (strcmp(ml_sb_str(rec, "redirect_uri"), redirect) != 0) {
			oauth_error(resp, 400, "redirect_uri_mismatch", "Bad Request");
			goto done;
		}
		const char *challenge = ml_sb_str(rec, "code_challenge");
		const char *verifier = ml_sb_str(form, "code_verifier");
		if (challenge && !verifier) {
			oauth_error(resp, 400, "invalid_grant", "Missing code verifier.");
			goto done;
		}
		if (challenge && !ml_sb_pkce_verify(verifier, challenge,
		                                    ml_sb_str(rec, "code_challenge_method"))) {
			oauth_error(resp, 400, "invalid_grant", "Invalid code verifier.");
			goto done;
		}
		char *grant = ml_sb_rand("grant-", 16, ML_SB_ALNUM);
		json_object_set_new(rec, "used", json_true());
		json_object_set_new(rec, "grant", json_string(grant));
		json_t *out = token_answer(root, client_id, ml_sb_str(rec, "account"),
		                           ml_sb_str(rec, "scope"), grant,
		                           json_is_true(json_object_get(rec, "offline")));
		free(grant);
		ml_resp_json(resp, 200, out);
	} else {
		const char *rt = ml_sb_str(form, "refresh_token");
		if (!rt || !*rt) {
			oauth_error(resp, 400, "invalid_request",
			            "Missing required parameter: refresh_token");
			goto done;
		}
		json_t *rec = ml_sb_token_check(root, rt, "refresh", NULL);
		if (!rec || strcmp(ml_sb_str(rec, "client_id"), client_id) != 0) {
			oauth_error(resp, 400, "invalid_grant",
			            "Token has been expired or revoked.");
			goto done;
		}
		/* Google does not rotate refresh tokens: the answer has none. */
		ml_resp_json(resp, 200,
		             token_answer(root, client_id, ml_sb_str(rec, "account"),
		                          ml_sb_str(rec, "scope"), ml_sb_str(rec, "grant"), false));
	}
done:
	ml_resp_header(resp, "Cache-Control", "no-cache, no-store, max-age=0, must-revalidate");
	json_decref(form);
}

/* POST /revoke (also /oauth2/revoke, /o/oauth2/revoke): token in the form or the query. */
void ml_sb_google_revoke(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *form = ml_sb_form_body(req);
	const char *tok = ml_sb_str(form, "token");
	if (!tok)
		tok = ml_http_query(req, "token");
	if (!tok || !ml_sb_token_check(root, tok, NULL, NULL)) {
		oauth_error(resp, 400, "invalid_token", "Token expired or revoked");
	} else {
		/* Revoking either token of a grant revokes the grant. */
		ml_sb_token_revoke(root, tok, true);
		ml_resp_body(resp, 200, "application/json; charset=utf-8", "{}", 2);
	}
	json_decref(form);
}

/* GET /oauth2/v3/userinfo (also /v1/userinfo, /oauth2/v2/userinfo). */
void ml_sb_google_userinfo(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	json_t *tok = ml_sb_bearer(req, root, NULL);
	if (!tok) {
		ml_resp_header(
		    resp, "WWW-Authenticate",
		    "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"");
		oauth_error(
		    resp, 401, "invalid_request",
		    "Request is missing required authentication credential. Expected OAuth "
		    "2 access token, login cookie or other valid authentication credential.");
		return;
	}
	json_t *acct =
	    json_object_get(json_object_get(root, "accounts"), ml_sb_str(tok, "account"));
	json_t *out = json_object();
	const char *fields[] = {"sub",     "name",  "given_name", "family_name",
	                        "picture", "email", "locale",     NULL};
	for (int i = 0; fields[i]; i++) {
		const char *v = ml_sb_str(acct, fields[i]);
		if (v)
			json_object_set_new(out, fields[i], json_string(v));
	}
	json_object_set_new(out, "email_verified", json_true());
	ml_resp_json(resp, 200, out);
}

/* GET /.well-known/openid-configuration with the sandbox's own URLs. */
void ml_sb_google_discovery(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	const char *b = ml_sb_base_url();
	char *auth = ml_asprintf("%s/google/o/oauth2/v2/auth", b);
	char *tok = ml_asprintf("%s/google/token", b);
	char *ui = ml_asprintf("%s/google/v1/userinfo", b);
	char *rev = ml_asprintf("%s/google/revoke", b);
	char *iss = ml_asprintf("%s/google", b);
	json_t *out = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[s], s:[s,s,s], s:[s,s], s:[s,s]}", "issuer",
	    iss, "authorization_endpoint", auth, "token_endpoint", tok, "userinfo_endpoint", ui,
	    "revocation_endpoint", rev, "response_types_supported", "code",
	    "subject_types_supported", "public", "id_token_signing_alg_values_supported", "RS256",
	    "scopes_supported", "openid", "email", "profile",
	    "token_endpoint_auth_methods_supported", "client_secret_post", "client_secret_basic",
	    "code_challenge_methods_supported", "plain", "S256");
	free(auth);
	free(tok);
	free(ui);
	free(rev);
	free(iss);
	ml_resp_json(resp, 200, out);
}
