/* Recordings: their settings, their planning in every booking step, and their states
 * (recording.h has the machine). */
#include "core/error.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/recording.h"
#include "notify/outbox.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* --- settings --- */

static const char *const opt_fields[] = {"bot_name",
                                         "recording_mode",
                                         "transcription",
                                         "transcription_provider",
                                         "waiting_room_timeout",
                                         "noone_joined_timeout",
                                         "silence_timeout",
                                         "dispatch_lead_seconds",
                                         NULL};

static int one_of(json_t *in, const char *k, const char *const *allowed, const char *def,
                  json_t *out)
{
	json_t *v = json_object_get(in, k);
	char path[96];
	snprintf(path, sizeof path, "settings.recording_options.%s", k);
	if (!v || json_is_null(v)) {
		json_object_set_new(out, k, json_string(def));
		return 0;
	}
	for (int i = 0; json_is_string(v) && allowed[i]; i++)
		if (strcmp(json_string_value(v), allowed[i]) == 0) {
			json_object_set_new(out, k, json_string(allowed[i]));
			return 0;
		}
	struct ml_buf names = {0};
	for (int i = 0; allowed[i]; i++)
		ml_buf_printf(&names, "%s%s", i ? ", " : "", allowed[i]);
	int rc = ml_error_set(ML_EINVAL, "invalid_field", path, "%s must be one of %s.", path,
	                      names.data);
	ml_buf_free(&names);
	return rc;
}

static int seconds(json_t *in, const char *k, int64_t lo, int64_t hi, json_t *def, json_t *out)
{
	json_t *v = json_object_get(in, k);
	if (!v || json_is_null(v)) {
		json_object_set_new(out, k, def);
		return 0;
	}
	json_decref(def);
	char path[96];
	snprintf(path, sizeof path, "settings.recording_options.%s", k);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return ml_error_set(ML_EINVAL, "invalid_field", path,
		                    "%s must be a whole number of seconds from %lld to %lld.", path,
		                    (long long)lo, (long long)hi);
	json_object_set_new(out, k, json_integer(json_integer_value(v)));
	return 0;
}

int ml_recording_options(json_t *in, json_t **out)
{
	static const char *const modes[] = {"speaker_view", "gallery_view", "audio_only", NULL};
	static const char *const stt[] = {"Default", "Gladia", "Runpod", NULL};
	json_t *o = json_object();
	int rc = 0;
	const char *k;
	json_t *v;

	if (in && !json_is_object(in))
		rc = ml_error_set(ML_EINVAL, "invalid_field", "settings.recording_options",
		                  "settings.recording_options must be an object.");
	json_object_foreach(in, k, v)
	{
		bool known = false;
		for (int i = 0; opt_fields[i]; i++)
			known = known || strcmp(opt_fields[i], k) == 0;
		if (!known && rc == 0)
			rc = ml_error_set(ML_EINVAL, "unknown_field", "settings.recording_options",
			                  "settings.recording_options has no member %.40s.", k);
	}
	const char *name = str(in, "bot_name");
	json_t *nv = json_object_get(in, "bot_name");
	if (rc == 0 && nv && !json_is_null(nv)) {
		bool bad = !name || !name[0] || strlen(name) > 100;
		for (const unsigned char *p = (const unsigned char *)name; !bad && *p; p++)
			bad = *p < 0x20 || *p == 0x7f;
		if (bad)
			rc = ml_error_set(ML_EINVAL, "invalid_field",
			                  "settings.recording_options.bot_name",
			                  "settings.recording_options.bot_name must be 1 to 100 "
			                  "characters on one line.");
	}
	if (rc == 0)
		json_object_set_new(o, "bot_name", json_string(name ? name : "meetlink recorder"));
	json_t *tr = json_object_get(in, "transcription");
	if (rc == 0 && tr && !json_is_boolean(tr))
		rc = ml_error_set(ML_EINVAL, "invalid_field", "settings.recording_options.transcription",
		                  "settings.recording_options.transcription must be true or false.");
	if (rc == 0)
		json_object_set_new(o, "transcription", json_boolean(!tr || json_is_true(tr)));
	/* Timeouts as MeetingBaas documents them (AutomaticLeaveRequest): null keeps its
	 * default. */
	if (rc == 0 && (rc = one_of(in, "recording_mode", modes, "speaker_view", o)) == 0 &&
	    (rc = one_of(in, "transcription_provider", stt, "Default", o)) == 0 &&
	    (rc = seconds(in, "waiting_room_timeout", 120, 1800, json_null(), o)) == 0 &&
	    (rc = seconds(in, "noone_joined_timeout", 120, 1800, json_null(), o)) == 0 &&
	    (rc = seconds(in, "silence_timeout", 300, 1800, json_null(), o)) == 0)
		rc = seconds(in, "dispatch_lead_seconds", 0, 3600, json_integer(120), o);
	if (rc < 0) {
		json_decref(o);
		return rc;
	}
	*out = o;
	return 0;
}

