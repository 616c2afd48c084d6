/* The waiting room's hosted pages, reached through a personal gateway link (docs/gateway.md,
 * docs/waiting-room.md). No API key: the token in the path is the key, resolved by the
 * gateway (meeting/gateway.h) to the participant and their role.
 *
 *   GET  /j/{token}/wait              the guest's waiting page (confirm the name, then wait)
 *   POST /j/{token}/wait              {"action":"ask","name":…} or {"action":"leave"}
 *   GET  /j/{token}/events            the guest's live state (text/event-stream)
 *   GET  /j/{token}/panel             the host panel (hosts and admins)
 *   GET  /j/{token}/panel/events      the panel's live room (text/event-stream)
 *   POST /j/{token}/panel/admit       {"participant_id":…}
 *   POST /j/{token}/panel/reject      {"participant_id":…, "reason":…}
 *   POST /j/{token}/panel/admit-all   {}
 *   POST /j/{token}/panel/end         {} ends the meeting for everyone (meeting/end.c)
 *
 * The POSTs are the pages' own: JSON only and an Origin that is PUBLIC_URL's (a form on
 * another site can send neither), so no other site can act with a link it does not hold.
 * ml_api_waiting_hold is the gateway's hold step.
 */
#include "api/api.h"
#include "api/validate.h"
#include "api/waiting_pages.h"
#include "core/error.h"
#include "core/html.h"
#include "core/json_in.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/gateway.h"
#include "meeting/waitbus.h"
#include "meeting/waiting.h"
#include "queue/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CSP                                                                                  \
	"default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'; "          \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void page_headers(struct ml_http_resp *resp)
{
	ml_resp_header(resp, "Content-Security-Policy", CSP);
	ml_resp_header(resp, "X-Content-Type-Options", "nosniff");
	ml_resp_header(resp, "Referrer-Policy", "no-referrer"); /* the token is in the URL */
	ml_resp_header(resp, "Cache-Control", "no-store");
	ml_resp_header(resp, "X-Robots-Tag", "noindex, nofollow");
}

/* What a page needs beyond the link: the room's switch, the participant's row, the
 * meeting's link. */
struct room {
	const struct ml_gateway_who *who;
	json_t *booking, *service, *host, *settings, *row;
};

static int room_fn(struct ml_tx *tx, void *arg)
{
	struct room *r = arg;
	const struct ml_gateway_who *w = r->who;
	int rc;
	if ((rc = ml_tx_doc_peek(tx, ML_KIND_BOOKING, w->org_id, w->booking_id, &r->booking)) < 0 ||
	    (rc = ml_booking_related(tx, w->org_id, r->booking, &r->service, &r->host)) < 0 ||
	    (rc = ml_tx_org_settings_get(tx, w->org_id, &r->settings)) < 0)
		return rc;
	rc = ml_tx_admission_get(tx, w->org_id, w->booking_id, w->participant_id, &r->row);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		rc = 0;
	}
	return rc;
}

static int room_load(const struct ml_env *env, const struct ml_gateway_who *w, struct room *r)
{
	memset(r, 0, sizeof *r);
	r->who = w;
	return ml_store_read(env->store, room_fn, r);
}

static void room_free(struct room *r)
{
	json_decref(r->booking);
	json_decref(r->service);
	json_decref(r->host);
	json_decref(r->settings);
	json_decref(r->row);
}

static bool is_host(const struct ml_gateway_who *w)
{
	return strcmp(w->role, "host") == 0 || strcmp(w->role, "admin") == 0;
}

static void see_other(struct ml_http_resp *resp, const char *token, const char *suffix)
{
	char *loc = ml_asprintf("/j/%s%s", token, suffix);
	ml_resp_redirect(resp, 303, loc);
	page_headers(resp);
	free(loc);
}

