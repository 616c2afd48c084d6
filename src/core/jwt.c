#include "core/jwt.h"
#include "core/json_in.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum jwt_alg { JWT_HS256, JWT_RS256 };

struct ml_jwt_key {
	enum jwt_alg alg;
	EVP_MAC_CTX *mac; /* HS256: keyed once; never used directly, only duplicated */
	EVP_PKEY *pkey;   /* RS256 */
};

#define MAX_SIG 1024 /* RSA-8192 */

int ml_jwt_key_hs256(struct ml_jwt_key **out, const void *secret, size_t n)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	int rc = ML_EINTERNAL;

	if (!secret || n == 0)
		return ml_error_set(ML_EINVAL, "invalid_key", NULL, "the HS256 secret is empty");
	if (!(mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) || !(ctx = EVP_MAC_CTX_new(mac)))
		goto done;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, secret, n, params))
		goto done;
	struct ml_jwt_key *k = ml_calloc(1, sizeof(*k));
	k->alg = JWT_HS256;
	k->mac = ctx;
	ctx = NULL;
	*out = k;
	rc = 0;
done:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	if (rc < 0)
		ml_error_set(rc, "internal", NULL, "cannot set up HMAC-SHA256");
	return rc;
}

static int rsa_sign(const struct ml_jwt_key *k, const void *data, size_t n, uint8_t *sig,
                    size_t *siglen);

int ml_jwt_key_rs256_pem(struct ml_jwt_key **out, const char *pem, size_t n)
{
	BIO *bio;
	EVP_PKEY *pkey;

	if (!pem || n == 0 || n > 64 * 1024)
		return ml_error_set(ML_EINVAL, "invalid_key", NULL,
		                    "the RS256 key is empty or too long");
	bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio)
		return ml_error_set(ML_EINTERNAL, "internal", NULL, "out of memory");
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!pkey)
		return ml_error_set(ML_EINVAL, "invalid_key", NULL,
		                    "the RS256 key is not a PEM private key");
	if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < 2048) {
		EVP_PKEY_free(pkey);
		return ml_error_set(ML_EINVAL, "invalid_key", NULL,
		                    "the RS256 key must be an RSA key of at least 2048 bits");
	}

	struct ml_jwt_key *k = ml_calloc(1, sizeof(*k));
	k->alg = JWT_RS256;
	k->pkey = pkey;
	/* Sign once now, single-threaded: it proves the key works and lets OpenSSL finish any
	 * lazy per-key setup (provider export, blinding) before threads share the key. */
	uint8_t sig[MAX_SIG];
	size_t siglen = sizeof(sig);
	if (rsa_sign(k, "x", 1, sig, &siglen) < 0) {
		ml_jwt_key_free(k);
		return ml_error_set(ML_EINVAL, "invalid_key", NULL, "the RS256 key cannot sign");
	}
	*out = k;
	return 0;
}

int ml_jwt_key_rs256_file(struct ml_jwt_key **out, const char *path)
{
	FILE *f = fopen(path, "rb");
	char buf[64 * 1024];
	size_t n;
	int rc;

	if (!f)
		return ml_error_set(ML_EINVAL, "invalid_key", NULL, "cannot read the key file %s",
		                    path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	rc = ml_jwt_key_rs256_pem(out, buf, n);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

void ml_jwt_key_free(struct ml_jwt_key *k)
{
	if (!k)
		return;
	EVP_MAC_CTX_free(k->mac);
	EVP_PKEY_free(k->pkey);
	free(k);
}

const char *ml_jwt_key_alg(const struct ml_jwt_key *k)
{
	return k->alg == JWT_HS256 ? "HS256" : "RS256";
}

static int hmac_sign(const struct ml_jwt_key *k, const void *data, size_t n, uint8_t out[32])
{
	/* The shared context is only read by the duplication, so threads need no lock. */
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->mac);
	size_t len = 0;
	int ok = c && EVP_MAC_update(c, data, n) && EVP_MAC_final(c, out, &len, 32) && len == 32;
	EVP_MAC_CTX_free(c);
	return ok ? 0 : ML_EINTERNAL;
}

static int rsa_sign(const struct ml_jwt_key *k, const void *data, size_t n, uint8_t *sig,
                    size_t *siglen)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	         EVP_DigestSign(c, sig, siglen, data, n) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : ML_EINTERNAL;
}

static char *b64url_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	char *e = ml_base64url_encode(s, strlen(s));
	free(s);
	return e;
}

