/* Google Calendar push channels and incremental sync, sans-IO (providers/watch.h).
 * specs/google: events.watch answers a Channel (resourceId, expiration in ms as a string);
 * channels.stop 204; events.list with syncToken returns what changed since (deleted events
 * as status "cancelled"), nextPageToken on every page but the last, nextSyncToken on the
 * last; a stale token answers 410 fullSyncRequired. Notifications carry no body, only the
 * X-Goog-* headers.
 */
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "providers/remote.h"
#include "providers/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "Google Calendar"
/* What the sync reads of an event: nothing more is parsed. */
#define SYNC_FIELDS                                                                                \
	"nextPageToken,nextSyncToken,items(id,status,start,end,extendedProperties/private)"

int ml_watch_token(const struct ml_platform_settings *s, const char *label, const char *id,
		   char out[ML_WATCH_TOKEN_LEN + 1])
{
	if (!s || !s->room_secret || !id)
		return -1;
	struct ml_buf b = {0};
	ml_buf_printf(&b, "meetlink-watch\n%s\n%s", label, id);
	uint8_t mac[32];
	ml_hmac_sha256(s->room_secret, s->room_secret_len, b.data, b.len, mac);
	ml_buf_free(&b);
	char *t = ml_base64url_encode(mac, sizeof mac);
	snprintf(out, ML_WATCH_TOKEN_LEN + 1, "%s", t);
	free(t);
	return 0;
}

bool ml_watch_token_ok(const struct ml_platform_settings *s, const char *label, const char *id,
		       const char *given)
{
	char want[ML_WATCH_TOKEN_LEN + 1];
	if (!given || ml_watch_token(s, label, id, want) < 0)
		return false;
	bool ok = ml_ct_equal(want, strlen(want), given, strlen(given));
	explicit_bzero(want, sizeof want);
	return ok;
}

void ml_watch_new_id(char out[40])
{
	uint8_t raw[16];
	ml_random(raw, sizeof raw);
	memcpy(out, "mlw", 3);
	ml_hex_encode(raw, sizeof raw, out + 3);
}

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://www.googleapis.com";
}

void ml_gcal_watch_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
		       const char *token, const char *address, int64_t ttl_s)
{
	char ttl[24];
	snprintf(ttl, sizeof ttl, "%lld", (long long)ttl_s);
	json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", channel_id, "type",
				 "web_hook", "address", address, "token", token, "params", "ttl", ttl);
	ml_pstep_json(out, "POST",
		      ml_asprintf("%s/calendar/v3/calendars/primary/events/watch", base(cr)), body,
		      cr);
}

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	json_t *e = json_object_get(body, "error");
	const char *msg = ml_pjs(e, "message");
	const char *reason = ml_pjs(json_array_get(json_object_get(e, "errors"), 0), "reason");
	if (r->transport == ML_PT_OK && r->status == 403 && reason &&
	    (strcmp(reason, "rateLimitExceeded") == 0 ||
	     strcmp(reason, "userRateLimitExceeded") == 0 || strcmp(reason, "quotaExceeded") == 0))
		return ml_perr_set(err, ML_PERR_RETRY, 403, "rate_limited",
				   "Google Calendar asked us to slow down (%s).", reason);
	return ml_perr_from_resp(err, r, NAME, reason, msg);
}

int ml_gcal_watch_parse(const struct ml_presp *r, char *rid, size_t rid_n, int64_t *exp_ms,
			struct ml_perr *err)
{
	json_t *body = ml_presp_json(r);
	int rc;
	if (!ml_presp_ok(r)) {
		rc = classify(err, r, body);
		json_decref(body);
		return rc < 0 ? rc : -1;
	}
	const char *res = ml_pjs(body, "resourceId"), *exp = ml_pjs(body, "expiration");
	char *end = NULL;
	long long e = exp ? strtoll(exp, &end, 10) : 0;
	if (!res || !*res || strlen(res) >= rid_n || !exp || !*exp || *end || e <= 0) {
		json_decref(body);
		return ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "provider_error",
				   "%s answered a channel without resourceId or expiration.", NAME);
	}
	snprintf(rid, rid_n, "%s", res);
	*exp_ms = e;
	json_decref(body);
	return 0;
}

