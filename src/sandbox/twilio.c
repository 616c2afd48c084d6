/* The Twilio Video emulator under /twilio: form-encoded REST v1 Rooms and Participants with
 * the shapes of specs/twilio/twilio_video_v1.json, HTTP Basic auth (Account SID + auth token,
 * or API key SID + secret), Twilio's error body {code, message, more_info, status}, the
 * UniqueName rule (unique among in-progress rooms: 53113), rooms that complete after their
 * Unused/EmptyRoomTimeout (applied on the sandbox clock by the ticker, after a clock move,
 * and whenever the state is read), and status callbacks
 * signed with X-Twilio-Signature (twilio-video-notes.json).
 *
 * Participants cannot join without media, so the sandbox simulates them:
 * POST /twilio/_sandbox/Rooms/{Room}/Participants (Identity=…) connects one and
 * POST /twilio/v1/Rooms/{Room}/Participants/{Sid} Status=disconnected (the real API)
 * disconnects it.
 *
 * Listing rooms (paging, filters) is in twilio_list.c.
 *
 * Error codes 53xxx follow Twilio's error dictionary as recalled (53113 is noted in the
 * specs as widely reported); they are not verified against Twilio's own pages. */
#include "sandbox/twilio_internal.h"

#include "sandbox/sbindex.h"

#include "core/jwt.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* Rooms by UniqueName (every status; lock held). A room's UniqueName never changes and rooms
 * are never removed, so the ids under a name are in the order of root["rooms"]. */
static struct ml_sb_index by_name;

/* ---- helpers -------------------------------------------------------------------------- */