bool ml_api_waiting_hold(struct ml_http_req *req, struct ml_http_resp *resp,
			 const struct ml_gateway_who *w, bool go)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct room r;
	bool held = false;
	if (room_load(ctx->app, w, &r) < 0) {
		/* Without the room's state nobody can be let in safely: answer the error. */
		ml_resp_errno(resp, ML_EUNAVAIL);
		room_free(&r);
		return true;
	}
	if (ml_waiting_enabled(r.service, r.settings)) {
		if (is_host(w)) {
			/* The host's own link opens the panel; its "join" (/go) passes. */
			if (!go) {
				see_other(resp, req->params[0], "/panel");
				held = true;
			}
		} else if (!r.row || strcmp(str(r.row, "state") ? str(r.row, "state") : "",
					    "admitted") != 0) {
			see_other(resp, req->params[0], "/wait");
			held = true;
		}
	}
	room_free(&r);
	return held;
}

/* --- the pages --- */

static void html_head(struct ml_buf *b, const char *title, const char *script)
{
	ml_buf_puts(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		       "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	ml_html_escape_buf(b, title);
	ml_buf_puts(b, "</title><link rel=\"stylesheet\" href=\"/web/gateway.css\">"
		       "<link rel=\"stylesheet\" href=\"/web/waiting.css\"><script type=\"module\" "
		       "src=\"/web/");
	ml_buf_puts(b, script);
	ml_buf_puts(b, "\"></script></head><body>");
}

static void attr(struct ml_buf *b, const char *name, const char *v)
{
	ml_buf_printf(b, " %s=\"", name);
	ml_html_escape_buf(b, v ? v : "");
	ml_buf_puts(b, "\"");
}

static void title_and_time(struct ml_buf *b, const struct ml_gateway_who *w)
{
	char ts[ML_RFC3339_MAX];
	if (w->title) {
		ml_buf_puts(b, "<p class=\"title\" id=\"title\">");
		ml_html_escape_buf(b, w->title);
		ml_buf_puts(b, "</p>");
	}
	ml_time_format(w->start, ts);
	/* UTC here; the page's script shows it in the viewer's own time zone. */
	ml_buf_printf(b, "<p class=\"when\">Starts <time id=\"start\" datetime=\"%s\">%s</time></p>",
		      ts, ts);
}

static void send_page(struct ml_http_resp *resp, struct ml_buf *b)
{
	ml_buf_puts(b, "</main></body></html>");
	size_t n = b->len;
	ml_resp_body_steal(resp, 200, "text/html; charset=utf-8", ml_buf_steal(b), n);
	page_headers(resp);
}

static void wait_page(struct ml_http_resp *resp, const struct ml_gateway_who *w, json_t *row)
{
	struct ml_buf b = {0};
	char asks_left[16];
	json_t *v = row ? ml_waiting_row_view(row) : NULL;
	snprintf(asks_left, sizeof asks_left, "%lld",
		 v ? (long long)json_integer_value(json_object_get(v, "asks_left"))
		   : (long long)ML_WAITING_MAX_ASKS);
	html_head(&b, "Waiting room", "wait.js");
	ml_buf_puts(&b, "<main class=\"gateway waiting\" id=\"wait\"");
	attr(&b, "data-state", v ? str(v, "state") : "new");
	attr(&b, "data-reason", v ? str(v, "reason") : "");
	attr(&b, "data-since", v ? str(v, "since") : "");
	attr(&b, "data-asks-left", asks_left);
	ml_buf_puts(&b, "><h1 id=\"heading\">Waiting room</h1>");
	title_and_time(&b, w);
	ml_buf_puts(&b, "<form id=\"ask\" class=\"ask\" hidden><p id=\"ask-intro\">The host lets "
			"guests in one by one. Confirm your name and ask to join.</p>"
			"<label for=\"name\">Your name</label><input id=\"name\" name=\"name\" "
			"autocomplete=\"name\" maxlength=\"200\" required");
	attr(&b, "value", v && str(v, "name") ? str(v, "name") : w->name);
	ml_buf_puts(&b, "><button type=\"submit\" id=\"ask-button\">Ask to join</button></form>"
			"<section id=\"waiting\" hidden><p class=\"status\" id=\"status\" "
			"role=\"status\" aria-live=\"polite\"></p><p class=\"hint\">Keep this page "
			"open: it takes you into the meeting as soon as the host lets you in.</p>"
			"<button type=\"button\" id=\"leave\" class=\"leave\">Leave the waiting room"
			"</button></section><section id=\"refused\" hidden><p id=\"refused-message\" "
			"role=\"alert\"></p><p id=\"reason\" class=\"reason\" hidden></p></section>"
			"<p id=\"error\" class=\"error\" role=\"alert\"></p>");
	json_decref(v);
	send_page(resp, &b);
}

static void panel_page(struct ml_http_resp *resp, const struct ml_gateway_who *w,
		       json_t *booking)
{
	struct ml_buf b = {0};
	const char *link = str(json_object_get(booking, "meeting"), "join_url");
	html_head(&b, "Waiting room", "panel.js");
	ml_buf_puts(&b, "<main class=\"gateway panel\" id=\"panel\"");
	attr(&b, "data-title", w->title);
	ml_buf_puts(&b, "><h1 id=\"heading\">Waiting room</h1>");
	title_and_time(&b, w);
	json_t *ended = json_object_get(booking, "ended");
	if (ended) {
		/* Over: nothing to join or admit any more. */
		ml_buf_puts(&b, "<p class=\"ended\" id=\"ended\" role=\"status\">This meeting has "
				"ended.</p>");
	} else {
		ml_buf_puts(&b, "<p class=\"controls\"><a class=\"button\" id=\"join\" "
				"href=\"go\">Join the meeting</a><button type=\"button\" "
				"id=\"admit-all\" disabled>Admit everyone</button><button "
				"type=\"button\" id=\"end\" class=\"danger\">End the meeting for "
				"everyone</button></p><section id=\"end-confirm\" class=\"confirm\" "
				"hidden aria-labelledby=\"end-confirm-heading\"><h2 "
				"id=\"end-confirm-heading\">End the meeting for everyone?</h2><p>Nobody "
				"can join again, whoever waits is told, and the platform ends the meeting "
				"where it can.</p><p class=\"controls\"><button type=\"button\" "
				"id=\"end-yes\" class=\"danger\">End it now</button><button "
				"type=\"button\" id=\"end-no\">Keep it going</button></p></section>");
	}
	if (link) {
		ml_buf_puts(&b, "<p class=\"link\">The meeting's link: <a id=\"meeting-link\" "
				"rel=\"noreferrer noopener\" target=\"_blank\"");
		attr(&b, "href", link);
		ml_buf_puts(&b, ">");
		ml_html_escape_buf(&b, link);
		ml_buf_puts(&b, "</a></p>");
	}
	ml_buf_puts(&b, "<p><input type=\"checkbox\" id=\"sound\"><label for=\"sound\">Play a "
			"sound when someone starts waiting</label></p>"
			"<h2 id=\"waiting-heading\">Waiting (<span id=\"count\">0</span>)</h2>"
			"<p id=\"empty\" class=\"hint\">Nobody is waiting.</p>"
			"<ul id=\"waiting\" class=\"people\" aria-labelledby=\"waiting-heading\"></ul>"
			"<h2 id=\"decided-heading\">Decided</h2><ul id=\"decided\" class=\"people\" "
			"aria-labelledby=\"decided-heading\"></ul><h2 id=\"presence-heading\">In the "
			"meeting (<span id=\"present-count\">0</span>)</h2><p id=\"presence-hint\" "
			"class=\"hint\">As the platform reports it.</p><ul id=\"presence\" "
			"class=\"people\" aria-labelledby=\"presence-heading\"></ul>"
			"<h2 id=\"passes-heading\">Passed "
			"the gateway</h2><ul id=\"passes\" class=\"people\" "
			"aria-labelledby=\"passes-heading\"></ul><p class=\"status\" id=\"status\" "
			"role=\"status\" aria-live=\"polite\"></p><p id=\"error\" class=\"error\" "
			"role=\"alert\"></p>");
	send_page(resp, &b);
}

/* --- the pages' requests --- */

/* Resolves the link of the path; answers 404 (JSON or the gateway's words) when it does not
 * work. */
static bool resolve(struct ml_http_req *req, struct ml_http_resp *resp,
		    struct ml_gateway_who *w)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	int rc = ml_gateway_resolve(ctx->app, req->params[0], w);
	if (rc == 0)
		return true;
	ml_error_clear();
	ml_resp_error(resp, rc == ML_ENOTFOUND ? 404 : 503, rc == ML_ENOTFOUND ? "invalid_link"
									      : "unavailable",
		      NULL, rc == ML_ENOTFOUND ? "This meeting link does not work."
					       : "Try again in a moment.");
	page_headers(resp);
	return false;
}

