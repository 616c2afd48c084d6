#include "sandbox/webhook_sig.h"

#include "core/crypto.h"
#include "core/mem.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

void ml_sbx_zoom_signature(const char *secret, const char *ts, const char *body, size_t body_len,
			   char out[ML_ZOOM_SIG_MAX])
{
	struct ml_buf msg = {0};
	uint8_t mac[32];

	ml_buf_puts(&msg, "v0:");
	ml_buf_puts(&msg, ts);
	ml_buf_puts(&msg, ":");
	ml_buf_append(&msg, body, body_len);
	ml_hmac_sha256(secret, strlen(secret), msg.data, msg.len, mac);
	ml_buf_free(&msg);
	memcpy(out, "v0=", 3);
	ml_hex_encode(mac, sizeof mac, out + 3);
}

void ml_sbx_zoom_url_token(const char *secret, const char *plain_token, char out[65])
{
	uint8_t mac[32];

	ml_hmac_sha256(secret, strlen(secret), plain_token, strlen(plain_token), mac);
	ml_hex_encode(mac, sizeof mac, out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *ml_sbx_twilio_signature(const char *auth_token, const char *url, const json_t *params)
{
	size_t n = json_object_size(params), i = 0;
	const char **keys = ml_calloc(n ? n : 1, sizeof *keys);
	const char *k;
	json_t *v;
	struct ml_buf msg = {0};
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;
	char *sig;

	json_object_foreach((json_t *)params, k, v)
		if (json_is_string(v))
			keys[i++] = k;
	/* Twilio sorts by parameter name (byte order, as twilio-node's Object.keys().sort()). */
	qsort(keys, i, sizeof *keys, cmp_str);
	ml_buf_puts(&msg, url);
	for (size_t j = 0; j < i; j++) {
		ml_buf_puts(&msg, keys[j]);
		ml_buf_puts(&msg, json_string_value(json_object_get(params, keys[j])));
	}
	HMAC(EVP_sha1(), auth_token, (int)strlen(auth_token), (const unsigned char *)msg.data,
	     msg.len, mac, &maclen);
	sig = ml_base64_encode(mac, maclen);
	ml_buf_free(&msg);
	free(keys);
	return sig;
}

char *ml_sbx_jaas_signature(const char *secret, long long t, const char *body, size_t body_len)
{
	struct ml_buf msg = {0};
	uint8_t mac[32];

	ml_buf_printf(&msg, "%lld.", t);
	ml_buf_append(&msg, body, body_len);
	ml_hmac_sha256(secret, strlen(secret), msg.data, msg.len, mac);
	ml_buf_free(&msg);
	char *b64 = ml_base64_encode(mac, sizeof mac);
	char *out = ml_asprintf("t=%lld,v1=%s", t, b64);
	free(b64);
	return out;
}
