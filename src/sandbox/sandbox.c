/* The sandbox framework: the provider registry, the state roots, the request log, the
 * fault engine and the dispatch that ties them together. The control API is in control.c. */
#include "sandbox/sandbox.h"
#include "core/json_in.h"
#include "sandbox/sb_internal.h"

#include "core/crypto.h"
#include "core/error.h"
#include "core/html.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The registry: one line per provider. */
const struct ml_sb_provider *const ml_sb_providers[] = {
    &ml_sb_google, &ml_sb_microsoft, &ml_sb_zoom, &ml_sb_twilio, &ml_sb_meetingbaas,
    &ml_sb_jaas,   NULL,
};

/* One global lock for every provider's state: handlers are microseconds long and a single
 * lock makes every handler atomic, which is what a faithful emulation needs (a 409 on a
 * duplicate id must not race with the insert that made it). */
static pthread_mutex_t state_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *roots[ML_SB_MAX_PROVIDERS];
static json_t *configs[ML_SB_MAX_PROVIDERS];
static json_t *startup_configs[ML_SB_MAX_PROVIDERS]; /* defaults + --config: what reset restores */
static _Atomic int64_t clock_offset;
static _Atomic uint64_t state_gen;
static char *state_file;
static char base_url[128] = "http://127.0.0.1";

void ml_sb_lock(void)
{
	pthread_mutex_lock(&state_mu);
}

void ml_sb_unlock(void)
{
	pthread_mutex_unlock(&state_mu);
}

int ml_sb_provider_index(const char *name)
{
	for (int i = 0; ml_sb_providers[i]; i++)
		if (strcmp(ml_sb_providers[i]->name, name) == 0)
			return i;
	return -1;
}

json_t *ml_sb_root(const char *provider)
{
	int i = ml_sb_provider_index(provider);
	return i < 0 ? NULL : roots[i];
}

uint64_t ml_sb_state_gen(void)
{
	return state_gen;
}

json_t *ml_sb_config_obj(int i)
{
	return configs[i];
}

static json_t *cfg_get(const char *provider, const char *key)
{
	int i = ml_sb_provider_index(provider);
	return i < 0 ? NULL : json_object_get(configs[i], key);
}

json_int_t ml_sb_cfg_int(const char *provider, const char *key, json_int_t def)
{
	json_t *v = cfg_get(provider, key);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (json_int_t)json_real_value(v);
	return def;
}

bool ml_sb_cfg_bool(const char *provider, const char *key, bool def)
{
	json_t *v = cfg_get(provider, key);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

const char *ml_sb_cfg_str(const char *provider, const char *key, const char *def)
{
	json_t *v = cfg_get(provider, key);
	return json_is_string(v) ? json_string_value(v) : def;
}

int64_t ml_sb_now(void)
{
	return ml_now() + clock_offset;
}

int64_t ml_sb_now_ms(void)
{
	return ml_now_ms() + clock_offset * 1000;
}

void ml_sb_clock_advance(int64_t seconds)
{
	clock_offset += seconds;
}

int64_t ml_sb_clock_offset(void)
{
	return clock_offset;
}

const char *ml_sb_base_url(void)
{
	return base_url;
}

void ml_sb_set_base_url(const char *url)
{
	snprintf(base_url, sizeof base_url, "%s", url);
}

/* ---- state: seed, reset, persist ------------------------------------------------------ */

void ml_sb_reset_provider(int i)
{
	json_decref(configs[i]);
	configs[i] = json_deep_copy(startup_configs[i]);
	json_decref(roots[i]);
	roots[i] = json_object();
	state_gen++;
	if (ml_sb_providers[i]->seed)
		ml_sb_providers[i]->seed(roots[i]);
}

json_t *ml_sb_state_snapshot(const char *only)
{
	json_t *out = json_object();
	for (int i = 0; ml_sb_providers[i]; i++)
		if (!only || strcmp(only, ml_sb_providers[i]->name) == 0)
			json_object_set_new(out, ml_sb_providers[i]->name,
			                    json_deep_copy(roots[i]));
	return out;
}

static int load_state(const char *path)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		if (access(path, F_OK) != 0)
			return 0; /* first run: nothing to load */
		return ml_error_set(ML_EINVAL, "invalid_state", "--state", "%s:%d: %s", path,
		                    jerr.line, jerr.text);
	}
	json_t *provs = json_object_get(doc, "providers");
	for (int i = 0; ml_sb_providers[i]; i++) {
		json_t *r = json_object_get(provs, ml_sb_providers[i]->name);
		if (json_is_object(r)) {
			json_decref(roots[i]);
			roots[i] = json_deep_copy(r);
			state_gen++;
		}
	}
	json_t *off = json_object_get(doc, "clock_offset");
	if (json_is_integer(off))
		clock_offset = json_integer_value(off);
	json_decref(doc);
	return 0;
}

