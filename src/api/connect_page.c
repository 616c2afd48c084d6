/* The hosted connect page (SPEC §5) and its OAuth round trip. No login of its own: every
 * request carries a signed, expiring connect link (conn/links.h).
 *
 *   GET  /connect?t=…                 the page (web/connect.html + connect.js)
 *   GET  /connect/session?t=…         what the page shows: the host, a card per platform
 *   POST /connect/disconnect          {"t","platform"}: disconnect from the page
 *   GET  /oauth/{platform}/start?t=…  authorization code + PKCE S256; state bound to a cookie
 *   GET  /oauth/{platform}/callback   the provider's answer: exchange, record, back to the page
 *
 * The state is random, single use, kept as its hash with the PKCE verifier (encrypted) and
 * the hash of an HTTP-only, SameSite=Lax cookie set on the browser that started the flow: a
 * callback from another browser, a replayed or forged state, a denied consent or a provider
 * error lands on a page that says so, and nothing is stored.
 */
#include "api/api.h"
#include "core/json_in.h"
#include "core/html.h"
#include "api/conn_api.h"
#include "conn/connections.h"
#include "conn/links.h"
#include "conn/oauth.h"
#include "core/crypto.h"
#include "core/embed.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

#define STATE_TTL_MS (10 * 60 * 1000)
#define CSP                                                                                  \
	"default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'; "          \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void page_headers(struct ml_http_resp *resp)
{
	ml_resp_header(resp, "Content-Security-Policy", CSP);
	ml_resp_header(resp, "X-Content-Type-Options", "nosniff");
	ml_resp_header(resp, "Referrer-Policy", "no-referrer");
	ml_resp_header(resp, "Cache-Control", "no-store");
}


/* A plain page that says what happened; back_url (may be NULL) returns to the cards. */
static void message_page(struct ml_http_resp *resp, int status, const char *title,
			 const char *message, const char *back_url)
{
	struct ml_buf b = {0};
	ml_buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
			"<title>");
	ml_html_escape_buf(&b, title);
	ml_buf_puts(&b, "</title><link rel=\"stylesheet\" href=\"/web/connect.css\"></head>"
			"<body><main class=\"connect\"><h1 id=\"title\">");
	ml_html_escape_buf(&b, title);
	ml_buf_puts(&b, "</h1><p id=\"message\" class=\"message\">");
	ml_html_escape_buf(&b, message);
	ml_buf_puts(&b, "</p>");
	if (back_url) {
		ml_buf_puts(&b, "<p><a id=\"back\" class=\"button\" href=\"");
		ml_html_escape_buf(&b, back_url);
		ml_buf_puts(&b, "\">Back to your connections</a></p>");
	}
	ml_buf_puts(&b, "</main></body></html>");
	size_t n = b.len;
	ml_resp_body_steal(resp, status, "text/html; charset=utf-8", ml_buf_steal(&b), n);
	page_headers(resp);
}

struct secret_call {
	uint8_t secret[ML_CONN_LINK_SECRET_LEN];
};

static int secret_fn(struct ml_tx *tx, void *arg)
{
	struct secret_call *c = arg;
	return ml_tx_secret_ensure(tx, ML_CONN_LINK_SECRET, c->secret, sizeof c->secret);
}

/* Verifies the link `t`; on failure answers (an HTML page, or JSON when json is set). */
static bool link_ok(const struct ml_env *app, const char *t, struct ml_conn_link *l,
		    struct ml_http_resp *resp, bool json)
{
	struct secret_call s;
	int rc = ml_store_read(app->store, secret_fn, &s);
	if (rc == 0)
		rc = ml_conn_link_verify(s.secret, sizeof s.secret, t, ml_now(), l);
	memset(&s, 0, sizeof s);
	if (rc == 0)
		return true;
	bool expired = rc == ML_EINVAL;
	int status = rc == ML_EAUTH ? 401 : expired ? 410 : 503;
	if (json) {
		ml_resp_errno(resp, rc);
		resp->status = status;
		page_headers(resp);
	} else {
		message_page(resp, status, expired ? "This link has expired" : "This link is not valid",
			     expired ? "Connect links expire for your safety. Ask for a new link "
				       "where you got this one."
				     : "This connect link is not valid. Ask for a new link where you "
				       "got this one.",
			     NULL);
	}
	return false;
}

