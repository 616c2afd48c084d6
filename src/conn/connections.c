/* Connections: the single-flight token protocol of connections.h, and saving, erasing and
 * rendering connections for the API and the connect flow.
 *
 * Single flight: the store row carries a refresh lease (lease_until). ml_conn_acquire() runs
 * inside a write transaction, so on SQLite (one writer) and on PostgreSQL (a conditional
 * UPDATE on the row) exactly one caller takes a free lease and is told ML_CONN_REFRESH; the
 * others see the lease and either keep using a token that is still good for a while (refresh
 * ahead of expiry) or wait briefly (ML_CONN_BUSY). The lease expires by itself, so a refresher
 * that dies loses nothing but lease_ms.
 */
#include "conn/connections.h"
#include "conn/links.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/vault.h"
#include "notify/nudge.h"
#include "notify/outbox.h"
#include "providers/provider.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Refresh when less than REFRESH_AHEAD_S is left, or half the token's lifetime when it lives
 * less than twice that: a provider issuing 120 s tokens (Google's sandbox can) would otherwise
 * be asked for a new token at every use, five times a second while a Meet conference is
 * polled. A VALID token is good for at least MIN_LEFT_S, or half the window. A token issued
 * less than the floor ago (REFRESH_FLOOR_S, or half its lifetime, at least
 * REFRESH_FLOOR_MIN_S) is never refreshed: whatever expiry a provider claims, one refresh per
 * floor and connection at most. */
#define REFRESH_AHEAD_S 300
#define MIN_LEFT_S 60
#define REFRESH_FLOOR_S 30
#define REFRESH_FLOOR_MIN_S 2
#define DEFAULT_LEASE_MS 30000
/* How recent a successful refresh must be for a refused one to count as a lost race. */
#define SUPERSEDE_WINDOW_MS (5 * 60 * 1000)

static char *g_public_url;

/* A provider's or caller's reason, kept to 500 bytes of whole characters. */
static char *cut500(const char *why)
{
	return ml_strndup(why, ml_utf8_cut(why, strlen(why), 500));
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

void ml_conn_configure(const char *public_url)
{
	pthread_mutex_lock(&g_mu);
	free(g_public_url);
	g_public_url = public_url ? ml_strdup(public_url) : NULL;
	pthread_mutex_unlock(&g_mu);
}

static char *public_url_dup(void)
{
	pthread_mutex_lock(&g_mu);
	char *s = ml_strdup(g_public_url ? g_public_url : "http://127.0.0.1:8080");
	pthread_mutex_unlock(&g_mu);
	return s;
}

void ml_conn_token_clear(struct ml_conn_token *t)
{
	if (!t)
		return;
	ml_vault_wipe_free(t->access_token, 0);
	ml_vault_wipe_free(t->refresh_token, 0);
	free(t->account_email);
	json_decref(t->extra);
	memset(t, 0, sizeof *t);
}

bool ml_conn_is_oauth_platform(const char *platform)
{
	return ML_PROVIDER_HAS(ml_provider_find(platform), oauth);
}

bool ml_conn_is_org_platform(const char *platform)
{
	return ML_PROVIDER_HAS(ml_provider_find(platform), creds);
}

/* An organization credential of this kind is exchanged for access tokens (Server-to-Server
 * OAuth): its driver says so with a token grant. */
static bool mints_tokens(const char *platform, const char *kind)
{
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	const struct ml_cred_info *ci = ML_PROVIDER_HAS(ops, creds) ? ops->creds : NULL;
	return ci && ci->token_grant && kind && strcmp(ci->kind, kind) == 0;
}

void ml_conn_aad(char *out, size_t n, const char *row_id, const char *column)
{
	snprintf(out, n, "%s/%s", row_id, column);
}

static int decrypt_col(const struct ml_vault *v, const char *id, const char *col,
		       const char *ct, char **out)
{
	char aad[96];
	*out = NULL;
	if (!ct)
		return 0;
	ml_conn_aad(aad, sizeof aad, id, col);
	return ml_vault_decrypt(v, aad, ct, out, NULL);
}

static int encrypt_col(const struct ml_vault *v, const char *id, const char *col,
		       const char *plain, char **out)
{
	char aad[96];
	*out = NULL;
	if (!plain)
		return 0;
	ml_conn_aad(aad, sizeof aad, id, col);
	return ml_vault_encrypt(v, aad, plain, strlen(plain), out);
}

/* Config (non-secret) and secret members of an organization credential, merged. */
static int org_extra(const struct ml_vault *v, const struct ml_conn_row *r, json_t **out)
{
	json_t *extra = r->config ? json_loads(r->config, 0, NULL) : NULL;
	char *plain = NULL;
	int rc;
	if (!json_is_object(extra)) {
		json_decref(extra);
		extra = json_object();
	}
	if ((rc = decrypt_col(v, r->id, "secret", r->secret, &plain)) < 0) {
		json_decref(extra);
		return rc;
	}
	if (plain) {
		json_t *s = json_loads(plain, 0, NULL);
		if (json_is_object(s))
			json_object_update(extra, s);
		json_decref(s);
		ml_vault_wipe_free(plain, 0);
	}
	*out = extra;
	return 0;
}

static int host_email(struct ml_tx *tx, const char *org_id, const char *host_id, char **out)
{
	json_t *host = NULL;
	*out = NULL;
	if (!host_id)
		return 0;
	int rc = ml_tx_doc_get(tx, ML_KIND_HOST, org_id, host_id, &host);
	if (rc == ML_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	const char *e = json_string_value(json_object_get(host, "email"));
	if (e)
		*out = ml_strdup(e);
	json_decref(host);
	return 0;
}

/* When a connection's token is refreshed, from its lifetime (expires_in when it was issued:
 * expires_at - refreshed_at). Seconds. */
struct refresh_window {
	int64_t ahead;    /* refresh once less than this is left */
	int64_t min_left; /* someone else refreshing: still VALID with at least this left */
	int64_t floor;    /* never refresh a token younger than this */
	int64_t life;     /* the token's lifetime; 0 when unknown */
};

static struct refresh_window refresh_window(const struct ml_conn_row *r)
{
	struct refresh_window w = {REFRESH_AHEAD_S, MIN_LEFT_S, REFRESH_FLOOR_S, 0};
	int64_t issued = r->refreshed_at / 1000;
	int64_t life = issued > 0 && r->expires_at > issued ? r->expires_at - issued : 0;
	w.life = life;
	if (life > 0) {
		int64_t half = life / 2;
		if (half < w.ahead)
			w.ahead = half;
		int64_t floor = half < REFRESH_FLOOR_MIN_S ? REFRESH_FLOOR_MIN_S : half;
		if (floor < w.floor)
			w.floor = floor;
	}
	if (w.ahead / 2 < w.min_left)
		w.min_left = w.ahead / 2;
	return w;
}

/* Whether the token was issued less than the floor ago (a clock that went back counts as
 * not: better one refresh too many than a token used forever). A token that has expired
 * already is refreshed all the same, unless its provider made it that short (a known
 * lifetime): then once per floor at most. */
static bool refresh_too_soon(const struct ml_conn_row *r, const struct refresh_window *w,
			     int64_t left, int64_t now_ms)
{
	return r->access_token && r->refreshed_at > 0 && now_ms >= r->refreshed_at &&
	       now_ms - r->refreshed_at < w->floor * 1000 && (left > 0 || w->life > 0);
}

/* The connection a call on `platform` uses: the host's own (a user grant), or else the
 * organization's credential for the platform, if any (Zoom Server-to-Server makes meetings
 * for the host by email). A revoked one is none. ML_ENOTFOUND when there is none. */
static int find_row(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, struct ml_conn_row *r)
{
	int rc = ML_ENOTFOUND;
	if (host_id && ml_conn_is_oauth_platform(platform)) {
		rc = ml_tx_conn_get(tx, org_id, host_id, platform, r);
		if (rc == 0 && strcmp(r->status, "revoked") == 0) {
			ml_conn_row_clear(r);
			rc = ML_ENOTFOUND;
		}
	}
	if (rc == ML_ENOTFOUND && ml_conn_is_org_platform(platform)) {
		rc = ml_tx_conn_get(tx, org_id, NULL, platform, r);
		if (rc == 0 && strcmp(r->status, "revoked") == 0) {
			ml_conn_row_clear(r);
			rc = ML_ENOTFOUND;
		}
	}
	return rc;
}

int ml_conn_acquire(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
		    const char *host_id, const char *platform, int64_t now_ms, int64_t lease_ms,
		    struct ml_conn_token *out, enum ml_conn_state *state, int64_t *retry_ms)
{
	struct ml_conn_row r = {0};
	struct ml_conn_token t = {0};
	int rc;

	*retry_ms = 0;
	rc = find_row(tx, org_id, host_id, platform, &r);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		*state = ML_CONN_MISSING;
		memset(out, 0, sizeof *out);
		return 0;
	}
	if (rc < 0)
		return rc;

	snprintf(t.conn_id, sizeof t.conn_id, "%s", r.id);
	snprintf(t.platform, sizeof t.platform, "%s", r.platform);
	t.org_level = r.host_id[0] == '\0';
	t.expires_at = r.expires_at;
	if (strcmp(r.status, "connected") != 0) {
		*state = ML_CONN_REAUTH;
		goto ok;
	}
	if (t.org_level) {
		if ((rc = org_extra(vault, &r, &t.extra)) < 0 ||
		    (rc = host_email(tx, org_id, host_id, &t.account_email)) < 0)
			goto fail;
	} else if (r.account_email) {
		t.account_email = ml_strdup(r.account_email);
	}
	/* Credentials that are used as they are (API keys), not exchanged for tokens. */
	if (t.org_level && !mints_tokens(r.platform, r.kind)) {
		*state = ML_CONN_VALID;
		goto ok;
	}
	int64_t now_s = now_ms / 1000;
	int64_t left = r.access_token && r.expires_at ? r.expires_at - now_s : -1;
	struct refresh_window w = refresh_window(&r);
	if (left >= w.ahead || refresh_too_soon(&r, &w, left, now_ms)) {
		if ((rc = decrypt_col(vault, r.id, "access_token", r.access_token,
				      &t.access_token)) < 0)
			goto fail;
		*state = ML_CONN_VALID;
		goto ok;
	}
	if (!ml_tx_writable(tx)) {
		/* Taking the refresh lease is a write: the caller asks again in a write
		 * transaction. */
		ml_conn_row_clear(&r);
		ml_conn_token_clear(&t);
		return 1;
	}
	rc = ml_tx_conn_lease(tx, r.id, now_ms, now_ms + (lease_ms > 0 ? lease_ms : DEFAULT_LEASE_MS));
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		/* This caller refreshes. A user grant spends its refresh token; a Server-to-Server
		 * credential asks for a new token with its client secret (in t.extra). */
		if (!t.org_level && (rc = decrypt_col(vault, r.id, "refresh_token", r.refresh_token,
						      &t.refresh_token)) < 0)
			goto fail;
		if (!t.org_level && !t.refresh_token) {
			/* Nothing to refresh with: the host must connect again. */
			*state = ML_CONN_REAUTH;
			goto ok;
		}
		*state = ML_CONN_REFRESH;
		goto ok;
	}
	if (left >= w.min_left) {
		/* Someone is refreshing ahead of expiry; the current token is still good. */
		if ((rc = decrypt_col(vault, r.id, "access_token", r.access_token,
				      &t.access_token)) < 0)
			goto fail;
		*state = ML_CONN_VALID;
		goto ok;
	}
	int64_t wait = r.lease_until - now_ms;
	*retry_ms = wait < 50 ? 50 : wait > 250 ? 250 : wait;
	*state = ML_CONN_BUSY;
	json_decref(t.extra);
	t.extra = NULL;
ok:
	ml_conn_row_clear(&r);
	*out = t;
	return 0;
fail:
	ml_conn_row_clear(&r);
	ml_conn_token_clear(&t);
	return rc;
}

int ml_conn_refreshed(struct ml_tx *tx, const struct ml_vault *vault, const char *conn_id,
		      const struct ml_oauth_tokens *t)
{
	struct ml_conn_row r = {0};
	char *at = NULL, *rt = NULL;
	int rc = ml_tx_conn_get_id(tx, conn_id, &r);
	if (rc < 0)
		return rc;
	/* The rotated refresh token and the new access token land in one row update, committed
	 * before the caller may use the access token (Zoom kills the old refresh token now). */
	if (t->refresh_token && (rc = encrypt_col(vault, r.id, "refresh_token", t->refresh_token,
						  &rt)) < 0)
		goto done;
	if ((rc = encrypt_col(vault, r.id, "access_token", t->access_token, &at)) < 0)
		goto done;
	if (rt) {
		free(r.refresh_token);
		r.refresh_token = rt;
		rt = NULL;
	}
	free(r.access_token);
	r.access_token = at;
	at = NULL;
	int64_t now = ml_now_ms();
	r.expires_at = now / 1000 + t->expires_in;
	r.lease_until = 0;
	r.refreshed_at = now;
	snprintf(r.status, sizeof r.status, "connected"); /* a working grant, whatever was said */
	if (t->scope) {
		free(r.scopes);
		r.scopes = ml_strdup(t->scope);
	}
	free(r.last_error);
	free(r.last_error_code);
	r.last_error = r.last_error_code = NULL;
	r.last_error_at = 0;
	rc = ml_tx_conn_put(tx, &r);
done:
	free(at);
	free(rt);
	ml_conn_row_clear(&r);
	return rc;
}

int ml_conn_refresh_failed(struct ml_tx *tx, const char *conn_id, bool reauth, const char *why)
{
	struct ml_conn_row r = {0};
	int rc = ml_tx_conn_get_id(tx, conn_id, &r);
	if (rc < 0)
		return rc;
	int64_t now = ml_now_ms();
	if (strcmp(r.status, "connected") != 0) {
		/* Already reauth_required (or revoked): nothing more to say, nobody to nudge. */
		r.lease_until = 0;
		rc = ml_tx_conn_put(tx, &r);
		ml_conn_row_clear(&r);
		return rc;
	}
	/* A stale refresher (its lease ran out and someone else refreshed since, so the token
	 * is good again) sees invalid_grant from a rotated grant: not the host's problem. The
	 * access token is dropped all the same, so the next user refreshes with the newest
	 * refresh token and a grant that really is gone (e.g. a provider that refused an access
	 * token right after a refresh) still ends reauth_required on that attempt. */
	struct refresh_window w = refresh_window(&r);
	bool superseded = reauth && r.lease_until <= now && r.access_token &&
			  r.expires_at - now / 1000 >= w.min_left &&
			  r.refreshed_at >= now - SUPERSEDE_WINDOW_MS;
	r.lease_until = 0;
	free(r.last_error);
	r.last_error = cut500(why ? why : "The refresh failed.");
	free(r.last_error_code);
	r.last_error_code = NULL;
	r.last_error_at = now;
	if (!reauth || superseded) {
		r.last_error_code = ml_strdup(superseded ? "refresh_superseded" : "refresh_failed");
		if (superseded) {
			ml_vault_wipe_free(r.access_token, 0);
			r.access_token = NULL;
			r.expires_at = 0;
		}
		rc = ml_tx_conn_put(tx, &r);
		ml_conn_row_clear(&r);
		return rc;
	}
	r.last_error_code = ml_strdup("reauth_required");
	snprintf(r.status, sizeof r.status, "reauth_required");
	/* The grant is dead: nothing it left behind is worth keeping. */
	ml_vault_wipe_free(r.access_token, 0);
	ml_vault_wipe_free(r.refresh_token, 0);
	r.access_token = r.refresh_token = NULL;
	r.expires_at = 0;
	if ((rc = ml_tx_conn_put(tx, &r)) < 0)
		goto done;

	char *url = NULL, *pub = public_url_dup();
	int64_t exp = 0;
	if (r.host_id[0])
		rc = ml_conn_link_make(tx, pub, r.org_id, r.host_id, r.platform,
				       7 * 24 * 3600, &url, &exp);
	free(pub);
	if (rc < 0)
		goto done;
	json_t *data = json_pack("{s:s, s:s, s:s?, s:s, s:s}", "connection_id", r.id, "platform",
				 r.platform, "host_id", r.host_id[0] ? r.host_id : NULL, "status",
				 "reauth_required", "reason", r.last_error);
	if (url)
		json_object_set_new(data, "connect_url", json_string(url));
	struct ml_audit ev = {r.org_id, NULL, "connection.reauth_required", "system", NULL, data};
	if ((rc = ml_tx_audit_append(tx, &ev)) < 0)
		goto out;
	if (r.host_id[0]) {
		/* The host is nudged to reconnect (email now and after 1, 3, 7 days) and the
		 * organization gets the connection.reauth_required webhook (notify/nudge.h). */
		json_t *host = NULL;
		rc = ml_tx_doc_get(tx, ML_KIND_HOST, r.org_id, r.host_id, &host);
		if (rc == 0)
			rc = ml_notify_reauth_required(tx, r.org_id, r.id, host, r.platform, url,
						       r.last_error);
		else if (rc == ML_ENOTFOUND)
			rc = ml_notify_webhook(tx, r.org_id, "connection.reauth_required", NULL, data);
		json_decref(host);
	} else {
		rc = ml_notify_webhook(tx, r.org_id, "connection.reauth_required", NULL, data);
	}
out:
	json_decref(data);
	free(url);
done:
	ml_conn_row_clear(&r);
	return rc;
}

/* --- saving and erasing --- */

int ml_conn_save_oauth(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
		       const char *host_id, const char *platform, const struct ml_oauth_tokens *t,
		       const char *account_email, char conn_id[40])
{
	struct ml_conn_row r = {0};
	int64_t now = ml_now_ms();
	int rc = ml_tx_conn_get(tx, org_id, host_id, platform, &r);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		memset(&r, 0, sizeof r);
		ml_id_new(r.id, "con");
		snprintf(r.org_id, sizeof r.org_id, "%s", org_id);
		snprintf(r.host_id, sizeof r.host_id, "%s", host_id);
		snprintf(r.platform, sizeof r.platform, "%s", platform);
	} else if (rc < 0) {
		return rc;
	}
	snprintf(r.kind, sizeof r.kind, "oauth");
	snprintf(r.status, sizeof r.status, "connected");
	char *at = NULL, *rt = NULL;
	if ((rc = encrypt_col(vault, r.id, "access_token", t->access_token, &at)) < 0 ||
	    (rc = encrypt_col(vault, r.id, "refresh_token", t->refresh_token, &rt)) < 0) {
		free(at);
		ml_conn_row_clear(&r);
		return rc;
	}
	free(r.access_token);
	free(r.refresh_token);
	r.access_token = at;
	r.refresh_token = rt;
	free(r.account_email);
	r.account_email = account_email ? ml_strdup(account_email) : NULL;
	free(r.scopes);
	r.scopes = t->scope ? ml_strdup(t->scope) : NULL;
	free(r.last_error);
	free(r.last_error_code);
	r.last_error = r.last_error_code = NULL;
	r.last_error_at = 0;
	r.expires_at = now / 1000 + t->expires_in;
	r.lease_until = 0;
	r.connected_at = now;
	r.refreshed_at = now;
	if ((rc = ml_tx_conn_put(tx, &r)) == 0 &&
	    (rc = ml_tx_job_wake(tx, r.id)) >= 0) /* jobs parked on this connection resume */
		rc = ml_notify_reconnected(tx, r.id); /* and the nudges still queued stop */
	if (rc >= 0) {
		snprintf(conn_id, 40, "%s", r.id);
		rc = 0;
	}
	ml_conn_row_clear(&r);
	return rc;
}

