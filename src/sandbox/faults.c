/* The fault engine: scripted rules matched before a provider handles a request.
 *
 * A rule: {provider, method, path (glob on the full path, e.g. "/google/calendar/v3/" + "*"),
 * status, body, headers, content_type, retry_after, latency_ms, latency_after_ms, count,
 * probability, drop, drop_after}. The first active matching rule applies. A rule with a
 * status answers for the provider; one with only latency delays the real answer; `drop`
 * closes the connection without acting, `drop_after` lets the provider act and then closes
 * the connection, `latency_after_ms` lets it act and answers that much later (a call that
 * times out after the provider acted): the ambiguous failures every driver must survive.
 *
 * A rule with "direction": "out" applies to the webhooks a provider sends instead (only
 * MeetingBaas, JaaS, Twilio and Zoom consult them): `event` is a glob on the event's name,
 * `drop` loses the delivery, `latency_ms` makes it late, `duplicate` sends it twice,
 * `reorder` holds it until the next delivery to the same place has gone. */
#include "sandbox/sb_internal.h"

#include "core/crypto.h"
#include "core/mem.h"

#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rule {
	int id;
	char *provider, *method, *path, *event;
	bool out; /* "direction": "out": an outbound webhook rule */
	bool duplicate, reorder;
	int status;
	json_t *body, *headers;
	char *content_type, *retry_after;
	int64_t latency_ms;
	int64_t latency_after_ms; /* acted, then answered this much later */
	int64_t remaining; /* -1: unlimited */
	double probability;
	bool drop, drop_after;
	int64_t hits;
	struct rule *next;
};

static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
static struct rule *rules, **tail = &rules;
static int next_id = 1;
static _Atomic int nrules; /* lets the hot path skip the lock when there are no rules */

static void rule_free(struct rule *r)
{
	free(r->provider);
	free(r->method);
	free(r->path);
	free(r->event);
	json_decref(r->body);
	json_decref(r->headers);
	free(r->content_type);
	free(r->retry_after);
	free(r);
}

static json_t *rule_json(const struct rule *r)
{
	json_t *o = json_pack("{s:i, s:s?, s:s?, s:s?, s:I, s:b, s:b, s:I}", "id", r->id,
	                      "provider", r->provider, "method", r->method, "path", r->path,
	                      "latency_ms", (json_int_t)r->latency_ms, "drop", r->drop,
	                      "drop_after", r->drop_after, "hits", (json_int_t)r->hits);
	json_object_set_new(o, "status", r->status ? json_integer(r->status) : json_null());
	if (r->latency_after_ms)
		json_object_set_new(o, "latency_after_ms", json_integer(r->latency_after_ms));
	json_object_set_new(o, "body", r->body ? json_deep_copy(r->body) : json_null());
	if (r->headers)
		json_object_set_new(o, "headers", json_deep_copy(r->headers));
	if (r->content_type)
		json_object_set_new(o, "content_type", json_string(r->content_type));
	if (r->retry_after)
		json_object_set_new(o, "retry_after", json_string(r->retry_after));
	json_object_set_new(o, "count",
	                    r->remaining < 0 ? json_null() : json_integer(r->remaining));
	json_object_set_new(o, "probability", json_real(r->probability));
	json_object_set_new(o, "active", json_boolean(r->remaining != 0));
	if (r->out)
		json_object_update_new(o, json_pack("{s:s, s:s?, s:b, s:b}", "direction", "out",
		                                    "event", r->event, "duplicate", r->duplicate,
		                                    "reorder", r->reorder));
	return o;
}

static char *opt_str(const json_t *spec, const char *key)
{
	const char *s = ml_sb_str(spec, key);
	return s && *s && strcmp(s, "*") != 0 ? ml_strdup(s) : NULL;
}