static char *fresh_link(const struct ml_env *app, const char *org, const char *host,
			const char *platform, int64_t expires_at)
{
	struct secret_call s;
	struct ml_conn_link l = {0};
	if (ml_store_read(app->store, secret_fn, &s) < 0)
		return NULL;
	snprintf(l.org_id, sizeof l.org_id, "%s", org);
	snprintf(l.host_id, sizeof l.host_id, "%s", host);
	snprintf(l.platform, sizeof l.platform, "%s", platform);
	/* Back to the cards with the link's own expiry, or a short one if it ran out while the
	 * host was at the provider (they just proved it is them). */
	int64_t now = ml_now();
	l.expires_at = expires_at > now + 60 ? expires_at : now + 900;
	char *tok = ml_conn_link_sign(s.secret, sizeof s.secret, &l);
	memset(&s, 0, sizeof s);
	char *url = ml_conn_link_url(app->cfg->public_url, tok);
	free(tok);
	return url;
}

/* --- GET /connect --- */

static void page_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_embedded *e = ml_embed_find("web/connect.html");
	if (!e) {
		ml_resp_error(resp, 404, "not_found", NULL, "No such page.");
		return;
	}
	ml_resp_body(resp, 200, "text/html; charset=utf-8", e->data, e->len);
	page_headers(resp);
}

/* --- GET /connect/session --- */

struct session_call {
	struct ml_conn_link *l;
	const struct ml_env *app;
	json_t *out;
};

static int session_fn(struct ml_tx *tx, void *arg)
{
	struct session_call *c = arg;
	json_t *host;
	struct ml_conn_row *rows = NULL;
	int n = 0;
	int rc = ml_tx_doc_get(tx, ML_KIND_HOST, c->l->org_id, c->l->host_id, &host);
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL,
				    "This host no longer exists.");
	if (rc < 0)
		return rc;
	if ((rc = ml_tx_conn_list(tx, c->l->org_id, c->l->host_id, &rows, &n)) < 0) {
		json_decref(host);
		return rc;
	}
	char ts[ML_RFC3339_MAX];
	ml_time_format(c->l->expires_at, ts);
	json_t *cards = json_array();
	/* One card per platform a host connects by OAuth, in the registry's order. */
	for (const struct ml_provider_ops *const *op = ml_provider_all(); *op; op++) {
		if (!ML_PROVIDER_HAS(*op, oauth))
			continue;
		const char *name = (*op)->name;
		json_t *card = json_pack("{s:s, s:s, s:b, s:s, s:n, s:n}", "platform", name, "label",
					 (*op)->label, "configured",
					 ml_oauth_configured(c->app->oauth, name), "status",
					 "not_connected", "account_email", "last_error");
		for (int k = 0; k < n; k++) {
			if (strcmp(rows[k].platform, name) != 0)
				continue;
			json_object_set_new(card, "status", json_string(rows[k].status));
			if (rows[k].account_email)
				json_object_set_new(card, "account_email",
						    json_string(rows[k].account_email));
			if (rows[k].last_error && strcmp(rows[k].status, "connected") != 0)
				json_object_set_new(card, "last_error",
						    json_string(rows[k].last_error));
		}
		json_array_append_new(cards, card);
	}
	for (int k = 0; k < n; k++)
		ml_conn_row_clear(&rows[k]);
	free(rows);
	const char *name = json_string_value(json_object_get(host, "name"));
	c->out = json_pack("{s:{s:s, s:s}, s:s, s:s, s:o}", "host", "id", c->l->host_id, "name",
			   name ? name : "", "platform", c->l->platform, "expires_at", ts,
			   "platforms", cards);
	json_decref(host);
	return 0;
}

static void session_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_env *app = req->app;
	struct ml_conn_link l;
	if (!link_ok(app, ml_http_query(req, "t"), &l, resp, true))
		return;
	struct session_call c = {&l, app, NULL};
	int rc = ml_store_read(app->store, session_fn, &c);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, c.out);
	page_headers(resp);
}

/* --- POST /connect/disconnect --- */

static void disconnect_post(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_env *app = req->app;
	struct ml_conn_link l;
	const char *ct = ml_http_header(req, "Content-Type");
	/* JSON only: a cross-site form cannot send it without a CORS preflight we never grant. */
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		ml_resp_error(resp, 415, "unsupported_media_type", "Content-Type",
			      "Send the body as JSON with Content-Type: application/json.");
		return;
	}
	json_t *body = ml_json_parse(req->body, req->body_len, JSON_REJECT_DUPLICATES,
				     ML_JSON_MAX_DEPTH, NULL);
	const char *t = json_string_value(json_object_get(body, "t"));
	const char *platform = json_string_value(json_object_get(body, "platform"));
	if (!link_ok(app, t, &l, resp, true)) {
		json_decref(body);
		return;
	}
	if (!ml_conn_is_oauth_platform(platform)) {
		char *names = ml_api_oauth_platform_names();
		char *msg = ml_asprintf("platform must be one of %s.", names);
		ml_resp_error(resp, 400, "invalid_field", "platform", msg);
		free(msg);
		free(names);
		json_decref(body);
		return;
	}
	json_t *out = NULL;
	int rc = ml_api_conn_disconnect(app, l.org_id, l.host_id, platform, "host", req->remote_ip,
					&out);
	json_decref(body);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, out);
	page_headers(resp);
}