int ml_recording_allowed(const char *platform)
{
	const struct ml_provider_ops *rec = ml_provider_recorder();
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	if (!rec)
		return ml_error_set(ML_EINVAL, "recording_unavailable", "settings.recording",
		                    "This server has no recorder platform.");
	if (!ops || !(ops->caps & ML_CAP_BOT_JOINS)) {
		struct ml_buf names = {0};
		for (const struct ml_provider_ops *const *p = ml_provider_all(); *p; p++)
			if ((*p)->caps & ML_CAP_BOT_JOINS)
				ml_buf_printf(&names, "%s%s", names.len ? ", " : "", (*p)->name);
		int rc = ml_error_set(ML_EINVAL, "recording_not_supported", "settings.recording",
		                      "settings.recording needs a platform a %s bot can join (%s), "
		                      "not %s.",
		                      rec->label, names.data ? names.data : "none",
		                      platform ? platform : "an offline service");
		ml_buf_free(&names);
		return rc;
	}
	return 0;
}

/* --- knobs --- */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int64_t g_reconcile_s = 900;
static int g_reconcile_max = 6;

static void read_knobs(void)
{
	const char *v = getenv("MEETLINK_RECORDING_RECONCILE_SECONDS");
	char *end;
	long long n = v && *v ? strtoll(v, &end, 10) : -1;
	if (n >= 1 && n <= 86400 && !*end)
		g_reconcile_s = n;
	v = getenv("MEETLINK_RECORDING_RECONCILE_MAX");
	n = v && *v ? strtoll(v, &end, 10) : -1;
	if (n >= 1 && n <= 100 && !*end)
		g_reconcile_max = (int)n;
}

int64_t ml_rec_reconcile_s(void)
{
	pthread_once(&g_once, read_knobs);
	return g_reconcile_s;
}

int ml_rec_reconcile_max(void)
{
	pthread_once(&g_once, read_knobs);
	return g_reconcile_max;
}

/* --- the state machine --- */

static int rank(const char *s)
{
	static const char *const order[] = {"scheduled", "joining",    "waiting_room",
	                                    "recording", "processing", NULL};
	for (int i = 0; s && order[i]; i++)
		if (strcmp(order[i], s) == 0)
			return i;
	return 100; /* ready, failed, cancelled, deleted: final */
}

static bool final_state(const char *s)
{
	return rank(s) >= 100;
}

int ml_rec_save(struct ml_tx *tx, json_t *rec)
{
	char now[ML_RFC3339_MAX];
	ml_time_format(ml_now(), now);
	json_object_set_new(rec, "updated_at", json_string(now));
	return ml_tx_recording_put(tx, str(rec, "org_id"), rec);
}

static int audit(struct ml_tx *tx, json_t *rec, const char *type, const char *actor,
                 const char *ip, json_t *data)
{
	json_object_set_new(data, "recording_id", json_string(str(rec, "id")));
	struct ml_audit a = {str(rec, "org_id"), str(rec, "booking_id"), type, actor, ip, data};
	int rc = ml_tx_audit_append(tx, &a);
	json_decref(data);
	return rc;
}

