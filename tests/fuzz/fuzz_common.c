/* The seam and the checks the harnesses share (see fuzz_common.h). */
/* curl_easy_setopt is defined below: without its type-checking macro. */
#define CURL_DISABLE_TYPECHECK 1
#include "fuzz_common.h"

#include "core/error.h"
#include "core/mem.h"

#include <curl/curl.h>
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void fz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz invariant failed: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

bool fz_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		unsigned c = *p++;
		int more;
		unsigned cp, min;
		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0) {
			more = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			more = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			more = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (e - p < more)
			return false;
		while (more--) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p++ & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

int fz_json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0;
	bool str = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				str = false;
		} else if (c == '"') {
			str = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				max = depth;
		} else if (c == ']' || c == '}') {
			depth--;
		}
	}
	return max;
}

/* --- libmicrohttpd's lookups, answered from struct MHD_Connection above --- */

const char *fz_req_value(const struct fz_req *r, int kind, const char *key)
{
	for (int i = 0; i < r->conn.n; i++)
		if ((r->conn.v[i].kind & kind) && strcasecmp(r->conn.v[i].key, key) == 0)
			return r->conn.v[i].value;
	return NULL;
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
					const char *key)
{
	if (!key)
		return NULL;
	for (int i = 0; i < c->n; i++)
		if ((c->v[i].kind & (int)kind) && strcasecmp(c->v[i].key, key) == 0)
			return c->v[i].value;
	return NULL;
}

enum MHD_Result MHD_lookup_connection_value_n(struct MHD_Connection *c, enum MHD_ValueKind kind,
					      const char *key, size_t key_size,
					      const char **value_ptr, size_t *value_size_ptr)
{
	for (int i = 0; i < c->n; i++)
		if ((c->v[i].kind & (int)kind) && strlen(c->v[i].key) == key_size &&
		    strncasecmp(c->v[i].key, key, key_size) == 0) {
			if (value_ptr)
				*value_ptr = c->v[i].value;
			if (value_size_ptr)
				*value_size_ptr = strlen(c->v[i].value);
			return MHD_YES;
		}
	return MHD_NO;
}

int MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind kind,
			      MHD_KeyValueIterator it, void *cls)
{
	int n = 0;
	for (int i = 0; i < c->n; i++) {
		if (!(c->v[i].kind & (int)kind))
			continue;
		n++;
		if (it && it(cls, (enum MHD_ValueKind)c->v[i].kind, c->v[i].key, c->v[i].value) !=
			      MHD_YES)
			break;
	}
	return n;
}

int MHD_get_connection_values_n(struct MHD_Connection *c, enum MHD_ValueKind kind,
				MHD_KeyValueIteratorN it, void *cls)
{
	int n = 0;
	for (int i = 0; i < c->n; i++) {
		if (!(c->v[i].kind & (int)kind))
			continue;
		n++;
		if (it && it(cls, (enum MHD_ValueKind)c->v[i].kind, c->v[i].key,
			     strlen(c->v[i].key), c->v[i].value, strlen(c->v[i].value)) != MHD_YES)
			break;
	}
	return n;
}

/* --- no network: whatever a handler tries to fetch fails at once --- */

/* The write callback libcurl was given per handle, so that a scripted answer reaches it. */
#define CURL_SLOTS 16
static struct {
	CURL *easy;
	curl_write_callback fn;
	void *data;
	long status; /* of the answer performed on it */
} slots[CURL_SLOTS];
static struct {
	long status;
	char *body;
	size_t n;
} script[4];
static int nscript;
static pthread_mutex_t curl_mu = PTHREAD_MUTEX_INITIALIZER;

static int slot_of(CURL *easy, bool make)
{
	int free_slot = -1;
	for (int i = 0; i < CURL_SLOTS; i++) {
		if (slots[i].easy == easy)
			return i;
		if (!slots[i].easy && free_slot < 0)
			free_slot = i;
	}
	if (make && free_slot < 0)
		free_slot = (int)((uintptr_t)easy % CURL_SLOTS); /* a stale handle: reuse */
	if (make && free_slot >= 0) {
		memset(&slots[free_slot], 0, sizeof slots[free_slot]);
		slots[free_slot].easy = easy;
	}
	return make ? free_slot : -1;
}