void ml_tw_err(struct ml_http_resp *resp, int status, int code, const char *fmt, ...)
{
	char msg[512], more[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(more, sizeof more, "https://www.twilio.com/docs/errors/%d", code);
	ml_resp_json(resp, status, json_pack("{s:i, s:s, s:s, s:i}", "code", code, "message", msg,
					     "more_info", more, "status", status));
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void set_time(json_t *o, const char *k, int64_t t)
{
	char ts[ML_RFC3339_MAX];
	ml_time_format(t, ts);
	set_str(o, k, ts);
}

char *ml_tw_api_url(const char *fmt, ...)
{
	char tail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tail, sizeof tail, fmt, ap);
	va_end(ap);
	return ml_asprintf("%s/twilio/v1%s", ml_sb_base_url(), tail);
}

static void set_url(json_t *o, const char *k, char *v)
{
	json_object_set_new(o, k, json_string(v));
	free(v);
}

/* ---- seed ----------------------------------------------------------------------------- */

static void twilio_seed(json_t *root)
{
	json_object_set_new(root, "accounts",
			    json_pack("{s:{s:s, s:s, s:s, s:s}}", TW_ACCOUNT, "sid", TW_ACCOUNT,
				      "auth_token", TW_TOKEN, "friendly_name", "Sandbox Account",
				      "status", "active"));
	json_object_set_new(root, "api_keys",
			    json_pack("{s:{s:s, s:s, s:s, s:s}}", TW_KEY, "sid", TW_KEY, "secret",
				      TW_KEY_SECRET, "account_sid", TW_ACCOUNT, "friendly_name",
				      "Sandbox API key"));
	json_object_set_new(root, "rooms", json_object());
	json_object_set_new(root, "participants", json_object());
	json_object_set_new(root, "callbacks", json_array());
}

/* ---- auth ----------------------------------------------------------------------------- */

/* The account the request authenticates as (Basic AccountSid:AuthToken or KeySid:Secret),
 * or NULL after Twilio's 401. */
json_t *ml_tw_auth(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = NULL;
	char *user = NULL, *pass = NULL;

	if (ml_sb_basic_auth(req, &user, &pass)) {
		json_t *a = json_object_get(json_object_get(root, "accounts"), user);
		json_t *k = json_object_get(json_object_get(root, "api_keys"), user);
		const char *tok = ml_sb_str(a, "auth_token"), *sec = ml_sb_str(k, "secret");
		if (a && tok && !strcmp(tok, pass) && !strcmp(ml_sb_str(a, "status"), "active"))
			acct = a;
		else if (k && sec && !strcmp(sec, pass))
			acct = json_object_get(json_object_get(root, "accounts"),
					       ml_sb_str(k, "account_sid"));
	}
	free(user);
	free(pass);
	if (!acct) {
		ml_resp_header(resp, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
		ml_tw_err(resp, 401, 20003, "Authenticate");
	}
	return acct;
}

/* ---- status callbacks: twilio_callbacks.c --------------------------------------------- */

#define callback ml_tw_callback

static void participant_extra(json_t *extra, const json_t *pa)
{
	set_str(extra, "ParticipantSid", ml_sb_str(pa, "sid"));
	set_str(extra, "ParticipantIdentity", ml_sb_str(pa, "identity"));
	set_str(extra, "ParticipantStatus", ml_sb_str(pa, "status"));
}

/* ---- state transitions ---------------------------------------------------------------- */

static void disconnect(json_t *root, json_t *room, json_t *pa, int64_t at)
{
	char d[24];
	set_str(pa, "status", "disconnected");
	set_time(pa, "end_time", at);
	set_time(pa, "date_updated", at);
	json_int_t dur = at - json_integer_value(json_object_get(pa, "_start"));
	json_object_set_new(pa, "duration", json_integer(dur));
	json_object_set_new(room, "_last_left", json_integer(at));
	json_t *extra = json_object();
	participant_extra(extra, pa);
	snprintf(d, sizeof d, "%lld", (long long)dur);
	set_str(extra, "ParticipantDuration", d);
	callback(root, room, "participant-disconnected", extra);
}

/* Completes `room` at time `at` (lock held): disconnects whoever is connected. */
static void complete(json_t *root, json_t *room, int64_t at)
{
	json_t *pa;
	const char *k;
	const char *rsid = ml_sb_str(room, "sid");
	char d[24];

	json_object_foreach(json_object_get(root, "participants"), k, pa)
		if (!strcmp(ml_sb_str(pa, "room_sid"), rsid) &&
		    !strcmp(ml_sb_str(pa, "status"), "connected"))
			disconnect(root, room, pa, at);
	json_int_t dur = at - json_integer_value(json_object_get(room, "_created"));
	set_str(room, "status", "completed");
	set_time(room, "end_time", at);
	set_time(room, "date_updated", at);
	json_object_set_new(room, "duration", json_integer(dur));
	snprintf(d, sizeof d, "%lld", (long long)dur);
	callback(root, room, "room-ended", json_pack("{s:s}", "RoomDuration", d));
}

static bool any_connected(json_t *root, const char *rsid)
{
	json_t *pa;
	const char *k;
	json_object_foreach(json_object_get(root, "participants"), k, pa)
		if (!strcmp(ml_sb_str(pa, "room_sid"), rsid) &&
		    !strcmp(ml_sb_str(pa, "status"), "connected"))
			return true;
	return false;
}

/* Applies the timeouts lazily (lock held): a room nobody joined completes UnusedRoomTimeout
 * minutes after creation, one everybody left EmptyRoomTimeout minutes after the last left. */
void ml_tw_tick(json_t *root)
{
	json_t *room;
	const char *k;
	int64_t now = ml_sb_now();
	/* Once per second of the sandbox clock (lock held, so no race): every timeout is a
	 * whole minute or more after something that happened at or before now, so a second
	 * walk within the same second finds nothing. Walking every room on each request made
	 * the sandbox's one lock the bottleneck with thousands of rooms (make chaos). */
	static const json_t *last_root;
	static int64_t last_now = -1;
	if (root == last_root && now == last_now)
		return;
	last_root = root;
	last_now = now;

	json_object_foreach(json_object_get(root, "rooms"), k, room) {
		if (strcmp(ml_sb_str(room, "status"), "in-progress") != 0)
			continue;
		json_t *last = json_object_get(room, "_last_left");
		int64_t at;
		if (!json_is_true(json_object_get(room, "_joined")))
			at = json_integer_value(json_object_get(room, "_created")) +
			     60 * json_integer_value(json_object_get(room, "unused_room_timeout"));
		else if (json_is_integer(last) && !any_connected(root, k))
			at = json_integer_value(last) +
			     60 * json_integer_value(json_object_get(room, "empty_room_timeout"));
		else
			continue;
		if (at <= now)
			complete(root, room, at);
	}
}

/* Rebuilds the UniqueName index when it does not describe `root` (lock held). */
static void index_sync(json_t *root)
{
	json_t *r;
	const char *k;
	if (ml_sb_index_stale(&by_name, root))
		json_object_foreach(json_object_get(root, "rooms"), k, r)
			ml_sb_index_add(&by_name, ml_sb_str(r, "unique_name"), k);
}

/* The rooms named `name`, oldest first (borrowed array of sids, or NULL); lock held. */
json_t *ml_tw_rooms_named(json_t *root, const char *name)
{
	index_sync(root);
	return ml_sb_index_get(&by_name, name);
}

/* The first in-progress room named `name` (of `account`, or any when NULL); borrowed. */
static json_t *in_progress_named(json_t *root, const char *name, const char *account)
{
	json_t *rooms = json_object_get(root, "rooms"), *sid, *v;
	size_t i;
	json_array_foreach(ml_tw_rooms_named(root, name), i, sid) {
		v = json_object_get(rooms, json_string_value(sid));
		if (v && !strcmp(ml_sb_str(v, "status"), "in-progress") &&
		    ml_sb_str(v, "unique_name") && !strcmp(ml_sb_str(v, "unique_name"), name) &&
		    (!account || !strcmp(ml_sb_str(v, "account_sid"), account)))
			return v;
	}
	return NULL;
}

/* A room by RM sid (any status) or by the UniqueName of an in-progress room; borrowed. */
static json_t *find_room(json_t *root, const char *name)
{
	json_t *r = json_object_get(json_object_get(root, "rooms"), name);
	return r ? r : in_progress_named(root, name, NULL);
}

/* The room a path names for this account: an RM sid (any status) or the UniqueName of an
 * in-progress room; NULL after a 20404. */
static json_t *path_room(struct ml_http_req *req, struct ml_http_resp *resp, const json_t *acct,
			 const char *name)
{
	json_t *r = find_room(req->user, name);

	if (!r || strcmp(ml_sb_str(r, "account_sid"), ml_sb_str(acct, "sid")) != 0) {
		ml_tw_err(resp, 404, 20404, "The requested resource %s was not found",
		       req->path);
		return NULL;
	}
	return r;
}

/* The public form of a stored room or participant: members starting with '_' are ours. */
json_t *ml_tw_public(const json_t *o)
{
	json_t *out = json_object(), *v;
	const char *k;
	json_object_foreach((json_t *)o, k, v)
		if (k[0] != '_')
			json_object_set(out, k, v);
	return out;
}

/* ---- rooms ---------------------------------------------------------------------------- */

static bool parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "true"))
		return *out = true, true;
	if (!strcasecmp(s, "false"))
		return *out = false, true;
	return false;
}