int ml_conn_save_org(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
		     const char *platform, const char *kind, json_t *config, json_t *secret,
		     const struct ml_oauth_tokens *t, char conn_id[40])
{
	struct ml_conn_row r = {0};
	int64_t now = ml_now_ms();
	int rc = ml_tx_conn_get(tx, org_id, NULL, platform, &r);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		memset(&r, 0, sizeof r);
		ml_id_new(r.id, "con");
		snprintf(r.org_id, sizeof r.org_id, "%s", org_id);
		snprintf(r.platform, sizeof r.platform, "%s", platform);
	} else if (rc < 0) {
		return rc;
	}
	snprintf(r.kind, sizeof r.kind, "%s", kind);
	snprintf(r.status, sizeof r.status, "connected");
	char *sec_text = json_dumps(secret, JSON_COMPACT);
	char *sec = NULL, *at = NULL;
	rc = encrypt_col(vault, r.id, "secret", sec_text, &sec);
	ml_vault_wipe_free(sec_text, 0);
	if (rc == 0 && t)
		rc = encrypt_col(vault, r.id, "access_token", t->access_token, &at);
	if (rc < 0) {
		free(sec);
		ml_conn_row_clear(&r);
		return rc;
	}
	free(r.secret);
	r.secret = sec;
	free(r.access_token);
	r.access_token = at;
	free(r.refresh_token);
	r.refresh_token = NULL;
	free(r.config);
	r.config = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	free(r.scopes);
	r.scopes = t && t->scope ? ml_strdup(t->scope) : NULL;
	r.expires_at = t ? now / 1000 + t->expires_in : 0;
	free(r.last_error);
	free(r.last_error_code);
	r.last_error = r.last_error_code = NULL;
	r.last_error_at = 0;
	r.lease_until = 0;
	r.connected_at = now;
	r.refreshed_at = t ? now : 0;
	if ((rc = ml_tx_conn_put(tx, &r)) == 0 && (rc = ml_tx_job_wake(tx, r.id)) >= 0)
		rc = ml_notify_reconnected(tx, r.id);
	if (rc >= 0) {
		snprintf(conn_id, 40, "%s", r.id);
		rc = 0;
	}
	ml_conn_row_clear(&r);
	return rc;
}