/* The origin of PUBLIC_URL ("scheme://host[:port]") equals the request's Origin. */
static bool same_origin(const char *public_url, const char *origin)
{
	const char *p = strstr(public_url, "://");
	if (!p || !origin)
		return false;
	const char *slash = strchr(p + 3, '/');
	size_t n = slash ? (size_t)(slash - public_url) : strlen(public_url);
	return strlen(origin) == n && strncasecmp(origin, public_url, n) == 0;
}

/* A page's POST: JSON from a page of this server, parsed into *body. */
static bool page_post(struct ml_http_req *req, struct ml_http_resp *resp, json_t **body)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const char *ct = ml_http_header(req, "Content-Type");
	json_error_t jerr;
	if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
		ml_resp_error(resp, 415, "unsupported_media_type", "Content-Type",
			      "Send the body as JSON with Content-Type: application/json.");
		return false;
	}
	if (!same_origin(ctx->app->cfg->public_url, ml_http_header(req, "Origin"))) {
		ml_resp_error(resp, 403, "forbidden_origin", "Origin",
			      "This request must come from the meeting's own page.");
		return false;
	}
	*body = req->body_len ? ml_json_parse(req->body, req->body_len, JSON_REJECT_DUPLICATES,
					      ML_JSON_MAX_DEPTH, &jerr)
			      : json_object();
	if (!json_is_object(*body)) {
		json_decref(*body);
		ml_resp_error(resp, 400, "invalid_json", NULL, "The body must be a JSON object.");
		return false;
	}
	return true;
}

