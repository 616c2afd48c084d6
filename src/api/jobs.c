/* /v1/jobs: the durable background work of the organization; failed jobs can be retried. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"

#include <string.h>

struct jobs_call {
	struct ml_api_ctx *ctx;
	struct ml_list_query q;
	const char *state;
	const char *booking_id;
	json_t *items;
	char *next;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct jobs_call *c = arg;
	return ml_tx_job_list(tx, c->ctx->org_id, c->state, c->booking_id, &c->q, &c->items,
			      &c->next);
}

void ml_api_jobs_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *states[] = {"queued", "running", "waiting", "done", "failed",
				       "cancelled"};
	struct jobs_call c = {ML_API_CTX(req)};
	int rc = ml_api_list_query(req, &c.q);
	c.state = ml_http_query(req, "state");
	c.booking_id = ml_http_query(req, "booking_id");
	if (rc == 0 && c.state) {
		bool ok = false;
		for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
			ok = ok || strcmp(states[i], c.state) == 0;
		if (!ok)
			rc = ml_error_set(ML_EINVAL, "invalid_field", "state",
					  "state must be one of queued, running, waiting, done, "
					  "failed, cancelled.");
	}
	if (rc == 0)
		rc = ml_store_read(c.ctx->app->store, list_fn, &c);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, c.items, c.next);
}

static int retry_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *job = NULL;
	int rc = ml_tx_job_retry(tx, w->ctx->org_id, w->req->params[0], &job);
	if (rc < 0)
		return rc;
	json_t *data = json_pack("{s:s}", "job_id", w->req->params[0]);
	const char *group = json_string_value(json_object_get(job, "group_key"));
	rc = ml_api_audit(tx, w->ctx, group && strncmp(group, "bkg_", 4) == 0 ? group : NULL,
			  "job.retried", data);
	json_decref(data);
	if (rc < 0) {
		json_decref(job);
		return rc;
	}
	w->wake = true;
	w->result = job;
	return 0;
}

void ml_api_jobs_retry(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, retry_fn, 0, NULL};
	int rc = ml_v_none(w.ctx->body);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_write_run(&w, resp);
}