void ml_gcal_stop_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
		      const char *resource_id)
{
	json_t *body = json_pack("{s:s, s:s}", "id", channel_id, "resourceId",
				 resource_id ? resource_id : "");
	ml_pstep_json(out, "POST", ml_asprintf("%s/calendar/v3/channels/stop", base(cr)), body, cr);
}

int ml_gcal_stop_parse(const struct ml_presp *r, struct ml_perr *err)
{
	if (ml_presp_ok(r) || (r->transport == ML_PT_OK && r->status == 404))
		return 0;
	json_t *body = ml_presp_json(r);
	int rc = classify(err, r, body);
	json_decref(body);
	return rc < 0 ? rc : -1;
}

void ml_gcal_sync_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *sync_token,
		      const char *page_token)
{
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s/calendar/v3/calendars/primary/events?maxResults=250", base(cr));
	if (sync_token) {
		ml_buf_puts(&b, "&syncToken=");
		ml_url_escape(&b, sync_token);
	} else {
		ml_buf_puts(&b, "&showDeleted=true");
	}
	if (page_token) {
		ml_buf_puts(&b, "&pageToken=");
		ml_url_escape(&b, page_token);
	}
	ml_buf_puts(&b, "&fields=");
	ml_url_escape(&b, SYNC_FIELDS);
	ml_pstep_http(out, "GET", ml_buf_steal(&b), NULL, NULL, ml_pbearer(cr));
}

static bool when(json_t *t, int64_t *out)
{
	const char *dt = ml_pjs(t, "dateTime");
	return dt && ml_time_parse(dt, out) == 0;
}

static bool token_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 1024)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int ml_gcal_sync_parse(const struct ml_presp *r, json_t *changes, char **next_page,
		       char **next_sync, struct ml_perr *err)
{
	*next_page = *next_sync = NULL;
	json_t *body = ml_presp_json(r);
	int rc;
	if (!ml_presp_ok(r)) {
		if (r->transport == ML_PT_OK && r->status == 410)
			rc = ml_perr_set(err, ML_PERR_GONE, 410, "full_sync_required",
					 "%s no longer knows the sync token.", NAME);
		else
			rc = classify(err, r, body);
		json_decref(body);
		return rc < 0 ? rc : -1;
	}
	const char *np = ml_pjs(body, "nextPageToken"), *ns = ml_pjs(body, "nextSyncToken");
	json_t *items = json_object_get(body, "items");
	if (!json_is_object(body) || (items && !json_is_array(items)) ||
	    (!np && !ns) || (np && !token_ok(np)) || (ns && !token_ok(ns))) {
		json_decref(body);
		return ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "provider_error",
				   "%s answered an events page without its tokens.", NAME);
	}
	size_t i;
	json_t *ev;
	json_array_foreach(items, i, ev)
	{
		if (i >= 2500)
			break;
		const char *id = ml_pjs(ev, "id"), *st = ml_pjs(ev, "status");
		if (!id || strlen(id) > 1024)
			continue;
		json_t *c = json_pack("{s:s, s:s}", "id", id, "status", st ? st : "confirmed");
		int64_t s = 0, e = 0;
		if (when(json_object_get(ev, "start"), &s) && when(json_object_get(ev, "end"), &e)) {
			json_object_set_new(c, "start", json_integer(s));
			json_object_set_new(c, "end", json_integer(e));
		}
		const char *bkg = ml_pjs(
		    json_object_get(json_object_get(ev, "extendedProperties"), "private"),
		    "meetlink_booking");
		if (bkg && strlen(bkg) < 40)
			json_object_set_new(c, "booking", json_string(bkg));
		json_array_append_new(changes, c);
	}
	if (np)
		*next_page = ml_strdup(np);
	else
		*next_sync = ml_strdup(ns);
	json_decref(body);
	return 0;
}