bool ml_tw_parse_int(const char *s, long *out)
{
	char *end;
	if (!*s)
		return false;
	*out = strtol(s, &end, 10);
	return *end == '\0';
}

static bool http_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

/* A new room's parameters (the form of POST /v1/Rooms), with Twilio's defaults. */
struct room_params {
	const char *type, *un, *cb, *cbm, *region, *codecs;
	long max, empty, unused, maxdur;
	bool rec_on, audio_only, turn, large;
};

/* Reads and checks the form; false after answering Twilio's 400. */
static bool room_params(struct ml_http_resp *resp, json_t *f, struct room_params *p)
{
	const char *mp = ml_sb_str(f, "MaxParticipants"), *ert = ml_sb_str(f, "EmptyRoomTimeout"),
	           *urt = ml_sb_str(f, "UnusedRoomTimeout"),
	           *mpd = ml_sb_str(f, "MaxParticipantDuration");
	long cap;
	*p = (struct room_params){.type = ml_sb_str(f, "Type"),
	                          .un = ml_sb_str(f, "UniqueName"),
	                          .cb = ml_sb_str(f, "StatusCallback"),
	                          .cbm = ml_sb_str(f, "StatusCallbackMethod"),
	                          .region = ml_sb_str(f, "MediaRegion"),
	                          .codecs = ml_sb_str(f, "VideoCodecs"),
	                          .empty = 5,
	                          .unused = 5,
	                          .maxdur = 14400,
	                          .turn = true};
	if (!p->type)
		p->type = "group";
	if (!strcmp(p->type, "group"))
		cap = 50;
	else if (!strcmp(p->type, "peer-to-peer"))
		cap = 10;
	else if (!strcmp(p->type, "group-small"))
		cap = 4;
	else if (!strcmp(p->type, "go"))
		cap = 2;
	else {
		ml_tw_err(resp, 400, 53108, "RoomType is not valid");
		return false;
	}
	p->max = cap;
	if (p->un && strlen(p->un) > 128) {
		ml_tw_err(resp, 400, 53102, "Room name is too long");
		return false;
	}
	if (mp && (!ml_tw_parse_int(mp, &p->max) || p->max < 1 || p->max > cap)) {
		ml_tw_err(resp, 400, 53107, "MaxParticipants is out of range");
		return false;
	}
	if ((ert && (!ml_tw_parse_int(ert, &p->empty) || p->empty < 1 || p->empty > 60)) ||
	    (urt && (!ml_tw_parse_int(urt, &p->unused) || p->unused < 1 || p->unused > 60))) {
		ml_tw_err(resp, 400, 53109, "Timeout is out of range");
		return false;
	}
	if (mpd && (!ml_tw_parse_int(mpd, &p->maxdur) || p->maxdur < 600 || p->maxdur > 86400)) {
		ml_tw_err(resp, 400, 53123, "MaxParticipantDuration is out of range");
		return false;
	}
	if (p->cbm && strcmp(p->cbm, "POST") && strcmp(p->cbm, "GET")) {
		ml_tw_err(resp, 400, 53110, "StatusCallbackMethod is invalid");
		return false;
	}
	if (p->cb && !http_url(p->cb)) {
		ml_tw_err(resp, 400, 53111, "StatusCallback is invalid");
		return false;
	}
	if (p->region && !strstr(" us1 us2 au1 br1 de1 ie1 in1 jp1 sg1 gll ", p->region)) {
		ml_tw_err(resp, 400, 53115, "MediaRegion is invalid");
		return false;
	}
	if (p->codecs && strcmp(p->codecs, "VP8") && strcmp(p->codecs, "H264")) {
		ml_tw_err(resp, 400, 20001, "Invalid VideoCodecs: %s", p->codecs);
		return false;
	}
	static const char *const bools[] = {
	    "RecordParticipantsOnConnect",     "AudioOnly", "EnableTurn", "LargeRoom",
	    "TranscribeParticipantsOnConnect", NULL};
	bool *dst[] = {&p->rec_on, &p->audio_only, &p->turn, &p->large, NULL};
	for (int i = 0; bools[i]; i++) {
		const char *v = ml_sb_str(f, bools[i]);
		bool tmp;
		if (v && !parse_bool(v, dst[i] ? dst[i] : &tmp)) {
			ml_tw_err(resp, 400, 20001, "Invalid %s: %s", bools[i], v);
			return false;
		}
	}
	return true;
}

