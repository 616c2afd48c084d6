/* The hosted pages: embedded files under web/, served at / (index) and /web/... */
#include "api/api.h"
#include "core/embed.h"

#include <stdio.h>
#include <string.h>

static const char *mime(const char *path)
{
	const char *dot = strrchr(path, '.');
	if (!dot)
		return "application/octet-stream";
	if (strcmp(dot, ".html") == 0)
		return "text/html; charset=utf-8";
	if (strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	if (strcmp(dot, ".svg") == 0)
		return "image/svg+xml";
	if (strcmp(dot, ".json") == 0)
		return "application/json";
	return "application/octet-stream";
}

bool ml_api_serve_web(struct ml_http_req *req, struct ml_http_resp *resp)
{
	char path[256];
	const struct ml_embedded *e;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return false;
	if (strcmp(req->path, "/") == 0)
		snprintf(path, sizeof path, "web/index.html");
	else if (strncmp(req->path, "/web/", 5) == 0 && !strstr(req->path, ".."))
		snprintf(path, sizeof path, "web/%s", req->path + 5);
	else
		return false;
	if (!(e = ml_embed_find(path)))
		return false;
	ml_resp_body(resp, 200, mime(path), e->data, e->len);
	ml_resp_header(resp, "X-Content-Type-Options", "nosniff");
	ml_resp_header(resp, "Content-Security-Policy",
		       "default-src 'self'; style-src 'self'; script-src 'self'; "
		       "frame-ancestors 'none'");
	ml_resp_header(resp, "Referrer-Policy", "no-referrer");
	return true;
}
