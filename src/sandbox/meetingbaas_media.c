/* The files a MeetingBaas recording's URLs point at (S3 pre-signed URLs at MeetingBaas,
 * "valid for 2 hours"): GET /meetingbaas/_media/{bot uuid}/{name}?expires=…&signature=…
 * where signature = hex(HMAC-SHA256(the bot's media key, uuid "/" name "/" expires)).
 * A bad or expired signature answers 403 AccessDenied, deleted data 404 NoSuchKey, in S3's
 * XML. The files are tiny stand-ins: an MP4 ftyp box, a silent WAV, a 1x1 PNG. */
#include "sandbox/meetingbaas_internal.h"

#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sign(const json_t *bot, const char *name, long long expires, char out[65])
{
	const char *key = ml_sb_str(bot, "media_key");
	char *msg = ml_asprintf("%s/%s/%lld", ml_sb_str(bot, "uuid"), name, expires);
	uint8_t mac[32];
	ml_hmac_sha256(key ? key : "", key ? strlen(key) : 0, msg, strlen(msg), mac);
	ml_hex_encode(mac, sizeof mac, out);
	free(msg);
}

char *ml_mb_media_url(json_t *bot, const char *name, int64_t ttl)
{
	long long expires = (long long)(ml_sb_now() + ttl);
	char sig[65];
	sign(bot, name, expires, sig);
	return ml_asprintf("%s/meetingbaas/_media/%s/%s?expires=%lld&signature=%s",
	                   ml_sb_base_url(), ml_sb_str(bot, "uuid"), name, expires, sig);
}

static void s3_error(struct ml_http_resp *resp, int status, const char *code, const char *msg)
{
	char *x = ml_asprintf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
	                      "<Message>%s</Message></Error>",
	                      code, msg);
	ml_resp_body_steal(resp, status, "application/xml", x, strlen(x));
}

static const unsigned char mp4[] = {0,   0,   0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o',
                                    'm', 0,   0, 2,    0,   'i', 's', 'o', 'm', 'm', 'p',
                                    '4', '1', 0, 0,    0,   8,   'f', 'r', 'e', 'e'};
static const unsigned char png[] = {0x89, 'P', 'N', 'G',  0x0d, 0x0a, 0x1a, 0x0a, 0,    0, 0, 0x0d,
                                    'I',  'H', 'D', 'R',  0,    0,    0,    1,    0,    0, 0, 1,
                                    8,    6,   0,   0,    0,    0x1f, 0x15, 0xc4, 0x89, 0, 0, 0,
                                    0x0d, 'I', 'D', 'A',  'T',  0x78, 0x9c, 0x63, 0,    1, 0, 0,
                                    5,    0,   1,   0x0d, 0x0a, 0x2d, 0xb4, 0,    0,    0, 0, 'I',
                                    'E',  'N', 'D', 0xae, 0x42, 0x60, 0x82};

/* A WAV header for `n` bytes of silence (8 kHz, 8-bit mono), then the silence. */
static void wav(struct ml_http_resp *resp)
{
	enum { N = 800 };
	unsigned char *b = ml_calloc(1, 44 + N);
	memcpy(b, "RIFF", 4);
	uint32_t v = 36 + N;
	memcpy(b + 4, &v, 4); /* little-endian hosts only; fine for a stand-in */
	memcpy(b + 8, "WAVEfmt ", 8);
	v = 16;
	memcpy(b + 16, &v, 4);
	uint16_t h = 1;
	memcpy(b + 20, &h, 2); /* PCM */
	memcpy(b + 22, &h, 2); /* mono */
	v = 8000;
	memcpy(b + 24, &v, 4);
	memcpy(b + 28, &v, 4);
	memcpy(b + 32, &h, 2);
	h = 8;
	memcpy(b + 34, &h, 2);
	memcpy(b + 36, "data", 4);
	v = N;
	memcpy(b + 40, &v, 4);
	memset(b + 44, 0x80, N);
	ml_resp_body_steal(resp, 200, "audio/wav", (char *)b, 44 + N);
}

void ml_mb_media_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *bot = json_object_get(json_object_get(req->user, "bots"), req->params[0]);
	const char *name = req->params[1], *exp = ml_http_query(req, "expires"),
	           *sig = ml_http_query(req, "signature");
	char *end = NULL;
	long long expires = exp ? strtoll(exp, &end, 10) : 0;
	char want[65];

	if (!bot) {
		s3_error(resp, 404, "NoSuchKey", "The specified key does not exist.");
		return;
	}
	sign(bot, name, expires, want);
	if (!exp || !end || *end || !sig || !ml_sb_secret_equal(sig, want)) {
		s3_error(resp, 403, "AccessDenied",
		         "The request signature we calculated does not match the signature you "
		         "provided.");
		return;
	}
	if (expires < ml_sb_now()) {
		s3_error(resp, 403, "AccessDenied", "Request has expired");
		return;
	}
	bool deleted = json_is_true(json_object_get(bot, "data_deleted"));
	const char *outcome = ml_sb_str(bot, "outcome");
	bool recorded = outcome && !strcmp(outcome, "complete");
	if (deleted || (strncmp(name, "screenshot-", 11) != 0 && !recorded)) {
		s3_error(resp, 404, "NoSuchKey", "The specified key does not exist.");
		return;
	}
	if (!strcmp(name, "video.mp4"))
		ml_resp_body(resp, 200, "video/mp4", mp4, sizeof mp4);
	else if (!strcmp(name, "audio.wav"))
		wav(resp);
	else if (!strncmp(name, "screenshot-", 11))
		ml_resp_body(resp, 200, "image/png", png, sizeof png);
	else
		s3_error(resp, 404, "NoSuchKey", "The specified key does not exist.");
}