int ml_rec_move(struct ml_tx *tx, json_t *rec, const char *state, const char *reason,
                const char *message, const char *actor, bool *moved)
{
	const char *cur = str(rec, "state");
	bool fwd = !final_state(cur) && (final_state(state) || rank(state) > rank(cur));
	int rc;
	if (moved)
		*moved = fwd;
	if (!fwd)
		return 0;
	json_object_set_new(rec, "state", json_string(state));
	/* The bot as a participant of the meeting (ml_recording_participant): in it from
	 * recording on, out of it once that is over. */
	char at[ML_RFC3339_MAX];
	ml_time_format(ml_now(), at);
	if (strcmp(state, "recording") == 0 && !str(rec, "joined_at"))
		json_object_set_new(rec, "joined_at", json_string(at));
	else if (rank(state) > rank("recording") && str(rec, "joined_at") && !str(rec, "left_at"))
		json_object_set_new(rec, "left_at", json_string(at));
	if (strcmp(state, "failed") == 0)
		json_object_set_new(rec, "failure",
		                    json_pack("{s:s, s:s}", "reason", reason ? reason : "failed",
		                              "message", message ? message : ""));
	char type[48];
	snprintf(type, sizeof type, "recording.%s", state);
	if ((rc = audit(tx, rec, type, actor, NULL,
	                strcmp(state, "failed") == 0
	                    ? json_pack("{s:s}", "reason", reason ? reason : "failed")
	                    : json_object())) < 0 ||
	    (rc = ml_rec_save(tx, rec)) < 0)
		return rc;
	if (strcmp(state, "failed") == 0 || strcmp(state, "ready") == 0) {
		json_t *data = ml_recording_view(rec, true);
		rc = ml_notify_webhook(tx, str(rec, "org_id"),
		                       strcmp(state, "ready") == 0 ? "recording.ready"
		                                                   : "recording.failed",
		                       str(rec, "booking_id"), data);
		json_decref(data);
	}
	return rc;
}

int ml_rec_enqueue(struct ml_tx *tx, json_t *rec, const char *kind, int64_t run_at_ms,
                   json_t *more)
{
	char group[80], ck[96];
	const char *id = str(rec, "id");
	json_t *p = json_pack("{s:s}", "recording_id", id);
	if (more)
		json_object_update(p, more);
	/* The sync runs beside the bot's own calls (a reconcile far ahead must not hold a
	 * retranscribe back); dispatch, leave, retranscribe and delete run one at a time. */
	bool sync = strcmp(kind, "recording.sync") == 0;
	snprintf(group, sizeof group, "%s:%s", sync ? "recsync" : "rec", id);
	snprintf(ck, sizeof ck, "%s:%s", kind, id);
	struct ml_job_new j = {
	    .org_id = str(rec, "org_id"),
	    .kind = kind,
	    .group_key = group,
	    .coalesce_key = sync || strcmp(kind, "recording.dispatch") == 0 ? ck : NULL,
	    .payload = p,
	    .run_at_ms = run_at_ms,
	    .max_attempts = 10,
	};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(p);
	return rc;
}

/* --- planning, in every booking step --- */

/* A booking keeps its bot from confirmed through in_progress (live presence moves it there
 * on the first join, which may be the host's, before the bot was sent). */
bool ml_recording_booking_live(const char *status)
{
	return status && (strcmp(status, "confirmed") == 0 || strcmp(status, "in_progress") == 0);
}

static bool wants_recording(json_t *booking, json_t *service)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *ms = str(m, "status");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	return ml_recording_booking_live(str(booking, "status")) &&
	       json_is_true(json_object_get(json_object_get(service, "settings"), "recording")) &&
	       ops && (ops->caps & ML_CAP_BOT_JOINS) && ml_provider_recorder() && ms &&
	       strcmp(ms, "cancelled") != 0 && strcmp(ms, "none") != 0;
}

static int64_t dispatch_at_ms(json_t *booking, json_t *opts, bool now)
{
	int64_t start = 0;
	ml_time_parse(str(booking, "start"), &start);
	int64_t lead = json_integer_value(json_object_get(opts, "dispatch_lead_seconds"));
	int64_t at = (start - lead) * 1000;
	return now || at < ml_now_ms() ? 0 : at;
}

/* The booking's start moved after the recording's bot was sent, or after its dispatch was
 * due (it may be in flight: the leave queued behind it finds the bot). */
