/* The request head's checks (guard.h). libmicrohttpd 0.9.75 frames a request by the first
 * Transfer-Encoding or Content-Length it finds and lets the rest through: a request with both,
 * or with two, is read one way here and another way by a proxy in front, and the bytes after
 * the body run as a second, smuggled request. So every request whose length is ambiguous is
 * refused before its body is read, and the connection is closed behind the answer. */
#include "http/guard.h"
#include "http/router.h"
#include "core/utf8.h"

#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct head_scan {
	int n_cl, n_te, n_host;
	const char *cl, *te;
	bool bad_name;         /* a header name that is not a token (never echoed) */
	const char *bad_value; /* the name of a header whose value has a control character */
};

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* A field value: visible characters, spaces, tabs and obs-text (RFC 9110 §5.5). */
static bool value_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *name,
				   const char *value)
{
	struct head_scan *h = cls;
	(void)kind;
	if (!name || !is_token(name)) {
		h->bad_name = true;
		return MHD_YES;
	}
	if (value && !value_ok(value) && !h->bad_value)
		h->bad_value = name;
	/* libmicrohttpd 0.9.75 appends an obs-fold continuation line to the header's name
	 * ("Content-Length: 3\r\n 0" arrives as "Content-Length0: 3"), so a folded framing
	 * header would silently stop framing: refused as ambiguous with the others. */
	if ((strncasecmp(name, "Content-Length", 14) == 0 && name[14]) ||
	    (strncasecmp(name, "Transfer-Encoding", 17) == 0 && name[17])) {
		h->n_cl = h->n_te = 2;
	} else if (strcasecmp(name, "Content-Length") == 0) {
		h->n_cl++;
		h->cl = value ? value : "";
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		h->n_te++;
		h->te = value ? value : "";
	} else if (strcasecmp(name, "Host") == 0) {
		h->n_host++;
	}
	return MHD_YES;
}

static bool all_digits(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18) /* 18 digits fit an int64: no overflow to argue about */
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

struct query_scan {
	const char *bad; /* the name of a query parameter whose value is not clean */
	bool bad_name;
};

static enum MHD_Result scan_query(void *cls, enum MHD_ValueKind kind, const char *name,
				  const char *value)
{
	struct query_scan *q = cls;
	(void)kind;
	if (!name || !ml_text_is_clean(name, strlen(name))) {
		q->bad_name = true;
		return MHD_NO;
	}
	if (value && !ml_text_is_clean(value, strlen(value))) {
		q->bad = name;
		return MHD_NO;
	}
	return MHD_YES;
}

/* A NUL sent as %00 ends the string libmicrohttpd decodes, so the path or value seen would not
 * be the one sent: it is looked for in the raw target. Raw control bytes are refused there too.
 * Returns 0, or 1 for the path part, 2 for the query part. */
static int raw_target_bad(const char *raw)
{
	const char *q = strchr(raw, '?');
	for (const char *p = raw; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || (c == '%' && p[1] == '0' && p[2] == '0'))
			return q && p > q ? 2 : 1;
	}
	return 0;
}

/* Whether the raw (percent-encoded) segment s[0..n) decodes to clean text. */
static bool segment_clean(const char *s, size_t n)
{
	char buf[ML_HTTP_MAX_URI];
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof buf; i++) {
		if (s[i] == '%' && i + 2 < n && ml_url_hexval(s[i + 1]) >= 0 && ml_url_hexval(s[i + 2]) >= 0) {
			buf[o++] = (char)(ml_url_hexval(s[i + 1]) << 4 | ml_url_hexval(s[i + 2]));
			i += 2;
		} else {
			buf[o++] = s[i];
		}
	}
	return ml_text_is_clean(buf, o);
}

/* The {param} of the first route whose pattern the raw path fits, literal segment for literal
 * segment, and whose captured segment does not decode to clean text; its name is copied into
 * name (without braces). False when none is found. The raw target is matched, not the decoded
 * path: a %00 cuts the decoded one short. */