/* The stored room `sid` made from checked parameters. */
static json_t *room_new(const json_t *acct, const struct room_params *p, const char *sid,
                        int64_t now)
{
	json_t *r = json_object();
	set_str(r, "sid", sid);
	set_str(r, "status", "in-progress");
	set_time(r, "date_created", now);
	set_time(r, "date_updated", now);
	set_str(r, "account_sid", ml_sb_str(acct, "sid"));
	json_object_set_new(r, "enable_turn", json_boolean(p->turn));
	set_str(r, "unique_name", p->un ? p->un : sid);
	set_str(r, "status_callback", p->cb);
	set_str(r, "status_callback_method", p->cbm ? p->cbm : "POST");
	json_object_set_new(r, "end_time", json_null());
	json_object_set_new(r, "duration", json_null());
	set_str(r, "type", p->type);
	json_object_set_new(r, "max_participants", json_integer(p->max));
	json_object_set_new(r, "max_participant_duration", json_integer(p->maxdur));
	json_object_set_new(r, "max_concurrent_published_tracks",
	                    !strcmp(p->type, "group") ? json_integer(170) : json_null());
	json_object_set_new(r, "record_participants_on_connect", json_boolean(p->rec_on));
	json_object_set_new(r, "video_codecs",
	                    p->codecs ? json_pack("[s]", p->codecs)
	                              : json_pack("[s, s]", "VP8", "H264"));
	set_str(r, "media_region", p->region ? p->region : "us1");
	json_object_set_new(r, "audio_only", json_boolean(p->audio_only));
	json_object_set_new(r, "empty_room_timeout", json_integer(p->empty));
	json_object_set_new(r, "unused_room_timeout", json_integer(p->unused));
	json_object_set_new(r, "large_room", json_boolean(p->large));
	set_url(r, "url", ml_tw_api_url("/Rooms/%s", sid));
	json_t *links = json_object();
	set_url(links, "participants", ml_tw_api_url("/Rooms/%s/Participants", sid));
	set_url(links, "recordings", ml_tw_api_url("/Rooms/%s/Recordings", sid));
	set_url(links, "recording_rules", ml_tw_api_url("/Rooms/%s/RecordingRules", sid));
	set_url(links, "transcriptions", ml_tw_api_url("/Rooms/%s/Transcriptions", sid));
	json_object_set_new(r, "links", links);
	json_object_set_new(r, "_created", json_integer(now));
	json_object_set_new(r, "_joined", json_false());
	json_object_set_new(r, "_sequence", json_integer(0));
	return r;
}

