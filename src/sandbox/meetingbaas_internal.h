/* Shared between the MeetingBaas emulator's files (docs/sandbox-meetingbaas.md):
 *   meetingbaas.c           the provider: seed, API-key auth, error bodies, routes, helpers
 *   meetingbaas_validate.c  request bodies checked as the v1 OpenAPI schemas say
 *   meetingbaas_bots.c      /bots/…: join, leave, list, meeting data, retranscribe, delete
 *   meetingbaas_life.c      a bot's life on the sandbox clock: its plan of statuses
 *   meetingbaas_transcript.c the deterministic recording and transcript of a bot
 *   meetingbaas_hooks.c     webhooks: envelope, auth header, outbound faults, retries
 *   meetingbaas_media.c     the mp4 / audio / screenshot files the URLs point at
 *   meetingbaas_cal.c       /calendars/…: OAuth credentials checked against the sandbox's
 *                           Google and Microsoft, the fake calendar's events
 *   meetingbaas_events.c    /calendar_events/…: list, get, schedule / unschedule a bot
 *   meetingbaas_sim.c       /meetingbaas/_sandbox/…: scripts, admit, end, inspection
 *
 * State (root, JSON; lock held everywhere):
 *   accounts {id: {id, email, api_key, webhook_url}}
 *   bots     {uuid: bot}          live {uuid: true} (bots with steps left in their plan)
 *   scripts  {meeting_url: script} (what the next bots to that URL live through)
 *   calendars {uuid: calendar}    events {uuid: event}
 *   outbox   [delivery]  (webhooks waiting: late, held for reordering, retries)
 *   webhooks [record]    (every webhook made, last 1000, with what became of it)
 *   seq      {bot, param, event, transcript, word, delivery}: integer ids */
#ifndef ML_SANDBOX_MEETINGBAAS_INTERNAL_H
#define ML_SANDBOX_MEETINGBAAS_INTERNAL_H

#include "sandbox/sandbox.h"

#include <stdbool.h>
#include <stdint.h>

#define MBP "meetingbaas"
#define MB_KEY "mb-sandbox-api-key"
#define MB_KEY2 "mb-sandbox-api-key-2"

/* ---- meetingbaas.c -------------------------------------------------------------------- */

/* The error body MeetingBaas's v2 API documents (ErrorResponse; the v1 document gives no
 * error bodies): {"success": false, "error", "code", "statusCode", "message", "details"}. */