CURLcode curl_easy_setopt(CURL *easy, CURLoption opt, ...)
{
	static CURLcode (*real)(CURL *, CURLoption, ...);
	va_list ap;
	va_start(ap, opt);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "curl_easy_setopt");
	CURLcode rc;
	if (opt < CURLOPTTYPE_OBJECTPOINT) {
		long v = va_arg(ap, long);
		rc = real(easy, opt, v);
	} else if (opt < CURLOPTTYPE_OFF_T) {
		void *v = va_arg(ap, void *);
		pthread_mutex_lock(&curl_mu);
		if (opt == CURLOPT_WRITEFUNCTION)
			*(void **)&slots[slot_of(easy, true)].fn = v;
		else if (opt == CURLOPT_WRITEDATA)
			slots[slot_of(easy, true)].data = v;
		pthread_mutex_unlock(&curl_mu);
		rc = real(easy, opt, v);
	} else if (opt < CURLOPTTYPE_BLOB) {
		curl_off_t v = va_arg(ap, curl_off_t);
		rc = real(easy, opt, v);
	} else {
		void *v = va_arg(ap, void *);
		rc = real(easy, opt, v);
	}
	va_end(ap);
	return rc;
}

CURLcode curl_easy_getinfo(CURL *easy, CURLINFO info, ...)
{
	static CURLcode (*real)(CURL *, CURLINFO, ...);
	va_list ap;
	va_start(ap, info);
	void *p = va_arg(ap, void *);
	va_end(ap);
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "curl_easy_getinfo");
	if (info == CURLINFO_RESPONSE_CODE) {
		pthread_mutex_lock(&curl_mu);
		int i = slot_of(easy, false);
		*(long *)p = i >= 0 ? slots[i].status : 0;
		pthread_mutex_unlock(&curl_mu);
		return CURLE_OK;
	}
	return real(easy, info, p);
}

void fz_curl_answer(long status, const char *body, size_t n)
{
	pthread_mutex_lock(&curl_mu);
	if (nscript < (int)(sizeof script / sizeof *script)) {
		script[nscript].status = status;
		script[nscript].body = ml_strndup(body, n);
		script[nscript].n = n;
		nscript++;
	}
	pthread_mutex_unlock(&curl_mu);
}

void fz_curl_clear(void)
{
	pthread_mutex_lock(&curl_mu);
	for (int i = 0; i < nscript; i++)
		free(script[i].body);
	nscript = 0;
	memset(slots, 0, sizeof slots);
	pthread_mutex_unlock(&curl_mu);
}

/* Never the network: the next scripted answer, else "could not connect". */
CURLcode curl_easy_perform(CURL *easy)
{
	pthread_mutex_lock(&curl_mu);
	if (nscript == 0) {
		int i = slot_of(easy, false);
		if (i >= 0)
			slots[i].status = 0;
		pthread_mutex_unlock(&curl_mu);
		return CURLE_COULDNT_CONNECT;
	}
	long status = script[0].status;
	char *body = script[0].body;
	size_t n = script[0].n;
	memmove(script, script + 1, (size_t)(nscript - 1) * sizeof *script);
	nscript--;
	int i = slot_of(easy, true);
	slots[i].status = status;
	curl_write_callback fn = slots[i].fn;
	void *data = slots[i].data;
	pthread_mutex_unlock(&curl_mu);
	CURLcode rc = CURLE_OK;
	if (fn && n && fn(body, 1, n, data) != n)
		rc = CURLE_WRITE_ERROR;
	free(body);
	return rc;
}

int fz_curl_transport(void *ctx, CURL *easy, long *status, char **body)
{
	(void)ctx;
	pthread_mutex_lock(&curl_mu);
	bool have = nscript > 0;
	if (have) {
		*status = script[0].status;
		*body = script[0].body;
		memmove(script, script + 1, (size_t)(nscript - 1) * sizeof *script);
		nscript--;
	}
	pthread_mutex_unlock(&curl_mu);
	curl_easy_cleanup(easy);
	if (have)
		return 0;
	*status = 0;
	*body = ml_strdup("");
	return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
			    "The provider could not be reached (fuzz: no answer queued).");
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	*res = NULL;
	return EAI_FAIL;
}

/* --- parsing the input format --- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* %XX decoding as MHD does it (plus: '+' is a space, in query arguments); the result stops
 * at a decoded NUL, as a C string handed to a handler would. */