static void create_room(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *acct = ml_tw_auth(req, resp), *f;
	struct room_params p;
	if (!acct)
		return;
	ml_tw_tick(root);
	f = ml_sb_form_body(req);
	if (!room_params(resp, f, &p))
		goto done;
	if (p.un && in_progress_named(root, p.un, ml_sb_str(acct, "sid"))) {
		ml_tw_err(resp, 400, 53113, "Unable to create Room: Room exists");
		goto done;
	}
	char *sid = ml_sb_rand("RM", 32, ML_SB_HEX);
	json_t *r = room_new(acct, &p, sid, ml_sb_now());
	index_sync(root);
	json_object_set_new(json_object_get(root, "rooms"), sid, r);
	ml_sb_index_add(&by_name, ml_sb_str(r, "unique_name"), sid);
	callback(root, r, "room-created", NULL);
	ml_resp_json(resp, 201, ml_tw_public(r));
	free(sid);
done:
	json_decref(f);
}

static void fetch_room(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_tw_auth(req, resp), *r;
	if (!acct)
		return;
	ml_tw_tick(req->user);
	if ((r = path_room(req, resp, acct, req->params[0])))
		ml_resp_json(resp, 200, ml_tw_public(r));
}

static void update_room(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_tw_auth(req, resp), *r, *f;
	if (!acct)
		return;
	ml_tw_tick(req->user);
	if (!(r = path_room(req, resp, acct, req->params[0])))
		return;
	f = ml_sb_form_body(req);
	const char *st = ml_sb_str(f, "Status");
	if (!st) {
		ml_tw_err(resp, 400, 20001, "Missing required parameter Status in the post body");
	} else if (strcmp(st, "completed") != 0) {
		ml_tw_err(resp, 400, 53112, "Status is invalid");
	} else if (strcmp(ml_sb_str(r, "status"), "in-progress") != 0) {
		ml_tw_err(resp, 400, 53118, "Room %s is not in-progress", ml_sb_str(r, "sid"));
	} else {
		complete(req->user, r, ml_sb_now());
		ml_resp_json(resp, 202, ml_tw_public(r));
	}
	json_decref(f);
}

