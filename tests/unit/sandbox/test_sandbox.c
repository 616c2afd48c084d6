/* The sandbox framework's pure parts: the fault glob, PKCE, secret names, redaction and the
 * token helpers (issue, check, expiry with the sandbox clock, grant revocation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sandbox/sandbox.h"
#include "sandbox/sb_internal.h"

static void test_glob(void **state)
{
	(void)state;
	assert_true(ml_sb_glob("/google/*", "/google/calendar/v3/calendars/primary/events"));
	assert_true(ml_sb_glob("*", ""));
	assert_true(ml_sb_glob("/google/calendar/v3/calendars/*/events",
	                       "/google/calendar/v3/calendars/primary/events"));
	assert_false(ml_sb_glob("/google/calendar/v3/calendars/*/events",
	                        "/google/calendar/v3/calendars/primary/events/abc"));
	assert_true(ml_sb_glob("/zoom/v2/meetings/?????", "/zoom/v2/meetings/12345"));
	assert_false(ml_sb_glob("/zoom/v2/meetings/?????", "/zoom/v2/meetings/1234"));
	assert_true(ml_sb_glob("*/events*", "/microsoft/v1.0/me/events/AAMk="));
	assert_false(ml_sb_glob("/google", "/google/x"));
	assert_true(ml_sb_glob("a*b*c", "aXXbYYbZZc"));
	assert_false(ml_sb_glob("a*b*c", "aXXbYYbZZ"));
	/* Pathological patterns stay fast (single backtrack point). */
	char s[4001];
	memset(s, 'a', 4000);
	s[4000] = '\0';
	assert_false(ml_sb_glob("*a*a*a*a*a*a*a*a*b", s));
}

