/* fuzz_watch: changes made at the provider (docs/provider-changes.md), the Google Calendar
 * watch's and the Microsoft Graph subscription's parsers with hostile inputs. The first
 * byte of an input picks the target; the rest is its input.
 *
 *   'G'  POST /webhooks/google with the input as a whole request (Google Calendar push
 *        notifications, X-Goog-* headers): never a 2xx unless X-Goog-Channel-Token is the
 *        secret of X-Goog-Channel-ID; the headers parser's findings are well formed.
 *   'g'  the same with the channel's right secret put in: never 401, never 5xx.
 *   'S'  one events.list page of a sync (ml_gcal_sync_parse): the first byte after 'S' is
 *        the status class, the rest the body; a page accepted has exactly one next token,
 *        and every change an id and a status.
 *   'M'  POST /webhooks/microsoft with the input as a whole request (a Graph
 *        changeNotificationCollection, or the validationToken handshake): never a 2xx
 *        unless the handshake's token was echoed as text/plain or some notification
 *        carries the secret of the channel its clientState names; never a 5xx.
 *   'm'  the same with every clientState's secret made the right one: never 401, never 5xx.
 *   'N'  ml_graph_notes_parse on the JSON: accepted notes are well formed.
 *   'R'  a read-back answer (ml_graph_read_parse): the byte after 'R' picks the status,
 *        the rest is the body; one change with the item's id and a status, or an error
 *        classified.
 *   'U'  a subscription answer (ml_graph_sub_parse), status byte then body.
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

/* 'm': every clientState "<channel>.<secret>" given its channel's right secret. */
static void right_states(struct fz_app *a, struct fz_req *r)
{
	json_t *b = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(b, "value"), i, v)
	{
		const char *cs = json_string_value(json_object_get(v, "clientState"));
		const char *dot = cs ? strrchr(cs, '.') : NULL;
		char chan[80], tok[ML_WATCH_TOKEN_LEN + 1];
		if (!dot || (size_t)(dot - cs) >= sizeof chan)
			continue;
		memcpy(chan, cs, (size_t)(dot - cs));
		chan[dot - cs] = 0;
		if (ml_watch_token(&a->app.platforms, ml_graph_watch.label, chan, tok) == 0) {
			char *ncs = ml_asprintf("%s.%s", chan, tok);
			json_object_set_new(v, "clientState", json_string(ncs));
			free(ncs);
		}
	}
	if (b) {
		free(r->body);
		r->body = json_dumps(b, JSON_COMPACT);
		r->body_len = r->body ? strlen(r->body) : 0;
		r->req.body = r->body;
		r->req.body_len = r->body_len;
	}
	json_decref(b);
}

/* Whether some notification of the body carries its channel's right secret. */
static bool some_valid(struct fz_app *a, const struct fz_req *r)
{
	json_t *b = r->body ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
	struct ml_watch_note *n = ml_calloc(200, sizeof *n);
	size_t count = 0;
	bool ok = false;
	if (b && ml_graph_notes_parse(b, n, 200, &count) == 0)
		for (size_t i = 0; i < count; i++)
			ok |= ml_watch_token_ok(&a->app.platforms, ml_graph_watch.label,
						n[i].channel_id, n[i].token);
	ml_error_clear();
	free(n);
	json_decref(b);
	return ok;
}