/* ---- participants --------------------------------------------------------------------- */

static json_t *path_participant(struct ml_http_req *req, struct ml_http_resp *resp,
				const json_t *room, const char *name)
{
	json_t *ps = json_object_get(req->user, "participants"), *p = json_object_get(ps, name), *v;
	const char *k, *rsid = ml_sb_str(room, "sid");
	if (!p)
		json_object_foreach(ps, k, v)
			if (!strcmp(ml_sb_str(v, "room_sid"), rsid) &&
			    !strcmp(ml_sb_str(v, "identity"), name) &&
			    !strcmp(ml_sb_str(v, "status"), "connected"))
				p = v;
	if (!p || strcmp(ml_sb_str(p, "room_sid"), rsid) != 0) {
		ml_tw_err(resp, 404, 20404, "The requested resource %s was not found", req->path);
		return NULL;
	}
	return p;
}

static void list_participants(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_tw_auth(req, resp), *room, *p;
	const char *st = ml_http_query(req, "Status"), *id = ml_http_query(req, "Identity"), *k;
	long size, page;
	if (!acct || !ml_tw_paging(req, resp, &size, &page))
		return;
	ml_tw_tick(req->user);
	if (!(room = path_room(req, resp, acct, req->params[0])))
		return;
	if (st && strcmp(st, "connected") && strcmp(st, "disconnected") && strcmp(st, "reconnecting")) {
		ml_tw_err(resp, 400, 20001, "Invalid Status: %s", st);
		return;
	}
	/* Twilio's default: connected participants of an in-progress room; a completed room
	 * only has disconnected ones. */
	if (!st)
		st = strcmp(ml_sb_str(room, "status"), "in-progress") ? "disconnected" : "connected";
	json_t *items = json_array();
	json_object_foreach(json_object_get(req->user, "participants"), k, p) {
		if (strcmp(ml_sb_str(p, "room_sid"), ml_sb_str(room, "sid")) != 0 ||
		    strcmp(ml_sb_str(p, "status"), st) != 0 ||
		    (id && strcmp(ml_sb_str(p, "identity"), id) != 0) || !ml_tw_created_in(req, p))
			continue;
		json_array_append(items, p);
	}
	ml_tw_answer_list(resp, "participants", ml_tw_api_url("/Rooms/%s/Participants", ml_sb_str(room, "sid")),
		    items, size, page);
}

static void fetch_participant(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_tw_auth(req, resp), *room, *p;
	if (!acct)
		return;
	ml_tw_tick(req->user);
	if ((room = path_room(req, resp, acct, req->params[0])) &&
	    (p = path_participant(req, resp, room, req->params[1])))
		ml_resp_json(resp, 200, ml_tw_public(p));
}

static void update_participant(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_tw_auth(req, resp), *room, *p, *f;
	if (!acct)
		return;
	ml_tw_tick(req->user);
	if (!(room = path_room(req, resp, acct, req->params[0])) ||
	    !(p = path_participant(req, resp, room, req->params[1])))
		return;
	f = ml_sb_form_body(req);
	const char *st = ml_sb_str(f, "Status");
	if (st && strcmp(st, "disconnected") != 0) {
		ml_tw_err(resp, 400, 20001, "Invalid Status: %s", st);
	} else {
		if (st && !strcmp(ml_sb_str(p, "status"), "connected"))
			disconnect(req->user, room, p, ml_sb_now());
		ml_resp_json(resp, 202, ml_tw_public(p));
	}
	json_decref(f);
}

