#include "providers/room.h"
#include "core/crypto.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

static void slug(char *out, size_t cap, const char *title)
{
	size_t n = 0;
	bool dash = false;

	for (const char *p = title ? title : ""; *p && n + 1 < cap; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n > 0 && n + 2 < cap)
				out[n++] = '-';
			dash = false;
			out[n++] = c;
		} else {
			dash = true;
		}
	}
	out[n] = '\0';
	if (n == 0)
		snprintf(out, cap, "meeting");
}

int ml_room_name(char out[ML_ROOM_MAX], const struct ml_platform_settings *s,
                 const struct ml_meeting_req *req)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t mac[32];
	char gen[16], tag[27], sl[25];

	if (!s || !s->room_secret || s->room_secret_len == 0)
		return -1;
	/* NUL separators keep ("ab","c") and ("a","bc") apart. */
	snprintf(gen, sizeof(gen), "%u", req->generation);
	const char *org = req->org_id ? req->org_id : "",
	           *bkg = req->booking_id ? req->booking_id : "";
	struct ml_buf in = {0};
	ml_buf_append(&in, "meetlink-room", 14);
	ml_buf_append(&in, org, strlen(org) + 1);
	ml_buf_append(&in, bkg, strlen(bkg) + 1);
	ml_buf_append(&in, gen, strlen(gen));
	ml_hmac_sha256(s->room_secret, s->room_secret_len, in.data, in.len, mac);
	ml_buf_free(&in);

	/* 26 characters x 5 bits from the first 17 bytes. */
	for (int i = 0; i < 26; i++) {
		int bit = i * 5, byte = bit / 8, off = bit % 8;
		unsigned v = (unsigned)mac[byte] << 8 | mac[byte + 1];
		tag[i] = b32[(v >> (11 - off)) & 31];
	}
	tag[26] = '\0';
	slug(sl, sizeof(sl), req->title);
	snprintf(out, ML_ROOM_MAX, "%s-%s", sl, tag);
	return 0;
}


void ml_join_window(const struct ml_platform_settings *s, const struct ml_meeting_req *req,
                    int64_t *nbf, int64_t *exp)
{
	*nbf = req->start - (s->join_early_seconds > 0 ? s->join_early_seconds : 0);
	*exp = req->end + (s->join_late_seconds > 0 ? s->join_late_seconds : 0);
}

bool ml_role_is_moderator(const char *role)
{
	return role && (strcmp(role, "host") == 0 || strcmp(role, "admin") == 0);
}

bool ml_room_keep(const struct ml_meeting_req *req, struct ml_meeting *out)
{
	if (!req->external_id || !*req->external_id || !req->join_url || !*req->join_url)
		return false;
	memset(out, 0, sizeof(*out));
	out->external_id = ml_strdup(req->external_id);
	out->join_url = ml_strdup(req->join_url);
	out->host_url = ml_strdup(req->join_url);
	return true;
}

int ml_room_delete(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
		   struct ml_perr *err)
{
	(void)cx;
	(void)req;
	(void)err;
	return 0;
}
