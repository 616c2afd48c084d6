/* /v1/hosts: the people who run sessions. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"

#include <string.h>

static const char *const host_fields[] = {"external_id", "name", "email", "timezone",
					  "metadata", NULL};

/* Validates a create (all required) or patch body and applies it to doc. */
static int host_apply(json_t *body, json_t *doc, bool create)
{
	const char *name, *email, *tz, *ext;
	bool ext_given;
	json_t *meta;
	int rc;

	if ((rc = ml_v_known(body, NULL, host_fields)) < 0 ||
	    (rc = ml_v_string_or_null(body, "external_id", "external_id", 255, &ext, &ext_given)) < 0 ||
	    (rc = ml_v_name(body, "name", "name", create, 200, &name)) < 0 ||
	    (rc = ml_v_string(body, "email", "email", create, 254, &email)) < 0 ||
	    (rc = ml_v_string(body, "timezone", "timezone", false, 64, &tz)) < 0 ||
	    (rc = ml_v_metadata(body, "metadata", "metadata", &meta)) < 0)
		return rc;
	if (email && (rc = ml_v_email(email, "email")) < 0)
		return rc;
	if (tz && (rc = ml_v_timezone(tz, "timezone")) < 0)
		return rc;
	if (ext_given)
		json_object_set_new(doc, "external_id", ext ? json_string(ext) : json_null());
	if (name)
		json_object_set_new(doc, "name", json_string(name));
	if (email)
		json_object_set_new(doc, "email", json_string(email));
	if (tz || create)
		json_object_set_new(doc, "timezone", json_string(tz ? tz : "UTC"));
	if (meta)
		json_object_set(doc, "metadata", meta);
	else if (create)
		json_object_set_new(doc, "metadata", json_object());
	return 0;
}

static int create_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *doc = w->arg;
	int rc = ml_tx_doc_insert(tx, ML_KIND_HOST, w->ctx->org_id, doc);
	if (rc < 0)
		return rc;
	w->status = 201;
	w->result = json_incref(doc);
	return 0;
}

void ml_api_hosts_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	json_t *doc = json_pack("{s:s, s:n}", "object", "host", "external_id");
	int rc = host_apply(ctx->body, doc, true);
	if (rc < 0) {
		json_decref(doc);
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_stamp_new(doc, "hst");
	struct ml_api_write w = {ctx, req, doc, create_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	json_decref(doc);
}

void ml_api_hosts_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	ml_api_doc_list(req, resp, ML_KIND_HOST);
}

void ml_api_hosts_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	ml_api_doc_get(req, resp, ML_KIND_HOST);
}

static int update_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *doc;
	int rc = ml_api_doc_load(tx, w->ctx, ML_KIND_HOST, w->req->params[0], &doc);
	if (rc < 0)
		return rc;
	if ((rc = host_apply(w->ctx->body, doc, false)) == 0) {
		ml_api_stamp_update(doc);
		rc = ml_tx_doc_update(tx, ML_KIND_HOST, w->ctx->org_id, doc);
	}
	if (rc < 0) {
		json_decref(doc);
		return rc;
	}
	w->result = doc;
	return 0;
}

void ml_api_hosts_update(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, update_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

static int delete_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *id = w->req->params[0];
	json_t *doc;
	int rc = ml_api_doc_load(tx, w->ctx, ML_KIND_HOST, id, &doc);
	if (rc < 0)
		return rc;
	json_decref(doc);
	rc = ml_tx_doc_count_ref(tx, ML_KIND_SERVICE, w->ctx->org_id, "host_id", id, NULL);
	if (rc < 0)
		return rc;
	if (rc > 0)
		return ml_error_set(ML_ECONFLICT, "host_in_use", NULL,
				    "This host still has %d service(s); delete or move them first.",
				    rc);
	if ((rc = ml_tx_doc_delete(tx, ML_KIND_HOST, w->ctx->org_id, id)) < 0)
		return rc;
	w->result = json_pack("{s:s, s:s, s:b}", "id", id, "object", "host", "deleted", 1);
	return 0;
}

void ml_api_hosts_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, delete_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
