/* The join gateway's public pages (docs/gateway.md). No API key: the personal token in the
 * path is the key, and it is never logged, echoed in an error or sent on as a Referer.
 *
 *   GET /j/{token}       resolve, the time gate, the hold step, then the pass (303)
 *   GET /j/{token}/go    the same without a page of its own: what the waiting page
 *                        navigates to once admitted (held guests are sent back)
 *   GET /video/{room}    meetlink's own Twilio video page (the access token arrives in the
 *                        URL fragment, read by web/video.js; never sent to a server)
 *
 * The waiting room owns /j/{token}/wait, /j/{token}/events and /j/{token}/panel….
 */
#include "api/api.h"
#include "core/error.h"
#include "core/html.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/gateway.h"
#include "meeting/waitbus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSP                                                                                  \
	"default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self'; "          \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static void page_headers(struct ml_http_resp *resp)
{
	ml_resp_header(resp, "Content-Security-Policy", CSP);
	ml_resp_header(resp, "X-Content-Type-Options", "nosniff");
	/* The token is in this page's URL: no Referer carries it anywhere. */
	ml_resp_header(resp, "Referrer-Policy", "no-referrer");
	ml_resp_header(resp, "Cache-Control", "no-store");
	ml_resp_header(resp, "X-Robots-Tag", "noindex, nofollow");
}

/* What one gateway page shows. Every value is escaped. */
struct page {
	int status;
	const char *state;   /* data-state: "early", "ended", "cancelled", "not_ready", … */
	const char *heading;
	const char *message;
	const struct ml_gateway_who *who; /* may be NULL (unknown link) */
};

static void attr_time(struct ml_buf *b, const char *name, int64_t t)
{
	char ts[ML_RFC3339_MAX];
	ml_time_format(t, ts);
	ml_buf_printf(b, " %s=\"%s\"", name, ts);
}

