/* fuzz_oauth: the hosted connect page's OAuth round trip (api/connect_page.c, conn/oauth.c,
 * conn/links.c). The first byte of an input picks the target.
 *
 *   0-2  a real round trip: GET /oauth/{platform}/start with a valid connect link (platform
 *        by byte%3: google_meet, zoom, teams), which sets the state cookie and redirects with
 *        a state; then the rest of the input is the provider's callback request (fuzz_common.h's
 *        format) with $STATE, $COOKIE and $T (the link) replaced. Lines "@@@" split it from
 *        the token endpoint's and the identity endpoint's answers ("STATUS BODY"), which the
 *        exchange receives (fz_curl_answer). Checked: only a callback carrying the state and
 *        the cookie set for it, on its platform, can connect (303 back to the page with
 *        connected=); every page is HTML with the security headers, and the state cookie is
 *        cleared once a state was used.
 *   3    any page request (/connect, /connect/session, /connect/disconnect, /oauth/…) with
 *        $T replaced by a valid link.
 *   4    ml_oauth_parse_tokens: two bytes of status, then a token endpoint answer.
 *   5    ml_oauth_parse_account: platform by the next byte, then an identity answer.
 *   6    ml_conn_link_verify on the input, and sign/verify of a link made of its fields.
 */
#include "fuzz_app.h"

#include "conn/connections.h"
#include "conn/links.h"
#include "conn/oauth.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const platforms[] = {"google_meet", "zoom", "teams"};
static char link_token[3][512];

/* The `t` of a connect link for the seeded host, per platform. */
static void make_links(struct fz_app *a)
{
	for (int i = 0; i < 3; i++) {
		char *text = ml_asprintf("POST /v1/hosts/$H/connect-links\n"
					 "Content-Type: application/json\n\n{\"platform\":\"%s\"}",
					 platforms[i]);
		struct ml_http_resp resp;
		if (!fz_app_request(a, text, strlen(text), &resp, false) || resp.status != 201)
			fz_fail("connect link: %d", resp.status);
		json_t *j = fz_resp_json(&resp);
		const char *url = json_string_value(json_object_get(j, "url"));
		const char *t = url ? strstr(url, "?t=") : NULL;
		if (!t)
			fz_fail("connect link without t");
		snprintf(link_token[i], sizeof link_token[i], "%s", t + 3);
		json_decref(j);
		fz_resp_free(&resp);
		free(text);
	}
}

static struct fz_app *app(void)
{
	static bool made;
	struct fz_app *a = fz_app_get();
	/* (A recycled store is the seeded copy again: the same link secret and host.) */
	if (!made) {
		make_links(a);
		made = true;
	}
	return a;
}

/* Callbacks that connected (303 with connected=), and how many must have (environment
 * FZ_EXPECT_CONNECTS: the CTest entry fuzz/oauth_connects replays the rt_*_ok seeds with it,
 * so the connected path stays reachable; it was not while the exchange bypassed the
 * harness's scripted answers). */
static unsigned long connects, expect_connects;