/* --- GET /oauth/{platform}/start --- */

struct state_call {
	struct ml_oauth_state_row row;
};

static int state_put_fn(struct ml_tx *tx, void *arg)
{
	struct state_call *c = arg;
	return ml_tx_oauth_state_put(tx, &c->row);
}

static char *random_token(void)
{
	uint8_t raw[32];
	ml_random(raw, sizeof raw);
	return ml_base64url_encode(raw, sizeof raw);
}

static bool public_https(const struct ml_env *app)
{
	return strncmp(app->cfg->public_url, "https://", 8) == 0;
}

static void oauth_start(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_env *app = req->app;
	const char *platform = req->params[0];
	struct ml_conn_link l;
	if (!ml_conn_is_oauth_platform(platform)) {
		message_page(resp, 404, "Unknown platform", "There is no such platform to connect.",
			     NULL);
		return;
	}
	if (!link_ok(app, ml_http_query(req, "t"), &l, resp, false))
		return;
	if (!ml_oauth_configured(app->oauth, platform)) {
		message_page(resp, 409, "Not available",
			     "This platform is not set up on this server yet.", NULL);
		return;
	}
	char verifier[44], challenge[44], aad[96];
	char *state = random_token(), *cookie = random_token();
	struct state_call c = {{{0}}};
	ml_oauth_pkce(verifier, challenge);
	ml_sha256_hex(state, strlen(state), c.row.state_hash);
	ml_sha256_hex(cookie, strlen(cookie), c.row.cookie_hash);
	snprintf(c.row.org_id, sizeof c.row.org_id, "%s", l.org_id);
	snprintf(c.row.host_id, sizeof c.row.host_id, "%s", l.host_id);
	snprintf(c.row.platform, sizeof c.row.platform, "%s", platform);
	c.row.link_expires = l.expires_at;
	c.row.expires_at = ml_now_ms() + STATE_TTL_MS;
	ml_conn_aad(aad, sizeof aad, c.row.state_hash, "verifier");
	int rc = ml_vault_encrypt(app->vault, aad, verifier, strlen(verifier), &c.row.verifier);
	memset(verifier, 0, sizeof verifier);
	if (rc == 0)
		rc = ml_store_write(app->store, state_put_fn, &c);
	free(c.row.verifier);
	if (rc < 0) {
		message_page(resp, 503, "Please try again", "Something went wrong on our side.",
			     NULL);
		goto done;
	}
	char *url = ml_oauth_authorize_url(app->oauth, platform, state, challenge);
	char *set = ml_asprintf("ml_oauth_%s=%s; Path=/oauth/%s/; Max-Age=600; HttpOnly; "
				"SameSite=Lax%s",
				platform, cookie, platform, public_https(app) ? "; Secure" : "");
	ml_resp_redirect(resp, 302, url);
	ml_resp_header(resp, "Set-Cookie", set);
	ml_resp_header(resp, "Cache-Control", "no-store");
	ml_resp_header(resp, "Referrer-Policy", "no-referrer");
	free(set);
	free(url);
done:
	free(state);
	free(cookie);
}

/* --- GET /oauth/{platform}/callback --- */

struct take_call {
	const char *hash, *cookie_hash, *platform;
	struct ml_oauth_state_row row;
};

static int take_fn(struct ml_tx *tx, void *arg)
{
	struct take_call *c = arg;
	return ml_tx_oauth_state_take(tx, c->hash, c->cookie_hash, c->platform, ml_now_ms(),
				      &c->row);
}

struct save_call {
	const struct ml_env *app;
	const struct ml_oauth_state_row *st;
	const struct ml_oauth_tokens *tok;
	const char *email, *ip;
	char conn_id[40];
};

