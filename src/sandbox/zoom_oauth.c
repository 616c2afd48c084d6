/* Zoom OAuth at /zoom/oauth/…: the authorize consent page, the token endpoint with HTTP
 * Basic client authentication (authorization_code with optional PKCE, refresh_token with
 * rotation, Server-to-Server account_credentials) and revoke. Error bodies are the token
 * endpoint's {"reason", "error"}; the reasons follow Zoom's 47xx OAuth error table
 * (specs/zoom/zoom-auth-webhooks-ratelimits.json, docs/oauth_references_oauth-errors.md). */
#include "sandbox/zoom_internal.h"
#include "core/html.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A form field, else the query argument of the same name (Zoom takes both; S2S clients
 * commonly send grant_type and account_id in the query string). */
static const char *param(struct ml_http_req *req, json_t *form, const char *name)
{
	const char *v = ml_sb_str(form, name);
	return v ? v : ml_http_query(req, name);
}

static void tok_err(struct ml_http_resp *resp, int status, const char *error, const char *reason)
{
	ml_resp_json(resp, status, json_pack("{s:s, s:s}", "reason", reason, "error", error));
}

static void page(struct ml_http_resp *resp, int status, const char *title, const char *html)
{
	char *t = ml_html_escape(title);
	char *doc = ml_asprintf("<!doctype html><html><head><meta charset=\"utf-8\"><title>%s"
				"</title></head><body style=\"font-family:sans-serif;max-width:36em;"
				"margin:3em auto\"><h1>%s</h1>%s</body></html>",
				t, t, html);
	ml_resp_body_steal(resp, status, "text/html; charset=utf-8", doc, strlen(doc));
	free(t);
}

/* GET shows the consent page (or approves at once with the auto_approve setting); POST is
 * the page's form: decision=allow|deny, user=email. */