/* An Access Token (twilio-video-notes.json: HS256 under an API key's secret, iss = the key's
 * sid, grants.identity, grants.video.room) that lets `identity` into `room`: its identity, or
 * NULL after Twilio's 401 (20101 invalid, 20104 expired, 53106 for another room). */
static const char *token_identity(struct ml_http_resp *resp, json_t *root, const char *token,
                                  const char *room, json_t **claims)
{
	json_t *c = NULL;
	const char *iss = NULL, *sec = NULL;
	if (ml_jwt_decode(NULL, &c, token) == 0)
		iss = ml_sb_str(c, "iss");
	json_t *key = iss ? json_object_get(json_object_get(root, "api_keys"), iss) : NULL;
	sec = ml_sb_str(key, "secret");
	json_decref(c);
	c = NULL;
	if (!sec || ml_jwt_verify_hs256(&c, sec, strlen(sec), token) != 0) {
		ml_tw_err(resp, 401, 20101, "Invalid Access Token");
		return NULL;
	}
	json_t *g = json_object_get(c, "grants");
	const char *id = ml_sb_str(g, "identity");
	const char *r = ml_sb_str(json_object_get(g, "video"), "room");
	int64_t now = ml_sb_now();
	if (json_integer_value(json_object_get(c, "exp")) <= now ||
	    json_integer_value(json_object_get(c, "nbf")) > now + 60) {
		ml_tw_err(resp, 401, 20104, "Access Token expired or not yet valid");
	} else if (!id || !*id) {
		ml_tw_err(resp, 401, 20101, "Invalid Access Token: no identity");
	} else if (r && strcmp(r, room) != 0) {
		ml_tw_err(resp, 404, 53106, "Room not found: the token grants another room");
	} else {
		*claims = c;
		return id;
	}
	json_decref(c);
	return NULL;
}

/* POST /twilio/_sandbox/Rooms/{Room}/Participants Identity=… or AccessToken=…: a participant
 * connects (what a client SDK with an Access Token does: the token is verified when given).
 * No auth of its own: this is the sandbox's hook. A room that completed takes no one again
 * (53118), also by its name: meetlink's rooms are made by the API, never by a client. */
