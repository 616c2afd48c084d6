/* The control API under /_sandbox/: inspect what each provider holds and received, script
 * faults, move the clock, revoke tokens, configure and reset. Not recorded in the request
 * log (it is the test's own channel). Every answer is JSON. */
#include "sandbox/sb_internal.h"

#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

static void bad(struct ml_http_resp *resp, const char *message)
{
	ml_resp_error(resp, 400, "invalid_request", NULL, message);
}

static json_t *body_object(struct ml_http_req *req, struct ml_http_resp *resp)
{
	if (!req->body_len)
		return json_object();
	json_t *j = ml_sb_json_body(req);
	if (!json_is_object(j) && !json_is_array(j)) {
		json_decref(j);
		bad(resp, "The body must be a JSON object.");
		return NULL;
	}
	return j;
}

static void get_state(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *only = ml_http_query(req, "provider");
	if (only && ml_sb_provider_index(only) < 0) {
		ml_resp_error(resp, 404, "unknown_provider", "provider", "No such provider.");
		return;
	}
	ml_sb_lock();
	json_t *s = ml_sb_state_snapshot(only);
	ml_sb_unlock();
	ml_resp_json(resp, 200, s);
}

static int64_t query_int(struct ml_http_req *req, const char *name, int64_t def)
{
	const char *v = ml_http_query(req, name);
	char *end;
	if (!v || !*v)
		return def;
	long long n = strtoll(v, &end, 10);
	return *end ? def : n;
}

static void get_requests(struct ml_http_req *req, struct ml_http_resp *resp)
{
	int64_t since = query_int(req, "since", 0);
	int64_t limit = query_int(req, "limit", 1000);
	if (limit <= 0 || limit > 100000)
		limit = 1000;
	json_t *list = ml_sb_log_query(ml_http_query(req, "provider"), ml_http_query(req, "method"),
	                               ml_http_query(req, "path"), ml_http_query(req, "direction"),
	                               since, (size_t)limit);
	size_t n = json_array_size(list);
	json_int_t last = n ? json_integer_value(json_object_get(json_array_get(list, n - 1), "id"))
	                    : (json_int_t)since;
	ml_resp_json(resp, 200, json_pack("{s:o, s:I}", "requests", list, "next_since", last));
}

static void delete_requests(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	ml_sb_log_clear();
	ml_resp_body(resp, 204, "application/json", "", 0);
}

static void get_faults(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	ml_resp_json(resp, 200, json_pack("{s:o}", "faults", ml_sb_faults_list()));
}

static void post_faults(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = body_object(req, resp);
	if (!b)
		return;
	const char *err = NULL;
	json_t *list = json_is_array(b) ? b : json_object_get(b, "faults");
	if (json_is_array(list)) {
		json_t *out = json_array();
		size_t i;
		json_t *spec;
		json_array_foreach(list, i, spec)
		{
			json_t *f = ml_sb_fault_add(spec, &err);
			if (!f)
				break;
			json_array_append_new(out, f);
		}
		json_decref(b);
		if (err) {
			json_decref(out);
			bad(resp, err);
			return;
		}
		ml_resp_json(resp, 201, json_pack("{s:o}", "faults", out));
		return;
	}
	json_t *f = ml_sb_fault_add(b, &err);
	json_decref(b);
	if (!f) {
		bad(resp, err);
		return;
	}
	ml_resp_json(resp, 201, f);
}

static void delete_faults(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	ml_sb_faults_clear();
	ml_resp_body(resp, 204, "application/json", "", 0);
}

static void delete_fault(struct ml_http_req *req, struct ml_http_resp *resp)
{
	char *end;
	long id = strtol(req->params[0], &end, 10);
	if (*end || !ml_sb_fault_delete((int)id)) {
		ml_resp_error(resp, 404, "not_found", NULL, "No such fault.");
		return;
	}
	ml_resp_body(resp, 204, "application/json", "", 0);
}

static void post_reset(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = body_object(req, resp);
	if (!b)
		return;
	const char *only = ml_sb_str(b, "provider");
	if (only && ml_sb_provider_index(only) < 0) {
		json_decref(b);
		ml_resp_error(resp, 404, "unknown_provider", "provider", "No such provider.");
		return;
	}
	ml_sb_lock();
	for (int i = 0; ml_sb_providers[i]; i++)
		if (!only || strcmp(only, ml_sb_providers[i]->name) == 0)
			ml_sb_reset_provider(i);
	if (!only)
		ml_sb_clock_advance(-ml_sb_clock_offset());
	ml_sb_unlock();
	if (!only) {
		ml_sb_faults_clear();
		ml_sb_log_clear();
	}
	json_decref(b);
	ml_resp_json(resp, 200, json_pack("{s:b}", "reset", 1));
}