/* "direction": "out" makes an outbound webhook rule (its own members and needs). */
static bool direction_ok(struct rule *r, const json_t *spec, const char **err)
{
	const char *dir = ml_sb_str(spec, "direction");
	if (dir && strcmp(dir, "out") != 0 && strcmp(dir, "in") != 0) {
		*err = "direction must be \"in\" or \"out\"";
		return false;
	}
	if (!dir || strcmp(dir, "out") != 0)
		return true;
	r->out = true;
	r->event = opt_str(spec, "event");
	r->duplicate = json_is_true(json_object_get(spec, "duplicate"));
	r->reorder = json_is_true(json_object_get(spec, "reorder"));
	if (r->status || r->drop_after || r->latency_after_ms || r->method || r->path) {
		*err = "an outbound fault takes event, drop, latency_ms, duplicate or reorder";
		return false;
	}
	if (!r->latency_ms && !r->drop && !r->duplicate && !r->reorder) {
		*err = "an outbound fault needs drop, latency_ms, duplicate or reorder";
		return false;
	}
	return true;
}

json_t *ml_sb_fault_add(const json_t *spec, const char **err)
{
	json_t *v;
	if (!json_is_object(spec)) {
		*err = "a fault is a JSON object";
		return NULL;
	}
	struct rule *r = ml_calloc(1, sizeof *r);
	r->provider = opt_str(spec, "provider");
	r->method = opt_str(spec, "method");
	r->path = opt_str(spec, "path");
	r->remaining = -1;
	r->probability = 1.0;
	if (r->provider && ml_sb_provider_index(r->provider) < 0) {
		*err = "unknown provider";
		goto fail;
	}
	if ((v = json_object_get(spec, "status")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 100 ||
		    json_integer_value(v) > 599) {
			*err = "status must be an integer from 100 to 599";
			goto fail;
		}
		r->status = (int)json_integer_value(v);
	}
	if ((v = json_object_get(spec, "body")) && !json_is_null(v))
		r->body = json_deep_copy(v);
	if ((v = json_object_get(spec, "headers")) && !json_is_null(v)) {
		if (!json_is_object(v)) {
			*err = "headers must be an object of strings";
			goto fail;
		}
		r->headers = json_deep_copy(v);
	}
	r->content_type = opt_str(spec, "content_type");
	if ((v = json_object_get(spec, "retry_after")) && !json_is_null(v)) {
		if (json_is_integer(v))
			r->retry_after = ml_asprintf("%lld", (long long)json_integer_value(v));
		else if (json_is_string(v))
			r->retry_after = ml_strdup(json_string_value(v));
		else {
			*err = "retry_after must be seconds or an HTTP date";
			goto fail;
		}
	}
	if ((v = json_object_get(spec, "latency_ms")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 600000) {
			*err = "latency_ms must be an integer from 0 to 600000";
			goto fail;
		}
		r->latency_ms = json_integer_value(v);
	}
	if ((v = json_object_get(spec, "latency_after_ms")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 600000) {
			*err = "latency_after_ms must be an integer from 0 to 600000";
			goto fail;
		}
		r->latency_after_ms = json_integer_value(v);
	}
	if ((v = json_object_get(spec, "count")) && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			*err = "count must be a positive integer (omit it for no limit)";
			goto fail;
		}
		r->remaining = json_integer_value(v);
	}
	if ((v = json_object_get(spec, "probability")) && !json_is_null(v)) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1) {
			*err = "probability must be a number from 0 to 1";
			goto fail;
		}
		r->probability = json_number_value(v);
	}
	r->drop = json_is_true(json_object_get(spec, "drop"));
	r->drop_after = json_is_true(json_object_get(spec, "drop_after"));
	if (!direction_ok(r, spec, err))
		goto fail;
	if (!r->out && !r->status && !r->latency_ms && !r->latency_after_ms && !r->drop &&
	    !r->drop_after) {
		*err = "a fault needs a status, latency_ms, latency_after_ms, drop or drop_after";
		goto fail;
	}
	pthread_mutex_lock(&fault_mu);
	r->id = next_id++;
	*tail = r;
	tail = &r->next;
	nrules++;
	json_t *out = rule_json(r);
	pthread_mutex_unlock(&fault_mu);
	return out;
fail:
	rule_free(r);
	return NULL;
}

json_t *ml_sb_faults_list(void)
{
	json_t *a = json_array();
	pthread_mutex_lock(&fault_mu);
	for (struct rule *r = rules; r; r = r->next)
		json_array_append_new(a, rule_json(r));
	pthread_mutex_unlock(&fault_mu);
	return a;
}

bool ml_sb_fault_delete(int id)
{
	bool found = false;
	pthread_mutex_lock(&fault_mu);
	for (struct rule **pp = &rules; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct rule *r = *pp;
			*pp = r->next;
			if (tail == &r->next)
				tail = pp;
			rule_free(r);
			nrules--;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&fault_mu);
	return found;
}