/* Runs one step of the room in its own transaction and tells the live pages. */
struct step_call {
	const struct ml_gateway_who *who;
	struct ml_waiting_change c;
	bool all;
	const char *ip;
	const struct ml_env *env;
	json_t *out;
};

static int step_fn(struct ml_tx *tx, void *arg)
{
	struct step_call *s = arg;
	const struct ml_gateway_who *w = s->who;
	char actor[64];
	json_t *booking = NULL;
	int rc = ml_tx_doc_peek(tx, ML_KIND_BOOKING, w->org_id, w->booking_id, &booking);
	if (rc < 0)
		return rc;
	/* The audit trail says who: the guest themselves, or the host through the panel. */
	snprintf(actor, sizeof actor, "%s:%s", is_host(w) ? "host" : "participant",
		 w->participant_id);
	struct ml_step st = {&s->env->platforms, w->org_id, actor, s->ip, false};
	rc = s->all ? ml_waiting_admit_all(tx, &st, booking, &s->out)
		    : ml_waiting_apply(tx, &st, booking, &s->c, &s->out);
	json_decref(booking);
	return rc;
}

static void step_run(struct ml_http_req *req, struct ml_http_resp *resp, struct step_call *s)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	s->env = ctx->app;
	s->ip = req->remote_ip;
	int rc = ml_store_write(ctx->app->store, step_fn, s);
	if (rc == 0)
		ml_waiting_changed(ctx->app->waitbus, s->who->org_id, s->who->booking_id);
	if (rc == ML_ECONFLICT) {
		ml_resp_json(resp, 409, ml_api_waiting_conflict(s->out));
	} else if (rc < 0) {
		ml_resp_errno(resp, rc);
	} else if (s->all) {
		json_t *list = json_array(), *row;
		size_t i;
		json_array_foreach(s->out, i, row)
			json_array_append_new(list, ml_waiting_row_view(row));
		ml_resp_json(resp, 200, json_pack("{s:s, s:o}", "object", "list", "data", list));
	} else {
		ml_resp_json(resp, 200, ml_waiting_row_view(s->out));
	}
	json_decref(s->out);
	s->out = NULL;
	ml_resp_header(resp, "Cache-Control", "no-store");
}

static void wait_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_gateway_who w;
	struct room r;
	if (!resolve(req, resp, &w))
		return;
	/* Before the window, after it, a cancelled booking: the gateway's own page says so. */
	int rc = room_load(ctx->app, &w, &r);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else if (w.gate != ML_GATE_OPEN || is_host(&w) || !ml_waiting_enabled(r.service, r.settings))
		see_other(resp, req->params[0], "");
	else if (r.row && strcmp(str(r.row, "state"), "admitted") == 0)
		see_other(resp, req->params[0], "/go"); /* came back: straight in */
	else
		wait_page(resp, &w, r.row);
	room_free(&r);
	ml_gateway_who_clear(&w);
}