void ml_zoom_oauth_authorize(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user;
	bool post = !strcmp(req->method, "POST");
	json_t *form = post ? ml_sb_form_body(req) : json_object();
	const char *rtype = param(req, form, "response_type"), *cid = param(req, form, "client_id"),
		   *ruri = param(req, form, "redirect_uri"), *state = param(req, form, "state"),
		   *cc = param(req, form, "code_challenge"),
		   *ccm = param(req, form, "code_challenge_method");
	json_t *app = cid ? json_object_get(json_object_get(root, "apps"), cid) : NULL;
	struct ml_buf b = {0};

	if (!app || strcmp(ml_sb_str(app, "type") ? ml_sb_str(app, "type") : "", "oauth") != 0) {
		page(resp, 400, "Invalid client_id", "<p>Invalid client_id: (4,702)</p>");
		goto done;
	}
	if (!rtype || strcmp(rtype, "code") != 0) {
		page(resp, 400, "Unsupported response type",
		     "<p>response_type must be <code>code</code>.</p>");
		goto done;
	}
	if (!ml_sb_redirect_ok(app, ruri)) {
		page(resp, 400, "Invalid redirect", "<p>Invalid redirect: (4,709)</p>");
		goto done;
	}
	if (cc && ccm && strcmp(ccm, "S256") != 0 && strcmp(ccm, "plain") != 0) {
		page(resp, 400, "Invalid code_challenge_method", "<p>Use S256 or plain.</p>");
		goto done;
	}
	const char *decision = post ? ml_sb_str(form, "decision") : NULL;
	if (!post && !ml_sb_cfg_bool(ZP, "auto_approve", false)) {
		json_t *users = json_object_get(root, "users"), *u;
		const char *k, *def = ml_sb_cfg_str(ZP, "authorize_user", NULL);
		char *cn = ml_html_escape(ml_sb_str(app, "name") ? ml_sb_str(app, "name") : cid);
		ml_buf_printf(&b, "<p><b>%s</b> would like to access your Zoom account: view and "
				  "manage your meetings and your user information.</p>"
				  "<form method=\"post\" action=\"%s/zoom/oauth/authorize\">",
			      cn, ml_sb_base_url());
		free(cn);
		ml_sb_html_hidden(&b, "response_type", rtype);
		ml_sb_html_hidden(&b, "client_id", cid);
		ml_sb_html_hidden(&b, "redirect_uri", ruri);
		ml_sb_html_hidden(&b, "state", state);
		ml_sb_html_hidden(&b, "code_challenge", cc);
		ml_sb_html_hidden(&b, "code_challenge_method", ccm);
		ml_buf_puts(&b, "<p><label>Sign in as <select name=\"user\">");
		json_object_foreach(users, k, u) {
			char *e = ml_html_escape(ml_sb_str(u, "email"));
			ml_buf_printf(&b, "<option value=\"%s\"%s>%s</option>", e,
				      def && !strcasecmp(def, ml_sb_str(u, "email")) ? " selected" : "",
				      e);
			free(e);
		}
		ml_buf_puts(&b, "</select></label></p><button name=\"decision\" value=\"allow\" "
				"id=\"allow\">Allow</button> <button name=\"decision\" "
				"value=\"deny\" id=\"deny\">Decline</button></form>");
		page(resp, 200, "Zoom sandbox: authorize app", b.data);
		goto done;
	}
	if (decision && strcmp(decision, "allow") != 0) {
		const char *kv[] = {"error", "access_denied", "state", state};
		ml_sb_redirect(resp, ruri, kv, 2);
		goto done;
	}
	const char *who = post ? ml_sb_str(form, "user") : NULL;
	json_t *user = ml_zoom_user_find(root, who ? who : ml_sb_cfg_str(ZP, "authorize_user", ""));
	if (!user) {
		const char *k;
		json_object_foreach(json_object_get(root, "users"), k, user)
			break;
	}
	json_t *info = json_pack("{s:s, s:s, s:s, s:s, s:s}", "account", ml_sb_str(user, "id"),
				 "user_id", ml_sb_str(user, "id"), "zoom_account",
				 ml_sb_str(user, "account_id"), "client_id", cid, "redirect_uri", ruri);
	if (cc) {
		json_object_set_new(info, "code_challenge", json_string(cc));
		json_object_set_new(info, "code_challenge_method", json_string(ccm ? ccm : "plain"));
	}
	const char *code = ml_sb_token_issue(root, "", "code",
					     ml_sb_cfg_int(ZP, "code_ttl", 300), info);
	const char *kv[] = {"code", code, "state", state};
	ml_sb_redirect(resp, ruri, kv, 2);
done:
	ml_buf_free(&b);
	json_decref(form);
}

static void issue(struct ml_http_resp *resp, json_t *root, const json_t *from, const char *grant,
		  bool with_refresh, const char *scope)
{
	int64_t ttl = ml_sb_cfg_int(ZP, "access_token_ttl", 3600);
	json_t *info = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s}", "account",
				 ml_sb_str(from, "account"), "user_id", ml_sb_str(from, "user_id"),
				 "zoom_account", ml_sb_str(from, "zoom_account"), "client_id",
				 ml_sb_str(from, "client_id"), "grant", grant, "scope", scope);
	json_t *out = json_object();
	const char *at = ml_sb_token_issue(root, "eyJzbS5hdCJ9.", "access", ttl, info);

	json_object_set_new(out, "access_token", json_string(at));
	json_object_set_new(out, "token_type", json_string("bearer"));
	if (with_refresh) {
		json_t *rinfo = json_deep_copy(info);
		json_object_del(rinfo, "type");
		json_object_del(rinfo, "issued_at");
		json_object_del(rinfo, "expires_at");
		json_object_del(rinfo, "revoked");
		const char *rt = ml_sb_token_issue(root, "eyJzbS5ydCJ9.", "refresh",
						   ml_sb_cfg_int(ZP, "refresh_token_ttl", 7776000),
						   rinfo);
		json_object_set_new(out, "refresh_token", json_string(rt));
	}
	/* Zoom answers 3599 for its one-hour tokens. */
	json_object_set_new(out, "expires_in", json_integer(ttl > 0 ? ttl - 1 : 0));
	json_object_set_new(out, "scope", json_string(scope));
	char *api = ml_asprintf("%s/zoom", ml_sb_base_url());
	json_object_set_new(out, "api_url", json_string(api));
	free(api);
	ml_resp_json(resp, 200, out);
}