void ml_mb_err(struct ml_http_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* 400 FST_ERR_VALIDATION "body/<field> <what>", naming the field. */
void ml_mb_bad(struct ml_http_resp *resp, const char *field, const char *what);
/* The account of the request's x-meeting-baas-api-key (compared in constant time), or NULL
 * after answering 401. */
json_t *ml_mb_auth(struct ml_http_req *req, struct ml_http_resp *resp);
/* The next integer id of a sequence (root["seq"][name]). */
json_int_t ml_mb_next_id(json_t *root, const char *name);
/* A random v4 UUID (caller frees); and one derived from a seed string (stable). */
char *ml_mb_uuid(void);
char *ml_mb_uuid_from(const char *seed);
/* RFC 3339 of sandbox seconds / milliseconds ("2026-12-01T15:00:00.000Z"). */
json_t *ml_mb_time(int64_t t);
json_t *ml_mb_time_ms(int64_t ms);
/* An ISO-8601 date-time as sandbox seconds; accepts a missing offset (read as UTC), as the
 * list filters' examples do ("2023-05-01T00:00:00"). false when malformed. */
bool ml_mb_parse_time(const char *s, int64_t *out);
/* The "sandbox" platform of a meeting URL: "google_meet", "zoom", "teams" or NULL. */
const char *ml_mb_platform(const char *url);
/* An http(s) URL without spaces or control characters (a webhook target: it reaches curl). */
bool ml_mb_url_ok(const char *url);
/* A member as an integer (default when absent or not an integer). */
json_int_t ml_mb_int(const json_t *o, const char *key, json_int_t def);
/* Sets o[k] to a string or null. */
void ml_mb_set_str(json_t *o, const char *k, const char *v);

/* ---- meetingbaas_validate.c ----------------------------------------------------------- */

/* Each returns NULL when `body` is valid, else the offending field ("" for the body itself)
 * with *what set to a short reason. */
const char *ml_mb_check_join(const json_t *body, const char **what);
const char *ml_mb_check_bot_param(const json_t *body, bool patch, const char **what);
const char *ml_mb_check_retranscribe(const json_t *body, const char **what);
const char *ml_mb_check_oauth(const json_t *body, bool raw_id, const char **what);
const char *ml_mb_check_script(const json_t *body, const char **what);
/* The provider name of a speech_to_text value ("Default", {"provider": "Gladia"}) or NULL. */
const char *ml_mb_stt_provider(const json_t *stt);

/* ---- meetingbaas_life.c --------------------------------------------------------------- */

/* Makes a bot for `account` from a valid JoinRequest-shaped `params` (borrowed) and starts
 * its life; `event` (may be NULL) is the calendar event it records. Returns the bot
 * (borrowed from root["bots"]). */
json_t *ml_mb_bot_create(json_t *root, json_t *account, const json_t *params, json_t *event);
/* The bot of `uuid` owned by `account` (borrowed) or NULL. */
json_t *ml_mb_bot_find(json_t *root, const json_t *account, const char *uuid);
/* Whether the bot has not reached complete / failed. */
bool ml_mb_bot_live(const json_t *bot);
/* The API asked the bot to leave: it leaves now (complete when it recorded, else failed). */
void ml_mb_bot_leave(json_t *root, json_t *bot, const char *reason);
/* The waiting room admits a bot held there / the meeting ends for every bot in it. */
bool ml_mb_bot_admit(json_t *root, json_t *bot);
void ml_mb_bot_meeting_end(json_t *root, json_t *bot);
/* Replaces a live bot's remaining plan from its script (after a script changed). */
void ml_mb_bot_replan(json_t *root, json_t *bot);
/* The provider's tick: every step of every live bot that is due, in order, then calendar
 * bots to dispatch, then the outbox. */
void ml_mb_tick(json_t *root);

/* ---- meetingbaas_transcript.c --------------------------------------------------------- */

/* Fills bot["transcript"] and bot["speakers"] for `seconds` of recording (deterministic
 * from the bot's uuid and meeting URL); empty without speech to text. */
void ml_mb_transcript_make(json_t *root, json_t *bot, int64_t seconds);
/* The transcript as the `complete` webhook carries it, and as GET meeting_data's
 * Transcript objects (new references). */
json_t *ml_mb_transcript_hook(const json_t *bot);
json_t *ml_mb_transcript_api(const json_t *bot);

/* ---- meetingbaas_hooks.c -------------------------------------------------------------- */

/* Sends {"event": event, "data": data} (data stolen) for the bot's account to the bot's
 * webhook_url, else the account's, else setting webhook_url; nothing when none. `to`
 * overrides the URL (retranscribe's webhook_url). Outbound faults apply. */
void ml_mb_hook(json_t *root, const json_t *account, const json_t *bot, const char *to,
                const char *event, json_t *data);
/* Sends what is due in the outbox (late deliveries, retries). */
void ml_mb_hooks_flush(json_t *root);
json_t *ml_mb_account_by_id(json_t *root, json_int_t id);

/* ---- meetingbaas_media.c -------------------------------------------------------------- */

/* A signed URL valid for `ttl` seconds to the bot's file `name` ("video.mp4", "audio.wav",
 * "screenshot-1.png"); caller frees. */
char *ml_mb_media_url(json_t *bot, const char *name, int64_t ttl);
void ml_mb_media_get(struct ml_http_req *req, struct ml_http_resp *resp);

/* ---- handlers ------------------------------------------------------------------------- */

void ml_mb_join(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_leave(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_list_bots(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_meeting_data(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_delete_data(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_retranscribe(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_screenshots(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_webhook_url_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_webhook_url_post(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_mb_cal_raw(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_cal_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_cal_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_cal_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_cal_patch(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_cal_delete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_cal_resync_all(struct ml_http_req *req, struct ml_http_resp *resp);
/* The calendar's public object (Calendar). New reference. */
json_t *ml_mb_cal_json(const json_t *cal);
/* Adds / changes / cancels an event of the fake calendar as the provider would, and tells
 * the account (calendar.sync_events). `spec` as POST /meetingbaas/_sandbox/calendars/{uuid}/events.
 */
json_t *ml_mb_event_put(json_t *root, json_t *cal, json_t *event, const json_t *spec,
                        const char **err);
void ml_mb_cal_synced(json_t *root, json_t *cal, json_t *uuids);

void ml_mb_events_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_event_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_event_schedule(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_event_unschedule(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_event_patch_bot(struct ml_http_req *req, struct ml_http_resp *resp);
/* The event's public object (Event). New reference. */
json_t *ml_mb_event_json(const json_t *ev);
/* Creates the bots of scheduled events whose start has come (tick). */
void ml_mb_events_dispatch(json_t *root);

void ml_mb_sim_scripts(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_bot_script(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_admit(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_end(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_bots(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_calendars(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_accounts(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_event_add(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_event_change(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_event_cancel(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_mb_sim_webhooks(struct ml_http_req *req, struct ml_http_resp *resp);

#endif