static char *unescape(const char *s, size_t n, bool plus)
{
	char *out = ml_malloc(n + 1), *o = out;
	for (size_t i = 0; i < n; i++) {
		if (plus && s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
			   hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static void add_value(struct fz_req *r, int kind, char *key, char *value)
{
	if (r->conn.n >= FZ_MAX_VALUES) {
		free(key);
		free(value);
		return;
	}
	r->conn.v[r->conn.n].kind = kind;
	r->conn.v[r->conn.n].key = key;
	r->conn.v[r->conn.n].value = value;
	r->conn.n++;
}

static void parse_cookies(struct fz_req *r, const char *v)
{
	const char *p = v;
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (!*p)
			break;
		const char *e = strchr(p, ';');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		if (eq) {
			const char *val = eq + 1;
			size_t vl = len - (size_t)(val - p);
			if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
				val++;
				vl -= 2;
			}
			add_value(r, MHD_COOKIE_KIND, ml_strndup(p, (size_t)(eq - p)),
				  ml_strndup(val, vl));
		}
		p += len;
	}
}

void fz_req_header(struct fz_req *r, const char *name, const char *value)
{
	add_value(r, MHD_HEADER_KIND, ml_strdup(name), ml_strdup(value));
	if (strcasecmp(name, "Cookie") == 0)
		parse_cookies(r, value);
}

static void parse_query(struct fz_req *r, const char *q, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && q[j] != '&')
			j++;
		if (j > i) {
			const char *eq = memchr(q + i, '=', j - i);
			size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
			char *k = unescape(q + i, kl, true);
			char *v = eq ? unescape(eq + 1, (size_t)(q + j - eq - 1), true)
				     : ml_strdup("");
			add_value(r, MHD_GET_ARGUMENT_KIND, k, v);
		}
		i = j + 1;
	}
}

/* One line of [p, end): its length without the line end; *next after it. */
static size_t line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
	*next = nl ? nl + 1 : end;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

bool fz_req_parse(struct fz_req *r, const char *text, size_t n)
{
	const char *p = text, *end = text + n, *next;
	size_t ln = line(p, end, &next);
	const char *sp = memchr(p, ' ', ln);

	memset(r, 0, sizeof *r);
	if (!sp || sp == p || (size_t)(sp - p) >= sizeof r->method)
		return false;
	memcpy(r->method, p, (size_t)(sp - p));
	if (memchr(r->method, '\0', (size_t)(sp - p)))
		return false;
	const char *target = sp + 1, *tend = p + ln;
	const char *sp2 = memchr(target, ' ', (size_t)(tend - target));
	if (sp2)
		tend = sp2; /* "GET /path HTTP/1.1" is fine too */
	const char *qm = memchr(target, '?', (size_t)(tend - target));
	r->path = unescape(target, (size_t)((qm ? qm : tend) - target), false);
	if (qm)
		parse_query(r, qm + 1, (size_t)(tend - qm - 1));
	p = next;
	while (p < end) {
		ln = line(p, end, &next);
		if (ln == 0) {
			p = next;
			break;
		}
		const char *colon = memchr(p, ':', ln);
		if (colon && colon > p) {
			/* MHD keeps neither a NUL nor the spaces around a value. */
			char *name = ml_strndup(p, (size_t)(colon - p));
			const char *v = colon + 1, *ve = p + ln;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			char *value = ml_strndup(v, (size_t)(ve - v));
			fz_req_header(r, name, value);
			free(name);
			free(value);
		}
		p = next;
	}
	r->body_len = (size_t)(end - p);
	r->body = ml_malloc(r->body_len + 1);
	memcpy(r->body, p, r->body_len);
	r->body[r->body_len] = '\0';

	r->req.method = r->method;
	r->req.path = r->path;
	r->req.body = r->body;
	r->req.body_len = r->body_len;
	r->req.conn = &r->conn;
	snprintf(r->req.remote_ip, sizeof r->req.remote_ip, "127.0.0.1");
	return true;
}

void fz_req_free(struct fz_req *r)
{
	for (int i = 0; i < r->conn.n; i++) {
		free(r->conn.v[i].key);
		free(r->conn.v[i].value);
	}
	if (r->req.pending && r->req.pending_free)
		r->req.pending_free(r->req.pending);
	free(r->path);
	free(r->body);
	memset(r, 0, sizeof *r);
}

void fz_split(const uint8_t *data, size_t n, size_t max,
	      void (*fn)(void *arg, const char *part, size_t len), void *arg)
{
	const char *p = (const char *)data, *end = p + n;
	size_t parts = 0;
	while (parts < max) {
		const char *q = p, *sep = NULL;
		while (q < end) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			if (!nl)
				break;
			if ((size_t)(end - nl) >= 4 && memcmp(nl + 1, "@@@", 3) == 0 &&
			    (nl + 4 == end || nl[4] == '\n' || nl[4] == '\r')) {
				sep = nl;
				break;
			}
			q = nl + 1;
		}
		/* The line end before "@@@" belongs to the separator: a request without a body
		 * stays without one. */
		const char *pe = sep ? sep : end;
		if (sep && pe > p && pe[-1] == '\r')
			pe--;
		fn(arg, p, (size_t)(pe - p));
		parts++;
		if (!sep)
			return;
		p = sep + 4;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		if (p >= end)
			return;
	}
}