static void grant_code(struct ml_http_req *req, struct ml_http_resp *resp, json_t *root,
		       json_t *form, const char *cid, json_t *app)
{
	const char *code = param(req, form, "code"), *ruri = param(req, form, "redirect_uri");
	const char *why = NULL;
	json_t *rec = code ? ml_sb_token_check(root, code, "code", &why) : NULL;

	if (!code) {
		tok_err(resp, 400, "invalid_request", "Missing code");
		return;
	}
	if (!rec) {
		tok_err(resp, 400, "invalid_grant",
			why && !strcmp(why, "expired") ? "Code is expired" : "Invalid authorization code");
		return;
	}
	if (strcmp(ml_sb_str(rec, "client_id"), cid) != 0) {
		tok_err(resp, 400, "invalid_grant", "Invalid authorization code");
		return;
	}
	if (!ruri || strcmp(ruri, ml_sb_str(rec, "redirect_uri")) != 0) {
		tok_err(resp, 400, "invalid_request", "Redirect URI mismatch.");
		return;
	}
	const char *cc = ml_sb_str(rec, "code_challenge");
	if (cc && !ml_sb_pkce_verify(param(req, form, "code_verifier"), cc,
				     ml_sb_str(rec, "code_challenge_method"))) {
		tok_err(resp, 400, "invalid_request", "Invalid code_verifier");
		return;
	}
	/* Codes are single use; a new authorization supersedes the grants this client held for
	 * this user (Zoom 4741: "the last token issued is considered valid"). */
	ml_sb_token_revoke(root, code, false);
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(root, "tokens"), k, v) {
		const char *t = ml_sb_str(v, "type"), *u = ml_sb_str(v, "user_id"),
			   *c = ml_sb_str(v, "client_id");
		if (t && !strcmp(t, "refresh") && u && c && !strcmp(c, cid) &&
		    !strcmp(u, ml_sb_str(rec, "user_id")))
			json_object_set_new(v, "revoked", json_true());
	}
	char *grant = ml_sb_rand("zg_", 16, NULL);
	issue(resp, root, rec, grant, true, ml_sb_str(app, "scope"));
	free(grant);
}

static void grant_refresh(struct ml_http_req *req, struct ml_http_resp *resp, json_t *root,
			  json_t *form, const char *cid)
{
	const char *rt = param(req, form, "refresh_token");
	const char *why = NULL;
	json_t *rec = rt ? ml_sb_token_check(root, rt, "refresh", &why) : NULL;

	if (!rt) {
		tok_err(resp, 400, "invalid_request", "Missing refresh_token");
		return;
	}
	if (!rec || strcmp(ml_sb_str(rec, "client_id"), cid) != 0) {
		tok_err(resp, 400, "invalid_grant", "Invalid Token!");
		return;
	}
	if (!ml_zoom_user_find(root, ml_sb_str(rec, "user_id"))) {
		tok_err(resp, 400, "invalid_grant", "The owner of the token does not exist.");
		return;
	}
	/* Rotation: the refresh token just used dies now; the new pair shares the grant. */
	json_t *copy = json_deep_copy(rec);
	json_object_set_new(rec, "revoked", json_true());
	json_object_set_new(rec, "rotated_at", json_integer(ml_sb_now()));
	issue(resp, root, copy, ml_sb_str(copy, "grant"), true, ml_sb_str(copy, "scope"));
	json_decref(copy);
}