static int save_fn(struct ml_tx *tx, void *arg)
{
	struct save_call *c = arg;
	json_t *host;
	int rc = ml_tx_doc_get(tx, ML_KIND_HOST, c->st->org_id, c->st->host_id, &host);
	if (rc < 0)
		return rc; /* the host was deleted meanwhile */
	json_decref(host);
	if ((rc = ml_conn_save_oauth(tx, c->app->vault, c->st->org_id, c->st->host_id,
				     c->st->platform, c->tok, c->email, c->conn_id)) < 0)
		return rc;
	json_t *data = json_pack("{s:s, s:s, s:s, s:s?}", "connection_id", c->conn_id, "host_id",
				 c->st->host_id, "platform", c->st->platform, "account_email",
				 c->email);
	struct ml_audit ev = {c->st->org_id, NULL, "connection.connected", "host", c->ip, data};
	rc = ml_tx_audit_append(tx, &ev);
	json_decref(data);
	return rc;
}

static void clear_cookie(const struct ml_env *app, struct ml_http_resp *resp, const char *platform)
{
	char *set = ml_asprintf("ml_oauth_%s=; Path=/oauth/%s/; Max-Age=0; HttpOnly; "
				"SameSite=Lax%s",
				platform, platform, public_https(app) ? "; Secure" : "");
	ml_resp_header(resp, "Set-Cookie", set);
	free(set);
}

/* Spends the sign-in's state (only for the browser that started it: its HTTP-only cookie,
 * compared in constant time by the store, so anyone else who got hold of the state value
 * cannot burn the host's sign-in). On a refusal, answers the page and returns false. */
static bool take_state(struct ml_http_req *req, struct ml_http_resp *resp, const char *platform,
                       struct take_call *t)
{
	const char *state = ml_http_query(req, "state");
	char hash[65], cname[40], chash[65] = "";
	if (!state || !*state || strlen(state) > 256) {
		message_page(resp, 400, "Sign-in failed",
		             "The answer from the provider is missing its state. Nothing was "
		             "connected; start again from your connect link.",
		             NULL);
		return false;
	}
	ml_sha256_hex(state, strlen(state), hash);
	snprintf(cname, sizeof cname, "ml_oauth_%s", platform);
	const char *cookie = ml_http_cookie(req, cname);
	if (cookie)
		ml_sha256_hex(cookie, strlen(cookie), chash);
	t->hash = hash;
	t->cookie_hash = chash;
	t->platform = platform;
	int rc = ml_store_write(((const struct ml_env *)req->app)->store, take_fn, t);
	t->hash = t->cookie_hash = NULL; /* (on this stack frame) */
	if (rc == ML_ENOTFOUND)
		message_page(resp, 400, "Sign-in failed",
		             "This sign-in answer does not belong to a sign-in we started. Nothing "
		             "was connected; start again from your connect link.",
		             NULL);
	else if (rc == ML_EAUTH)
		/* (The cookie is left alone: it may be the host's, for the real callback.) */
		message_page(resp, 400, "Sign-in failed",
		             "This sign-in did not start in this browser. Nothing was connected; "
		             "start again from your connect link.",
		             NULL);
	else if (rc == ML_ECONFLICT)
		message_page(resp, 400, "Sign-in already used",
		             "This sign-in answer was already used. Nothing more was connected; "
		             "start again from your connect link if you need to.",
		             NULL);
	else if (rc < 0)
		message_page(resp, 503, "Please try again", "Something went wrong on our side.",
		             NULL);
	return rc >= 0;
}

/* What the provider sent back with the browser: in time, not an error, with a code. On a
 * refusal, answers the page (with `back`, a fresh connect link) and returns NULL. */
static const char *answer_code(struct ml_http_req *req, struct ml_http_resp *resp,
                               const struct ml_oauth_state_row *row, const char *back)
{
	const char *code = ml_http_query(req, "code");
	const char *error = ml_http_query(req, "error");
	if (row->expires_at < ml_now_ms()) {
		message_page(resp, 400, "Sign-in took too long",
		             "The sign-in expired before it came back. Nothing was connected; try "
		             "again.",
		             back);
		return NULL;
	}
	if (error) {
		bool denied = strcmp(error, "access_denied") == 0;
		message_page(resp, denied ? 403 : 502,
		             denied ? "Access was not granted" : "The provider refused",
		             denied
		                 ? "You declined access, so nothing was connected. You can try "
		                   "again whenever you like."
		                 : "The provider answered with an error, so nothing was connected. "
		                   "Please try again.",
		             back);
		return NULL;
	}
	if (!code || !*code || strlen(code) > 2048) {
		message_page(resp, 400, "Sign-in failed",
		             "The provider's answer has no authorization code. Nothing was "
		             "connected.",
		             back);
		return NULL;
	}
	return code;
}

/* The code exchange and the account lookup. Both wait on the worker's curl loop
 * (ml_oauth_perform): this thread makes no call itself. On a failure, answers the page and
 * returns NULL; else the account's email (the tokens in *tok). */
