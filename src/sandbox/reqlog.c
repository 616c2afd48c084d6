/* The request log: every request a provider received (and every webhook it sent), with the
 * answer, in a bounded ring.
 *
 * Recording is on the hot path of every emulated call, so an entry keeps the raw bytes (all in
 * one allocation, no JSON work) and the JSON view, with every secret redacted, is built only
 * when GET /_sandbox/requests reads it. Raw entries never leave the process: they are not
 * persisted, and every read goes through the redaction below. */
#include "sandbox/sb_internal.h"
#include "core/json_in.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_MAX (64 * 1024) /* longer non-JSON bodies are truncated in the log */

struct kv {
	char *name, *value;
};

struct entry {
	int64_t id, time, duration_ms;
	bool out, dropped;
	int fault, status;
	char *provider, *method, *path, *body, *ctype, *resp, *resp_ctype;
	size_t body_len, resp_len;
	struct kv *headers, *query, *resp_headers;
	int nheaders, nquery, nresp_headers;
};

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static struct entry **ring;
static size_t cap, count, head; /* head: index of the oldest entry */
static int64_t next_id = 1;

static void entry_free(struct entry *e)
{
	free(e); /* one allocation: see entry_new */
}

void ml_sb_log_init(size_t capacity)
{
	pthread_mutex_lock(&log_mu);
	cap = capacity;
	ring = ml_calloc(cap, sizeof *ring);
	count = head = 0;
	pthread_mutex_unlock(&log_mu);
}

void ml_sb_log_clear(void)
{
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < count; i++) {
		entry_free(ring[(head + i) % cap]);
		ring[(head + i) % cap] = NULL;
	}
	count = head = 0;
	pthread_mutex_unlock(&log_mu);
}

void ml_sb_log_free(void)
{
	ml_sb_log_clear();
	pthread_mutex_lock(&log_mu);
	free(ring);
	ring = NULL;
	cap = 0;
	pthread_mutex_unlock(&log_mu);
}

static void push(struct entry *e)
{
	struct entry *evicted = NULL;
	pthread_mutex_lock(&log_mu);
	if (!ring) {
		pthread_mutex_unlock(&log_mu);
		entry_free(e);
		return;
	}
	e->id = next_id++;
	if (count == cap) {
		evicted = ring[head];
		ring[head] = e;
		head = (head + 1) % cap;
	} else {
		ring[(head + count) % cap] = e;
		count++;
	}
	pthread_mutex_unlock(&log_mu);
	entry_free(evicted); /* outside the lock */
}

/* "code" is the OAuth authorization code only as a top-level string (a form field); nested
 * or numeric it is an error code (Google, Zoom, Graph, Twilio), which tests need to see. */
static json_t *redact(const json_t *v, int depth)
{
	if (json_is_object(v)) {
		json_t *o = json_object();
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
		{
			bool secret = strcmp(k, "code") == 0 ? depth == 0 : ml_sb_is_secret(k);
			if (secret && json_is_string(x))
				json_object_set_new(o, k, json_string("[redacted]"));
			else
				json_object_set_new(o, k, redact(x, depth + 1));
		}
		return o;
	}
	if (json_is_array(v)) {
		json_t *a = json_array();
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x) json_array_append_new(a, redact(x, depth + 1));
		return a;
	}
	return json_deep_copy(v);
}

json_t *ml_sb_redact(const json_t *v)
{
	return redact(v, 0);
}

/* A URL with the values of secret query parameters replaced (redirects carry ?code=…). */
static char *redact_url(const char *url)
{
	struct ml_buf b = {0};
	const char *q = strchr(url, '?');
	if (!q)
		return ml_strdup(url);
	ml_buf_append(&b, url, (size_t)(q - url) + 1);
	const char *p = q + 1;
	while (*p) {
		size_t seg = strcspn(p, "&#");
		const char *eq = memchr(p, '=', seg);
		if (eq) {
			char *name = ml_strndup(p, (size_t)(eq - p));
			ml_buf_append(&b, p, (size_t)(eq - p) + 1);
			if (ml_sb_is_secret(name))
				ml_buf_puts(&b, "[redacted]");
			else
				ml_buf_append(&b, eq + 1, seg - (size_t)(eq - p) - 1);
			free(name);
		} else {
			ml_buf_append(&b, p, seg);
		}
		p += seg;
		if (*p == '#') {
			ml_buf_puts(&b, p); /* fragments (implicit grant) are not used by any */
			break;
		}
		if (*p == '&')
			ml_buf_append(&b, p++, 1);
	}
	return ml_buf_steal(&b);
}

static void header_cb(void *arg, const char *name, const char *value)
{
	json_t *h = arg;
	if (strcasecmp(name, "Authorization") == 0 ||
	    strcasecmp(name, "Proxy-Authorization") == 0) {
		/* Keep the scheme: tests assert on "Basic" vs "Bearer". */
		const char *sp = strchr(value, ' ');
		char *v = sp ? ml_asprintf("%.*s [redacted]", (int)(sp - value), value)
		             : ml_strdup("[redacted]");
		json_object_set_new(h, name, json_string(v));
		free(v);
		return;
	}
	json_object_set_new(h, name, json_string(ml_sb_is_secret(name) ? "[redacted]" : value));
}

