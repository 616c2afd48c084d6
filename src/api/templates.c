/* /v1/templates: the organization's email templates (notify/template.h). A PUT replaces a
 * built-in template for the organization; a DELETE restores the default. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "notify/template.h"

#include <string.h>

#define MAX_BODY_TEMPLATE 65536

static int unknown(const char *name)
{
	return ml_error_set(ML_ENOTFOUND, "not_found", NULL,
	                    "No template called %s; the templates are invitation, update, "
	                    "cancellation and reconnect.",
	                    strlen(name) <= 64 ? name : "(too long)");
}

/* The template as the API shows it: the organization's, else the default. */
static int load(struct ml_tx *tx, const char *org_id, const char *name, json_t **out)
{
	json_t *t = NULL;
	int rc = ml_tx_template_get(tx, org_id, name, &t);
	bool is_default = rc == ML_ENOTFOUND;
	if (rc < 0 && !is_default)
		return rc;
	if (is_default) {
		t = ml_template_default(name);
		json_object_set_new(t, "updated_at", json_null());
	}
	json_object_set_new(t, "object", json_string("template"));
	json_object_set_new(t, "name", json_string(name));
	json_object_set_new(t, "is_default", json_boolean(is_default));
	*out = t;
	return 0;
}

struct read {
	struct ml_api_ctx *ctx;
	const char *name;
	json_t *out;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct read *r = arg;
	r->out = json_array();
	for (int i = 0; ml_template_names[i]; i++) {
		json_t *t;
		int rc = load(tx, r->ctx->org_id, ml_template_names[i], &t);
		if (rc < 0)
			return rc;
		json_array_append_new(r->out, t);
	}
	return 0;
}

void ml_api_templates_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct read r = {ML_API_CTX(req)};
	int rc = ml_store_read(r.ctx->app->store, list_fn, &r);
	if (rc < 0) {
		json_decref(r.out);
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, r.out, NULL);
}

static int get_fn(struct ml_tx *tx, void *arg)
{
	struct read *r = arg;
	return load(tx, r->ctx->org_id, r->name, &r->out);
}

void ml_api_templates_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct read r = {ML_API_CTX(req), req->params[0]};
	int rc = ml_template_known(r.name) ? ml_store_read(r.ctx->app->store, get_fn, &r)
	                                   : unknown(r.name);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, r.out);
}

static int put_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *name = w->req->params[0];
	int rc = ml_tx_template_put(tx, w->ctx->org_id, name, w->ctx->body);
	if (rc == 0) {
		json_t *data = json_pack("{s:s}", "template", name);
		rc = ml_api_audit(tx, w->ctx, NULL, "template.updated", data);
		json_decref(data);
	}
	return rc < 0 ? rc : load(tx, w->ctx->org_id, name, &w->result);
}

void ml_api_templates_put(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"subject", "text", "html", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const char *subject, *text, *html;
	int rc;

	if (!ml_template_known(req->params[0])) {
		ml_resp_errno(resp, unknown(req->params[0]));
		return;
	}
	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_name(ctx->body, "subject", "subject", true, 500, &subject)) < 0 ||
	    (rc = ml_v_text(ctx->body, "text", "text", true, MAX_BODY_TEMPLATE, &text)) < 0 ||
	    (rc = ml_v_text(ctx->body, "html", "html", true, MAX_BODY_TEMPLATE, &html)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	if (strpbrk(subject, "\r\n"))
		rc = ml_error_set(ML_EINVAL, "invalid_field", "subject",
		                  "subject is one line: no line breaks.");
	if (rc == 0 && (rc = ml_template_check(subject, "subject")) == 0 &&
	    (rc = ml_template_check(text, "text")) == 0)
		rc = ml_template_check(html, "html");
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	struct ml_api_write w = {ctx, req, NULL, put_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

static int delete_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *name = w->req->params[0];
	int rc = ml_tx_template_delete(tx, w->ctx->org_id, name);
	if (rc == 0) {
		json_t *data = json_pack("{s:s}", "template", name);
		rc = ml_api_audit(tx, w->ctx, NULL, "template.reset", data);
		json_decref(data);
	} else if (rc == ML_ENOTFOUND) {
		rc = 0; /* already the default */
	}
	return rc < 0 ? rc : load(tx, w->ctx->org_id, name, &w->result);
}

void ml_api_templates_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	if (!ml_template_known(req->params[0])) {
		ml_resp_errno(resp, unknown(req->params[0]));
		return;
	}
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, delete_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