int ml_conn_erase(struct ml_tx *tx, const char *conn_id, const char *why)
{
	struct ml_conn_row r = {0};
	int rc = ml_tx_conn_get_id(tx, conn_id, &r);
	if (rc < 0)
		return rc;
	snprintf(r.status, sizeof r.status, "revoked");
	free(r.access_token);
	free(r.refresh_token);
	free(r.secret);
	r.access_token = r.refresh_token = r.secret = NULL;
	r.expires_at = 0;
	r.lease_until = 0;
	free(r.last_error);
	free(r.last_error_code);
	r.last_error = why ? cut500(why) : NULL;
	r.last_error_code = why ? ml_strdup("disconnected") : NULL;
	r.last_error_at = why ? ml_now_ms() : 0;
	if ((rc = ml_tx_conn_put(tx, &r)) == 0 && (rc = ml_notify_reconnected(tx, r.id)) > 0)
		rc = 0;
	ml_conn_row_clear(&r);
	return rc;
}

int ml_conn_row_tokens(const struct ml_vault *vault, const struct ml_conn_row *r,
		       char **access_token, char **refresh_token)
{
	int rc = decrypt_col(vault, r->id, "access_token", r->access_token, access_token);
	if (rc < 0)
		return rc;
	if ((rc = decrypt_col(vault, r->id, "refresh_token", r->refresh_token, refresh_token)) < 0) {
		ml_vault_wipe_free(*access_token, 0);
		*access_token = NULL;
	}
	return rc;
}

