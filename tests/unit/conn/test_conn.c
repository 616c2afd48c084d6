/* Connections without a network: signed links, PKCE and the authorization URL, token
 * endpoint answers, and the single-flight protocol of ml_conn_acquire on a real SQLite store
 * (VALID / REFRESH / BUSY / REAUTH / MISSING, lease expiry, rotation persisted first, a stale
 * refresher's invalid_grant ignored, invalid_grant → reauth_required). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn/connections.h"
#include "conn/links.h"
#include "conn/oauth.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"
#include "store/store.h"

static const uint8_t secret[32] = "0123456789abcdef0123456789abcde";

static void test_links(void **state)
{
	(void)state;
	struct ml_conn_link l = {"org_a", "hst_b", "zoom", 2000000000}, out;
	char *tok = ml_conn_link_sign(secret, sizeof secret, &l);
	assert_null(strchr(tok, '/'));
	assert_int_equal(ml_conn_link_verify(secret, sizeof secret, tok, 1900000000, &out), 0);
	assert_string_equal(out.org_id, "org_a");
	assert_string_equal(out.host_id, "hst_b");
	assert_string_equal(out.platform, "zoom");
	assert_int_equal(out.expires_at, 2000000000);
	/* Expired: said so, distinctly. */
	assert_int_equal(ml_conn_link_verify(secret, sizeof secret, tok, 2000000000, &out),
			 ML_EINVAL);
	assert_string_equal(ml_error_code(), "link_expired");
	/* Another secret, a flipped character, a forged payload: not ours. */
	uint8_t other[32] = {1};
	assert_int_equal(ml_conn_link_verify(other, sizeof other, tok, 1, &out), ML_EAUTH);
	for (size_t i = 0; i < strlen(tok); i++) {
		if (tok[i] == '.')
			continue;
		char *t = ml_strdup(tok);
		t[i] = t[i] == 'x' ? 'y' : 'x';
		int rc = ml_conn_link_verify(secret, sizeof secret, t, 1, &out);
		/* (a flip in the last character's padding bits may decode to the same bytes) */
		if (i != strlen(tok) - 1 && i != (size_t)(strchr(tok, '.') - tok) - 1)
			assert_int_equal(rc, ML_EAUTH);
		free(t);
	}
	struct ml_conn_link longer = {"org_a", "hst_b", "zoom", 2100000000};
	char *t2 = ml_conn_link_sign(other, sizeof other, &longer);
	char *mixed = ml_asprintf("%.*s%s", (int)(strchr(t2, '.') - t2), t2, strchr(tok, '.'));
	assert_int_equal(ml_conn_link_verify(secret, sizeof secret, mixed, 1, &out), ML_EAUTH);
	assert_int_equal(ml_conn_link_verify(secret, sizeof secret, "garbage", 1, &out), ML_EAUTH);
	assert_int_equal(ml_conn_link_verify(secret, sizeof secret, NULL, 1, &out), ML_EAUTH);
	free(mixed);
	free(t2);
	free(tok);
	char *url = ml_conn_link_url("https://ml.example", "abc.def");
	assert_string_equal(url, "https://ml.example/connect?t=abc.def");
	free(url);
}

static struct ml_config *sandbox_cfg(void)
{
	struct ml_config *c = ml_calloc(1, sizeof *c);
	c->public_url = ml_strdup("https://ml.example");
	c->sandbox_url = ml_strdup("http://127.0.0.1:9/");
	c->microsoft_tenant = ml_strdup("common");
	return c;
}