static bool moved_after_dispatch(json_t *rec, json_t *booking)
{
	const char *was = str(rec, "start"), *now = str(booking, "start");
	if (!was || !now || strcmp(was, now) == 0 || final_state(str(rec, "state")))
		return false;
	if (str(rec, "bot_id") || strcmp(str(rec, "state"), "scheduled") != 0)
		return true;
	int64_t start = 0;
	ml_time_parse(was, &start);
	int64_t lead = json_integer_value(
	    json_object_get(json_object_get(rec, "options"), "dispatch_lead_seconds"));
	return (start - lead) * 1000 <= ml_now_ms();
}

/* The meeting went (or the booking no longer records): stop its recording. */
static int retire(struct ml_tx *tx, json_t *rec, const char *actor)
{
	const char *state = str(rec, "state");
	int rc;
	if (final_state(state) || json_is_true(json_object_get(rec, "leave_requested")))
		return 0;
	char group[80];
	snprintf(group, sizeof group, "rec:%s", str(rec, "id"));
	if ((rc = ml_tx_job_cancel_group(tx, group, "recording.dispatch")) < 0)
		return rc;
	json_object_set_new(rec, "leave_requested", json_true());
	/* A bot sent (or being sent right now) leaves; the leave job, queued after the
	 * dispatch, finds out which. */
	if ((rc = ml_rec_enqueue(tx, rec, "recording.leave", 0, NULL)) < 0)
		return rc;
	/* Not in the meeting yet (no bot, one being sent, or one waiting for its start):
	 * nothing was recorded; the bot's later webhooks change nothing. */
	if (strcmp(state, "scheduled") == 0)
		return ml_rec_move(tx, rec, "cancelled", NULL, NULL, actor, NULL);
	return ml_rec_save(tx, rec);
}

/* `round`: how many bots this meeting had before (a booking moved after its bot was sent
 * gets a new one): the first key is meetlink-{booking}-g{generation}, the next ones end in
 * -r{round + 1}. */
static json_t *new_recording(const char *org_id, json_t *booking, json_t *opts, int round)
{
	json_t *m = json_object_get(booking, "meeting");
	char id[40], now[ML_RFC3339_MAX], key[120], suffix[24] = "";
	ml_id_new(id, "rec");
	ml_time_format(ml_now(), now);
	if (round > 0)
		snprintf(suffix, sizeof suffix, "-r%d", round + 1);
	snprintf(key, sizeof key, "meetlink-%s-g%lld%s", str(booking, "id"),
	         (long long)json_integer_value(json_object_get(m, "generation")), suffix);
	bool tr = json_is_true(json_object_get(opts, "transcription"));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:n, s:n, s:s, s:O, s:n, s:n, "
	                 "s:n, s:s, s:[], s:[], s:s, s:s}",
	                 "id", id, "object", "recording", "org_id", org_id, "booking_id",
	                 str(booking, "id"), "meeting_id", str(m, "id"), "host_id",
	                 str(booking, "host_id"), "platform", str(m, "platform"), "state",
	                 "scheduled", "failure", "bot_id", "dedup_key", key, "options", opts,
	                 "media_url", "audio_url", "duration_seconds", "transcript_state",
	                 tr ? "pending" : "off", "speakers", "transcript", "created_at", now,
	                 "updated_at", now);
}

