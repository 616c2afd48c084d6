/* Liveness, readiness and the published OpenAPI document. */
#include "api/api.h"
#include "core/embed.h"

void ml_api_healthz(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	ml_resp_body(resp, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

void ml_api_readyz(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_env *app = req->app;
	if (ml_store_ready(app->store) == 0)
		ml_resp_body(resp, 200, "application/json", "{\"status\":\"ready\"}", 18);
	else
		ml_resp_error(resp, 503, "not_ready", NULL,
			      "The store is unreachable or its migrations are not applied.");
}

void ml_api_openapi(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const struct ml_embedded *doc = ml_embed_find("docs/openapi.json");
	(void)req;
	ml_resp_body(resp, 200, "application/json", doc->data, doc->len);
}
