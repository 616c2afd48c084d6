/* The token vault: AES-256-GCM under a key ring (see vault.h for the format). */
#include "core/vault.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16
#define PREFIX "mlv1:"
#define MAX_KEYS 16

struct vault_key {
	char kid[ML_VAULT_KID_MAX + 1];
	uint8_t key[KEY_LEN];
};

struct ml_vault {
	struct vault_key keys[MAX_KEYS]; /* keys[0] is current */
	int nkeys;
	EVP_CIPHER *cipher; /* fetched once: an implicit fetch per call is OpenSSL 3's slow path */
};

/* One cipher context per thread, reused across calls (a context is not thread-safe, and
 * re-initialising one costs less than allocating one). Freed when the thread exits. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *p)
{
	EVP_CIPHER_CTX_free(p);
}

static void ctx_init(void)
{
	pthread_key_create(&ctx_key, ctx_free);
}

static EVP_CIPHER_CTX *thread_ctx(void)
{
	pthread_once(&ctx_once, ctx_init);
	EVP_CIPHER_CTX *c = pthread_getspecific(ctx_key);
	if (!c) {
		c = EVP_CIPHER_CTX_new();
		if (!c)
			abort();
		pthread_setspecific(ctx_key, c);
	}
	return c;
}

static bool kid_ok(const char *s, size_t n)
{
	if (n == 0 || n > ML_VAULT_KID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static int ring_error(const char *what)
{
	return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_VAULT_KEYS",
			    "MEETLINK_VAULT_KEYS must be 'kid:base64key,...' with 32-byte keys: %s",
			    what);
}

int ml_vault_new(struct ml_vault **out, const char *ring)
{
	struct ml_vault *v = ml_calloc(1, sizeof *v);
	const char *p = ring;
	int rc = 0;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\n')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\r'))
			len--;
		const char *colon = memchr(p, ':', len);
		if (!colon) {
			rc = ring_error("an entry has no ':'");
			goto fail;
		}
		size_t klen = (size_t)(colon - p);
		if (!kid_ok(p, klen)) {
			rc = ring_error("a key id must be 1-32 of [A-Za-z0-9._-]");
			goto fail;
		}
		if (v->nkeys == MAX_KEYS) {
			rc = ring_error("at most 16 keys");
			goto fail;
		}
		for (int i = 0; i < v->nkeys; i++)
			if (strlen(v->keys[i].kid) == klen && memcmp(v->keys[i].kid, p, klen) == 0) {
				rc = ring_error("a key id appears twice");
				goto fail;
			}
		size_t dlen = 0;
		uint8_t *key = ml_base64_decode(colon + 1, len - klen - 1, &dlen);
		if (!key || dlen != KEY_LEN) {
			if (key)
				OPENSSL_cleanse(key, dlen);
			free(key);
			rc = ring_error("a key is not 32 bytes of base64");
			goto fail;
		}
		struct vault_key *k = &v->keys[v->nkeys++];
		memcpy(k->kid, p, klen);
		k->kid[klen] = '\0';
		memcpy(k->key, key, KEY_LEN);
		OPENSSL_cleanse(key, KEY_LEN);
		free(key);
		p = end ? end + 1 : NULL;
	}
	if (v->nkeys == 0) {
		rc = ring_error("no key");
		goto fail;
	}
	v->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	if (!v->cipher) {
		rc = ml_error_set(ML_EINTERNAL, "internal_error", NULL,
				  "OpenSSL has no AES-256-GCM");
		goto fail;
	}
	*out = v;
	return 0;
fail:
	ml_vault_free(v);
	return rc;
}

void ml_vault_free(struct ml_vault *v)
{
	if (!v)
		return;
	EVP_CIPHER_free(v->cipher);
	OPENSSL_cleanse(v, sizeof *v);
	free(v);
}

const char *ml_vault_current_kid(const struct ml_vault *v)
{
	return v->keys[0].kid;
}

char *ml_vault_new_key_spec(const char *kid)
{
	uint8_t key[KEY_LEN];
	ml_random(key, sizeof key);
	char *b = ml_base64_encode(key, sizeof key);
	char *s = ml_asprintf("%s:%s", kid, b);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(b, strlen(b));
	free(b);
	return s;
}

/* A key file beside the SQLite store: read it, or make it (O_EXCL, 0600) on first use. */
int ml_vault_load(struct ml_vault **out, const char *ring, const char *db_url, bool *generated,
		  char **key_file)
{
	if (generated)
		*generated = false;
	if (key_file)
		*key_file = NULL;
	if (ring && *ring)
		return ml_vault_new(out, ring);
	if (!db_url || strncmp(db_url, "sqlite:", 7) != 0 || !db_url[7])
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_VAULT_KEYS",
				    "MEETLINK_VAULT_KEYS is required with a PostgreSQL store "
				    "(every node must share the key ring)");
	const char *path = db_url + 7;
	const char *slash = strrchr(path, '/');
	char *file = slash ? ml_asprintf("%.*s/vault.key", (int)(slash - path), path)
			   : ml_strdup("vault.key");
	char buf[4096];
	int rc;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		char kid[32];
		snprintf(kid, sizeof kid, "k%lld", (long long)ml_now());
		char *spec = ml_vault_new_key_spec(kid);
		fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			size_t n = strlen(spec);
			bool ok = write(fd, spec, n) == (ssize_t)n && write(fd, "\n", 1) == 1 &&
				  fsync(fd) == 0;
			close(fd);
			if (!ok) {
				unlink(file);
				fd = -1;
				errno = EIO;
			}
		}
		OPENSSL_cleanse(spec, strlen(spec));
		free(spec);
		if (fd < 0 && errno != EEXIST) {
			rc = ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_VAULT_KEYS",
					  "cannot create the vault key file %s: %s", file,
					  strerror(errno));
			free(file);
			return rc;
		}
		fd = open(file, O_RDONLY | O_CLOEXEC); /* ours, or the one a racing start made */
	}
	if (fd < 0) {
		rc = ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_VAULT_KEYS",
				  "cannot read the vault key file %s: %s", file, strerror(errno));
		free(file);
		return rc;
	}
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	rc = ml_vault_new(out, buf);
	OPENSSL_cleanse(buf, sizeof buf);
	if (rc < 0) {
		rc = ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_VAULT_KEYS",
				  "the vault key file %s is malformed", file);
		free(file);
		return rc;
	}
	if (generated)
		*generated = true;
	if (key_file)
		*key_file = file;
	else
		free(file);
	return 0;
}