int ml_conn_rekey(struct ml_tx *tx, const struct ml_vault *vault, int *rewrapped)
{
	static const char *const cols[] = {"access_token", "refresh_token", "secret"};
	struct ml_conn_row *rows = NULL;
	int n = 0, rc = ml_tx_conn_list(tx, NULL, NULL, &rows, &n);
	*rewrapped = 0;
	if (rc < 0)
		return rc;
	for (int i = 0; i < n && rc == 0; i++) {
		struct ml_conn_row *r = &rows[i];
		char **fields[] = {&r->access_token, &r->refresh_token, &r->secret};
		bool changed = false;
		for (int k = 0; k < 3 && rc == 0; k++) {
			char *ct = *fields[k], *fresh = NULL, aad[96];
			if (!ct || ml_vault_is_current(vault, ct))
				continue;
			ml_conn_aad(aad, sizeof aad, r->id, cols[k]);
			if ((rc = ml_vault_reseal(vault, aad, ct, &fresh)) < 0)
				break;
			free(ct);
			*fields[k] = fresh;
			changed = true;
			(*rewrapped)++;
		}
		if (rc == 0 && changed)
			rc = ml_tx_conn_put(tx, r);
	}
	for (int i = 0; i < n; i++)
		ml_conn_row_clear(&rows[i]);
	free(rows);
	return rc;
}