static int plan(struct ml_tx *tx, const struct ml_step *st, json_t *booking, json_t *service,
                bool now)
{
	json_t *settings = json_object_get(service, "settings");
	bool wants = wants_recording(booking, service);
	json_t *items = NULL;
	char *next = NULL;
	int rc;

	/* Only bookings of a service that records (or did) have recordings to look at. */
	if (!wants && !json_is_true(json_object_get(settings, "recording")))
		return 0;
	struct ml_recording_query q = {.limit = 50, .booking_id = str(booking, "id")};
	if ((rc = ml_tx_recording_list(tx, st->org_id, &q, &items, &next)) < 0)
		return rc;
	free(next);
	const char *mid = str(json_object_get(booking, "meeting"), "id");
	json_t *current = NULL, *r;
	int round = 0;
	size_t i;
	json_array_foreach(items, i, r)
	{
		bool this_meeting = mid && strcmp(str(r, "meeting_id"), mid) == 0;
		round += this_meeting;
		/* A recording told to leave (its booking moved after the bot was sent) is done
		 * with: the meeting's next one is current. */
		if (wants && this_meeting && !json_is_true(json_object_get(r, "leave_requested"))) {
			current = r;
			continue;
		}
		json_object_set_new(r, "org_id", json_string(st->org_id));
		if ((rc = retire(tx, r, st->actor)) < 0)
			goto done;
	}
	if (!wants)
		goto done;
	json_t *opts = NULL;
	if ((rc = ml_recording_options(json_object_get(settings, "recording_options"), &opts)) < 0) {
		/* Stored settings were valid when saved; defaults stand in for anything else. */
		ml_error_clear();
		ml_recording_options(NULL, &opts);
	}
	int64_t at = dispatch_at_ms(booking, opts, now);
	if (current && moved_after_dispatch(current, booking)) {
		/* The bot was sent (or its dispatch was due, so may be under way) for the old
		 * time: it is taken out, and the new time gets a bot of its own. */
		json_object_set_new(current, "org_id", json_string(st->org_id));
		if ((rc = retire(tx, current, st->actor)) < 0)
			goto opts_done;
		current = NULL;
	}
	if (!current) {
		json_t *rec = new_recording(st->org_id, booking, opts, round);
		json_object_set_new(rec, "start", json_string(str(booking, "start")));
		if ((rc = ml_rec_save(tx, rec)) == 0 &&
		    (rc = ml_rec_enqueue(tx, rec, "recording.dispatch", at, NULL)) == 0)
			rc = audit(tx, rec, "recording.scheduled", st->actor, st->ip, json_object());
		json_decref(rec);
	} else if (strcmp(str(current, "state"), "scheduled") == 0 && !str(current, "bot_id") &&
	           (!str(current, "start") ||
	            strcmp(str(current, "start"), str(booking, "start")) != 0)) {
		/* The booking moved before its bot was sent: so does the dispatch (the queued job
		 * is replaced). */
		json_object_set_new(current, "org_id", json_string(st->org_id));
		json_object_set_new(current, "start", json_string(str(booking, "start")));
		if ((rc = ml_rec_save(tx, current)) == 0)
			rc = ml_rec_enqueue(tx, current, "recording.dispatch", at, NULL);
	}
opts_done:
	json_decref(opts);
done:
	json_decref(items);
	return rc;
}

int ml_recording_plan(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                      json_t *service)
{
	return plan(tx, st, booking, service, false);
}

int ml_recording_plan_now(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                          json_t *service)
{
	return plan(tx, st, booking, service, true);
}

/* --- the recorder's webhooks --- */

int ml_recording_owner(struct ml_tx *tx, const char *platform, const char *subject,
                       char org_id[40])
{
	char bkg[40], rec[40];
	return ml_tx_provider_meeting_find(tx, platform, subject, org_id, bkg, rec);
}