static void grant_account(struct ml_http_req *req, struct ml_http_resp *resp, json_t *root,
			  json_t *form, const char *cid, json_t *app)
{
	const char *acct = param(req, form, "account_id");

	if (strcmp(ml_sb_str(app, "type"), "s2s") != 0) {
		tok_err(resp, 400, "unsupported_grant_type", "unsupported grant type");
		return;
	}
	if (!acct || !*acct) {
		tok_err(resp, 400, "invalid_request", "Missing account_id");
		return;
	}
	if (strcmp(acct, ml_sb_str(app, "account_id")) != 0) {
		tok_err(resp, 400, "invalid_request", "Invalid account_id");
		return;
	}
	json_t *from = json_pack("{s:s, s:s, s:s}", "account", acct, "zoom_account", acct,
				 "client_id", cid);
	char *grant = ml_sb_rand("zs_", 16, NULL);
	issue(resp, root, from, grant, false, ml_sb_str(app, "scope"));
	free(grant);
	json_decref(from);
}

/* Client authentication: HTTP Basic, or client_id/client_secret parameters. Answers the
 * error itself and returns NULL on failure. */
static json_t *client_auth(struct ml_http_req *req, struct ml_http_resp *resp, json_t *root,
			   json_t *form, char **cid_out)
{
	char *user = NULL, *pass = NULL;
	json_t *app = NULL;

	if (!ml_sb_basic_auth(req, &user, &pass)) {
		const char *u = param(req, form, "client_id"), *p = param(req, form, "client_secret");
		if (!u || !p) {
			tok_err(resp, 401, "invalid_client", "Client ID or client secret is missing.");
			return NULL;
		}
		user = ml_strdup(u);
		pass = ml_strdup(p);
	}
	app = json_object_get(json_object_get(root, "apps"), user);
	const char *secret = ml_sb_str(app, "client_secret");
	if (!app || !secret || strcmp(secret, pass) != 0) {
		tok_err(resp, 401, "invalid_client", "Invalid client_id or client_secret");
		app = NULL;
		free(user);
	} else {
		*cid_out = user;
	}
	free(pass);
	return app;
}

void ml_zoom_oauth_token(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *form = ml_sb_form_body(req), *app;
	char *cid = NULL;
	const char *gt;

	if (!(app = client_auth(req, resp, root, form, &cid)))
		goto done;
	if (json_is_true(json_object_get(app, "disabled"))) {
		tok_err(resp, 400, "invalid_client", "The app has been disabled");
		goto done;
	}
	gt = param(req, form, "grant_type");
	if (!gt || !*gt)
		tok_err(resp, 400, "invalid_request", "Missing grant type.");
	else if (!strcmp(gt, "authorization_code"))
		grant_code(req, resp, root, form, cid, app);
	else if (!strcmp(gt, "refresh_token"))
		grant_refresh(req, resp, root, form, cid);
	else if (!strcmp(gt, "account_credentials"))
		grant_account(req, resp, root, form, cid, app);
	else
		tok_err(resp, 400, "unsupported_grant_type", "Unsupported grant type");
done:
	free(cid);
	json_decref(form);
}

/* POST /oauth/revoke?token=…: revokes the token and, for a user grant, the whole grant
 * (access and refresh tokens). Zoom answers {"status":"success"}. */
void ml_zoom_oauth_revoke(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *form = ml_sb_form_body(req), *app, *rec;
	char *cid = NULL;
	const char *tok;

	if (!(app = client_auth(req, resp, root, form, &cid)))
		goto done;
	tok = param(req, form, "token");
	if (!tok || !*tok) {
		tok_err(resp, 400, "invalid_request", "Token cannot be empty.");
		goto done;
	}
	rec = json_object_get(json_object_get(root, "tokens"), tok);
	if (!rec || strcmp(ml_sb_str(rec, "client_id") ? ml_sb_str(rec, "client_id") : "", cid)) {
		tok_err(resp, 400, "invalid_request", "Invalid Token!");
		goto done;
	}
	ml_sb_token_revoke(root, tok, true);
	ml_resp_json(resp, 200, json_pack("{s:s}", "status", "success"));
done:
	free(cid);
	json_decref(form);
}