static void test_pkce(void **state)
{
	(void)state;
	/* RFC 7636 appendix B. */
	const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	assert_true(ml_sb_pkce_verify(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256"));
	assert_false(ml_sb_pkce_verify(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", "S256"));
	assert_true(ml_sb_pkce_verify(v, v, "plain"));
	assert_true(ml_sb_pkce_verify(v, v, NULL));
	assert_false(ml_sb_pkce_verify("short", "short", "plain"));
	assert_false(ml_sb_pkce_verify(v, "x", "S512"));
	assert_false(ml_sb_pkce_verify(NULL, "x", "S256"));
	char bad[60];
	memset(bad, 'a', 50);
	bad[50] = '+'; /* not an unreserved character */
	bad[51] = '\0';
	assert_false(ml_sb_pkce_verify(bad, bad, "plain"));
}

static void test_secret_names(void **state)
{
	(void)state;
	const char *secret[] = {"Authorization",
	                        "cookie",
	                        "client_secret",
	                        "refresh_token",
	                        "access_token",
	                        "id_token",
	                        "code",
	                        "code_verifier",
	                        "password",
	                        "X-Api-Key",
	                        "webhook_secret",
	                        "AuthToken",
	                        "x-meeting-baas-api-key",
	                        "speech_to_text_api_key",
	                        NULL};
	const char *plain[] = {"token_type",   "grant_type",   "client_id",  "scope", "state",
	                       "Content-Type", "redirect_uri", "expires_in", NULL};
	for (int i = 0; secret[i]; i++)
		assert_true(ml_sb_is_secret(secret[i]));
	for (int i = 0; plain[i]; i++)
		assert_false(ml_sb_is_secret(plain[i]));
}

static void test_redact(void **state)
{
	(void)state;
	json_t *in = json_pack("{s:s, s:s, s:s, s:{s:i, s:s}, s:[{s:s}]}", "access_token", "AT",
	                       "token_type", "Bearer", "code", "4/x", "error", "code", 404,
	                       "message", "m", "list", "client_secret", "S");
	json_t *out = ml_sb_redact(in);
	assert_string_equal(json_string_value(json_object_get(out, "access_token")), "[redacted]");
	assert_string_equal(json_string_value(json_object_get(out, "token_type")), "Bearer");
	assert_string_equal(json_string_value(json_object_get(out, "code")), "[redacted]");
	/* A nested numeric "code" is an error code, not an authorization code. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "error"), "code")),
	                 404);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(out, "list"), 0), "client_secret")),
	                    "[redacted]");
	/* The input is untouched. */
	assert_string_equal(json_string_value(json_object_get(in, "access_token")), "AT");
	json_decref(in);
	json_decref(out);
}

static void test_tokens(void **state)
{
	(void)state;
	json_t *root = json_object();
	const char *why = NULL;
	const char *a = ml_sb_token_issue(root, "at-", "access", 60,
	                                  json_pack("{s:s, s:s}", "account", "u@x", "grant", "g1"));
	assert_non_null(a);
	assert_memory_equal(a, "at-", 3);
	char *acopy = strdup(a);
	const char *r = ml_sb_token_issue(root, "rt-", "refresh", 0,
	                                  json_pack("{s:s, s:s}", "account", "u@x", "grant", "g1"));
	char *rcopy = strdup(r);
	const char *other = ml_sb_token_issue(
	    root, "at-", "access", 0, json_pack("{s:s, s:s}", "account", "v@x", "grant", "g2"));
	char *ocopy = strdup(other);
	assert_non_null(ml_sb_token_check(root, acopy, "access", &why));
	assert_null(ml_sb_token_check(root, acopy, "refresh", &why));
	assert_string_equal(why, "unknown");
	assert_null(ml_sb_token_check(root, "nope", NULL, &why));
	/* Expiry follows the sandbox clock. */
	ml_sb_clock_advance(61);
	assert_null(ml_sb_token_check(root, acopy, "access", &why));
	assert_string_equal(why, "expired");
	assert_non_null(ml_sb_token_check(root, rcopy, "refresh", &why)); /* no expiry */
	ml_sb_clock_advance(-61);
	/* Revoking a token revokes its grant, not other grants. */
	assert_int_equal(ml_sb_token_revoke(root, rcopy, true), 2);
	assert_null(ml_sb_token_check(root, acopy, NULL, &why));
	assert_string_equal(why, "revoked");
	assert_non_null(ml_sb_token_check(root, ocopy, NULL, &why));
	assert_int_equal(ml_sb_token_revoke_account(root, "v@x"), 1);
	assert_null(ml_sb_token_check(root, ocopy, NULL, &why));
	/* Revoking by grant id (a replayed code) counts only tokens not yet revoked. */
	const char *g3a =
	    ml_sb_token_issue(root, "at-", "access", 0, json_pack("{s:s}", "grant", "g3"));
	char *g3copy = strdup(g3a);
	ml_sb_token_issue(root, "rt-", "refresh", 0, json_pack("{s:s}", "grant", "g3"));
	assert_int_equal(ml_sb_token_revoke(root, g3copy, false), 1);
	assert_int_equal(ml_sb_token_revoke_grant(root, "g3"), 1);
	assert_int_equal(ml_sb_token_revoke_grant(root, "g3"), 0);
	assert_int_equal(ml_sb_token_revoke_grant(root, NULL), 0);
	free(g3copy);
	free(acopy);
	free(rcopy);
	free(ocopy);
	json_decref(root);
}

static void test_pick_key(void **state)
{
	(void)state;
	json_t *o = json_pack("{s:i, s:i}", "ada", 1, "grace", 2);
	assert_string_equal(ml_sb_pick_key(o, "grace", "ada"), "grace");
	assert_string_equal(ml_sb_pick_key(o, "nobody", "grace"), "grace");
	const char *first = ml_sb_pick_key(o, NULL, "nobody");
	assert_non_null(first);
	assert_non_null(json_object_get(o, first));
	json_t *empty = json_object();
	assert_null(ml_sb_pick_key(empty, "ada", "ada"));
	json_decref(empty);
	json_decref(o);
}

/* A redirect URI goes back as a Location header: one with CR, LF or another control character
 * is refused even by a client that accepts any URI (found by tests/fuzz/fuzz_sandbox). */
static void test_redirect_ok(void **state)
{
	(void)state;
	json_t *any = json_object();
	json_t *one = json_pack("{s:[s]}", "redirect_uris", "https://app.test/cb");
	assert_true(ml_sb_redirect_ok(any, "http://127.0.0.1:8080/oauth/zoom/callback"));
	assert_true(ml_sb_redirect_ok(one, "https://app.test/cb"));
	assert_false(ml_sb_redirect_ok(one, "https://app.test/other"));
	assert_false(ml_sb_redirect_ok(any, "ftp://app.test/cb"));
	assert_false(ml_sb_redirect_ok(any, "http://1\r\nSet-Cookie: a=b"));
	assert_false(ml_sb_redirect_ok(any, "http://app.test/\ncb"));
	assert_false(ml_sb_redirect_ok(any, "http://app.test/a b"));
	assert_false(ml_sb_redirect_ok(any, "http://app.test/\x7f"));
	json_decref(any);
	json_decref(one);
}

static void test_rand(void **state)
{
	(void)state;
	char *a = ml_sb_rand("RM", 32, ML_SB_HEX), *b = ml_sb_rand("RM", 32, ML_SB_HEX);
	assert_int_equal(strlen(a), 34);
	assert_memory_equal(a, "RM", 2);
	assert_int_equal(strspn(a + 2, ML_SB_HEX), 32);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glob),         cmocka_unit_test(test_pkce),
	    cmocka_unit_test(test_secret_names), cmocka_unit_test(test_redact),
	    cmocka_unit_test(test_tokens),       cmocka_unit_test(test_rand),
	    cmocka_unit_test(test_pick_key),     cmocka_unit_test(test_redirect_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
