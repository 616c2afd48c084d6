/* meetlink's own Twilio video page (docs/gateway.md): where the gateway sends Twilio
 * participants when their service names no video page of its own.
 *
 *   GET /video/{room}                      web/video.html; web/video.js reads the access
 *                                          token from the URL fragment (never sent here)
 *   GET /web/vendor/twilio-video.min.js    the twilio-video SDK from npm (vendor/, installed
 *                                          by scripts/bootstrap.sh; nothing from a CDN)
 *
 * The SDK is read once from MEETLINK_WEB_VENDOR_DIR (default: the source tree's
 * vendor/node_modules) and kept in memory. */
#include "api/api.h"
#include "core/embed.h"
#include "core/log.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef ML_VENDOR_DIR
#define ML_VENDOR_DIR "vendor/node_modules"
#endif
#define SDK_PATH "twilio-video/dist/twilio-video.min.js"
#define SDK_MAX (8u << 20)

#define CSP                                                                                  \
	"default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' blob:; "    \
	"media-src 'self' blob: mediastream:; connect-src 'self' https://*.twilio.com "      \
	"wss://*.twilio.com; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

static pthread_once_t sdk_once = PTHREAD_ONCE_INIT;
static char *sdk;
static size_t sdk_len;

static void sdk_load(void)
{
	const char *dir = getenv("MEETLINK_WEB_VENDOR_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : ML_VENDOR_DIR, SDK_PATH);
	FILE *f = fopen(path, "rb");
	if (!f) {
		ml_warn("video page: %s is missing (scripts/bootstrap.sh installs it): Twilio "
		        "participants cannot use meetlink's own video page",
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
	/* The SDK makes its dynamic import() with `new Function`, which the page's strict CSP
	 * (no 'unsafe-eval') refuses, failing the whole SDK at load: the same import as a
	 * plain arrow function instead (the only change made to the file). */
	static const char from[] = "new Function(\"url\",\"return import(url);\")";
	static const char to[] = "(url=>import(url))";
	char *at = strstr(b.data, from);
	if (at) {
		size_t head = (size_t)(at - b.data), tail = b.len - head - (sizeof from - 1);
		struct ml_buf o = {0};
		ml_buf_append(&o, b.data, head);
		ml_buf_append(&o, to, sizeof to - 1);
		ml_buf_append(&o, at + sizeof from - 1, tail);
		ml_buf_free(&b);
		b = o;
	}
	sdk_len = b.len;
	sdk = ml_buf_steal(&b);
}

static void headers(struct ml_http_resp *resp)
{
	ml_resp_header(resp, "Content-Security-Policy", CSP);
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
	if (!room_ok(req->params[0]) || !e) {
		ml_resp_error(resp, 404, "not_found", NULL, "No such room.");
		return;
	}
	ml_resp_body(resp, 200, "text/html; charset=utf-8", e->data, e->len);
	ml_resp_header(resp, "Cache-Control", "no-store");
	headers(resp);
}

static void sdk_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	pthread_once(&sdk_once, sdk_load);
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
	{"GET", "/web/vendor/twilio-video.min.js", sdk_get, ML_ROUTE_PUBLIC},
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