static int copy_header(const char *(*header)(const void *, const char *), const void *arg,
		       const char *name, char *out, size_t n, bool required, const char *allowed)
{
	const char *v = header(arg, name);
	size_t len = v ? strlen(v) : 0;
	out[0] = 0;
	if (!v && !required)
		return 0;
	if (len == 0 || len >= n)
		return ml_error_set(ML_EINVAL, "invalid_header", name, "%s is missing or too long.",
				    name);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)v[i];
		bool ok = allowed ? (strchr(allowed, ch) != NULL || (ch >= 'a' && ch <= 'z') ||
				     (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
				  : (ch > 0x20 && ch < 0x7f);
		if (!ok || ch == 0)
			return ml_error_set(ML_EINVAL, "invalid_header", name,
					    "%s holds a character it may not.", name);
	}
	memcpy(out, v, len + 1);
	return 0;
}

int ml_gcal_push_parse(const char *(*header)(const void *arg, const char *name), const void *arg,
		       struct ml_gcal_push *out)
{
	char num[24];
	int rc;
	memset(out, 0, sizeof *out);
	if ((rc = copy_header(header, arg, "X-Goog-Channel-ID", out->channel_id,
			      sizeof out->channel_id, true, "-_+/=")) < 0 ||
	    (rc = copy_header(header, arg, "X-Goog-Channel-Token", out->token, sizeof out->token,
			      true, NULL)) < 0 ||
	    (rc = copy_header(header, arg, "X-Goog-Resource-ID", out->resource_id,
			      sizeof out->resource_id, false, NULL)) < 0 ||
	    (rc = copy_header(header, arg, "X-Goog-Resource-State", out->state, sizeof out->state,
			      true, "_")) < 0 ||
	    (rc = copy_header(header, arg, "X-Goog-Message-Number", num, 21, true, "")) < 0)
		return rc;
	if (strcmp(out->state, "sync") != 0 && strcmp(out->state, "exists") != 0 &&
	    strcmp(out->state, "not_exists") != 0)
		return ml_error_set(ML_EINVAL, "invalid_header", "X-Goog-Resource-State",
				    "X-Goog-Resource-State must be sync, exists or not_exists.");
	int64_t n = 0;
	for (const char *p = num; *p; p++) {
		if (*p < '0' || *p > '9' || n > (INT64_MAX - 9) / 10)
			return ml_error_set(ML_EINVAL, "invalid_header", "X-Goog-Message-Number",
					    "X-Goog-Message-Number must be a decimal number.");
		n = n * 10 + (*p - '0');
	}
	out->message_number = n;
	return 0;
}

int ml_gcal_note_parse(const char *(*header)(const void *arg, const char *name), const void *arg,
		       struct ml_watch_note *out)
{
	struct ml_gcal_push n;
	int rc = ml_gcal_push_parse(header, arg, &n);
	memset(out, 0, sizeof *out);
	if (rc < 0)
		return rc;
	memcpy(out->channel_id, n.channel_id, sizeof out->channel_id);
	memcpy(out->token, n.token, sizeof out->token);
	explicit_bzero(n.token, sizeof n.token);
	snprintf(out->key, sizeof out->key, "%s:%lld", n.channel_id,
		 (long long)n.message_number);
	out->changed = strcmp(n.state, "sync") != 0;
	return 0;
}

const struct ml_watch_info ml_gcal_watch = {
    .path = "google",
    .label = "google-channel",
    .detected_by = "google_push",
    .open_req = ml_gcal_watch_req,
    .open_parse = ml_gcal_watch_parse,
    .stop_req = ml_gcal_stop_req,
    .stop_parse = ml_gcal_stop_parse,
    .sync_req = ml_gcal_sync_req,
    .sync_parse = ml_gcal_sync_parse,
    .note_parse = ml_gcal_note_parse,
};

const struct ml_provider_ops *ml_provider_by_watch_path(const char *path)
{
	for (const struct ml_provider_ops *const *o = ml_provider_all(); path && *o; o++)
		if (ML_PROVIDER_HAS(*o, watch) && strcmp((*o)->watch->path, path) == 0)
			return *o;
	return NULL;
}