void ml_sb_faults_clear(void)
{
	pthread_mutex_lock(&fault_mu);
	while (rules) {
		struct rule *r = rules;
		rules = r->next;
		rule_free(r);
	}
	tail = &rules;
	nrules = 0;
	pthread_mutex_unlock(&fault_mu);
}

static double rand_unit(void)
{
	uint64_t x;
	ml_random(&x, sizeof x);
	return (double)(x >> 11) / (double)(1ULL << 53);
}

bool ml_sb_fault_pick(const char *provider, const char *method, const char *path,
                      struct ml_sb_fault_hit *out)
{
	bool hit = false;
	if (nrules == 0)
		return false;
	pthread_mutex_lock(&fault_mu);
	for (struct rule *r = rules; r; r = r->next) {
		if (r->remaining == 0 || r->out)
			continue;
		if (r->provider && strcmp(r->provider, provider) != 0)
			continue;
		if (r->method && strcasecmp(r->method, method) != 0)
			continue;
		if (r->path && !ml_sb_glob(r->path, path))
			continue;
		if (r->probability < 1.0 && rand_unit() >= r->probability)
			continue;
		if (r->remaining > 0)
			r->remaining--;
		r->hits++;
		memset(out, 0, sizeof *out);
		out->id = r->id;
		out->status = r->status;
		out->latency_ms = r->latency_ms;
		out->latency_after_ms = r->latency_after_ms;
		out->drop = r->drop;
		out->drop_after = r->drop_after;
		out->retry_after = r->retry_after ? ml_strdup(r->retry_after) : NULL;
		out->body = r->body ? json_deep_copy(r->body) : NULL;
		out->headers = r->headers ? json_deep_copy(r->headers) : NULL;
		out->content_type = r->content_type ? ml_strdup(r->content_type) : NULL;
		hit = true;
		break;
	}
	pthread_mutex_unlock(&fault_mu);
	return hit;
}

bool ml_sb_fault_pick_out(const char *provider, const char *event, struct ml_sb_fault_hit *out)
{
	bool hit = false;
	if (nrules == 0)
		return false;
	pthread_mutex_lock(&fault_mu);
	for (struct rule *r = rules; r; r = r->next) {
		if (r->remaining == 0 || !r->out)
			continue;
		if (r->provider && strcmp(r->provider, provider) != 0)
			continue;
		if (r->event && !ml_sb_glob(r->event, event))
			continue;
		if (r->probability < 1.0 && rand_unit() >= r->probability)
			continue;
		if (r->remaining > 0)
			r->remaining--;
		r->hits++;
		memset(out, 0, sizeof *out);
		out->id = r->id;
		out->latency_ms = r->latency_ms;
		out->drop = r->drop;
		out->duplicate = r->duplicate;
		out->reorder = r->reorder;
		hit = true;
		break;
	}
	pthread_mutex_unlock(&fault_mu);
	return hit;
}

void ml_sb_fault_respond(const struct ml_sb_provider *p, const struct ml_sb_fault_hit *f,
                         struct ml_http_resp *resp)
{
	if (!f->body) {
		ml_sb_provider_error(p, resp, f->status, "Injected fault.");
	} else if (json_is_string(f->body)) {
		const char *s = json_string_value(f->body);
		ml_resp_body(resp, f->status,
		             f->content_type ? f->content_type : "text/plain; charset=utf-8", s,
		             strlen(s));
	} else {
		ml_resp_json(resp, f->status, json_incref(f->body));
		if (f->content_type)
			snprintf(resp->content_type, sizeof resp->content_type, "%s",
			         f->content_type);
	}
	if (f->retry_after)
		ml_resp_header(resp, "Retry-After", f->retry_after);
	if (f->headers) {
		const char *k;
		json_t *v;
		json_object_foreach(f->headers, k, v) if (json_is_string(v))
		    ml_resp_header(resp, k, json_string_value(v));
	}
}

void ml_sb_fault_hit_free(struct ml_sb_fault_hit *f)
{
	free(f->retry_after);
	json_decref(f->body);
	json_decref(f->headers);
	free(f->content_type);
	memset(f, 0, sizeof *f);
}
