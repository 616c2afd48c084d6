/* What the fuzz harnesses share: requests fed in-process without a socket, and the checks
 * every answer must pass.
 *
 * THE SEAM. Handlers read headers, query arguments and cookies through ml_http_header() and
 * friends (http/server.c), which ask libmicrohttpd about req->conn. A harness points req->conn
 * at a struct MHD_Connection of its own (fuzz_common.c) and defines the few libmicrohttpd
 * lookup functions itself: the harness executable's definitions take precedence over the
 * shared library's, so src/ is fuzzed as it is, with no test hook in it. The same file also
 * replaces curl_easy_perform (with scripted answers: fz_curl_answer) and getaddrinfo, so no
 * harness ever reaches the network.
 *
 * THE INPUT FORMAT (text, so seeds are written by hand and libFuzzer's mutations stay
 * meaningful):
 *
 *     POST /v1/bookings?limit=2
 *     Content-Type: application/json
 *     Idempotency-Key: k1
 *
 *     {"host_id":"$H", ...}
 *
 * A request line (METHOD, a space, the target: the path as a client sends it, %-escaped, and
 * an optional ?query), header lines up to an empty line, then the body. Several requests in
 * one input are separated by a line "@@@" (fz_split). Line ends are LF or CRLF.
 */
#ifndef ML_TESTS_FUZZ_COMMON_H
#define ML_TESTS_FUZZ_COMMON_H

#include "http/http.h"

#include <jansson.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FZ_MAX_VALUES 48

/* The request libmicrohttpd would have parsed: its values, as MHD hands them to handlers
 * (decoded, NUL-terminated, so a %00 cuts a value as it does in MHD). */
struct MHD_Connection {
	struct {
		int kind; /* enum MHD_ValueKind */
		char *key, *value;
	} v[FZ_MAX_VALUES];
	int n;
};

struct fz_req {
	struct MHD_Connection conn;
	char method[16];
	char *path; /* decoded */
	char *body;
	size_t body_len;
	struct ml_http_req req;
};

/* Parses one request of the input format into r (fz_req_free releases it). false when the
 * text has no request line. */
bool fz_req_parse(struct fz_req *r, const char *text, size_t n);
void fz_req_free(struct fz_req *r);
/* Adds a header (also parses a Cookie header into cookies, as MHD does). */
void fz_req_header(struct fz_req *r, const char *name, const char *value);
/* The first value of `kind` called `key` (case-insensitive), or NULL. */
const char *fz_req_value(const struct fz_req *r, int kind, const char *key);

/* Splits an input at lines "@@@": calls fn for each part, at most max parts. */
void fz_split(const uint8_t *data, size_t n, size_t max,
	      void (*fn)(void *arg, const char *part, size_t len), void *arg);

/* Replaces every occurrence of each from[i] (each starting with '$') by to[i] (n pairs). New
 * string; *len updated. */
char *fz_subst(const char *s, size_t *len, const char *const *from, const char *const *to,
	       size_t n);

/* Calls dispatch and, while it defers (resp->defer_ms), again at once with the request's
 * pending state, the way the server does after the delay. */
void fz_dispatch(ml_http_handler dispatch, struct ml_http_req *req, struct ml_http_resp *resp);

/* The invariants of every answer (aborts with a message when one fails, so libFuzzer
 * records the input): a real status, header names and values without CR, LF or NUL, a
 * Content-Type without them, a body of body_len bytes, and a JSON body that parses.
 * api_errors: a JSON error answer (status >= 400) has {"error":{"code": string,
 * "message": string}} (the REST API's contract; the sandbox's providers have their own). */
void fz_resp_check(const struct ml_http_resp *resp, bool api_errors);
/* The same, and the JSON answer it parsed (the caller's reference), so that a harness does
 * not parse a large answer twice; NULL when the answer is not JSON. */
json_t *fz_resp_check_json(const struct ml_http_resp *resp, bool api_errors);
/* The answer's JSON body (new reference) or NULL. */
json_t *fz_resp_json(const struct ml_http_resp *resp);
/* The value of the answer's header `name` (case-insensitive), or NULL. */
const char *fz_resp_header(const struct ml_http_resp *resp, const char *name);
void fz_resp_free(struct ml_http_resp *resp);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF). */
bool fz_utf8_valid(const char *s, size_t n);
/* The deepest nesting of [ and { in a JSON text (strings skipped). */
int fz_json_depth(const char *s, size_t n);

/* The next call of curl_easy_perform answers `status` and `body` to the handle's write
 * callback (up to 4 queued); without one, every call fails as "could not connect". */
void fz_curl_answer(long status, const char *body, size_t n);
/* Forgets queued answers (call at the start of an input). */
void fz_curl_clear(void);
/* The OAuth calls' stand-in for the network (ml_oauth_config_set_transport): the next queued
 * answer, else ML_EUNAVAIL as an unreachable provider; frees `easy`. `ctx` unused. */
int fz_curl_transport(void *ctx, CURL *easy, long *status, char **body);

/* Fails the run: prints the message and aborts. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A scratch directory for a harness's store, on tmpfs when the machine has one (every commit
 * of the store syncs; tmpfs makes that free). Removed at exit. */
const char *fz_tmpdir(void);
/* Removes a directory and everything in it (in-process: no shell). */
int fz_rm_tree(const char *dir);

#endif