static void post_revoke(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = body_object(req, resp);
	if (!b)
		return;
	const char *prov = ml_sb_str(b, "provider"), *tok = ml_sb_str(b, "token"),
	           *acct = ml_sb_str(b, "account");
	if (!prov || (!tok && !acct)) {
		json_decref(b);
		bad(resp, "Give provider and token (revokes its whole grant) or account.");
		return;
	}
	ml_sb_lock();
	json_t *root = ml_sb_root(prov);
	int n = -1;
	if (root)
		n = tok ? ml_sb_token_revoke(root, tok, true)
		        : ml_sb_token_revoke_account(root, acct);
	ml_sb_unlock();
	json_decref(b);
	if (n < 0)
		ml_resp_error(resp, 404, "unknown_provider", "provider", "No such provider.");
	else
		ml_resp_json(resp, 200, json_pack("{s:i}", "revoked", n));
}

static json_t *clock_json(void)
{
	char ts[ML_RFC3339_MAX];
	ml_time_format(ml_sb_now(), ts);
	return json_pack("{s:s, s:I}", "now", ts, "offset_seconds",
	                 (json_int_t)ml_sb_clock_offset());
}

static void get_clock(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	ml_resp_json(resp, 200, clock_json());
}

static void post_clock(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = body_object(req, resp);
	if (!b)
		return;
	json_t *adv = json_object_get(b, "advance_seconds"),
	       *off = json_object_get(b, "offset_seconds");
	if (json_is_integer(adv))
		ml_sb_clock_advance(json_integer_value(adv));
	else if (json_is_integer(off))
		ml_sb_clock_advance(json_integer_value(off) - ml_sb_clock_offset());
	else {
		json_decref(b);
		bad(resp, "Give advance_seconds or offset_seconds (integers).");
		return;
	}
	json_decref(b);
	ml_sb_tick_all(); /* what became due happens now, before the answer */
	ml_resp_json(resp, 200, clock_json());
}

static json_t *config_all(void)
{
	json_t *o = json_object();
	for (int i = 0; ml_sb_providers[i]; i++)
		json_object_set_new(o, ml_sb_providers[i]->name,
		                    json_deep_copy(ml_sb_config_obj(i)));
	return o;
}

static void get_config(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	ml_sb_lock();
	json_t *o = config_all();
	ml_sb_unlock();
	ml_resp_json(resp, 200, o);
}

static void post_config(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *b = body_object(req, resp);
	if (!b)
		return;
	const char *k;
	json_t *v;
	json_object_foreach(b, k, v)
	{
		if (ml_sb_provider_index(k) < 0 || !json_is_object(v)) {
			json_decref(b);
			bad(resp, "The body maps provider names to objects of settings.");
			return;
		}
	}
	ml_sb_lock();
	json_object_foreach(b, k, v)
	    json_object_update(ml_sb_config_obj(ml_sb_provider_index(k)), v);
	json_t *o = config_all();
	ml_sb_unlock();
	json_decref(b);
	ml_resp_json(resp, 200, o);
}

static void get_health(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	json_t *p = json_array();
	for (int i = 0; ml_sb_providers[i]; i++)
		json_array_append_new(p, json_pack("{s:s, s:s}", "name", ml_sb_providers[i]->name,
		                                   "prefix", ml_sb_providers[i]->prefix));
	ml_resp_json(resp, 200, json_pack("{s:s, s:o}", "status", "ok", "providers", p));
}

static void post_save(struct ml_http_req *req, struct ml_http_resp *resp)
{
	(void)req;
	int rc = ml_sb_save();
	if (rc < 0)
		ml_resp_errno(resp, rc);
	else
		ml_resp_json(resp, 200, json_pack("{s:b}", "saved", 1));
}

static const struct ml_route routes[] = {
    {"GET", "/_sandbox/health", get_health, 0},
    {"GET", "/_sandbox/state", get_state, 0},
    {"GET", "/_sandbox/requests", get_requests, 0},
    {"DELETE", "/_sandbox/requests", delete_requests, 0},
    {"GET", "/_sandbox/faults", get_faults, 0},
    {"POST", "/_sandbox/faults", post_faults, 0},
    {"DELETE", "/_sandbox/faults", delete_faults, 0},
    {"DELETE", "/_sandbox/faults/{id}", delete_fault, 0},
    {"POST", "/_sandbox/reset", post_reset, 0},
    {"POST", "/_sandbox/tokens/revoke", post_revoke, 0},
    {"GET", "/_sandbox/clock", get_clock, 0},
    {"POST", "/_sandbox/clock", post_clock, 0},
    {"GET", "/_sandbox/config", get_config, 0},
    {"POST", "/_sandbox/config", post_config, 0},
    {"POST", "/_sandbox/save", post_save, 0},
    {NULL, NULL, NULL, 0},
};

void ml_sb_control(struct ml_http_req *req, struct ml_http_resp *resp)
{
	bool mismatch;
	const struct ml_route *r = ml_router_match(routes, req, &mismatch);
	if (r)
		r->fn(req, resp);
	else if (mismatch)
		ml_resp_error(resp, 405, "method_not_allowed", NULL, "Method not allowed.");
	else
		ml_resp_error(resp, 404, "not_found", NULL, "No such control endpoint.");
}