static void wait_post(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"action", "name", NULL};
	struct ml_gateway_who w;
	json_t *body = NULL;
	const char *action = NULL, *name = NULL;
	int rc;
	if (!page_post(req, resp, &body))
		return;
	if ((rc = ml_v_known(body, NULL, fields)) < 0 ||
	    (rc = ml_v_string(body, "action", "action", true, 16, &action)) < 0 ||
	    (rc = ml_v_name(body, "name", "name", false, 200, &name)) < 0) {
		ml_resp_errno(resp, rc);
		json_decref(body);
		return;
	}
	bool ask = strcmp(action, "ask") == 0;
	if (!ask && strcmp(action, "leave") != 0) {
		ml_resp_error(resp, 400, "invalid_field", "action", "action must be ask or leave.");
		json_decref(body);
		return;
	}
	if (!resolve(req, resp, &w)) {
		json_decref(body);
		return;
	}
	if (ask && w.gate != ML_GATE_OPEN) {
		ml_resp_error(resp, 409, "gate_closed", NULL,
			      "The meeting is not open now; reload the page.");
	} else {
		struct step_call s = {&w, {ask ? ML_WR_ASK : ML_WR_LEAVE, w.participant_id, name,
					   NULL}};
		step_run(req, resp, &s);
	}
	ml_gateway_who_clear(&w);
	json_decref(body);
}

static void events_get(struct ml_http_req *req, struct ml_http_resp *resp, bool panel)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_gateway_who w;
	if (!resolve(req, resp, &w))
		return;
	if (panel && !is_host(&w))
		ml_resp_error(resp, 403, "forbidden", NULL, "Only the host sees the waiting room.");
	else
		ml_api_waiting_stream(resp, ctx->app, w.org_id, w.booking_id,
				      panel ? NULL : w.participant_id,
				      ml_api_last_event_id(ml_http_header(req, "Last-Event-ID")));
	ml_gateway_who_clear(&w);
}

static void guest_events(struct ml_http_req *req, struct ml_http_resp *resp)
{
	events_get(req, resp, false);
}

static void panel_events(struct ml_http_req *req, struct ml_http_resp *resp)
{
	events_get(req, resp, true);
}

static void panel_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_gateway_who w;
	struct room r;
	if (!resolve(req, resp, &w))
		return;
	int rc = room_load(ctx->app, &w, &r);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else if (!is_host(&w))
		see_other(resp, req->params[0], "");
	else
		panel_page(resp, &w, r.booking);
	room_free(&r);
	ml_gateway_who_clear(&w);
}

static void panel_post(struct ml_http_req *req, struct ml_http_resp *resp, int what)
{
	static const char *const one[] = {"participant_id", NULL};
	static const char *const rej[] = {"participant_id", "reason", NULL};
	struct ml_gateway_who w;
	json_t *body = NULL;
	struct step_call s = {NULL, {what == 1 ? ML_WR_REJECT : ML_WR_ADMIT, NULL, NULL, NULL},
			      what == 2};
	int rc = 0;
	if (!page_post(req, resp, &body))
		return;
	if (what == 2)
		rc = ml_v_none(body);
	else if ((rc = ml_v_known(body, NULL, what == 1 ? rej : one)) == 0 &&
		 (rc = ml_v_string(body, "participant_id", "participant_id", true, 64,
				   &s.c.participant_id)) == 0 &&
		 what == 1)
		rc = ml_v_text(body, "reason", "reason", false, ML_WAITING_REASON_MAX, &s.c.reason);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
	} else if (resolve(req, resp, &w)) {
		if (!is_host(&w)) {
			ml_resp_error(resp, 403, "forbidden", NULL,
				      "Only the host admits or rejects.");
		} else {
			s.who = &w;
			step_run(req, resp, &s);
		}
		ml_gateway_who_clear(&w);
	}
	json_decref(body);
}