static void page_send(struct ml_http_resp *resp, const struct page *p)
{
	const struct ml_gateway_who *w = p->who;
	struct ml_buf b = {0};
	ml_buf_puts(&b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	ml_html_escape_buf(&b, p->heading);
	ml_buf_puts(&b, "</title><link rel=\"stylesheet\" href=\"/web/gateway.css\">"
	                "<script type=\"module\" src=\"/web/gateway.js\"></script></head><body>"
	                "<main class=\"gateway\" id=\"gateway\" data-state=\"");
	ml_html_escape_buf(&b, p->state);
	ml_buf_puts(&b, "\"");
	if (w) {
		attr_time(&b, "data-now", w->now);
		attr_time(&b, "data-opens-at", w->opens_at);
		attr_time(&b, "data-start", w->start);
		attr_time(&b, "data-end", w->end);
	}
	ml_buf_puts(&b, "><h1 id=\"heading\">");
	ml_html_escape_buf(&b, p->heading);
	ml_buf_puts(&b, "</h1>");
	if (w && w->title) {
		ml_buf_puts(&b, "<p class=\"title\" id=\"title\">");
		ml_html_escape_buf(&b, w->title);
		ml_buf_puts(&b, "</p>");
	}
	if (w && w->name && *w->name) {
		ml_buf_puts(&b, "<p class=\"who\" id=\"who\">For ");
		ml_html_escape_buf(&b, w->name);
		ml_buf_puts(&b, "</p>");
	}
	if (w) {
		char ts[ML_RFC3339_MAX];
		ml_time_format(w->start, ts);
		/* Written in UTC here; gateway.js shows it in the viewer's own time zone. */
		ml_buf_printf(&b, "<p class=\"when\">Starts <time id=\"start\" datetime=\"%s\">%s"
		                  "</time></p>",
		              ts, ts);
	}
	ml_buf_puts(&b, "<p id=\"message\" class=\"message\">");
	ml_html_escape_buf(&b, p->message);
	ml_buf_puts(&b, "</p>");
	if (strcmp(p->state, "early") == 0)
		ml_buf_puts(&b, "<p class=\"opens\" id=\"opens\" hidden>Opens in</p>"
		                "<p class=\"countdown\" id=\"countdown\" role=\"timer\" "
		                "aria-live=\"off\" hidden></p><p class=\"sr\" id=\"announce\" "
		                "aria-live=\"polite\"></p>");
	ml_buf_puts(&b, "</main></body></html>");
	size_t n = b.len;
	ml_resp_body_steal(resp, p->status, "text/html; charset=utf-8", ml_buf_steal(&b), n);
	page_headers(resp);
}

static void not_found_page(struct ml_http_resp *resp)
{
	struct page p = {404, "unknown", "This link does not work",
	                 "This meeting link is not valid any more, or was never valid. Ask the "
	                 "person who invited you for a new one.",
	                 NULL};
	page_send(resp, &p);
}

/* The time gate's answers other than "go on". True when it answered. */
static bool gate_page(struct ml_http_resp *resp, const struct ml_gateway_who *w)
{
	struct page p = {200, ml_gate_name(w->gate), NULL, NULL, w};
	switch (w->gate) {
	case ML_GATE_OPEN:
		return false;
	case ML_GATE_EARLY:
		p.heading = "Your meeting has not started yet";
		p.message = "This page lets you in by itself when the meeting opens.";
		break;
	case ML_GATE_ENDED:
		p.status = 410;
		p.heading = "This meeting has ended";
		p.message = "The meeting is over; this link no longer opens it.";
		break;
	case ML_GATE_CANCELLED:
		p.status = 410;
		p.heading = "This meeting was cancelled";
		p.message = "The booking was cancelled; there is no meeting to join.";
		break;
	case ML_GATE_NOT_READY:
		p.status = 503;
		p.heading = "Your meeting is being prepared";
		p.message = "The meeting room is not ready yet. This page tries again by itself.";
		ml_resp_header(resp, "Retry-After", "5");
		break;
	case ML_GATE_FAILED:
		p.status = 503;
		p.heading = "The meeting could not be set up";
		p.message = "Something went wrong on the meeting platform. The host has been told; "
		            "please try again later.";
		ml_resp_header(resp, "Retry-After", "60");
		break;
	}
	page_send(resp, &p);
	return true;
}

/* The hold step: the waiting room (api/waiting_page.c). True when this participant must
 * wait, with the answer in resp (the waiting page, or the host's panel). Hosts and admins
 * are never held. */
static bool hold(struct ml_http_req *req, struct ml_http_resp *resp,
                 const struct ml_gateway_who *w, bool go)
{
	return ml_api_waiting_hold(req, resp, w, go);
}

/* A Twilio room being opened for the first arrival: the request is answered later (the
 * connection waits without a thread in the pool), OPEN_TRIES times OPEN_WAIT_MS at most. */
#define OPEN_WAIT_MS 100
#define OPEN_TRIES 100

static void tries_free(void *p)
{
	free(p);
}

static void not_ready_page(struct ml_http_resp *resp, const struct ml_gateway_who *w)
{
	struct page p = {503, "not_ready", "Your meeting is being prepared",
	                 "The meeting room is not ready yet. This page tries again by itself.", w};
	ml_resp_header(resp, "Retry-After", "5");
	page_send(resp, &p);
}

/* The pass; `tries` (owned) counts the waits for a room being opened, NULL at first. */
static void pass(struct ml_http_req *req, struct ml_http_resp *resp,
                 const struct ml_gateway_who *w, int *tries)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_gateway_visit v = {req->remote_ip, ml_http_header(req, "User-Agent"),
	                             tries != NULL};
	struct ml_gateway_dest d = {0};
	int rc = ml_gateway_pass(ctx->app, w, &v, &d);
	if (rc < 0) {
		ml_error_clear();
		free(tries);
		not_ready_page(resp, w);
		return;
	}
	if (!d.url) {
		/* The room is being opened: ask again shortly. */
		if (!tries)
			tries = ml_calloc(1, sizeof *tries);
		if (++*tries > OPEN_TRIES) {
			free(tries);
			not_ready_page(resp, w);
		} else {
			req->pending = tries;
			req->pending_free = tries_free;
			resp->defer_ms = OPEN_WAIT_MS;
		}
		ml_gateway_dest_clear(&d);
		return;
	}
	free(tries);
	/* The host panel lists who passed: tell it (meeting/waitbus.h). */
	ml_waiting_changed(ctx->app->waitbus, w->org_id, w->booking_id);
	ml_resp_redirect(resp, 303, d.url);
	page_headers(resp);
	ml_gateway_dest_clear(&d);
}

static void gateway(struct ml_http_req *req, struct ml_http_resp *resp, bool go)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_gateway_who w;
	/* Back after a wait for a room being opened: the count of waits so far. */
	int *tries = req->pending;
	req->pending = NULL;
	int rc = ml_gateway_resolve(ctx->app, req->params[0], &w);
	if (rc < 0) {
		free(tries);
		ml_error_clear();
		if (rc == ML_ENOTFOUND)
			not_found_page(resp);
		else
			ml_resp_errno(resp, rc);
		return;
	}
	if (!gate_page(resp, &w) && !hold(req, resp, &w, go))
		pass(req, resp, &w, tries);
	else
		free(tries);
	ml_gateway_who_clear(&w);
}

static void join_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	gateway(req, resp, false);
}

static void join_go(struct ml_http_req *req, struct ml_http_resp *resp)
{
	gateway(req, resp, true);
}

static const struct ml_route gateway_routes[] = {
	{"GET", "/j/{token}", join_get, ML_ROUTE_PUBLIC},
	{"GET", "/j/{token}/go", join_go, ML_ROUTE_PUBLIC},
	{NULL, NULL, NULL, 0},
};

bool ml_api_serve_gateway(struct ml_http_req *req, struct ml_http_resp *resp)
{
	bool mismatch = false;
	const struct ml_route *r = ml_router_match(gateway_routes, req, &mismatch);
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