int ml_sb_save(void)
{
	if (!state_file)
		return 0;
	ml_sb_lock();
	json_t *doc = json_pack("{s:i, s:I, s:o}", "version", 1, "clock_offset",
	                        (json_int_t)clock_offset, "providers", ml_sb_state_snapshot(NULL));
	ml_sb_unlock();
	char *tmp = ml_asprintf("%s.tmp", state_file);
	int rc = 0;
	if (json_dump_file(doc, tmp, JSON_INDENT(1)) != 0 || rename(tmp, state_file) != 0)
		rc = ml_error_set(ML_EINTERNAL, "state_write_failed", "--state",
		                  "cannot write %s: %s", state_file, strerror(errno));
	free(tmp);
	json_decref(doc);
	return rc;
}

int ml_sb_init(const struct ml_sb_options *opt)
{
	int rc = 0;
	ml_sb_log_init(opt && opt->log_capacity ? opt->log_capacity : 10000);
	ml_sb_webhook_init();
	ml_sb_lock();
	for (int i = 0; ml_sb_providers[i]; i++) {
		json_error_t jerr;
		const struct ml_sb_provider *p = ml_sb_providers[i];
		json_t *c = p->defaults ? json_loads(p->defaults, 0, &jerr) : json_object();
		if (!json_is_object(c)) {
			json_decref(c);
			c = json_object();
		}
		json_t *over = opt && opt->config ? json_object_get(opt->config, p->name) : NULL;
		if (json_is_object(over))
			json_object_update(c, over);
		startup_configs[i] = c;
		ml_sb_reset_provider(i);
	}
	if (opt && opt->state_file) {
		state_file = ml_strdup(opt->state_file);
		rc = load_state(state_file);
	}
	ml_sb_unlock();
	return rc;
}

void ml_sb_shutdown(void)
{
	ml_sb_ticker_stop();
	ml_sb_webhook_shutdown();
	ml_sb_lock();
	for (int i = 0; ml_sb_providers[i]; i++) {
		json_decref(roots[i]);
		json_decref(configs[i]);
		json_decref(startup_configs[i]);
		roots[i] = configs[i] = startup_configs[i] = NULL;
	}
	state_gen++;
	free(state_file);
	state_file = NULL;
	ml_sb_unlock();
	ml_sb_faults_clear();
	ml_sb_log_free();
}

/* ---- small helpers -------------------------------------------------------------------- */

void ml_sb_rand_fill(char *out, size_t n, const char *alphabet)
{
	const char *a = alphabet ? alphabet : ML_SB_ALNUM;
	size_t al = strlen(a);
	unsigned char rnd[256];
	for (size_t i = 0; i < n; i++) {
		/* Only the bytes used: a Meet code draws 3 characters at a time. */
		if (i % sizeof rnd == 0)
			ml_random_pooled(rnd, n - i < sizeof rnd ? n - i : sizeof rnd);
		/* 256 % al bias is irrelevant for emulated ids. */
		out[i] = a[rnd[i % sizeof rnd] % al];
	}
}

char *ml_sb_rand(const char *prefix, size_t n, const char *alphabet)
{
	size_t pl = strlen(prefix);
	char *out = ml_malloc(pl + n + 1);
	memcpy(out, prefix, pl);
	ml_sb_rand_fill(out + pl, n, alphabet);
	out[pl + n] = '\0';
	return out;
}

