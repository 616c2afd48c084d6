/* Signed, expiring connect links (see links.h). */
#include "conn/links.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ml_conn_link_sign(const uint8_t *secret, size_t n, const struct ml_conn_link *l)
{
	char *payload = ml_asprintf("v1|%s|%s|%s|%lld", l->org_id, l->host_id, l->platform,
				    (long long)l->expires_at);
	uint8_t mac[32];
	ml_hmac_sha256(secret, n, payload, strlen(payload), mac);
	char *p64 = ml_base64url_encode(payload, strlen(payload));
	char *m64 = ml_base64url_encode(mac, sizeof mac);
	char *tok = ml_asprintf("%s.%s", p64, m64);
	free(payload);
	free(p64);
	free(m64);
	return tok;
}

static int invalid(void)
{
	return ml_error_set(ML_EAUTH, "invalid_link", NULL,
			    "This connect link is not valid. Ask for a new one.");
}

/* Copies the next '|'-separated field of [*p, end) into out; false when it does not fit. */
static bool field(const char **p, const char *end, char *out, size_t n)
{
	const char *bar = memchr(*p, '|', (size_t)(end - *p));
	size_t len = bar ? (size_t)(bar - *p) : (size_t)(end - *p);
	if (len == 0 || len >= n)
		return false;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p += len + (bar ? 1 : 0);
	return true;
}

int ml_conn_link_verify(const uint8_t *secret, size_t n, const char *token, int64_t now,
			struct ml_conn_link *out)
{
	const char *dot = token ? strchr(token, '.') : NULL;
	size_t plen = 0, mlen = 0;
	uint8_t *payload, *mac, want[32];
	struct ml_conn_link l = {0};
	char ver[8], exp[24];

	if (!dot || strlen(token) > 512)
		return invalid();
	payload = ml_base64url_decode(token, (size_t)(dot - token), &plen);
	mac = ml_base64url_decode(dot + 1, strlen(dot + 1), &mlen);
	if (!payload || !mac) {
		free(payload);
		free(mac);
		return invalid();
	}
	ml_hmac_sha256(secret, n, payload, plen, want);
	bool ok = ml_ct_equal(mac, mlen, want, sizeof want);
	free(mac);
	const char *p = (const char *)payload, *end = p + plen;
	ok = ok && field(&p, end, ver, sizeof ver) && strcmp(ver, "v1") == 0 &&
	     field(&p, end, l.org_id, sizeof l.org_id) &&
	     field(&p, end, l.host_id, sizeof l.host_id) &&
	     field(&p, end, l.platform, sizeof l.platform) && field(&p, end, exp, sizeof exp) &&
	     p == end;
	free(payload);
	if (!ok)
		return invalid();
	char *e;
	l.expires_at = strtoll(exp, &e, 10);
	if (*e)
		return invalid();
	*out = l;
	if (l.expires_at <= now)
		return ml_error_set(ML_EINVAL, "link_expired", NULL,
				    "This connect link has expired. Ask for a new one.");
	return 0;
}

char *ml_conn_link_url(const char *public_url, const char *token)
{
	return ml_asprintf("%s/connect?t=%s", public_url, token);
}

int ml_conn_link_make(struct ml_tx *tx, const char *public_url, const char *org_id,
		      const char *host_id, const char *platform, int64_t ttl, char **url,
		      int64_t *expires_at)
{
	uint8_t secret[ML_CONN_LINK_SECRET_LEN];
	struct ml_conn_link l = {0};
	int rc = ml_tx_secret_ensure(tx, ML_CONN_LINK_SECRET, secret, sizeof secret);
	if (rc < 0)
		return rc;
	snprintf(l.org_id, sizeof l.org_id, "%s", org_id);
	snprintf(l.host_id, sizeof l.host_id, "%s", host_id);
	snprintf(l.platform, sizeof l.platform, "%s", platform);
	l.expires_at = ml_now() + (ttl > 0 ? ttl : ML_CONN_LINK_DEFAULT_TTL);
	char *tok = ml_conn_link_sign(secret, sizeof secret, &l);
	*url = ml_conn_link_url(public_url, tok);
	if (expires_at)
		*expires_at = l.expires_at;
	free(tok);
	memset(secret, 0, sizeof secret);
	return 0;
}