/* 'M' and 'm': a Graph notification (or handshake) as a whole request. */
static void graph_push(struct fz_app *a, const char *text, size_t n, bool right_state)
{
	struct fz_req r;
	struct ml_http_resp resp;
	if (!fz_req_parse(&r, text, n)) {
		fz_req_free(&r);
		return;
	}
	snprintf(r.method, sizeof r.method, "POST");
	free(r.path);
	r.path = ml_strdup("/webhooks/microsoft");
	r.req.path = r.path;
	if (right_state)
		right_states(a, &r);
	bool valid = some_valid(a, &r);
	const char *vt = fz_req_value(&r, 8 /* MHD_GET_ARGUMENT_KIND */, "validationToken");
	if (fz_app_send(a, &r, &resp)) {
		if (resp.status >= 500)
			fz_fail("answered %d to a Graph notification", resp.status);
		if (resp.status >= 200 && resp.status < 300 && !valid && !vt)
			fz_fail("answered %d to notifications without their secret", resp.status);
		if (vt && resp.status == 200 &&
		    (resp.body_len != strlen(vt) || memcmp(resp.body, vt, resp.body_len) != 0))
			fz_fail("the validation token was not echoed as it came");
		if (right_state && valid && !vt && resp.status == 401)
			fz_fail("answered 401 to notifications with their secret");
		fz_resp_free(&resp);
	}
	fz_req_free(&r);
}

static void graph_notes(const char *p, const char *end)
{
	json_t *b = json_loadb(p, (size_t)(end - p), 0, NULL);
	struct ml_watch_note *n = ml_calloc(200, sizeof *n);
	size_t count = 0;
	if (b && ml_graph_notes_parse(b, n, 200, &count) == 0) {
		if (count == 0 || count > 200)
			fz_fail("%zu notes accepted", count);
		for (size_t i = 0; i < count; i++)
			if (!n[i].channel_id[0] || !n[i].token[0] || !n[i].key[0] ||
			    strncmp(n[i].item, "event:", 6) != 0 || !n[i].subscription_id[0])
				fz_fail("a note accepted with a missing member");
	}
	ml_error_clear();
	free(n);
	json_decref(b);
}

static const long fz_statuses[] = {200, 404, 410, 403, 500, 429, 401, 201};

static void graph_read(const char *p, const char *end)
{
	if (p >= end)
		return;
	struct ml_presp r = {ML_PT_OK, fz_statuses[(unsigned char)*p % 8], NULL, 0, NULL, 0};
	char *body = ml_strndup(p + 1, (size_t)(end - p - 1));
	r.body = body;
	r.body_len = strlen(body);
	json_t *changes = json_array();
	struct ml_perr err = {0};
	if (ml_graph_read_parse(&r, "event:AAMk1", changes, &err) == 0) {
		json_t *c = json_array_get(changes, 0);
		if (json_array_size(changes) != 1 ||
		    strcmp(json_string_value(json_object_get(c, "id")), "event:AAMk1") != 0 ||
		    !json_string_value(json_object_get(c, "status")))
			fz_fail("a read-back without exactly one change of the item");
		if (!json_object_get(c, "start") != !json_object_get(c, "end"))
			fz_fail("a read-back with a start and no end, or the other way round");
	} else if (err.kind == ML_PERR_NONE) {
		fz_fail("a read-back refused without a classification");
	}
	json_decref(changes);
	free(body);
}

static void graph_sub(const char *p, const char *end)
{
	if (p >= end)
		return;
	struct ml_presp r = {ML_PT_OK, fz_statuses[(unsigned char)*p % 8], NULL, 0, NULL, 0};
	char *body = ml_strndup(p + 1, (size_t)(end - p - 1));
	r.body = body;
	r.body_len = strlen(body);
	char rid[129];
	int64_t exp = 0;
	struct ml_perr err = {0};
	if (ml_graph_sub_parse(&r, rid, sizeof rid, &exp, &err) == 0) {
		if (!rid[0] || exp <= 0)
			fz_fail("a subscription accepted without its id or expiration");
	} else if (err.kind == ML_PERR_NONE) {
		fz_fail("a subscription answer refused without a classification");
	}
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
	else if (data[0] == 'M' || data[0] == 'm')
		graph_push(a, p, (size_t)(end - p), data[0] == 'm');
	else if (data[0] == 'N')
		graph_notes(p, end);
	else if (data[0] == 'R')
		graph_read(p, end);
	else if (data[0] == 'U')
		graph_sub(p, end);
	else
		google_sync_page((const char *)data, end);
	return 0;
}