const char *ml_sb_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *ml_sb_json_body(struct ml_http_req *req)
{
	if (!req->body_len)
		return NULL;
	return ml_json_parse(req->body, req->body_len, 0, ML_JSON_MAX_DEPTH, NULL);
}

json_t *ml_sb_form_body(struct ml_http_req *req)
{
	return ml_form_decode(req->body, req->body_len);
}

bool ml_sb_glob(const char *pat, const char *s)
{
	/* Iterative wildcard match with single backtrack point: linear in practice. */
	const char *star = NULL, *ss = NULL;
	while (*s) {
		if (*pat == '?' || (*pat && *pat != '*' && *pat == *s)) {
			pat++;
			s++;
		} else if (*pat == '*') {
			star = pat++;
			ss = s;
		} else if (star) {
			pat = star + 1;
			s = ++ss;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool ml_sb_is_secret(const char *name)
{
	static const char *const exact[] = {"authorization",  "proxy-authorization",
	                                    "cookie",         "set-cookie",
	                                    "code",           "code_verifier",
	                                    "password",       "token",
	                                    "assertion",      "client_assertion",
	                                    "x-api-key",      "api_key",
	                                    "apikey",         "authtoken",
	                                    "x-mb-secret",    "plainToken",
	                                    "encryptedToken", NULL};
	for (int i = 0; exact[i]; i++)
		if (strcasecmp(name, exact[i]) == 0)
			return true;
	size_t n = strlen(name);
	if (strcasecmp(name, "token_type") == 0)
		return false;
	if (strcasestr(name, "secret") || strcasestr(name, "password"))
		return true;
	if (n > 6 &&
	    (strcasecmp(name + n - 6, "_token") == 0 || strcasecmp(name + n - 6, "-token") == 0))
		return true;
	/* x-meeting-baas-api-key, speech_to_text_api_key */
	if (n > 8 &&
	    (strcasecmp(name + n - 8, "-api-key") == 0 || strcasecmp(name + n - 8, "_api_key") == 0))
		return true;
	return false;
}

bool ml_sb_secret_equal(const char *a, const char *b)
{
	return a && b && ml_ct_equal(a, strlen(a), b, strlen(b));
}

bool ml_sb_pkce_verify(const char *verifier, const char *challenge, const char *method)
{
	if (!verifier || !challenge)
		return false;
	size_t n = strlen(verifier);
	if (n < 43 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = verifier[i];
		if (!isalnum((unsigned char)c) && !strchr("-._~", c))
			return false;
	}
	if (!method || strcmp(method, "plain") == 0)
		return ml_ct_equal(verifier, n, challenge, strlen(challenge));
	if (strcmp(method, "S256") != 0)
		return false;
	uint8_t h[32];
	ml_sha256(verifier, n, h);
	char *enc = ml_base64url_encode(h, sizeof h);
	bool ok = ml_ct_equal(enc, strlen(enc), challenge, strlen(challenge));
	free(enc);
	return ok;
}

/* ---- tokens --------------------------------------------------------------------------- */

static json_t *tokens_of(json_t *root)
{
	json_t *t = json_object_get(root, "tokens");
	if (!json_is_object(t)) {
		t = json_object();
		json_object_set_new(root, "tokens", t);
	}
	return t;
}

const char *ml_sb_token_issue(json_t *root, const char *prefix, const char *type,
                              int64_t ttl_seconds, json_t *info)
{
	json_t *tokens = tokens_of(root);
	char *tok = ml_sb_rand(prefix, 40, ML_SB_ALNUM);
	json_t *rec = info ? info : json_object();
	int64_t now = ml_sb_now();
	json_object_set_new(rec, "type", json_string(type));
	json_object_set_new(rec, "issued_at", json_integer(now));
	if (ttl_seconds > 0)
		json_object_set_new(rec, "expires_at", json_integer(now + ttl_seconds));
	json_object_set_new(rec, "revoked", json_false());
	json_object_set_new(tokens, tok, rec);
	/* Return the key as stored, so the pointer lives as long as the entry. */
	const char *key = json_object_iter_key(json_object_iter_at(tokens, tok));
	free(tok);
	return key;
}

json_t *ml_sb_token_check(json_t *root, const char *tok, const char *type, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	json_t *rec = tok ? json_object_get(tokens_of(root), tok) : NULL;
	const char *rtype = ml_sb_str(rec, "type");
	if (!rec || (type && (!rtype || strcmp(rtype, type) != 0))) {
		*why = "unknown";
		return NULL;
	}
	if (json_is_true(json_object_get(rec, "revoked"))) {
		*why = "revoked";
		return NULL;
	}
	json_t *exp = json_object_get(rec, "expires_at");
	if (json_is_integer(exp) && json_integer_value(exp) <= ml_sb_now()) {
		*why = "expired";
		return NULL;
	}
	return rec;
}

int ml_sb_token_revoke_grant(json_t *root, const char *grant)
{
	const char *k;
	json_t *v;
	int n = 0;
	if (!grant)
		return 0;
	json_object_foreach(tokens_of(root), k, v)
	{
		const char *vg = ml_sb_str(v, "grant");
		if (vg && strcmp(vg, grant) == 0 && !json_is_true(json_object_get(v, "revoked"))) {
			json_object_set_new(v, "revoked", json_true());
			n++;
		}
	}
	return n;
}

int ml_sb_token_revoke(json_t *root, const char *tok, bool grant)
{
	json_t *rec = tok ? json_object_get(tokens_of(root), tok) : NULL;
	if (!rec)
		return 0;
	int n = !json_is_true(json_object_get(rec, "revoked"));
	json_object_set_new(rec, "revoked", json_true());
	if (grant)
		n += ml_sb_token_revoke_grant(root, ml_sb_str(rec, "grant"));
	return n;
}

int ml_sb_token_revoke_account(json_t *root, const char *account)
{
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach(tokens_of(root), k, v)
	{
		const char *a = ml_sb_str(v, "account");
		if (a && strcmp(a, account) == 0 && !json_is_true(json_object_get(v, "revoked"))) {
			json_object_set_new(v, "revoked", json_true());
			n++;
		}
	}
	return n;
}

json_t *ml_sb_bearer(struct ml_http_req *req, json_t *root, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	const char *h = ml_http_header(req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
		*why = "missing";
		return NULL;
	}
	h += 7;
	while (*h == ' ')
		h++;
	return ml_sb_token_check(root, h, "access", why);
}

bool ml_sb_basic_auth(struct ml_http_req *req, char **user, char **pass)
{
	const char *h = ml_http_header(req, "Authorization");
	if (!h || strncasecmp(h, "Basic ", 6) != 0)
		return false;
	h += 6;
	while (*h == ' ')
		h++;
	size_t n;
	uint8_t *dec = ml_base64_decode(h, strlen(h), &n);
	if (!dec)
		return false;
	char *s = ml_strndup((const char *)dec, n);
	free(dec);
	char *colon = strchr(s, ':');
	if (!colon) {
		free(s);
		return false;
	}
	*user = ml_strndup(s, (size_t)(colon - s));
	*pass = ml_strdup(colon + 1);
	free(s);
	return true;
}

void ml_sb_client_creds(struct ml_http_req *req, const json_t *form, char **id, char **secret)
{
	if (ml_sb_basic_auth(req, id, secret))
		return;
	const char *i = ml_sb_str(form, "client_id"), *s = ml_sb_str(form, "client_secret");
	*id = i ? ml_strdup(i) : NULL;
	*secret = s ? ml_strdup(s) : NULL;
}

/* ---- OAuth pages and redirects ---------------------------------------------------------- */

void ml_sb_redirect(struct ml_http_resp *resp, const char *uri, const char *const *kv,
                    size_t npairs)
{
	struct ml_buf b = {0};
	char sep = strchr(uri, '?') ? '&' : '?';
	ml_buf_puts(&b, uri);
	for (size_t i = 0; i < npairs; i++) {
		if (!kv[2 * i + 1])
			continue;
		ml_buf_printf(&b, "%c%s=", sep, kv[2 * i]);
		ml_url_escape(&b, kv[2 * i + 1]);
		sep = '&';
	}
	ml_resp_redirect(resp, 302, b.data);
	ml_buf_free(&b);
}

void ml_sb_html(struct ml_http_resp *resp, int status, struct ml_buf *b)
{
	size_t n = b->len;
	ml_resp_body_steal(resp, status, "text/html; charset=utf-8", ml_buf_steal(b), n);
}

void ml_sb_html_hidden(struct ml_buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	ml_buf_puts(b, "<input type=\"hidden\" name=\"");
	ml_html_escape_buf(b, name);
	ml_buf_puts(b, "\" value=\"");
	ml_html_escape_buf(b, value);
	ml_buf_puts(b, "\">");
}

void ml_sb_consent_form(struct ml_buf *b, const char *action, json_t *accounts,
                        const char *selected, const char *const *kv, size_t npairs,
                        const char *allow_label)
{
	ml_buf_puts(b, "<form method=\"post\" action=\"");
	ml_html_escape_buf(b, action);
	ml_buf_puts(b, "\"><select name=\"account\">");
	const char *k;
	json_t *v;
	json_object_foreach(accounts, k, v)
	{
		ml_buf_puts(b, "<option value=\"");
		ml_html_escape_buf(b, k);
		ml_buf_puts(b, selected && strcmp(k, selected) == 0 ? "\" selected>" : "\">");
		ml_html_escape_buf(b, k);
		ml_buf_puts(b, "</option>");
	}
	ml_buf_puts(b, "</select>");
	for (size_t i = 0; i < npairs; i++)
		ml_sb_html_hidden(b, kv[2 * i], kv[2 * i + 1]);
	ml_buf_puts(b, "<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">"
	               "Cancel</button> <button type=\"submit\" name=\"decision\" "
	               "value=\"allow\" id=\"allow\">");
	ml_html_escape_buf(b, allow_label);
	ml_buf_puts(b, "</button></form>");
}

const char *ml_sb_pick_key(json_t *obj, const char *hint, const char *def)
{
	if (hint && json_object_get(obj, hint))
		return hint;
	if (def && json_object_get(obj, def))
		return def;
	void *it = json_object_iter(obj);
	return it ? json_object_iter_key(it) : NULL;
}

/* ---- dispatch ------------------------------------------------------------------------- */

static const struct ml_sb_provider *find_provider(const char *path, int *idx)
{
	for (int i = 0; ml_sb_providers[i]; i++) {
		const char *pre = ml_sb_providers[i]->prefix;
		size_t n = strlen(pre);
		if (strncmp(path, pre, n) == 0 && (path[n] == '/' || path[n] == '\0')) {
			*idx = i;
			return ml_sb_providers[i];
		}
	}
	return NULL;
}

void ml_sb_provider_error(const struct ml_sb_provider *p, struct ml_http_resp *resp, int status,
                          const char *message)
{
	if (p && p->error) {
		p->error(resp, status, message);
		return;
	}
	ml_resp_json(resp, status,
	             json_pack("{s:{s:i, s:s}}", "error", "code", status, "message", message));
}

static void default_not_found(const struct ml_sb_provider *p, struct ml_http_req *req,
                              struct ml_http_resp *resp, bool mismatch)
{
	if (p->not_found) {
		p->not_found(req, resp, mismatch);
		return;
	}
	ml_sb_provider_error(p, resp, mismatch ? 405 : 404,
	                     mismatch ? "Method not allowed." : "Not Found");
}

/* A request held back by a fault's latency: the fault it drew and when it arrived; or,
 * with latency_after_ms, the answer of a request the provider already acted on. */
struct delayed {
	int64_t t0;
	struct ml_sb_fault_hit f;
	bool answered;
	struct ml_http_resp held; /* (answered) status, body, content type, headers: owned */
};

static void held_free(struct ml_http_resp *r)
{
	free(r->body);
	for (int i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	memset(r, 0, sizeof *r);
}

static void delayed_free(void *p)
{
	struct delayed *d = p;
	ml_sb_fault_hit_free(&d->f);
	held_free(&d->held); /* (the client went away before the held answer) */
	free(d);
}

/* latency_after_ms: the provider has acted (and the request is logged); its answer goes out
 * only after the latency: a client whose call times out meanwhile cannot know it acted. */
static void hold_answer(struct ml_http_req *req, struct ml_http_resp *resp, int64_t ms)
{
	struct delayed *d = ml_calloc(1, sizeof *d);
	d->answered = true;
	d->held = *resp; /* moved: the HTTP layer frees what resp holds when it defers */
	memset(resp, 0, sizeof *resp);
	req->pending = d;
	req->pending_free = delayed_free;
	resp->defer_ms = ms;
}

void ml_sb_dispatch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct delayed *d = req->pending; /* back after the fault's latency */
	if (d && d->answered) {
		*resp = d->held; /* the held answer, at last */
		memset(&d->held, 0, sizeof d->held);
		delayed_free(d);
		req->pending = NULL;
		return;
	}
	int64_t t0 = d ? d->t0 : ml_mono_ms();
	const char *full = req->path;
	int idx = -1;

	if (strncmp(full, "/_sandbox/", 10) == 0 || strcmp(full, "/_sandbox") == 0) {
		ml_sb_control(req, resp);
		return;
	}
	const struct ml_sb_provider *p = find_provider(full, &idx);
	if (!p) {
		ml_resp_json(resp, 404,
		             json_pack("{s:{s:s, s:s}}", "error", "code", "not_found", "message",
		                       "No sandbox provider serves this path; see "
		                       "GET /_sandbox/state for the providers."));
		return;
	}

	struct ml_sb_fault_hit f;
	bool faulted;
	if (d) {
		faulted = true;
		f = d->f;
		free(d);
		req->pending = NULL;
	} else {
		faulted = ml_sb_fault_pick(p->name, req->method, full, &f);
		if (faulted && f.latency_ms > 0) {
			/* The HTTP layer calls again once the latency is over, without holding a
			 * thread meanwhile: hundreds of calls may be waiting at once. */
			d = ml_calloc(1, sizeof *d);
			d->t0 = t0;
			d->f = f;
			req->pending = d;
			req->pending_free = delayed_free;
			resp->defer_ms = f.latency_ms;
			return;
		}
	}
	bool dropped = false;
	if (faulted && f.drop) {
		resp->drop = dropped = true;
		resp->status = 0; /* the log shows no answer: none was given, nothing was done */
	} else if (faulted && f.status) {
		ml_sb_fault_respond(p, &f, resp);
	} else {
		size_t pl = strlen(p->prefix);
		req->path = full[pl] ? full + pl : "/";
		bool mismatch;
		const struct ml_route *r = ml_router_match(p->routes, req, &mismatch);
		ml_sb_lock();
		req->user = roots[idx];
		if (p->tick)
			p->tick(roots[idx]);
		if (r)
			r->fn(req, resp);
		else
			default_not_found(p, req, resp, mismatch);
		req->user = NULL;
		ml_sb_unlock();
		req->path = full;
		if (faulted && f.drop_after)
			resp->drop = dropped = true;
	}
	ml_sb_log_record(p->name, req, resp, faulted ? f.id : 0, dropped, ml_mono_ms() - t0);
	if (faulted && f.latency_after_ms > 0 && !dropped && !f.status)
		hold_answer(req, resp, f.latency_after_ms);
	if (faulted)
		ml_sb_fault_hit_free(&f);
}

bool ml_sb_redirect_ok(json_t *client, const char *uri)
{
	json_t *list = json_object_get(client, "redirect_uris");
	if (!uri || (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0))
		return false;
	/* No URI holds a control character or a space (RFC 3986); the URI is sent back as a
	 * Location header. */
	for (const unsigned char *p = (const unsigned char *)uri; *p; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	if (json_array_size(list) == 0)
		return true;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), uri) == 0)
			return true;
	}
	return false;
}
