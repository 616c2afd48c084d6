/* fuzz_watch: changes made at the provider (docs/provider-changes.md), the Google Calendar
 * watch's parsers with hostile inputs. The first byte of an input picks the target; the
 * rest is its input.
 *
 *   'G'  POST /webhooks/google with the input as a whole request (Google Calendar push
 *        notifications, X-Goog-* headers): never a 2xx unless X-Goog-Channel-Token is the
 *        secret of X-Goog-Channel-ID; the headers parser's findings are well formed.
 *   'g'  the same with the channel's right secret put in: never 401, never 5xx.
 *   'S'  one events.list page of a sync (ml_gcal_sync_parse): the first byte after 'S' is
 *        the status class, the rest the body; a page accepted has exactly one next token,
 *        and every change an id and a status.
 *   other first bytes: 'S' with the whole input.
 */
#include "fuzz_app.h"

#include "core/error.h"
#include "core/mem.h"
#include "providers/provider.h"
#include "providers/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_app_get();
	return 0;
}

static const char *fz_header(const void *arg, const char *name)
{
	return fz_req_value(arg, 1, name);
}

/* 'G' and 'g': a push notification as a whole request. */
static void google_push(struct fz_app *a, const char *text, size_t n, bool right_token)
{
	struct fz_req r;
	struct ml_http_resp resp;
	struct ml_gcal_push note;
	if (!fz_req_parse(&r, text, n)) {
		fz_req_free(&r);
		return;
	}
	snprintf(r.method, sizeof r.method, "POST");
	free(r.path);
	r.path = ml_strdup("/webhooks/google");
	r.req.path = r.path;
	const char *id = fz_req_value(&r, 1, "X-Goog-Channel-ID");
	char tok[ML_WATCH_TOKEN_LEN + 1];
	if (right_token && id &&
	    ml_watch_token(&a->app.platforms, ml_gcal_watch.label, id, tok) == 0) {
		for (int i = 0; i < r.conn.n; i++)
			if (r.conn.v[i].kind == 1 &&
			    strcasecmp(r.conn.v[i].key, "X-Goog-Channel-Token") == 0) {
				free(r.conn.v[i].value);
				r.conn.v[i].value = ml_strdup(tok);
			}
		if (!fz_req_value(&r, 1, "X-Goog-Channel-Token"))
			fz_req_header(&r, "X-Goog-Channel-Token", tok);
	}
	if (ml_gcal_push_parse(fz_header, &r, &note) == 0) {
		if (!note.channel_id[0] || !note.token[0] || note.message_number < 0 ||
		    (strcmp(note.state, "sync") && strcmp(note.state, "exists") &&
		     strcmp(note.state, "not_exists")))
			fz_fail("a push notification accepted with a malformed member");
		for (const char *c = note.channel_id; *c; c++)
			if ((unsigned char)*c <= 0x20 || *c == 0x7f)
				fz_fail("a channel id with a control character accepted");
	}
	ml_error_clear();
	if (fz_app_send(a, &r, &resp)) {
		const char *cid = fz_req_value(&r, 1, "X-Goog-Channel-ID");
		const char *t = fz_req_value(&r, 1, "X-Goog-Channel-Token");
		bool valid = cid && t && ml_watch_token_ok(&a->app.platforms, ml_gcal_watch.label,
							 cid, t);
		if (resp.status >= 200 && resp.status < 300 && !valid)
			fz_fail("answered %d to a notification without its channel's secret",
				resp.status);
		if (right_token && (resp.status == 401 || resp.status >= 500) && valid)
			fz_fail("answered %d to a notification with its channel's secret",
				resp.status);
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

/* 'S': one page of an incremental sync. */
static void google_sync_page(const char *p, const char *end)
{
	if (p >= end)
		return;
	static const long statuses[] = {200, 410, 404, 403, 500, 429, 401, 204};
	struct ml_presp r = {ML_PT_OK, statuses[(unsigned char)*p % 8], NULL, 0, NULL, 0};
	char *body = ml_strndup(p + 1, (size_t)(end - p - 1));
	r.body = body;
	r.body_len = strlen(body);
	json_t *changes = json_array();
	char *np = NULL, *ns = NULL;
	struct ml_perr err = {0};
	int rc = ml_gcal_sync_parse(&r, changes, &np, &ns, &err);
	if (rc == 0) {
		if (!np == !ns)
			fz_fail("a sync page accepted with %s next token", np ? "two" : "no");
		size_t i;
		json_t *c;
		json_array_foreach(changes, i, c)
			if (!json_string_value(json_object_get(c, "id")) ||
			    !json_string_value(json_object_get(c, "status")))
				fz_fail("a change without its id or status");
	} else if (err.kind == ML_PERR_NONE) {
		fz_fail("a sync page refused without a classification");
	}
	free(np);
	free(ns);
	json_decref(changes);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_app *a = fz_app_get();
	if (size < 1)
		return 0;
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	fz_app_input(a);
	if (data[0] == 'G' || data[0] == 'g')
		google_push(a, p, (size_t)(end - p), data[0] == 'g');
	else if (data[0] == 'S')
		google_sync_page(p, end);
	else
		google_sync_page((const char *)data, end);
	return 0;
}