static void test_pkce_and_authorize_url(void **state)
{
	(void)state;
	char v[44], ch[44], again[44];
	uint8_t d[32];
	ml_oauth_pkce(v, ch);
	assert_int_equal(strlen(v), 43);
	assert_int_equal(strlen(ch), 43);
	ml_sha256(v, strlen(v), d);
	char *want = ml_base64url_encode(d, sizeof d);
	assert_string_equal(ch, want);
	free(want);
	ml_oauth_pkce(again, ch);
	assert_string_not_equal(v, again);

	struct ml_config *cfg = sandbox_cfg();
	struct ml_oauth_config *oc = NULL;
	assert_int_equal(ml_oauth_config_load(&oc, cfg), 0);
	char *u = ml_oauth_authorize_url(oc, "google_meet", "st4te", "CHAL");
	assert_true(strncmp(u, "http://127.0.0.1:9/google/o/oauth2/v2/auth?", 43) == 0);
	assert_non_null(strstr(u, "redirect_uri=https%3A%2F%2Fml.example%2Foauth%2Fgoogle_meet%2Fcallback"));
	assert_non_null(strstr(u, "code_challenge=CHAL&code_challenge_method=S256"));
	assert_non_null(strstr(u, "scope=openid%20email%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar.events"));
	assert_non_null(strstr(u, "access_type=offline"));
	assert_non_null(strstr(u, "state=st4te"));
	assert_non_null(strstr(u, "client_id=meetlink-sandbox.apps.googleusercontent.com"));
	free(u);
	u = ml_oauth_authorize_url(oc, "teams", "s", "c");
	assert_non_null(strstr(u, "/microsoft/common/oauth2/v2.0/authorize?"));
	assert_non_null(strstr(u, "offline_access"));
	assert_non_null(strstr(u, "OnlineMeetings.ReadWrite"));
	assert_non_null(strstr(u, "Calendars.ReadWrite"));
	free(u);
	u = ml_oauth_authorize_url(oc, "zoom", "s", "c");
	assert_non_null(strstr(u, "/zoom/oauth/authorize?"));
	assert_null(strstr(u, "scope="));
	free(u);
	assert_string_equal(ml_oauth_api_base(oc, "zoom"), "http://127.0.0.1:9/zoom");
	assert_string_equal(ml_oauth_api_base(oc, "teams"), "http://127.0.0.1:9/microsoft");
	assert_string_equal(ml_oauth_api_base(oc, "twilio"), "http://127.0.0.1:9/twilio");
	assert_null(ml_oauth_api_base(oc, "jitsi"));
	assert_true(ml_oauth_configured(oc, "zoom"));
	assert_false(ml_oauth_configured(oc, "jitsi"));
	ml_oauth_config_free(oc);
	/* Real providers without client credentials: not configured. */
	free(cfg->sandbox_url);
	cfg->sandbox_url = NULL;
	assert_int_equal(ml_oauth_config_load(&oc, cfg), 0);
	assert_false(ml_oauth_configured(oc, "google_meet"));
	assert_string_equal(ml_oauth_api_base(oc, "google_meet"), "https://www.googleapis.com");
	ml_oauth_config_free(oc);
	ml_config_free(cfg);
}

static void test_parse_tokens(void **state)
{
	(void)state;
	struct ml_oauth_tokens t;
	assert_int_equal(ml_oauth_parse_tokens(200, "{\"access_token\":\"a\",\"refresh_token\":\"r\","
						    "\"expires_in\":3599,\"scope\":\"x y\"}", &t), 0);
	assert_string_equal(t.access_token, "a");
	assert_string_equal(t.refresh_token, "r");
	assert_int_equal(t.expires_in, 3599);
	assert_string_equal(t.scope, "x y");
	ml_oauth_tokens_clear(&t);
	/* Google: no rotation, no refresh token in the answer. */
	assert_int_equal(ml_oauth_parse_tokens(200, "{\"access_token\":\"a\",\"expires_in\":\"60\"}",
					       &t), 0);
	assert_null(t.refresh_token);
	assert_int_equal(t.expires_in, 60);
	ml_oauth_tokens_clear(&t);
	/* Zoom rotated away / Google revoked / Microsoft AADSTS50173: the grant is gone. */
	assert_int_equal(ml_oauth_parse_tokens(400, "{\"reason\":\"Invalid Token!\","
						    "\"error\":\"invalid_grant\"}", &t), ML_EAUTH);
	assert_non_null(strstr(ml_error_message(), "Invalid Token!"));
	assert_int_equal(ml_oauth_parse_tokens(400, "{\"error\":\"invalid_grant\","
						    "\"error_description\":\"AADSTS50173: revoked\\r\\n"
						    "Trace ID: x\"}", &t), ML_EAUTH);
	assert_null(strstr(ml_error_message(), "Trace"));
	/* Transient. */
	assert_int_equal(ml_oauth_parse_tokens(503, "oops", &t), ML_EUNAVAIL);
	assert_int_equal(ml_oauth_parse_tokens(429, "", &t), ML_EUNAVAIL);
	assert_int_equal(ml_oauth_parse_tokens(0, NULL, &t), ML_EUNAVAIL);
	/* Misconfiguration and nonsense. */
	assert_int_equal(ml_oauth_parse_tokens(401, "{\"error\":\"invalid_client\"}", &t), ML_EINVAL);
	assert_int_equal(ml_oauth_parse_tokens(200, "{}", &t), ML_EINVAL);
	assert_int_equal(ml_oauth_parse_tokens(200, "not json", &t), ML_EINVAL);
	char *e = ml_oauth_parse_account("teams", "{\"mail\":null,\"userPrincipalName\":\"a@b\"}");
	assert_string_equal(e, "a@b");
	free(e);
	e = ml_oauth_parse_account("google_meet", "{\"email\":\"g@x\"}");
	assert_string_equal(e, "g@x");
	free(e);
	assert_null(ml_oauth_parse_account("zoom", "{}"));
}

