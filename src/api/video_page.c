/* meetlink's own video page (docs/gateway.md): where the join gateway sends participants of
 * a platform whose driver has one (ops->video_page) when their service names no video page
 * of its own.
 *
 *   GET /video/{room}           web/video.html; web/video.js reads the access token from the
 *                               URL fragment (never sent here)
 *   GET /web/vendor/{sdk_name}  the platform's browser SDK from npm (vendor/, installed by
 *                               scripts/bootstrap.sh; nothing from a CDN)
 *
 * The SDK is read once from MEETLINK_WEB_VENDOR_DIR (default: the source tree's
 * vendor/node_modules) and kept in memory. */
#include "api/api.h"
#include "core/embed.h"
#include "core/log.h"
#include "core/mem.h"
#include "providers/provider.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ML_VENDOR_DIR
#define ML_VENDOR_DIR "vendor/node_modules"
#endif
#define SDK_MAX (8u << 20)

static pthread_once_t page_once = PTHREAD_ONCE_INIT;
static const struct ml_video_page_info *page; /* the first driver's that has one */
static char *sdk, *csp;
static size_t sdk_len;

/* Applies the driver's one replacement to the SDK's text (b holds it, NUL-terminated). */
static void sdk_patch(struct ml_buf *b, const char *from, const char *to)
{
	char *at = from && to ? strstr(b->data, from) : NULL;
	if (!at)
		return;
	size_t head = (size_t)(at - b->data), n = strlen(from);
	struct ml_buf o = {0};
	ml_buf_append(&o, b->data, head);
	ml_buf_puts(&o, to);
	ml_buf_append(&o, at + n, b->len - head - n);
	ml_buf_free(b);
	*b = o;
}

static void page_load(void)
{
	for (const struct ml_provider_ops *const *o = ml_provider_all(); *o && !page; o++)
		if (ML_PROVIDER_HAS(*o, video_page))
			page = (*o)->video_page;
	if (!page)
		return;
	csp = ml_asprintf("default-src 'self'; style-src 'self'; script-src 'self'; "
	                  "img-src 'self' blob:; media-src 'self' blob: mediastream:; "
	                  "connect-src 'self' %s; form-action 'none'; frame-ancestors 'none'; "
	                  "base-uri 'none'",
	                  page->connect_src ? page->connect_src : "");
	const char *dir = getenv("MEETLINK_WEB_VENDOR_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ML_VENDOR_DIR, page->sdk_path);
	FILE *f = fopen(path, "rb");
	if (!f) {
		ml_warn("video page: %s is missing (scripts/bootstrap.sh installs it): meetlink's "
		        "own video page cannot be used",
		        path);
		return;
	}
	struct ml_buf b = {0};
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len + n <= SDK_MAX)
		ml_buf_append(&b, chunk, n);
	fclose(f);
	ml_buf_append(&b, "", 1);
	b.len--;
	sdk_patch(&b, page->sdk_from, page->sdk_to);
	sdk_len = b.len;
	sdk = ml_buf_steal(&b);
}

static void headers(struct ml_http_resp *resp)
{
	ml_resp_header(resp, "Content-Security-Policy", csp);
	ml_resp_header(resp, "X-Content-Type-Options", "nosniff");
	ml_resp_header(resp, "Referrer-Policy", "no-referrer");
	ml_resp_header(resp, "Permissions-Policy", "camera=(self), microphone=(self)");
}

/* A room name as meetlink makes them: [A-Za-z0-9-], 1..64. */
static bool room_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return false;
	return n > 0 && n <= 64;
}

static void video_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_embedded *e = ml_embed_find("web/video.html");
	pthread_once(&page_once, page_load);
	if (!page || !room_ok(req->params[0]) || !e) {
		ml_resp_error(resp, 404, "not_found", NULL, "No such room.");
		return;
	}
	ml_resp_body(resp, 200, "text/html; charset=utf-8", e->data, e->len);
	ml_resp_header(resp, "Cache-Control", "no-store");
	headers(resp);
}

static void sdk_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	pthread_once(&page_once, page_load);
	if (!page || strcmp(req->params[0], page->sdk_name) != 0) {
		ml_resp_error(resp, 404, "not_found", NULL, "No such file.");
		return;
	}
	if (!sdk) {
		ml_resp_error(resp, 404, "not_found", NULL,
		              "The video SDK is not installed on this server.");
		return;
	}
	ml_resp_body(resp, 200, "text/javascript; charset=utf-8", sdk, sdk_len);
	ml_resp_header(resp, "Cache-Control", "public, max-age=86400");
	headers(resp);
}

static const struct ml_route video_routes[] = {
	{"GET", "/video/{room}", video_get, ML_ROUTE_PUBLIC},
	{"GET", "/web/vendor/{file}", sdk_get, ML_ROUTE_PUBLIC},
	{NULL, NULL, NULL, 0},
};

bool ml_api_serve_video(struct ml_http_req *req, struct ml_http_resp *resp)
{
	bool mismatch = false;
	const struct ml_route *r = ml_router_match(video_routes, req, &mismatch);
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