int ml_jwt_sign(char **out, const struct ml_jwt_key *k, const char *kid, json_t *header_extra,
                json_t *claims)
{
	json_t *hdr;
	char *h, *p;
	struct ml_buf b = {0};
	uint8_t sig[MAX_SIG];
	size_t siglen = sizeof(sig);
	int rc;

	if (!json_is_object(claims))
		return ml_error_set(ML_EINVAL, "invalid_claims", NULL,
		                    "JWT claims must be an object");
	hdr = json_object();
	json_object_set_new(hdr, "alg", json_string(ml_jwt_key_alg(k)));
	json_object_set_new(hdr, "typ", json_string("JWT"));
	if (kid)
		json_object_set_new(hdr, "kid", json_string(kid));
	if (json_is_object(header_extra)) {
		const char *name;
		json_t *v;
		json_object_foreach(header_extra, name, v)
		{
			if (!json_object_get(hdr, name))
				json_object_set(hdr, name, v);
		}
	}
	h = b64url_json(hdr);
	json_decref(hdr);
	p = b64url_json(claims);
	ml_buf_puts(&b, h);
	ml_buf_puts(&b, ".");
	ml_buf_puts(&b, p);
	free(h);
	free(p);

	if (k->alg == JWT_HS256) {
		siglen = 32;
		rc = hmac_sign(k, b.data, b.len, sig);
	} else {
		rc = rsa_sign(k, b.data, b.len, sig, &siglen);
	}
	if (rc < 0) {
		ml_buf_free(&b);
		return ml_error_set(rc, "internal", NULL, "JWT signing failed");
	}
	char *s = ml_base64url_encode(sig, siglen);
	ml_buf_puts(&b, ".");
	ml_buf_puts(&b, s);
	free(s);
	*out = ml_buf_steal(&b);
	return 0;
}

static json_t *decode_part(const char *s, size_t n)
{
	size_t len;
	uint8_t *raw = ml_base64url_decode(s, n, &len);
	json_t *j;

	if (!raw)
		return NULL;
	j = ml_json_parse((const char *)raw, len, JSON_REJECT_DUPLICATES, ML_JSON_MAX_DEPTH, NULL);
	free(raw);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Splits a compact JWS; returns the offsets of the two dots or -1. */
static int split(const char *t, size_t *d1, size_t *d2)
{
	const char *a = strchr(t, '.'), *b;
	if (!a || !(b = strchr(a + 1, '.')) || strchr(b + 1, '.'))
		return -1;
	*d1 = (size_t)(a - t);
	*d2 = (size_t)(b - t);
	return 0;
}

int ml_jwt_decode(json_t **header, json_t **claims, const char *token)
{
	size_t d1, d2;
	json_t *h, *c;

	if (!token || split(token, &d1, &d2) < 0)
		return ml_error_set(ML_EINVAL, "invalid_token", NULL, "not a compact JWS");
	h = decode_part(token, d1);
	c = decode_part(token + d1 + 1, d2 - d1 - 1);
	if (!h || !c) {
		json_decref(h);
		json_decref(c);
		return ml_error_set(ML_EINVAL, "invalid_token", NULL, "malformed JWS parts");
	}
	if (header)
		*header = h;
	else
		json_decref(h);
	if (claims)
		*claims = c;
	else
		json_decref(c);
	return 0;
}

int ml_jwt_verify(json_t **claims, const struct ml_jwt_key *k, const char *token)
{
	size_t d1 = 0, d2 = 0, siglen = 0;
	json_t *h = NULL, *c = NULL;
	uint8_t *sig = NULL;
	int rc = ML_EAUTH, ok = 0;

	if (ml_jwt_decode(&h, &c, token) < 0)
		goto done;
	split(token, &d1, &d2);
	if (!json_is_string(json_object_get(h, "alg")) ||
	    strcmp(json_string_value(json_object_get(h, "alg")), ml_jwt_key_alg(k)) != 0)
		goto done;
	if (!(sig = ml_base64url_decode(token + d2 + 1, strlen(token + d2 + 1), &siglen)))
		goto done;
	if (k->alg == JWT_HS256) {
		uint8_t mac[32];
		ok = hmac_sign(k, token, d2, mac) == 0 && ml_ct_equal(mac, 32, sig, siglen);
	} else {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		ok = m && EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
		     EVP_DigestVerify(m, sig, siglen, (const uint8_t *)token, d2) == 1;
		EVP_MD_CTX_free(m);
	}
	if (ok) {
		rc = 0;
		if (claims) {
			*claims = c;
			c = NULL;
		}
	}
done:
	free(sig);
	json_decref(h);
	json_decref(c);
	if (rc < 0)
		ml_error_set(rc, "invalid_token", NULL, "the token signature does not verify");
	return rc;
}

int ml_jwt_verify_hs256(json_t **claims, const void *secret, size_t n, const char *token)
{
	struct ml_jwt_key *k;
	int rc;

	if ((rc = ml_jwt_key_hs256(&k, secret, n)) < 0)
		return ML_EAUTH;
	rc = ml_jwt_verify(claims, k, token);
	ml_jwt_key_free(k);
	return rc;
}