/* --- rendering --- */

json_t *ml_conn_row_json(const struct ml_conn_row *r, const char *connect_url)
{
	char ts[ML_RFC3339_MAX];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", r->id, "object", "connection",
			      "platform", r->platform, "kind", r->kind, "status", r->status);
	json_object_set_new(o, "host_id", r->host_id[0] ? json_string(r->host_id) : json_null());
	json_object_set_new(o, "account_email",
			    r->account_email ? json_string(r->account_email) : json_null());
	json_t *scopes = json_array();
	if (r->scopes) {
		char *s = ml_strdup(r->scopes), *save = NULL;
		for (char *w = strtok_r(s, " ", &save); w; w = strtok_r(NULL, " ", &save))
			json_array_append_new(scopes, json_string(w));
		free(s);
	}
	json_object_set_new(o, "scopes", scopes);
	if (r->expires_at && r->access_token) {
		ml_time_format(r->expires_at, ts);
		json_object_set_new(o, "expires_at", json_string(ts));
	} else {
		json_object_set_new(o, "expires_at", json_null());
	}
	if (r->last_error) {
		ml_time_format(r->last_error_at / 1000, ts);
		json_object_set_new(o, "last_error",
				    json_pack("{s:s, s:s, s:s}", "code",
					      r->last_error_code ? r->last_error_code : "error",
					      "message", r->last_error, "at", ts));
	} else {
		json_object_set_new(o, "last_error", json_null());
	}
	if (r->connected_at) {
		ml_time_format(r->connected_at / 1000, ts);
		json_object_set_new(o, "connected_at", json_string(ts));
	} else {
		json_object_set_new(o, "connected_at", json_null());
	}
	if (r->config) {
		json_t *cfg = json_loads(r->config, 0, NULL);
		if (json_is_object(cfg))
			json_object_set_new(o, "settings", cfg);
		else
			json_decref(cfg);
	}
	json_object_set_new(o, "connect_url", connect_url ? json_string(connect_url) : json_null());
	ml_time_format(r->created_at / 1000, ts);
	json_object_set_new(o, "created_at", json_string(ts));
	ml_time_format(r->updated_at / 1000, ts);
	json_object_set_new(o, "updated_at", json_string(ts));
	return o;
}

bool ml_conn_org_pcreds(struct ml_tx *tx, const struct ml_vault *vault, const char *org_id,
			const char *host_id, const char *platform, struct ml_conn_token *tok,
			struct ml_pcreds *cr)
{
	enum ml_conn_state st = ML_CONN_MISSING;
	int64_t retry;
	memset(tok, 0, sizeof *tok);
	memset(cr, 0, sizeof *cr);
	if (!vault || !platform || !ml_conn_is_org_platform(platform))
		return false;
	/* An organization key is used as it is: a read, no refresh. */
	if (ml_conn_acquire(tx, vault, org_id, host_id, platform, ml_now_ms(), 0, tok, &st,
			    &retry) != 0 ||
	    st != ML_CONN_VALID || !tok->org_level || !tok->extra) {
		ml_conn_token_clear(tok);
		memset(tok, 0, sizeof *tok);
		ml_error_clear();
		return false;
	}
	cr->extra = tok->extra;
	cr->org_level = true;
	return true;
}