static void sim_connect(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *root = req->user, *room, *f, *p, *claims = NULL;
	const char *k;
	ml_tw_tick(root);
	room = find_room(root, req->params[0]);
	if (!room && json_array_size(ml_tw_rooms_named(root, req->params[0]))) {
		ml_tw_err(resp, 400, 53118, "Room completed");
		return;
	}
	if (!room) {
		ml_tw_err(resp, 404, 53106, "Room not found");
		return;
	}
	if (strcmp(ml_sb_str(room, "status"), "in-progress") != 0) {
		ml_tw_err(resp, 400, 53118, "Room completed");
		return;
	}
	f = ml_sb_form_body(req);
	const char *id = ml_sb_str(f, "Identity");
	const char *tok = ml_sb_str(f, "AccessToken");
	if (tok && !(id = token_identity(resp, root, tok, req->params[0], &claims)))
		goto done;
	if (!id || !*id) {
		ml_tw_err(resp, 400, 20001, "Missing required parameter Identity in the post body");
		goto done;
	}
	size_t connected = 0;
	json_object_foreach(json_object_get(root, "participants"), k, p)
		if (!strcmp(ml_sb_str(p, "room_sid"), ml_sb_str(room, "sid")) &&
		    !strcmp(ml_sb_str(p, "status"), "connected"))
			connected++;
	if ((json_int_t)connected >= json_integer_value(json_object_get(room, "max_participants"))) {
		ml_tw_err(resp, 400, 53105, "Room contains too many Participants");
		goto done;
	}
	char *sid = ml_sb_rand("PA", 32, ML_SB_HEX);
	int64_t now = ml_sb_now();
	const char *rsid = ml_sb_str(room, "sid");
	p = json_object();
	set_str(p, "sid", sid);
	set_str(p, "room_sid", rsid);
	set_str(p, "account_sid", ml_sb_str(room, "account_sid"));
	set_str(p, "status", "connected");
	set_str(p, "identity", id);
	set_time(p, "date_created", now);
	set_time(p, "date_updated", now);
	set_time(p, "start_time", now);
	json_object_set_new(p, "end_time", json_null());
	json_object_set_new(p, "duration", json_null());
	set_url(p, "url", ml_tw_api_url("/Rooms/%s/Participants/%s", rsid, sid));
	json_t *links = json_object();
	set_url(links, "published_tracks",
		ml_tw_api_url("/Rooms/%s/Participants/%s/PublishedTracks", rsid, sid));
	set_url(links, "subscribed_tracks",
		ml_tw_api_url("/Rooms/%s/Participants/%s/SubscribedTracks", rsid, sid));
	set_url(links, "subscribe_rules",
		ml_tw_api_url("/Rooms/%s/Participants/%s/SubscribeRules", rsid, sid));
	set_url(links, "anonymize", ml_tw_api_url("/Rooms/%s/Participants/%s/Anonymize", rsid, sid));
	json_object_set_new(p, "links", links);
	json_object_set_new(p, "_created", json_integer(now));
	json_object_set_new(p, "_start", json_integer(now));
	json_object_set_new(json_object_get(root, "participants"), sid, p);
	json_object_set_new(room, "_joined", json_true());
	json_t *extra = json_object();
	participant_extra(extra, p);
	callback(root, room, "participant-connected", extra);
	ml_resp_json(resp, 201, ml_tw_public(p));
	free(sid);
done:
	json_decref(claims);
	json_decref(f);
}

/* ---- the descriptor ------------------------------------------------------------------- */

static void twilio_error(struct ml_http_resp *resp, int status, const char *message)
{
	if (status == 429)
		ml_tw_err(resp, 429, 20429, "Too Many Requests");
	else if (status == 401)
		ml_tw_err(resp, 401, 20003, "Authenticate");
	else if (status >= 500)
		ml_tw_err(resp, status, 20500, "%s", message ? message : "Internal Server Error");
	else
		ml_tw_err(resp, status, status == 404 ? 20404 : 20001, "%s", message ? message : "Error");
}

static void twilio_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch)
{
	if (mismatch)
		ml_tw_err(resp, 405, 20004, "Method not allowed");
	else
		ml_tw_err(resp, 404, 20404, "The requested resource %s was not found", req->path);
}

static const struct ml_route twilio_routes[] = {
	{"GET", "/v1/Rooms", ml_tw_list_rooms, 0},
	{"POST", "/v1/Rooms", create_room, 0},
	{"GET", "/v1/Rooms/{Sid}", fetch_room, 0},
	{"POST", "/v1/Rooms/{Sid}", update_room, 0},
	{"GET", "/v1/Rooms/{RoomSid}/Participants", list_participants, 0},
	{"GET", "/v1/Rooms/{RoomSid}/Participants/{Sid}", fetch_participant, 0},
	{"POST", "/v1/Rooms/{RoomSid}/Participants/{Sid}", update_participant, 0},
	{"POST", "/_sandbox/Rooms/{Room}/Participants", sim_connect, 0},
	{NULL, NULL, NULL, 0},
};

const struct ml_sb_provider ml_sb_twilio = {
	.name = "twilio",
	.prefix = "/twilio",
	.routes = twilio_routes,
	.seed = twilio_seed,
	.tick = ml_tw_tick, /* rooms complete on the sandbox clock, unasked */
	.not_found = twilio_not_found,
	.error = twilio_error,
};