static void query_cb(void *arg, const char *name, const char *value)
{
	json_object_set_new(arg, name, json_string(ml_sb_is_secret(name) ? "[redacted]" : value));
}

/* A body as the log shows it: parsed JSON or form (redacted), else text. */
static json_t *body_view(const char *ctype, const char *body, size_t n)
{
	if (!body || !n)
		return json_null();
	if (!ctype || strncasecmp(ctype, "application/x-www-form-urlencoded", 33) != 0) {
		json_t *j = ml_json_parse(body, n, JSON_DECODE_ANY, ML_JSON_MAX_DEPTH, NULL);
		if (j) {
			json_t *r = ml_sb_redact(j);
			json_decref(j);
			return r;
		}
	}
	if (ctype && strncasecmp(ctype, "application/x-www-form-urlencoded", 33) == 0) {
		json_t *f = ml_form_decode(body, n);
		json_t *r = ml_sb_redact(f);
		json_decref(f);
		return r;
	}
	json_t *t = json_stringn(body, n > BODY_MAX ? BODY_MAX : n);
	if (!t) {
		char *m = ml_asprintf("[%zu bytes, not UTF-8]", n);
		t = json_string(m);
		free(m);
	}
	return t;
}

/* An entry is one allocation: the struct, its name/value pairs, then every string it keeps.
 * Recording runs on every call, and one malloc (and one free at eviction) replaced some
 * thirty. The same fill code runs twice: once to measure, once to copy. */
struct packer {
	bool copy;     /* false: only measure */
	size_t bytes;  /* strings, with their NULs */
	int npairs;    /* pairs so far */
	struct kv *kv; /* copy: the entry's pairs */
	char *at;      /* copy: where the next string goes */
};

static char *pack_strn(struct packer *p, const char *s, size_t n)
{
	p->bytes += n + 1;
	if (!p->copy)
		return NULL;
	char *d = p->at;
	memcpy(d, s, n);
	d[n] = '\0';
	p->at += n + 1;
	return d;
}

static char *pack_str(struct packer *p, const char *s)
{
	return s ? pack_strn(p, s, strlen(s)) : NULL;
}

static void pack_kvn(struct packer *p, const char *name, size_t n, const char *value)
{
	char *k = pack_strn(p, name, n), *v = pack_str(p, value);
	if (p->copy) {
		p->kv[p->npairs].name = k;
		p->kv[p->npairs].value = v;
	}
	p->npairs++;
}

static void pack_kv(void *arg, const char *name, const char *value)
{
	pack_kvn(arg, name, strlen(name), value);
}

/* Longer non-JSON bodies are kept truncated; none is kept as NULL. */
static char *pack_body(struct packer *p, const char *b, size_t n, size_t *out_n)
{
	if (!b || !n) {
		*out_n = 0;
		return NULL;
	}
	*out_n = n > BODY_MAX ? BODY_MAX : n;
	return pack_strn(p, b, *out_n);
}

/* The pairs added since `from`, as the entry's array (NULL when measuring). */
static struct kv *pack_pairs(const struct packer *p, int from, int *n)
{
	*n = p->npairs - from;
	return p->copy ? p->kv + from : NULL;
}

struct in_call {
	const char *provider;
	struct ml_http_req *req;
	const struct ml_http_resp *resp;
};

static void fill_in(struct packer *p, struct entry *e, const void *call)
{
	const struct in_call *c = call;
	int from;
	e->provider = pack_str(p, c->provider);
	e->method = pack_str(p, c->req->method);
	e->path = pack_str(p, c->req->path);
	from = p->npairs;
	ml_http_headers_each(c->req, pack_kv, p);
	e->headers = pack_pairs(p, from, &e->nheaders);
	from = p->npairs;
	ml_http_query_each(c->req, pack_kv, p);
	e->query = pack_pairs(p, from, &e->nquery);
	from = p->npairs;
	for (int i = 0; i < c->resp->nheaders; i++)
		pack_kv(p, c->resp->headers[i].name, c->resp->headers[i].value);
	e->resp_headers = pack_pairs(p, from, &e->nresp_headers);
	e->body = pack_body(p, c->req->body, c->req->body_len, &e->body_len);
	e->ctype = pack_str(p, ml_http_header(c->req, "Content-Type"));
	e->resp = pack_body(p, c->resp->body, c->resp->body_len, &e->resp_len);
	e->resp_ctype = c->resp->content_type[0] ? pack_str(p, c->resp->content_type) : NULL;
}

struct out_call {
	const char *provider, *url;
	const char *const *headers;
	const char *body;
	size_t n;
	const char *answer;
};