static char *exchange_code(const struct ml_env *app, struct ml_http_resp *resp,
                           const struct ml_oauth_state_row *row, const char *code, const char *back,
                           struct ml_oauth_tokens *tok)
{
	const char *platform = row->platform;
	char aad[96], *verifier = NULL, *body = NULL, *email = NULL;
	long status = 0;
	ml_conn_aad(aad, sizeof aad, row->state_hash, "verifier");
	if (ml_vault_decrypt(app->vault, aad, row->verifier, &verifier, NULL) < 0) {
		message_page(resp, 500, "Please try again", "Something went wrong on our side.",
		             back);
		return NULL;
	}
	int rc = ml_oauth_perform(
	    app->oauth, ml_oauth_code_easy(app->oauth, platform, code, verifier), &status, &body);
	ml_vault_wipe_free(verifier, 0);
	if (rc == 0)
		rc = ml_oauth_parse_tokens(status, body, tok);
	free(body);
	body = NULL;
	if (rc < 0) {
		ml_warn("connect: %s code exchange failed (HTTP %ld): %s", platform, status,
		        ml_error_code());
		message_page(resp, 502, "The provider refused",
		             "The provider did not accept the sign-in, so nothing was connected. "
		             "Please try again.",
		             back);
		return NULL;
	}
	rc = ml_oauth_perform(app->oauth,
	                      ml_oauth_account_easy(app->oauth, platform, tok->access_token),
	                      &status, &body);
	if (rc == 0 && status == 200)
		email = ml_oauth_parse_account(platform, body);
	free(body);
	if (!email) {
		ml_warn("connect: %s account lookup failed (HTTP %ld)", platform, status);
		message_page(resp, 502, "The provider refused",
		             "The provider did not tell us which account this is, so nothing was "
		             "connected. Please try again.",
		             back);
	}
	return email;
}

static void oauth_callback(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_env *app = req->app;
	const char *platform = req->params[0];
	struct take_call t = {NULL, NULL, NULL, {{0}}};
	struct ml_oauth_tokens tok = {0};
	char *back = NULL, *email = NULL;
	const char *code;

	if (!ml_conn_is_oauth_platform(platform)) {
		message_page(resp, 404, "Unknown platform", "There is no such platform.", NULL);
		return;
	}
	if (!take_state(req, resp, platform, &t))
		return;
	clear_cookie(app, resp, platform);
	back = fresh_link(app, t.row.org_id, t.row.host_id, t.row.platform, t.row.link_expires);
	if (!(code = answer_code(req, resp, &t.row, back)) ||
	    !(email = exchange_code(app, resp, &t.row, code, back, &tok)))
		goto done;
	struct save_call s = {app, &t.row, &tok, email, req->remote_ip, ""};
	int rc = ml_store_write(app->store, save_fn, &s);
	if (rc < 0) {
		message_page(resp, rc == ML_ENOTFOUND ? 404 : 503, "Nothing was connected",
		             rc == ML_ENOTFOUND
		                 ? "This host no longer exists."
		                 : "Something went wrong on our side. Please try again.",
		             NULL);
		goto done;
	}
	ml_info("connect: host %s connected %s", t.row.host_id, platform);
	char *loc = back ? ml_asprintf("%s&connected=%s", back, platform)
	                 : ml_asprintf("%s/connect", app->cfg->public_url);
	ml_resp_redirect(resp, 303, loc);
	ml_resp_header(resp, "Cache-Control", "no-store");
	ml_resp_header(resp, "Referrer-Policy", "no-referrer");
	free(loc);
done:
	ml_oauth_tokens_clear(&tok);
	free(t.row.verifier);
	free(email);
	free(back);
}

static const struct ml_route page_routes[] = {
    {"GET", "/connect", page_get, 0},
    {"GET", "/connect/session", session_get, 0},
    {"POST", "/connect/disconnect", disconnect_post, 0},
    {"GET", "/oauth/{platform}/start", oauth_start, 0},
    {"GET", "/oauth/{platform}/callback", oauth_callback, 0},
    {NULL, NULL, NULL, 0},
};

bool ml_api_serve_pages(struct ml_http_req *req, struct ml_http_resp *resp)
{
	bool mismatch = false;
	const struct ml_route *r = ml_router_match(page_routes, req, &mismatch);
	if (!r) {
		if (!mismatch)
			return false;
		ml_resp_error(resp, 405, "method_not_allowed", NULL,
			      "This path does not accept that method.");
		return true;
	}
	r->fn(req, resp);
	return true;
}