/* The associated data actually authenticated: format, key id and the caller's binding. */
static char *full_aad(const char *kid, const char *aad, size_t *n)
{
	char *s = ml_asprintf(PREFIX "%s:%s", kid, aad ? aad : "");
	*n = strlen(s);
	return s;
}

int ml_vault_encrypt(const struct ml_vault *v, const char *aad, const void *plain, size_t n,
		     char **out)
{
	const struct vault_key *k = &v->keys[0];
	EVP_CIPHER_CTX *c = thread_ctx();
	size_t alen;
	char *a = full_aad(k->kid, aad, &alen);
	uint8_t *buf = ml_malloc(NONCE_LEN + n + TAG_LEN);
	int len = 0, fin = 0, ok;

	/* Random 96-bit nonces: far below the 2^32 messages per key where collisions matter. */
	ml_random(buf, NONCE_LEN);
	ok = EVP_EncryptInit_ex2(c, v->cipher, k->key, buf, NULL) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &len, (const uint8_t *)a, (int)alen) == 1 &&
	     EVP_EncryptUpdate(c, buf + NONCE_LEN, &len, plain, (int)n) == 1 &&
	     EVP_EncryptFinal_ex(c, buf + NONCE_LEN + len, &fin) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + NONCE_LEN + n) == 1;
	free(a);
	if (!ok) {
		free(buf);
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "encryption failed");
	}
	char *b = ml_base64url_encode(buf, NONCE_LEN + n + TAG_LEN);
	*out = ml_asprintf(PREFIX "%s:%s", k->kid, b);
	free(b);
	OPENSSL_cleanse(buf, NONCE_LEN + n + TAG_LEN);
	free(buf);
	return 0;
}

static int bad(void)
{
	return ml_error_set(ML_EAUTH, "vault_error", NULL,
			    "A stored secret could not be decrypted (wrong key ring or tampered).");
}

static const struct vault_key *key_of(const struct ml_vault *v, const char *ct,
				      const char **body)
{
	if (!ct || strncmp(ct, PREFIX, strlen(PREFIX)) != 0)
		return NULL;
	const char *kid = ct + strlen(PREFIX);
	const char *colon = strchr(kid, ':');
	if (!colon)
		return NULL;
	size_t klen = (size_t)(colon - kid);
	for (int i = 0; i < v->nkeys; i++)
		if (strlen(v->keys[i].kid) == klen && memcmp(v->keys[i].kid, kid, klen) == 0) {
			*body = colon + 1;
			return &v->keys[i];
		}
	return NULL;
}

int ml_vault_decrypt(const struct ml_vault *v, const char *aad, const char *ct, char **out,
		     size_t *n_out)
{
	const char *body = NULL;
	const struct vault_key *k = key_of(v, ct, &body);
	size_t rawlen = 0, alen;
	uint8_t *raw;
	int len = 0, fin = 0, ok;

	if (!k || !(raw = ml_base64url_decode(body, strlen(body), &rawlen)))
		return bad();
	if (rawlen < NONCE_LEN + TAG_LEN) {
		free(raw);
		return bad();
	}
	size_t n = rawlen - NONCE_LEN - TAG_LEN;
	char *plain = ml_malloc(n + 1);
	char *a = full_aad(k->kid, aad, &alen);
	EVP_CIPHER_CTX *c = thread_ctx();
	ok = EVP_DecryptInit_ex2(c, v->cipher, k->key, raw, NULL) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)a, (int)alen) == 1 &&
	     EVP_DecryptUpdate(c, (uint8_t *)plain, &len, raw + NONCE_LEN, (int)n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + NONCE_LEN + n) == 1 &&
	     EVP_DecryptFinal_ex(c, (uint8_t *)plain + len, &fin) == 1;
	free(a);
	free(raw);
	if (!ok) {
		ml_vault_wipe_free(plain, n + 1);
		return bad();
	}
	plain[n] = '\0';
	*out = plain;
	if (n_out)
		*n_out = n;
	return 0;
}

bool ml_vault_is_current(const struct ml_vault *v, const char *ct)
{
	const char *body;
	return key_of(v, ct, &body) == &v->keys[0];
}

int ml_vault_reseal(const struct ml_vault *v, const char *aad, const char *ct, char **out)
{
	char *plain;
	size_t n;
	int rc = ml_vault_decrypt(v, aad, ct, &plain, &n);
	if (rc < 0)
		return rc;
	rc = ml_vault_encrypt(v, aad, plain, n, out);
	ml_vault_wipe_free(plain, n);
	return rc;
}

void ml_vault_wipe_free(char *s, size_t n)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, n ? n : strlen(s));
	free(s);
}
