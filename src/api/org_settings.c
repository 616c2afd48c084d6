/* /v1/organization/settings: what applies to the whole organization unless a service says
 * otherwise. Today: waiting_room_default, the waiting room of services whose
 * settings.waiting_room is null. */
#include "api/api.h"
#include "api/validate.h"

static json_t *view(json_t *settings)
{
	return json_pack("{s:s, s:b}", "object", "organization_settings", "waiting_room_default",
			 json_is_true(json_object_get(settings, "waiting_room_default")));
}

struct read_call {
	struct ml_api_ctx *ctx;
	json_t *settings;
};

static int read_fn(struct ml_tx *tx, void *arg)
{
	struct read_call *r = arg;
	return ml_tx_org_settings_get(tx, r->ctx->org_id, &r->settings);
}

void ml_api_org_settings_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct read_call r = {ML_API_CTX(req), NULL};
	int rc = ml_store_read(r.ctx->app->store, read_fn, &r);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_resp_json(resp, 200, view(r.settings));
	json_decref(r.settings);
}

static int update_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *settings = NULL;
	int rc = ml_tx_org_settings_get(tx, w->ctx->org_id, &settings);
	if (rc < 0)
		return rc;
	json_object_update(settings, w->arg);
	if ((rc = ml_tx_org_settings_put(tx, w->ctx->org_id, settings)) == 0 &&
	    (rc = ml_api_audit(tx, w->ctx, NULL, "organization.settings_updated", w->arg)) == 0)
		w->result = view(settings);
	json_decref(settings);
	return rc;
}

void ml_api_org_settings_update(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"waiting_room_default", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	bool wr, given;
	int rc;
	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_bool(ctx->body, "waiting_room_default", "waiting_room_default", &wr,
			    &given)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	json_t *change = json_object();
	if (given)
		json_object_set_new(change, "waiting_room_default", json_boolean(wr));
	struct ml_api_write w = {ctx, req, change, update_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	json_decref(change);
}
