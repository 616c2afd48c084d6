/* Zoom REST authentication (bearer tokens: 124), users (by id or email, the one a path names),
 * and rate limits:
 * X-RateLimit-* headers on every answer, the per-second 429 (Retry-After in seconds) and the
 * daily 429 (Retry-After an ISO-8601 date). */
#include "sandbox/zoom_internal.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A user of the sandbox by id or email (case-insensitive); borrowed or NULL. */
json_t *ml_zoom_user_find(json_t *root, const char *s)
{
	json_t *users = json_object_get(root, "users"), *u;
	const char *k;

	if (!s || !*s)
		return NULL;
	if ((u = json_object_get(users, s)))
		return u;
	json_object_foreach(users, k, u) {
		const char *e = ml_sb_str(u, "email");
		if (e && !strcasecmp(e, s))
			return u;
	}
	return NULL;
}

/* ---- authentication and rate limits --------------------------------------------------- */

/* The bearer token's record, or NULL after answering 401 the way Zoom does. */
json_t *ml_zoom_auth(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *why = NULL;
	json_t *rec = ml_sb_bearer(req, req->user, &why);
	if (rec)
		return rec;
	if (!strcmp(why, "missing"))
		ml_zoom_err(resp, 401, 124, "Invalid access token.");
	else if (!strcmp(why, "expired"))
		ml_zoom_err(resp, 401, 124, "Access token is expired.");
	else
		ml_zoom_err(resp, 401, 124, "Invalid access token.");
	return NULL;
}

static void hdr_int(struct ml_http_resp *resp, const char *name, long long v)
{
	char b[32];
	snprintf(b, sizeof b, "%lld", v);
	ml_resp_header(resp, name, b);
}

/* A counter in root["rate"][key] for the window `win` (its number); returns the count after
 * adding one. */
static json_int_t bump(json_t *root, const char *key, json_int_t win)
{
	json_t *rate = json_object_get(root, "rate"), *c = json_object_get(rate, key);
	if (!json_is_object(c) || json_integer_value(json_object_get(c, "window")) != win) {
		c = json_pack("{s:I, s:I}", "window", win, "count", (json_int_t)0);
		json_object_set_new(rate, key, c);
	}
	json_int_t n = json_integer_value(json_object_get(c, "count")) + 1;
	json_object_set_new(c, "count", json_integer(n));
	return n;
}

static void daily_429(struct ml_http_resp *resp, const char *category, json_int_t limit)
{
	int64_t day = ml_sb_now() / 86400;
	char next[ML_RFC3339_MAX];
	ml_time_format((day + 1) * 86400, next);
	ml_resp_header(resp, "X-RateLimit-Category", category);
	ml_resp_header(resp, "X-RateLimit-Type", "Daily-limit");
	hdr_int(resp, "X-RateLimit-Limit", limit);
	ml_resp_header(resp, "X-RateLimit-Remaining", "0");
	ml_resp_header(resp, "Retry-After", next);
	ml_zoom_err(resp, 429, 429,
		    "You have reached the maximum daily rate limit for this API. Refer to the "
		    "response header for details on when you can make another request.");
}

/* Applies the per-account QPS limit of `category` and, for Heavy, the daily limit; with
 * `writer` (a meeting create/update), the per-user daily limit of meeting writes. Sets the
 * X-RateLimit-* headers; false after answering 429. */
bool ml_zoom_rate(struct ml_http_req *req, struct ml_http_resp *resp, const json_t *tok,
		 const char *category, const char *writer)
{
	json_t *root = req->user;
	const char *acct = ml_sb_str(tok, "zoom_account");
	char key[160], cfg[64];
	int64_t now_ms = ml_sb_now_ms(), day = ml_sb_now() / 86400;
	char lc[32];
	size_t i;

	for (i = 0; category[i] && i < sizeof lc - 1; i++)
		lc[i] = (char)(category[i] >= 'A' && category[i] <= 'Z' ? category[i] + 32
								     : category[i]);
	lc[i] = '\0';
	snprintf(cfg, sizeof cfg, "rate_limit_%s", lc);
	json_int_t limit = ml_sb_cfg_int(ZP, cfg, 80);
	if (writer) {
		json_int_t wl = ml_sb_cfg_int(ZP, "daily_meeting_writes_per_user", 100);
		snprintf(key, sizeof key, "writes:%s", writer);
		json_t *c = json_object_get(json_object_get(root, "rate"), key);
		if (json_is_object(c) && json_integer_value(json_object_get(c, "window")) == day &&
		    json_integer_value(json_object_get(c, "count")) >= wl) {
			daily_429(resp, category, wl);
			return false;
		}
	}
	if (!strcmp(category, "Heavy")) {
		json_int_t dl = ml_sb_cfg_int(ZP, "rate_limit_daily", 60000);
		snprintf(key, sizeof key, "daily:%s", acct ? acct : "");
		if (bump(root, key, day) > dl) {
			daily_429(resp, category, dl);
			return false;
		}
	}
	snprintf(key, sizeof key, "qps:%s:%s", acct ? acct : "", category);
	json_int_t n = bump(root, key, now_ms / 1000);
	ml_resp_header(resp, "X-RateLimit-Category", category);
	ml_resp_header(resp, "X-RateLimit-Type", "QPS");
	hdr_int(resp, "X-RateLimit-Limit", limit);
	if (n > limit) {
		ml_resp_header(resp, "X-RateLimit-Remaining", "0");
		hdr_int(resp, "X-RateLimit-Reset", now_ms / 1000 + 1);
		/* Seconds: the window is one second, so retrying after it always succeeds. */
		ml_resp_header(resp, "Retry-After", "1");
		ml_zoom_err(resp, 429, 429,
			    "You have reached the maximum per-second rate limit for this API. Try "
			    "again later.");
		return false;
	}
	hdr_int(resp, "X-RateLimit-Remaining", limit - n);
	if (writer) {
		snprintf(key, sizeof key, "writes:%s", writer);
		bump(root, key, day);
	}
	return true;
}

/* The user a path's {userId} names for this token ("me", an id or an email), or NULL after
 * answering. A user-level token reaches only its own user; an S2S token its account's. */
json_t *ml_zoom_path_user(struct ml_http_req *req, struct ml_http_resp *resp, const json_t *tok,
			 const char *uid)
{
	json_t *root = req->user, *u;
	const char *self = ml_sb_str(tok, "user_id");

	if (!strcmp(uid, "me")) {
		if (self)
			u = ml_zoom_user_find(root, self);
		else
			u = ml_zoom_user_find(root, ml_sb_str(json_object_get(json_object_get(root,
				"accounts"), ml_sb_str(tok, "zoom_account")), "owner"));
	} else {
		u = ml_zoom_user_find(root, uid);
	}
	if (!u || strcmp(ml_sb_str(u, "account_id"), ml_sb_str(tok, "zoom_account")) != 0) {
		ml_zoom_err(resp, 404, 1001, "User does not exist: %s.", uid);
		return NULL;
	}
	if (self && strcmp(self, ml_sb_str(u, "id")) != 0) {
		ml_zoom_err(resp, 400, 4711,
			    "Invalid access token, does not contain scopes:[user:read:admin].");
		return NULL;
	}
	return u;
}

