/* Signed connect links: the hosted connect page is reached through a URL that carries who it
 * is for (organization, host), the platform it was made for and its expiry, signed with
 * HMAC-SHA256 under a server secret kept in the store ("connect_link"). The link carries no
 * secret of its own: it is a capability that expires.
 *
 *   token = base64url("v1|<org>|<host>|<platform>|<exp>") "." base64url(HMAC(secret, payload))
 */
#ifndef ML_CONN_LINKS_H
#define ML_CONN_LINKS_H

#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define ML_CONN_LINK_SECRET "connect_link"
#define ML_CONN_LINK_SECRET_LEN 32
#define ML_CONN_LINK_DEFAULT_TTL (24 * 3600)

struct ml_conn_link {
	char org_id[40], host_id[40], platform[16];
	int64_t expires_at; /* Unix seconds */
};

/* A token for the link (caller frees). */
char *ml_conn_link_sign(const uint8_t *secret, size_t n, const struct ml_conn_link *l);
/* Checks a token at `now`: 0 and *out; ML_EAUTH (code "invalid_link") when malformed or not
 * ours; ML_EINVAL (code "link_expired", *out still filled) when it has expired. */
int ml_conn_link_verify(const uint8_t *secret, size_t n, const char *token, int64_t now,
			struct ml_conn_link *out);
/* public_url + "/connect?t=" + token (caller frees). */
char *ml_conn_link_url(const char *public_url, const char *token);

/* Inside a transaction: a fresh connect URL for (org, host, platform) valid ttl seconds,
 * signed with the store's secret. Caller frees *url. */
int ml_conn_link_make(struct ml_tx *tx, const char *public_url, const char *org_id,
		      const char *host_id, const char *platform, int64_t ttl, char **url,
		      int64_t *expires_at);

#endif