int ml_recording_on_event(struct ml_tx *tx, const char *platform,
                          const struct ml_inbound_event *ev, const char *ip, bool *applied)
{
	char org[40], bkg[40], rid[40], actor[64];
	json_t *rec = NULL;
	int rc;
	(void)ip;
	*applied = false;
	rc = ml_tx_provider_meeting_find(tx, platform, ev->external_id, org, bkg, rid);
	if (ev->calendar_id[0] && rc != ML_ENOTFOUND) {
		/* A calendar's bot: the calendar's organization vouched for the webhook, and
		 * the bot must be that organization's. */
		char corg[40], host[40], cid[40];
		int c = ml_tx_provider_meeting_find(tx, platform, ev->calendar_id, corg, host, cid);
		if (c < 0)
			return c;
		if (rc == 0 && strcmp(corg, org) != 0)
			return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "Unknown bot.");
	}
	if (rc == ML_ENOTFOUND && ev->calendar_id[0] &&
	    (strcmp(ev->state, "processing") == 0 || strcmp(ev->state, "failed") == 0)) {
		ml_error_clear();
		rc = ml_rec_calendar_adopt(tx, platform, ev, org, rid);
	}
	if (rc < 0 || (rc = ml_tx_recording_get(tx, org, rid, &rec)) < 0)
		return rc;
	json_object_set_new(rec, "org_id", json_string(org));
	snprintf(actor, sizeof actor, "provider:%s", platform);
	if (ev->state[0])
		rc = ml_rec_move(tx, rec, ev->state, ev->reason, ev->message, actor, applied);
	/* Processing is overdue once the margin passed without the recording: ask the bot
	 * then (a lost `complete` is healed so; this replaces the end-of-meeting check). */
	if (rc == 0 && *applied && strcmp(ev->state, "processing") == 0 && !ev->fetch[0]) {
		json_t *more = json_pack("{s:s, s:i}", "fetch", "reconcile", "round", 1);
		rc = ml_rec_enqueue(tx, rec, "recording.sync",
		                    ml_now_ms() + ml_rec_reconcile_s() * 1000, more);
		json_decref(more);
	}
	if (rc == 0 && ev->fetch[0] && strcmp(str(rec, "state"), "deleted") != 0 &&
	    strcmp(str(rec, "state"), "failed") != 0) {
		json_t *more = json_pack("{s:s, s:i}", "fetch", ev->fetch, "round", 0);
		rc = ml_rec_enqueue(tx, rec, "recording.sync", 0, more);
		json_decref(more);
		*applied = true;
	}
	json_decref(rec);
	return rc;
}

int ml_recording_calendar_event(struct ml_tx *tx, const char *platform,
                                const struct ml_inbound_event *ev)
{
	char org[40], host[40], cid[40], now[ML_RFC3339_MAX];
	json_t *cal = NULL;
	int rc;
	if ((rc = ml_tx_provider_meeting_find(tx, platform, ev->external_id, org, host, cid)) < 0 ||
	    (rc = ml_tx_recording_calendar_get(tx, org, cid, &cal)) < 0)
		return rc;
	ml_time_format(ml_now(), now);
	json_object_set_new(cal, "synced_at", json_string(now));
	rc = ml_tx_recording_calendar_put(tx, org, cal);
	json_decref(cal);
	return rc;
}

/* --- the API's actions --- */

int ml_recording_retranscribe(struct ml_tx *tx, const char *org_id, json_t *rec,
                              const char *actor, const char *ip)
{
	int rc;
	json_object_set_new(rec, "org_id", json_string(org_id));
	if (strcmp(str(rec, "state"), "ready") != 0 || !str(rec, "bot_id"))
		return ml_error_set(ML_ECONFLICT, "recording_not_ready", "state",
		                    "Only a ready recording can be transcribed again (its state is "
		                    "%s).",
		                    str(rec, "state"));
	json_object_set_new(rec, "transcript_state", json_string("pending"));
	if ((rc = ml_rec_save(tx, rec)) < 0 ||
	    (rc = ml_rec_enqueue(tx, rec, "recording.retranscribe", 0, NULL)) < 0)
		return rc;
	return audit(tx, rec, "recording.retranscribe_requested", actor, ip, json_object());
}

int ml_recording_delete(struct ml_tx *tx, const char *org_id, json_t *rec, const char *actor,
                        const char *ip)
{
	int rc;
	const char *state = str(rec, "state");
	json_object_set_new(rec, "org_id", json_string(org_id));
	if (strcmp(state, "deleted") == 0)
		return 0;
	if (!final_state(state))
		return ml_error_set(ML_ECONFLICT, "recording_in_progress", "state",
		                    "The recording is %s; it can be deleted once it is ready or "
		                    "failed.",
		                    state);
	if (str(rec, "bot_id") &&
	    (rc = ml_rec_enqueue(tx, rec, "recording.delete", 0, NULL)) < 0)
		return rc;
	json_object_set_new(rec, "state", json_string("deleted"));
	json_object_set_new(rec, "media_url", json_null());
	json_object_set_new(rec, "audio_url", json_null());
	json_object_set_new(rec, "transcript", json_array());
	json_object_set_new(rec, "speakers", json_array());
	json_object_set_new(rec, "deleted_at_recorder", json_false());
	if ((rc = ml_rec_save(tx, rec)) < 0)
		return rc;
	return audit(tx, rec, "recording.deleted", actor, ip, json_object());
}