static void fill_out(struct packer *p, struct entry *e, const void *call)
{
	const struct out_call *c = call;
	e->provider = pack_str(p, c->provider);
	e->method = pack_str(p, "POST");
	e->path = pack_str(p, c->url);
	e->ctype = NULL;
	for (int i = 0; c->headers && c->headers[i]; i++) {
		const char *colon = strchr(c->headers[i], ':');
		if (!colon)
			continue;
		size_t nl = (size_t)(colon - c->headers[i]);
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		if (nl == 12 && strncasecmp(c->headers[i], "Content-Type", 12) == 0 && !e->ctype) {
			e->ctype = pack_str(p, v);
			if (!p->copy)
				e->ctype = ""; /* measured: later ones are not kept */
		}
		pack_kvn(p, c->headers[i], nl, v);
	}
	e->headers = pack_pairs(p, 0, &e->nheaders);
	e->body = pack_body(p, c->body, c->n, &e->body_len);
	e->resp = c->answer ? pack_body(p, c->answer, strlen(c->answer), &e->resp_len) : NULL;
}

/* Measures with fill, then allocates the entry and fills it for real. */
static struct entry *entry_new(void (*fill)(struct packer *, struct entry *, const void *),
                               const void *call)
{
	struct packer p = {0};
	struct entry probe = {0};
	fill(&p, &probe, call);
	int npairs = p.npairs;
	struct entry *e = ml_malloc(sizeof *e + (size_t)npairs * sizeof(struct kv) + p.bytes);
	memset(e, 0, sizeof *e);
	p = (struct packer){.copy = true, .kv = (struct kv *)(e + 1)};
	p.at = (char *)(p.kv + npairs);
	fill(&p, e, call);
	return e;
}

void ml_sb_log_record(const char *provider, struct ml_http_req *req,
                      const struct ml_http_resp *resp, int fault_id, bool dropped,
                      int64_t duration_ms)
{
	struct in_call c = {provider, req, resp};
	struct entry *e = entry_new(fill_in, &c);
	e->time = ml_sb_now();
	e->status = resp->status;
	e->fault = fault_id;
	e->dropped = dropped;
	e->duration_ms = duration_ms;
	push(e);
}

void ml_sb_log_record_out(const char *provider, const char *url, const char *const *headers,
                          const char *body, size_t n, long status, const char *answer)
{
	struct out_call c = {provider, url, headers, body, n, answer};
	struct entry *e = entry_new(fill_out, &c);
	e->out = true;
	e->time = ml_sb_now();
	e->status = (int)status;
	push(e);
}

static json_t *headers_view(const struct kv *v, int n, bool response)
{
	json_t *h = json_object();
	for (int i = 0; i < n; i++) {
		if (response && strcasecmp(v[i].name, "Location") == 0) {
			char *u = redact_url(v[i].value);
			json_object_set_new(h, v[i].name, json_string(u));
			free(u);
		} else {
			header_cb(h, v[i].name, v[i].value);
		}
	}
	return h;
}

static json_t *entry_view(const struct entry *e)
{
	char ts[ML_RFC3339_MAX];
	ml_time_format(e->time, ts);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)e->id, "provider",
	                      e->provider, "direction", e->out ? "out" : "in", "time", ts, "method",
	                      e->method, "path", e->path);
	if (e->out)
		json_object_set_new(o, "url", json_string(e->path));
	else {
		json_t *q = json_object();
		for (int i = 0; i < e->nquery; i++)
			query_cb(q, e->query[i].name, e->query[i].value);
		json_object_set_new(o, "query", q);
	}
	json_object_set_new(o, "headers", headers_view(e->headers, e->nheaders, false));
	json_object_set_new(o, "body", body_view(e->ctype, e->body, e->body_len));
	json_object_set_new(o, "status", json_integer(e->status));
	json_object_set_new(o, "response", body_view(e->resp_ctype, e->resp, e->resp_len));
	if (!e->out) {
		json_object_set_new(o, "response_headers",
		                    headers_view(e->resp_headers, e->nresp_headers, true));
		json_object_set_new(o, "fault", e->fault ? json_integer(e->fault) : json_null());
		json_object_set_new(o, "dropped", json_boolean(e->dropped));
		json_object_set_new(o, "duration_ms", json_integer(e->duration_ms));
	}
	return o;
}

json_t *ml_sb_log_query(const char *provider, const char *method, const char *path_glob,
                        const char *direction, int64_t since, size_t limit)
{
	json_t *out = json_array();
	pthread_mutex_lock(&log_mu);
	for (size_t i = 0; i < count && json_array_size(out) < limit; i++) {
		const struct entry *e = ring[(head + i) % cap];
		if (e->id <= since)
			continue;
		if (provider && strcmp(provider, e->provider) != 0)
			continue;
		if (method && strcasecmp(method, e->method) != 0)
			continue;
		if (direction && strcmp(direction, e->out ? "out" : "in") != 0)
			continue;
		if (path_glob && !ml_sb_glob(path_glob, e->path))
			continue;
		/* Built under the lock: the ring may evict the entry right after. */
		json_array_append_new(out, entry_view(e));
	}
	pthread_mutex_unlock(&log_mu);
	return out;
}