char *fz_subst(const char *s, size_t *len, const char *const *from, const char *const *to,
	       size_t n)
{
	struct ml_buf b = {0};
	size_t i = 0;
	ml_buf_grow(&b, *len);
	while (i < *len) {
		/* Every placeholder starts with '$': copy up to the next one at once. */
		const char *d = memchr(s + i, '$', *len - i);
		size_t run = d ? (size_t)(d - (s + i)) : *len - i;
		if (run) {
			ml_buf_append(&b, s + i, run);
			i += run;
			continue;
		}
		size_t k;
		for (k = 0; k < n; k++) {
			size_t fl = strlen(from[k]);
			if (fl && *len - i >= fl && memcmp(s + i, from[k], fl) == 0) {
				ml_buf_puts(&b, to[k]);
				i += fl;
				break;
			}
		}
		if (k == n)
			ml_buf_append(&b, s + i++, 1);
	}
	*len = b.len;
	return ml_buf_steal(&b);
}

/* --- answers --- */

void fz_dispatch(ml_http_handler dispatch, struct ml_http_req *req, struct ml_http_resp *resp)
{
	for (int round = 0;; round++) {
		memset(resp, 0, sizeof *resp);
		resp->status = 500;
		dispatch(req, resp);
		if (resp->defer_ms <= 0)
			return;
		if (round > 1000)
			fz_fail("a request deferred more than 1000 times");
		fz_resp_free(resp);
	}
}

static void check_text(const char *what, const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n')
			fz_fail("%s carries a CR or LF: \"%s\"", what, s);
}

json_t *fz_resp_check_json(const struct ml_http_resp *resp, bool api_errors)
{
	if (resp->drop)
		return NULL;
	if (resp->status < 100 || resp->status > 599)
		fz_fail("status %d", resp->status);
	if (resp->body_len && !resp->body)
		fz_fail("body_len %zu without a body", resp->body_len);
	check_text("Content-Type", resp->content_type);
	for (int i = 0; i < resp->nheaders; i++) {
		if (!resp->headers[i].name || !resp->headers[i].value || !*resp->headers[i].name)
			fz_fail("header %d without a name or value", i);
		check_text("a header name", resp->headers[i].name);
		check_text(resp->headers[i].name, resp->headers[i].value);
		for (const char *p = resp->headers[i].name; *p; p++)
			if (*p == ':' || *p == ' ')
				fz_fail("header name \"%s\"", resp->headers[i].name);
	}
	if (strncasecmp(resp->content_type, "application/json", 16) != 0 &&
	    strncasecmp(resp->content_type, "application/problem+json", 24) != 0)
		return NULL;
	if (resp->status == 204 || resp->status == 304)
		return NULL;
	json_error_t jerr;
	json_t *j = json_loadb(resp->body ? resp->body : "", resp->body_len,
			       JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!j)
		fz_fail("status %d, a JSON answer that does not parse (%s): %.*s", resp->status,
			jerr.text, (int)(resp->body_len > 2000 ? 2000 : resp->body_len),
			resp->body ? resp->body : "");
	if (api_errors && resp->status >= 400) {
		json_t *e = json_object_get(j, "error");
		if (!json_is_string(json_object_get(e, "code")) ||
		    !json_is_string(json_object_get(e, "message")))
			fz_fail("status %d, an error body without error.code/message: %.*s",
				resp->status, (int)(resp->body_len > 2000 ? 2000 : resp->body_len),
				resp->body);
	}
	return j;
}

void fz_resp_check(const struct ml_http_resp *resp, bool api_errors)
{
	json_decref(fz_resp_check_json(resp, api_errors));
}

json_t *fz_resp_json(const struct ml_http_resp *resp)
{
	if (!resp->body || strncasecmp(resp->content_type, "application/json", 16) != 0)
		return NULL;
	return json_loadb(resp->body, resp->body_len, 0, NULL);
}

const char *fz_resp_header(const struct ml_http_resp *resp, const char *name)
{
	for (int i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

void fz_resp_free(struct ml_http_resp *resp)
{
	free(resp->body);
	for (int i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	memset(resp, 0, sizeof *resp);
}

/* --- scratch directory --- */

static char tmpdir[128];

int fz_rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];
	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			fz_rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	return rmdir(dir);
}

static void tmpdir_remove(void)
{
	if (tmpdir[0])
		fz_rm_tree(tmpdir);
}

const char *fz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	struct stat st;
	const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
				   access("/dev/shm", W_OK) == 0
			       ? "/dev/shm"
			       : "/tmp";
	snprintf(tmpdir, sizeof tmpdir, "%s/ml-fuzz-XXXXXX", base);
	if (!mkdtemp(tmpdir))
		fz_fail("mkdtemp %s", tmpdir);
	atexit(tmpdir_remove);
	return tmpdir;
}