/* --- the protocol on a store --- */

static struct ml_store *store;
static struct ml_vault *vault;
static char dbdir[] = "/tmp/ml-conn-XXXXXX";
static char org[40];
static char conn_id[40];
static const char *HOST = "hst_unit";

static int setup_fn(struct ml_tx *tx, void *arg)
{
	struct ml_oauth_tokens t = {"at-1", "rt-1", 3600, "s"};
	int rc = ml_tx_org_ensure(tx, "unit", org);
	(void)arg;
	if (rc < 0)
		return rc;
	return ml_conn_save_oauth(tx, vault, org, HOST, "zoom", &t, "ada@zoom.test", conn_id);
}

static int setup(void **state)
{
	(void)state;
	char url[128];
	assert_non_null(mkdtemp(dbdir));
	snprintf(url, sizeof url, "sqlite:%s/t.db", dbdir);
	assert_int_equal(ml_store_open(&store, url), 0);
	assert_true(ml_store_migrate(store) >= 0);
	assert_int_equal(ml_vault_new(&vault, "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 0);
	ml_store_set_vault(store, vault);
	assert_int_equal(ml_store_write(store, setup_fn, NULL), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	ml_store_close(store);
	ml_vault_free(vault);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dbdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

struct acq {
	const char *host, *platform;
	int64_t now_ms;
	struct ml_conn_token t;
	enum ml_conn_state s;
	int64_t retry;
};

static int acq_fn(struct ml_tx *tx, void *arg)
{
	struct acq *a = arg;
	return ml_conn_acquire(tx, vault, org, a->host, a->platform, a->now_ms, 10000, &a->t, &a->s,
			       &a->retry);
}

static enum ml_conn_state acquire_at(int64_t now_ms, struct ml_conn_token *out)
{
	struct acq a = {HOST, "zoom", now_ms, {{0}}, 0, 0};
	assert_int_equal(ml_store_write(store, acq_fn, &a), 0);
	if (out)
		*out = a.t;
	else
		ml_conn_token_clear(&a.t);
	return a.s;
}

struct fin {
	bool ok, reauth;
	struct ml_oauth_tokens t;
};

static int fin_fn(struct ml_tx *tx, void *arg)
{
	struct fin *f = arg;
	return f->ok ? ml_conn_refreshed(tx, vault, conn_id, &f->t)
		     : ml_conn_refresh_failed(tx, conn_id, f->reauth, "invalid_grant: Invalid Token!");
}

static int row_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_conn_get_id(tx, conn_id, arg);
}

static void test_protocol(void **state)
{
	(void)state;
	struct ml_conn_token t;
	int64_t now = ml_now_ms();

	/* Fresh: valid, with the decrypted token and the account. */
	assert_int_equal(acquire_at(now, &t), ML_CONN_VALID);
	assert_string_equal(t.access_token, "at-1");
	assert_string_equal(t.account_email, "ada@zoom.test");
	assert_string_equal(t.conn_id, conn_id);
	assert_false(t.org_level);
	ml_conn_token_clear(&t);

	/* Four minutes left (inside the refresh-ahead window): the first caller refreshes... */
	int64_t later = now + (3600 - 240) * 1000LL;
	assert_int_equal(acquire_at(later, &t), ML_CONN_REFRESH);
	assert_string_equal(t.refresh_token, "rt-1");
	ml_conn_token_clear(&t);
	/* ...the others keep using the still-good token. */
	assert_int_equal(acquire_at(later, &t), ML_CONN_VALID);
	assert_string_equal(t.access_token, "at-1");
	ml_conn_token_clear(&t);
	/* The refresher died: its lease runs out and someone else takes over. */
	assert_int_equal(acquire_at(later + 11000, &t), ML_CONN_REFRESH);
	ml_conn_token_clear(&t);
	/* Nearly expired while a lease is held: BUSY, with a short wait. */
	assert_int_equal(acquire_at(now + 3590 * 1000LL, NULL), ML_CONN_REFRESH);
	struct acq a = {HOST, "zoom", now + 3595 * 1000LL, {{0}}, 0, 0};
	assert_int_equal(ml_store_write(store, acq_fn, &a), 0);
	assert_int_equal(a.s, ML_CONN_BUSY);
	assert_in_range(a.retry, 50, 250);
	assert_null(a.t.access_token);
	ml_conn_token_clear(&a.t);

	/* Rotation: the new refresh token is stored with the new access token. */
	struct fin f = {true, false, {"at-2", "rt-2", 3600, "meeting:write"}};
	assert_int_equal(ml_store_write(store, fin_fn, &f), 0);
	assert_int_equal(acquire_at(ml_now_ms(), &t), ML_CONN_VALID);
	assert_string_equal(t.access_token, "at-2");
	ml_conn_token_clear(&t);
	struct ml_conn_row r = {0};
	assert_int_equal(ml_store_read(store, row_fn, &r), 0);
	assert_int_equal(r.lease_until, 0);
	assert_non_null(r.refresh_token);
	assert_null(strstr(r.refresh_token, "rt-2"));
	assert_true(strncmp(r.refresh_token, "mlv1:k1:", 8) == 0);
	ml_conn_row_clear(&r);
	assert_int_equal(acquire_at(ml_now_ms() + 3500 * 1000LL, &t), ML_CONN_REFRESH);
	assert_string_equal(t.refresh_token, "rt-2");
	ml_conn_token_clear(&t);

	/* A stale refresher whose lease ran out, after someone refreshed: not a reauth. */
	struct fin ok3 = {true, false, {"at-3", NULL, 3600, NULL}};
	assert_int_equal(ml_store_write(store, fin_fn, &ok3), 0);
	struct fin stale = {false, true, {0}};
	assert_int_equal(ml_store_write(store, fin_fn, &stale), 0);
	assert_int_equal(ml_store_read(store, row_fn, &r), 0);
	assert_string_equal(r.status, "connected");
	assert_string_equal(r.last_error_code, "refresh_superseded");
	ml_conn_row_clear(&r);
	/* ...but its access token is dropped, so the next user refreshes at once; and a
	 * Google-style refresh (no new refresh token) kept the old refresh token. */
	assert_int_equal(acquire_at(ml_now_ms(), &t), ML_CONN_REFRESH);
	assert_string_equal(t.refresh_token, "rt-2");
	ml_conn_token_clear(&t);

	/* A transient failure releases the lease and keeps the connection. */
	struct fin transient = {false, false, {0}};
	assert_int_equal(ml_store_write(store, fin_fn, &transient), 0);
	assert_int_equal(ml_store_read(store, row_fn, &r), 0);
	assert_string_equal(r.status, "connected");
	assert_int_equal(r.lease_until, 0);
	ml_conn_row_clear(&r);

	/* invalid_grant from the lease holder: reauth_required, tokens erased, jobs wait. */
	assert_int_equal(acquire_at(ml_now_ms() + 3590 * 1000LL, &t), ML_CONN_REFRESH);
	ml_conn_token_clear(&t);
	struct fin dead = {false, true, {0}};
	assert_int_equal(ml_store_write(store, fin_fn, &dead), 0);
	assert_int_equal(ml_store_read(store, row_fn, &r), 0);
	assert_string_equal(r.status, "reauth_required");
	assert_string_equal(r.last_error_code, "reauth_required");
	assert_non_null(strstr(r.last_error, "invalid_grant"));
	assert_null(r.access_token);
	assert_null(r.refresh_token);
	ml_conn_row_clear(&r);
	assert_int_equal(acquire_at(ml_now_ms(), &t), ML_CONN_REAUTH);
	assert_string_equal(t.conn_id, conn_id);
	ml_conn_token_clear(&t);
	/* Said again (another job's provider call refused): nothing changes. */
	assert_int_equal(ml_store_write(store, fin_fn, &dead), 0);
	assert_int_equal(ml_store_read(store, row_fn, &r), 0);
	assert_string_equal(r.status, "reauth_required");
	assert_string_equal(r.last_error_code, "reauth_required");
	ml_conn_row_clear(&r);
	assert_int_equal(acquire_at(ml_now_ms() + 7200 * 1000LL, NULL), ML_CONN_REAUTH);

	/* Reconnecting: same connection, connected again. */
	assert_int_equal(ml_store_write(store, setup_fn, NULL), 0);
	assert_int_equal(acquire_at(ml_now_ms(), &t), ML_CONN_VALID);
	assert_string_equal(t.access_token, "at-1");
	ml_conn_token_clear(&t);
}

struct org_call {
	char id[40];
};

static int org_cred_fn(struct ml_tx *tx, void *arg)
{
	struct org_call *c = arg;
	json_t *cfg = json_pack("{s:s, s:s}", "account_sid", "AC1", "api_key_sid", "SK1");
	json_t *sec = json_pack("{s:s}", "api_key_secret", "shh");
	int rc = ml_conn_save_org(tx, vault, org, "twilio", "twilio", cfg, sec, NULL, c->id);
	json_decref(cfg);
	json_decref(sec);
	if (rc < 0)
		return rc;
	cfg = json_pack("{s:s, s:s}", "account_id", "A1", "client_id", "cid");
	sec = json_pack("{s:s}", "client_secret", "csec");
	rc = ml_conn_save_org(tx, vault, org, "zoom", "zoom_s2s", cfg, sec, NULL, c->id);
	json_decref(cfg);
	json_decref(sec);
	return rc;
}

static void test_org_credentials_and_missing(void **state)
{
	(void)state;
	struct acq a = {"hst_other", "google_meet", ml_now_ms(), {{0}}, 0, 0};
	assert_int_equal(ml_store_write(store, acq_fn, &a), 0);
	assert_int_equal(a.s, ML_CONN_MISSING);
	struct org_call c;
	assert_int_equal(ml_store_write(store, org_cred_fn, &c), 0);
	/* Twilio: valid as it is, secrets merged into extra. */
	a = (struct acq){NULL, "twilio", ml_now_ms(), {{0}}, 0, 0};
	assert_int_equal(ml_store_write(store, acq_fn, &a), 0);
	assert_int_equal(a.s, ML_CONN_VALID);
	assert_true(a.t.org_level);
	assert_string_equal(json_string_value(json_object_get(a.t.extra, "api_key_secret")), "shh");
	assert_string_equal(json_string_value(json_object_get(a.t.extra, "account_sid")), "AC1");
	ml_conn_token_clear(&a.t);
	/* Zoom for a host without a connection: the Server-to-Server credential, which needs a
	 * token first (a client-credentials request). */
	a = (struct acq){"hst_other", "zoom", ml_now_ms(), {{0}}, 0, 0};
	assert_int_equal(ml_store_write(store, acq_fn, &a), 0);
	assert_int_equal(a.s, ML_CONN_REFRESH);
	assert_true(a.t.org_level);
	struct ml_config *cfg = sandbox_cfg();
	struct ml_oauth_config *oc = NULL;
	assert_int_equal(ml_oauth_config_load(&oc, cfg), 0);
	CURL *e = ml_oauth_refresh_easy(oc, &a.t);
	assert_non_null(e);
	curl_easy_cleanup(e);
	ml_oauth_config_free(oc);
	ml_config_free(cfg);
	ml_conn_token_clear(&a.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_pkce_and_authorize_url),
		cmocka_unit_test(test_parse_tokens),
		cmocka_unit_test(test_protocol),
		cmocka_unit_test(test_org_credentials_and_missing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