static void check_connects(void)
{
	if (connects < expect_connects) {
		fprintf(stderr, "fuzz_oauth: %lu callbacks connected, %lu expected\n", connects,
			expect_connects);
		_exit(1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *e = getenv("FZ_EXPECT_CONNECTS");
	if (e && *e) {
		expect_connects = strtoul(e, NULL, 10);
		atexit(check_connects); /* (first registered: runs after the scratch dir's removal) */
	}
	app();
	return 0;
}

/* Every page answer: HTML (or a redirect) with the page's security headers. (A path no page
 * route matches is the API's JSON 404.) */
static void check_page(const struct ml_http_resp *resp, const char *path)
{
	if (resp->status == 404 && strncmp(resp->content_type, "application/json", 16) == 0)
		return;
	if (resp->status == 302 || resp->status == 303) {
		if (!fz_resp_header(resp, "Location"))
			fz_fail("%s: a redirect without Location", path);
		return;
	}
	if (strncmp(path, "/oauth/", 7) == 0 && resp->status != 405 &&
	    (strncmp(resp->content_type, "text/html", 9) != 0 ||
	     !fz_resp_header(resp, "Content-Security-Policy")))
		fz_fail("%s: %d page without HTML or its CSP", path, resp->status);
}

struct callback {
	struct fz_app *a;
	int part;
	char state[128], cookie[128];
	const char *platform;
	struct fz_req req;
	bool have_req;
};

static void queue_answer(const char *p, size_t n)
{
	char *end;
	char *s = ml_strndup(p, n);
	long st = strtol(s, &end, 10);
	if (*end == ' ')
		end++;
	fz_curl_answer(st, end, strlen(end));
	free(s);
}

static void part_cb(void *arg, const char *p, size_t n)
{
	struct callback *c = arg;
	if (c->part++ == 0) {
		const char *from[] = {"$STATE", "$COOKIE", "$T"};
		const char *to[] = {c->state, c->cookie, link_token[0]};
		for (int i = 0; i < 3; i++)
			if (platforms[i] == c->platform)
				to[2] = link_token[i];
		size_t len = n;
		char *s = fz_subst(p, &len, from, to, 3);
		c->have_req = fz_req_parse(&c->req, s, len);
		free(s);
	} else {
		queue_answer(p, n);
	}
}

/* GET /oauth/{platform}/start?t=… : the state (from Location) and the cookie it set. */
static bool start(struct fz_app *a, const char *platform, const char *t, char state[128],
		  char cookie[128])
{
	char *text = ml_asprintf("GET /oauth/%s/start?t=%s\n\n", platform, t);
	struct ml_http_resp resp;
	bool ok = false;
	if (!fz_app_request(a, text, strlen(text), &resp, true))
		fz_fail("start skipped");
	free(text);
	check_page(&resp, "/oauth/start");
	const char *loc = fz_resp_header(&resp, "Location");
	const char *set = fz_resp_header(&resp, "Set-Cookie");
	if (resp.status != 302 || !loc || !set)
		fz_fail("start answered %d", resp.status);
	const char *s = strstr(loc, "state=");
	const char *eq = strchr(set, '=');
	if (s && eq) {
		size_t sl = strcspn(s + 6, "&"), cl = strcspn(eq + 1, ";");
		if (sl < 128 && cl < 128) {
			memcpy(state, s + 6, sl);
			state[sl] = '\0';
			memcpy(cookie, eq + 1, cl);
			cookie[cl] = '\0';
			ok = true;
		}
	}
	if (!ok)
		fz_fail("start: no state or cookie in %s / %s", loc, set);
	if (!strstr(set, "HttpOnly") || !strstr(set, "SameSite=Lax"))
		fz_fail("start: the state cookie is not HttpOnly, SameSite=Lax: %s", set);
	fz_resp_free(&resp);
	return ok;
}

static void round_trip(struct fz_app *a, const uint8_t *data, size_t size)
{
	struct callback c = {.a = a, .platform = platforms[data[0] % 3]};
	struct ml_http_resp resp;
	start(a, c.platform, link_token[data[0] % 3], c.state, c.cookie);
	fz_split(data + 1, size - 1, 3, part_cb, &c);
	if (!c.have_req) {
		fz_req_free(&c.req);
		return;
	}
	if (!fz_app_send(a, &c.req, &resp)) {
		fz_req_free(&c.req);
		return;
	}
	check_page(&resp, c.req.path);
	const char *loc = fz_resp_header(&resp, "Location");
	if (resp.status == 303 && loc && strstr(loc, "connected=")) {
		/* Connected: it must have been this very flow, from this browser. */
		char want_path[64], cname[40];
		snprintf(want_path, sizeof want_path, "/oauth/%s/callback", c.platform);
		snprintf(cname, sizeof cname, "ml_oauth_%s", c.platform);
		const char *st = fz_req_value(&c.req, MHD_GET_ARGUMENT_KIND, "state");
		const char *ck = fz_req_value(&c.req, MHD_COOKIE_KIND, cname);
		if (strcmp(c.req.path, want_path) != 0 || !st || strcmp(st, c.state) != 0 || !ck ||
		    strcmp(ck, c.cookie) != 0)
			fz_fail("connected with state %s, cookie %s on %s", st ? st : "-",
				ck ? ck : "-", c.req.path);
		connects++;
	}
	fz_resp_free(&resp);
	fz_req_free(&c.req);
}

static void page(struct fz_app *a, const uint8_t *data, size_t size)
{
	const char *from[] = {"$T"};
	const char *to[] = {link_token[data[0] % 3]};
	size_t n = size - 1;
	struct ml_http_resp resp;
	struct fz_req r;
	char *s = fz_subst((const char *)data + 1, &n, from, to, 1);
	bool ok = fz_req_parse(&r, s, n);
	free(s);
	if (ok && fz_app_send(a, &r, &resp)) {
		check_page(&resp, r.path);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

static void tokens(const uint8_t *data, size_t size)
{
	if (size < 3)
		return;
	long status = (long)(data[1] << 8 | data[2]) % 600;
	char *body = ml_strndup((const char *)data + 3, size - 3);
	struct ml_oauth_tokens t = {0};
	int rc = ml_oauth_parse_tokens(status, body, &t);
	if (rc == 0 && (!t.access_token || !*t.access_token))
		fz_fail("tokens accepted without an access token");
	if (rc == 0 && (t.expires_in < 1 || t.expires_in > ML_OAUTH_EXPIRES_MAX))
		fz_fail("tokens accepted with expires_in %lld", (long long)t.expires_in);
	if (rc < 0 && (t.access_token || t.refresh_token || t.scope))
		fz_fail("tokens refused (%d) but *out was set", rc);
	ml_error_clear();
	ml_oauth_tokens_clear(&t);
	free(body);
}

static void account(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	char *body = ml_strndup((const char *)data + 2, size - 2);
	char *email = ml_oauth_parse_account(platforms[data[1] % 3], body);
	if (email && !fz_utf8_valid(email, strlen(email)))
		fz_fail("account email is not UTF-8");
	free(email);
	free(body);
}

static void links(const uint8_t *data, size_t size)
{
	static const uint8_t secret[ML_CONN_LINK_SECRET_LEN] = {7};
	char *s = ml_strndup((const char *)data + 1, size - 1);
	struct ml_conn_link l = {0}, back = {0};
	if (ml_conn_link_verify(secret, sizeof secret, s, ml_now(), &l) == 0 &&
	    l.expires_at < ml_now())
		fz_fail("an expired link verified");
	ml_error_clear();
	/* A link made of arbitrary fields verifies back to the same fields. */
	const char *p = s;
	snprintf(l.org_id, sizeof l.org_id, "%s", p);
	p += strlen(l.org_id);
	snprintf(l.host_id, sizeof l.host_id, "%s", p);
	p += strlen(l.host_id);
	snprintf(l.platform, sizeof l.platform, "%s", p);
	l.expires_at = ml_now() + 60;
	char *tok = ml_conn_link_sign(secret, sizeof secret, &l);
	int rc = ml_conn_link_verify(secret, sizeof secret, tok, ml_now(), &back);
	ml_error_clear();
	if (rc == 0 && (strcmp(back.org_id, l.org_id) != 0 || strcmp(back.host_id, l.host_id) != 0 ||
			strcmp(back.platform, l.platform) != 0 || back.expires_at != l.expires_at))
		fz_fail("a link verified to other fields than it was made of");
	free(tok);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fz_app_input(fz_app_get());
	struct fz_app *a = app();
	switch (data[0] % 7) {
	case 0:
	case 1:
	case 2:
		round_trip(a, data, size);
		break;
	case 3:
		page(a, data, size);
		break;
	case 4:
		tokens(data, size);
		break;
	case 5:
		account(data, size);
		break;
	case 6:
		links(data, size);
		break;
	}
	return 0;
}
