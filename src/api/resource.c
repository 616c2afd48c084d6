/* Reads shared by every document resource: get one, list a page. */
#include "api/api.h"
#include "core/error.h"
#include "core/utf8.h"

#include <string.h>

static const char *kind_name(enum ml_kind kind)
{
	static const char *names[] = {"host", "service", "booking"};
	return names[kind];
}

/* rc as it was; a missing document named in its error. The id is echoed only when it is
 * short clean text: the HTTP layer refuses other paths, but a message that is not UTF-8
 * would turn the answer into a 500. */
static int named(int rc, enum ml_kind kind, const char *id)
{
	size_t n = strlen(id);
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No %s with id %s.",
				    kind_name(kind),
				    n <= 64 && ml_text_is_clean(id, n) ? id : "(not shown)");
	return rc;
}

int ml_api_doc_load(struct ml_tx *tx, struct ml_api_ctx *ctx, enum ml_kind kind,
		    const char *id, json_t **out)
{
	return named(ml_tx_doc_get(tx, kind, ctx->org_id, id, out), kind, id);
}

int ml_api_doc_peek(struct ml_tx *tx, struct ml_api_ctx *ctx, enum ml_kind kind,
		    const char *id, json_t **out)
{
	return named(ml_tx_doc_peek(tx, kind, ctx->org_id, id, out), kind, id);
}

struct get_call {
	struct ml_api_ctx *ctx;
	enum ml_kind kind;
	const char *id;
	json_t *doc;
};

static int get_fn(struct ml_tx *tx, void *arg)
{
	struct get_call *c = arg;
	return ml_api_doc_load(tx, c->ctx, c->kind, c->id, &c->doc);
}

void ml_api_doc_get(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_kind kind)
{
	struct get_call c = {ML_API_CTX(req), kind, req->params[0], NULL};
	int rc = ml_store_read(c.ctx->app->store, get_fn, &c);
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, c.doc);
}

struct list_call {
	struct ml_api_ctx *ctx;
	enum ml_kind kind;
	struct ml_list_query q;
	json_t *items;
	char *next;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct list_call *c = arg;
	return ml_tx_doc_list(tx, c->kind, c->ctx->org_id, &c->q, &c->items, &c->next);
}

void ml_api_doc_list(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_kind kind)
{
	struct list_call c = {ML_API_CTX(req), kind, {0}, NULL, NULL};
	int rc = ml_api_list_query(req, &c.q);
	if (rc == 0)
		rc = ml_store_read(c.ctx->app->store, list_fn, &c);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, c.items, c.next);
}