static void panel_admit(struct ml_http_req *req, struct ml_http_resp *resp)
{
	panel_post(req, resp, 0);
}

static void panel_reject(struct ml_http_req *req, struct ml_http_resp *resp)
{
	panel_post(req, resp, 1);
}

static void panel_admit_all(struct ml_http_req *req, struct ml_http_resp *resp)
{
	panel_post(req, resp, 2);
}

/* The panel's "End the meeting for everyone": the API's end (POST …/end), by the host. */
struct end_call {
	const struct ml_gateway_who *who;
	const struct ml_env *env;
	const char *ip;
	bool wake, again;
	json_t *booking;
};

static int end_fn(struct ml_tx *tx, void *arg)
{
	struct end_call *e = arg;
	char actor[64];
	json_t *booking = NULL;
	json_decref(e->booking); /* (a run before, rolled back) */
	e->booking = NULL;
	int rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, e->who->org_id, e->who->booking_id, &booking);
	if (rc < 0)
		return rc;
	snprintf(actor, sizeof actor, "host:%s", e->who->participant_id);
	struct ml_step st = {&e->env->platforms, e->who->org_id, actor, e->ip, false,
			     e->env->vault};
	if ((rc = ml_booking_end(tx, &st, booking, NULL, &e->again)) == 0) {
		e->wake = st.wake;
		e->booking = booking;
	} else {
		json_decref(booking);
	}
	return rc;
}

static void panel_end(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_gateway_who w;
	json_t *body = NULL;
	if (!page_post(req, resp, &body))
		return;
	int rc = ml_v_none(body);
	json_decref(body);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	if (!resolve(req, resp, &w))
		return;
	if (!is_host(&w)) {
		ml_resp_error(resp, 403, "forbidden", NULL, "Only a host ends the meeting.");
		ml_gateway_who_clear(&w);
		return;
	}
	struct end_call e = {&w, ctx->app, req->remote_ip, false, false, NULL};
	rc = ml_store_write(ctx->app->store, end_fn, &e);
	if (rc == 0) {
		if (e.wake)
			ml_worker_notify(ctx->app->worker);
		if (!e.again)
			ml_waiting_changed(ctx->app->waitbus, w.org_id, w.booking_id);
		json_t *ended = json_object_get(e.booking, "ended");
		ml_resp_json(resp, 200, json_pack("{s:s?, s:O?}", "status", str(e.booking, "status"),
						  "ended", ended));
	} else {
		ml_resp_errno(resp, rc);
	}
	json_decref(e.booking);
	ml_resp_header(resp, "Cache-Control", "no-store");
	ml_gateway_who_clear(&w);
}

static const struct ml_route waiting_routes[] = {
	{"GET", "/j/{token}/wait", wait_get, ML_ROUTE_PUBLIC},
	{"POST", "/j/{token}/wait", wait_post, ML_ROUTE_PUBLIC},
	{"GET", "/j/{token}/events", guest_events, ML_ROUTE_PUBLIC},
	{"GET", "/j/{token}/panel", panel_get, ML_ROUTE_PUBLIC},
	{"GET", "/j/{token}/panel/events", panel_events, ML_ROUTE_PUBLIC},
	{"POST", "/j/{token}/panel/admit", panel_admit, ML_ROUTE_PUBLIC},
	{"POST", "/j/{token}/panel/reject", panel_reject, ML_ROUTE_PUBLIC},
	{"POST", "/j/{token}/panel/admit-all", panel_admit_all, ML_ROUTE_PUBLIC},
	{"POST", "/j/{token}/panel/end", panel_end, ML_ROUTE_PUBLIC},
	{NULL, NULL, NULL, 0},
};

bool ml_api_serve_waiting(struct ml_http_req *req, struct ml_http_resp *resp)
{
	bool mismatch = false;
	const struct ml_route *r = ml_router_match(waiting_routes, req, &mismatch);
	if (!r) {
		if (!mismatch)
			return false;
		ml_resp_error(resp, 405, "method_not_allowed", NULL,
			      "This path does not accept that method.");
		return true;
	}
	struct ml_api_ctx ctx = {0};
	ctx.app = req->app;
	ctx.ip = req->remote_ip;
	req->user = &ctx;
	r->fn(req, resp);
	return true;
}