static bool bad_param(const struct ml_route *routes, const char *raw, char name[32])
{
	size_t plen = strcspn(raw, "?");
	for (const struct ml_route *r = routes; r && r->method; r++) {
		const char *pat = r->pattern, *path = raw, *end = raw + plen;
		const char *bad = NULL;
		size_t bad_len = 0;
		bool fits = true;
		while (fits && *pat && path < end) {
			if (*pat != '/' || *path != '/') {
				fits = false;
				break;
			}
			pat++;
			path++;
			size_t pl = strcspn(pat, "/");
			const char *se = memchr(path, '/', (size_t)(end - path));
			size_t sl = se ? (size_t)(se - path) : (size_t)(end - path);
			if (pl > 2 && pat[0] == '{' && pat[pl - 1] == '}') {
				if (!bad && sl && !segment_clean(path, sl)) {
					bad = pat + 1;
					bad_len = pl - 2;
				}
			} else if (pl != sl || memcmp(pat, path, pl) != 0) {
				fits = false;
			}
			pat += pl;
			path += sl;
		}
		if (fits && !*pat && path == end && bad && bad_len < 32) {
			memcpy(name, bad, bad_len);
			name[bad_len] = '\0';
			return true;
		}
	}
	return false;
}

static bool refuse(struct ml_http_resp *resp, int status, const char *code, const char *field,
		   const char *msg)
{
	ml_resp_error(resp, status, code, field, msg);
	return false;
}

bool ml_http_guard_head(struct MHD_Connection *conn, const char *version, const char *raw_uri,
			const char *path, const struct ml_route *routes,
			struct ml_http_resp *resp)
{
	struct head_scan h = {0};
	struct query_scan q = {0};
	int bad;

	if (raw_uri && strlen(raw_uri) > ML_HTTP_MAX_URI)
		return refuse(resp, 414, "uri_too_long", NULL,
			      "The request target is longer than 8192 bytes.");
	MHD_get_connection_values(conn, MHD_HEADER_KIND, scan_header, &h);
	if (h.n_cl > 1 || h.n_te > 1 || (h.n_cl && h.n_te))
		return refuse(resp, 400, "ambiguous_framing", NULL,
			      "The request's length is ambiguous: send one Content-Length or one "
			      "'Transfer-Encoding: chunked', not both and not twice (RFC 9112 6.3).");
	if (h.n_te && strcasecmp(h.te, "chunked") != 0)
		return refuse(resp, 400, "invalid_transfer_encoding", "Transfer-Encoding",
			      "Transfer-Encoding must be exactly 'chunked'.");
	if (h.n_cl && !all_digits(h.cl))
		return refuse(resp, 400, "invalid_content_length", "Content-Length",
			      "Content-Length must be a decimal number of bytes.");
	if (version && strcmp(version, "HTTP/1.1") == 0 && h.n_host != 1)
		return refuse(resp, 400, "invalid_host", "Host",
			      "An HTTP/1.1 request carries exactly one Host header.");
	if (h.bad_name)
		return refuse(resp, 400, "invalid_header", NULL,
			      "A header name has characters a header name may not have.");
	if (h.bad_value)
		return refuse(resp, 400, "invalid_header", h.bad_value,
			      "A header value has control characters.");
	bad = raw_uri ? raw_target_bad(raw_uri) : 0;
	if (bad == 1 || !path || !ml_text_is_clean(path, strlen(path))) {
		char name[32], msg[128];
		if (raw_uri && bad_param(routes, raw_uri, name)) {
			snprintf(msg, sizeof msg,
				 "The {%s} in the path must be valid UTF-8 without control "
				 "characters.",
				 name);
			return refuse(resp, 400, "invalid_path", name, msg);
		}
		return refuse(resp, 400, "invalid_path", "path",
			      "The path must be valid UTF-8 without control characters.");
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, scan_query, &q);
	if (bad == 2 || q.bad_name)
		return refuse(resp, 400, "invalid_query", "query",
			      "Query parameters must be valid UTF-8 without control characters.");
	if (q.bad)
		return refuse(resp, 400, "invalid_query", strlen(q.bad) <= 64 ? q.bad : "query",
			      "A query parameter (named in field) must be valid UTF-8 without "
			      "control characters.");
	return true;
}
