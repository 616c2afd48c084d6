/* The platform driver interface (STYLE.md: drivers are ops structs).
 *
 * A driver turns a meeting request into a link: locally (jitsi, jaas, manual) or through
 * provider HTTP calls (google_meet, zoom, teams, twilio). It never touches the store or the
 * queue. It gets everything it may use through `struct ml_provider_ctx` and classifies every
 * failure in `struct ml_perr`: retry (with retry_after), reauth, permanent, or gone.
 */
#ifndef ML_PROVIDERS_PROVIDER_H
#define ML_PROVIDERS_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 1: local drivers. 2: remote (sans-IO) drivers: `remote_step`, `remote` below.
 * 3: connections and inbound webhooks: `endpoints`, `oauth`, `creds`, `inbound`, `ready`. */
#define ML_PROVIDER_ABI 3

struct ml_jwt_key; /* core/jwt.h */

enum {
	ML_CAP_LOCAL = 1u << 0,      /* the link is made without calling anyone: confirm answers 200 */
	ML_CAP_UPDATE = 1u << 1,     /* meeting_update keeps the link */
	ML_CAP_DELETE = 1u << 2,     /* meeting_delete removes it at the provider */
	ML_CAP_OAUTH = 1u << 3,      /* needs a host connection */
	ML_CAP_PERSONAL = 1u << 4,   /* participant_url mints per-participant links (tokens) */
	ML_CAP_ORG_CREDS = 1u << 5,  /* needs organization-level credentials */
	ML_CAP_REMOTE = 1u << 6,     /* made through provider HTTP calls: remote_step (abi >= 2) */
	ML_CAP_LAZY = 1u << 7,       /* the provider-side room is opened shortly before the start */
	ML_CAP_BOT_JOINS = 1u << 8,  /* a recording bot (ops->recorder) can join its meetings */
};

enum ml_perr_kind {
	ML_PERR_NONE = 0,
	ML_PERR_RETRY,     /* transient: try again after retry_after_ms (0: backoff decides) */
	ML_PERR_REAUTH,    /* the connection's grant is gone: the host must reconnect */
	ML_PERR_PERMANENT, /* will never work as asked (bad request, misconfiguration) */
	ML_PERR_GONE,      /* the meeting no longer exists at the provider */
};

struct ml_perr {
	enum ml_perr_kind kind;
	int http_status;        /* the provider's status, 0 when no HTTP was involved */
	int64_t retry_after_ms;
	char code[64];          /* snake_case, shown to API clients */
	char message[256];      /* human sentence, never a secret */
};

/* Platform settings the core loads once (keys parsed, secrets decoded) and lends drivers. */
struct ml_platform_settings {
	const char *public_url;        /* MEETLINK_PUBLIC_URL */
	const char *jitsi_domain;      /* "meet.jit.si" or a self-hosted domain */
	const char *jitsi_app_id;      /* prosody token auth: app_id (iss); NULL: public rooms */
	struct ml_jwt_key *jitsi_key;  /* HS256 secret, loaded once; NULL: public rooms */
	const char *jaas_app_id;       /* "vpaas-magic-cookie-…" */
	const char *jaas_kid;          /* "<appId>/<key id>" */
	struct ml_jwt_key *jaas_key;   /* RS256 private key, loaded once */
	const char *jaas_domain;       /* "8x8.vc" */
	int64_t join_early_seconds;    /* links are valid from start minus this */
	int64_t join_late_seconds;     /* ... until end plus this */
	/* Server secret that makes local room names unguessable (HMAC key); required by jitsi and
	 * jaas (without it they answer PERMANENT platform_not_configured). */
	const uint8_t *room_secret;
	size_t room_secret_len;
	/* Server secret the join gateway's personal link tokens are HMACs under
	 * (domain/gateway.h); NULL: no gateway links. */
	const uint8_t *gateway_secret;
	size_t gateway_secret_len;
	/* Remote drivers (abi >= 2). */
	int64_t poll_ms;               /* how soon to look again at a pending conference */
	int64_t open_lead_s;           /* lazy rooms (Twilio): open this long before the start */
	/* The Jitsi tokens' aud (MEETLINK_JITSI_AUDIENCE); NULL or "": "jitsi", the value
	 * prosody's token_verification accepts by default (lib-jitsi-meet doc/tokens.md). */
	const char *jitsi_audience;
};

struct ml_pcreds;
struct ml_watch_info;
struct ml_endpoint_env;
struct ml_endpoints;

struct ml_provider_ctx {
	const struct ml_platform_settings *settings;
	int64_t now; /* Unix seconds */
	/* abi >= 2: the organization's credential for the platform where a local computation
	 * needs it (Twilio access tokens in participant_url); NULL otherwise. */
	const struct ml_pcreds *creds;
};

/* What to create, update or delete. Strings are borrowed for the call. */
struct ml_meeting_req {
	const char *org_id;
	const char *booking_id;
	const char *title;
	int64_t start, end; /* Unix seconds */
	const char *timezone;
	const char *host_name, *host_email;
	json_t *settings;          /* the service's meeting settings object (borrowed), may be NULL */
	const char *manual_url;    /* manual: the link the host typed */
	const char *external_id;   /* update/delete: the provider's id of the existing meeting */
	const char *join_url;      /* update: the current link */
	unsigned generation;       /* 0; regenerate passes 1, 2, ... to get a new local room */
	/* abi >= 2 */
	const char *meeting_id;    /* "mtg_…": meetlink's id of this meeting */
	const char *description;   /* free text for the provider's agenda/description, may be NULL */
};

/* A meeting as the provider describes it. Strings are owned; free with ml_meeting_clear(). */
struct ml_meeting {
	char *external_id;
	char *join_url;
	char *host_url;
	char *passcode;
};

void ml_meeting_clear(struct ml_meeting *m);

/* One participant asking for their personal link. */
struct ml_participant_ref {
	const char *id;    /* "prt_…" */
	const char *role;  /* "host", "customer", "attendee", "admin" */
	const char *name;
	const char *email;
};

/* --- Remote drivers (abi >= 2): sans-IO ----------------------------------------------------
 *
 * A remote driver never does I/O. The job that owns an operation calls remote_step() with
 * what happened so far; the driver answers with the next HTTP request to make, a pause, or
 * the outcome. The job makes the request on the worker's curl multi (never blocking) and
 * calls remote_step() again with the answer. Everything the driver must remember between
 * steps, attempts and even daemon restarts lives in `state`, a JSON object the job persists
 * with the job (the Google requestId, "a create was attempted", the phase). So one driver
 * runs unchanged in the worker, in a unit test fed canned answers, or in a blocking tool.
 *
 *   step(resp = NULL)            -> HTTP  req        the job performs it
 *   step(resp = answer)          -> HTTP  req'       (e.g. 409 -> GET the existing event)
 *   step(resp = answer)          -> POLL  after ms   (Google's pending conference)
 *   step(resp = NULL) (later)    -> HTTP  GET event
 *   step(resp = answer)          -> DONE  meeting    or FAIL with `err` classified
 *
 * A step that starts an attempt (resp == NULL) sees the state as last persisted, with
 * `state.attempt` = how many attempts have been claimed so far, this one included. For a
 * driver with remote->reconcile (no idempotency key: Zoom) the job writes that counter
 * durably when it claims the attempt, before any request of it goes out: so the driver
 * knows, on any attempt > 1, that an earlier one may have created the meeting (a timeout, a
 * dropped connection, a 5xx, or a daemon killed mid-call), and looks it up before creating
 * again. (Drivers with idempotency keys get the counter persisted with each outcome.)
 */
enum ml_mop {
	ML_MOP_CREATE = 1,
	ML_MOP_UPDATE,
	ML_MOP_DELETE,
	ML_MOP_OPEN,      /* lazy platforms: open the provider-side room near the start */
	ML_MOP_RECONCILE, /* after an ambiguous create: remove every meeting of this booking
			   * and generation but req->external_id (a call that timed out may have
			   * acted after the lookup that preceded the retry) */
	ML_MOP_END,       /* end the meeting for everyone now (ops->end, ML_END_CALL): DONE
			   * once it is over, also when there was nothing to end (a room never
			   * opened, a meeting already over or gone); repeating it is harmless */
};

/* What a connection lends the driver for one operation. Borrowed. */
struct ml_pcreds {
	const char *api_base;     /* "https://www.googleapis.com" or "<sandbox>/google" */
	const char *access_token; /* bearer token (OAuth) or NULL */
	const char *account;      /* the provider account the token acts for, may be NULL */
	json_t *extra;            /* platform specifics (Twilio account_sid/api_key_*), may be NULL */
	bool org_level;           /* an organization credential (Zoom S2S, Twilio) */
};

/* A request the driver wants made. Owned by the step; the job frees it (ml_pstep_clear). */
struct ml_phttp {
	char method[8];
	char *url;               /* absolute */
	char *body;              /* NULL: none */
	const char *content_type; /* static string, or NULL with no body */
	char *authorization;     /* the Authorization header value: a secret, never logged */
	bool not_idempotent;     /* repeating it could duplicate (Zoom's create): never send it
				  * on a reused connection, which HTTP clients silently resend on
				  * when the server closed it (libcurl does, for any method) */
	/* abi >= 3 */
	const char *header_name; /* one more header (an API key header), or NULL */
	char *header_value;      /* its value: a secret, never logged; ml_pstep_clear wipes it */
};

/* How a request ended. */
enum ml_ptransport {
	ML_PT_OK = 0,      /* an HTTP answer came back (any status) */
	ML_PT_TIMEOUT,     /* no answer in time: the provider may or may not have acted */
	ML_PT_DROPPED,     /* the connection broke after the request was sent: ambiguous too */
	ML_PT_CONNECT,     /* never reached the provider: nothing happened there */
};

struct ml_presp {
	enum ml_ptransport transport;
	long status;
	const char *body;        /* NUL-terminated ("" when none) */
	size_t body_len;
	const char *retry_after; /* the Retry-After header, or NULL */
	int64_t now;             /* Unix seconds, for Retry-After dates */
};

enum ml_pstep_kind { ML_PSTEP_HTTP = 1, ML_PSTEP_POLL, ML_PSTEP_DONE, ML_PSTEP_FAIL };

struct ml_pstep {
	enum ml_pstep_kind kind;
	struct ml_phttp http;     /* HTTP */
	int64_t poll_after_ms;    /* POLL: call step again with resp = NULL after this long */
	struct ml_meeting meeting;/* DONE (create/update/open): the meeting as it now is */
	bool provider_cancelled;  /* DONE (update): the provider says the meeting was deleted
				   * or cancelled there (reported on the booking, not hidden) */
};

/* Frees what a step holds (request strings, meeting strings). Accepts a zeroed step. */
void ml_pstep_clear(struct ml_pstep *s);

/* Remote driver helpers for building requests and reading answers (providers/remote.c). */
void ml_pstep_http(struct ml_pstep *s, const char *method, char *url_owned, char *body_owned,
		   const char *content_type, char *authorization_owned);
/* Classifies a transport failure or a status the driver has no special meaning for:
 * transport errors, 408, 425, 429, 5xx -> RETRY (with Retry-After), 401 -> REAUTH,
 * other 4xx -> PERMANENT. `code`/`message` describe the provider's error body. */
int ml_perr_from_resp(struct ml_perr *err, const struct ml_presp *r, const char *provider,
		      const char *code, const char *message);

/* Appended to struct ml_provider_ops (abi >= 2):
 *
 *   int (*remote_step)(const struct ml_provider_ctx *cx, enum ml_mop op,
 *                      const struct ml_meeting_req *req, const struct ml_pcreds *cr,
 *                      json_t *state, const struct ml_presp *resp, struct ml_pstep *out,
 *                      struct ml_perr *err);
 *
 * Returns 0 with `out` filled (HTTP, POLL, DONE), or a negative code with out->kind =
 * ML_PSTEP_FAIL and `err` classified. For ML_MOP_DELETE, DONE means gone (404/410 included).
 * `remote` describes how the pipeline should treat the platform. */
struct ml_remote_info {
	int max_inflight_per_conn; /* concurrent calls per connection (Graph: 4 per mailbox) */
	double qps_per_conn;       /* requests per second per connection (Zoom); 0: no limit */
	int64_t open_lead_s;       /* ML_CAP_LAZY: open the room this long before the start */
	bool reconcile;            /* no idempotency key: after a create that needed more than
				    * one attempt, run ML_MOP_RECONCILE once late answers settled */
	/* abi >= 3: configuration variables overriding the two limits above (a positive
	 * value wins; NULL: not configurable). */
	const char *max_inflight_setting;
	const char *qps_setting;
};

/* --- Connections and inbound webhooks (abi >= 3) -------------------------------------------
 *
 * What the connect flow, the credentials API and the inbound webhooks need from a platform.
 * All of it sans-IO, like remote_step: the core makes every request.
 */

/* What ops->endpoints may read. Borrowed for the call. */
struct ml_endpoint_env {
	const char *sandbox; /* the sandbox's base URL (no trailing slash), or NULL */
	/* A configuration value by its variable name ("MEETLINK_TWILIO_URL"), NULL when unset. */
	const char *(*setting)(const void *arg, const char *name);
	const void *arg;
};

/* A platform's endpoints. Owned strings (ml_endpoints_clear); NULL where it has none. */
struct ml_endpoints {
	char *api_base;      /* the meetings API: "https://api.zoom.us" or "<sandbox>/zoom" */
	char *authorize_url; /* OAuth: the browser's consent page */
	char *token_url;     /* OAuth: code exchange, refresh, client credentials */
	char *revoke_url;    /* OAuth: revocation, NULL when the provider has none */
	char *account_url;   /* OAuth: the account's identity (GET with the access token) */
};
void ml_endpoints_clear(struct ml_endpoints *e);

enum {
	ML_OAUTH_BASIC_AUTH = 1u << 0,     /* client authentication by HTTP Basic */
	ML_OAUTH_APP_SCOPES = 1u << 1,     /* scopes live on the app: none on the authorize URL */
	ML_OAUTH_SCOPE_ON_TOKEN = 1u << 2, /* code exchange and refresh repeat the scope */
	ML_OAUTH_REVOKE_PUBLIC = 1u << 3,  /* revocation takes no client authentication */
};

/* How a host connects an account (authorization code with PKCE S256). */
struct ml_oauth_info {
	/* Client credentials come from MEETLINK_<env>_CLIENT_ID and MEETLINK_<env>_CLIENT_SECRET;
	 * with the sandbox, from the sandbox's seeded client unless configured. */
	const char *env;
	const char *sandbox_client_id, *sandbox_client_secret;
	const char *scopes; /* space-separated, the smallest that work */
	unsigned flags;     /* ML_OAUTH_* */
	/* More authorize URL parameters: name, value, ..., NULL. May be NULL. */
	const char *const *authorize_params;
	/* The account's email out of the identity answer (caller frees), NULL when absent.
	 * NULL member: the answer's "email". */
	char *(*parse_account)(const char *body);
};

/* The token request an organization credential is exchanged for (Server-to-Server OAuth).
 * Borrowed strings, valid while the credential is. */
struct ml_token_grant {
	const char *client_id, *client_secret;
	const char *params[8]; /* form parameters: name, value, ..., NULL (grant_type first) */
};

/* An organization-level credential. */
struct ml_cred_info {
	const char *kind;              /* the stored kind ("zoom_s2s") */
	const char *const *config;     /* non-secret fields, shown back */
	const char *const *secrets;    /* encrypted, never shown */
	size_t secret_max;             /* longest secret accepted */
	/* A credential that is exchanged for access tokens at the token endpoint: fills `out`
	 * from `cred` (config and secret members merged); 0, or ML_EINVAL when a member is
	 * missing. NULL member: the credential is used as it is (API keys). */
	int (*token_grant)(json_t *cred, struct ml_token_grant *out);
	/* Checks a credential before it is saved (sans-IO, like remote_step): called with
	 * resp == NULL, it answers DONE (checked locally) or HTTP (a request to make); called
	 * again with the answer, DONE or FAIL. A refusal is PERMANENT invalid_credentials (or
	 * invalid_field naming the field), a transient failure RETRY. NULL member with
	 * token_grant: the token request is the check. */
	int (*check)(const struct ml_provider_ctx *cx, const struct ml_pcreds *cr, json_t *config,
		     json_t *secret, const struct ml_presp *resp, struct ml_pstep *out,
		     struct ml_perr *err);
	/* Appended: members of config or secrets that may be left out (NULL: none). */
	const char *const *optional;
};

/* One webhook request from the provider. Borrowed. */
struct ml_inbound_req {
	const char *body;
	size_t body_len;
	const char *(*header)(const void *arg, const char *name); /* NULL when absent */
	const void *arg;
	int64_t now; /* Unix seconds */
	/* Appended: the full public URL the request was sent to (PUBLIC_URL + path), for
	 * signatures over it (Twilio's); NULL when unknown. */
	const char *url;
	/* Appended: a form-encoded body's parameters (an object of strings), else NULL. */
	json_t *form;
};

enum ml_inbound_kind {
	ML_INBOUND_IGNORE = 0,          /* verified, nothing for us (handled once all the same) */
	ML_INBOUND_REPLY,               /* a challenge: answer `reply` (JSON), nothing else */
	ML_INBOUND_MEETING_DELETED,     /* the meeting `external_id` was deleted at the provider */
	ML_INBOUND_RECORDING,           /* the recording bot `external_id` moved: `state` */
	ML_INBOUND_CALENDAR,            /* the recording calendar `external_id` changed */
	ML_INBOUND_PRESENCE,            /* someone joined or left the meeting `external_id`:
					 * `presence` says who and when */
	ML_INBOUND_ROOM_ENDED,          /* (appended) the room `room` of the meeting
					 * `external_id` completed at the provider (Twilio's
					 * room-ended: its empty or unused timeout, or an end) */
};

/* Who joined or left a meeting, as the platform reports it. */
struct ml_inbound_presence {
	bool joined;        /* false: left */
	char session[96];   /* the platform's id of this stay in the meeting (Twilio's
			     * ParticipantSid, Zoom's participant_uuid, JaaS's participantId) */
	char identity[96];  /* the identity meetlink handed out (a Twilio access token's
			     * identity, a JaaS token's user id: a participant id), or "" */
	char name[128];     /* display name, or "" */
	char email[128];    /* or "" */
	int64_t at_ms;      /* when, by the platform's clock; 0: unknown */
	int64_t seq;        /* the platform's order of events in the room; -1: none */
};

/* A verified event, platform-neutral. */
struct ml_inbound_event {
	enum ml_inbound_kind kind;
	char key[200];        /* the delivery's id (each event is handled once) */
	char external_id[64]; /* the provider's meeting id */
	json_t *reply;        /* REPLY: the answer's body (owned) */
	/* RECORDING (appended): the bot's new state ("joining", "waiting_room", "recording",
	 * "processing", "failed"; "" when nothing moves), the failure's reason, and what to
	 * fetch now ("recording": the media and transcript are ready; "transcript": a new
	 * transcript is; "" nothing). */
	char state[24];
	char reason[64];
	char message[200];
	char fetch[16];
	/* PRESENCE (appended). */
	struct ml_inbound_presence presence;
	/* ROOM_ENDED (appended): the provider's id of the room that completed (Twilio's
	 * RoomSid; external_id is its UniqueName). */
	char room[64];
	/* RECORDING (appended): a bot the recorder sent to an event of a registered calendar
	 * (the recorder's calendar id, as meetlink tagged the bot when it asked for it, and the
	 * event's id); "" for the bots meetlink sent itself. */
	char calendar_id[64];
	char event_id[64];
};

/* The provider's webhooks: POST /webhooks/{platform}. */
struct ml_inbound_info {
	/* The signing secret: this configuration variable, else with the sandbox this value;
	 * neither: the endpoint is off. */
	const char *secret_setting;
	const char *sandbox_secret;
	/* 0 when the request is authentic and fresh; else ML_EAUTH with ml_error_set() (code
	 * invalid_signature or stale_request). */
	int (*verify)(const char *secret, const struct ml_inbound_req *r);
	/* A verified request's event; ML_EINVAL (ml_error_set, naming the field) when
	 * malformed. */
	int (*parse)(const char *secret, const struct ml_inbound_req *r, json_t *body,
		     struct ml_inbound_event *out);
	/* Appended: a request signed with the organization's own credential instead of a
	 * server-wide secret (NULL: the settings above). subject() names what the request is
	 * about (a bot or calendar id, out of the unverified body: used only to find the
	 * organization, whose credential member `cred_secret` verify() then gets). ML_EINVAL
	 * when there is none. */
	const char *cred_secret;
	int (*subject)(json_t *body, char *out, size_t n);
	/* Appended: the platform reports who joins and leaves (ML_INBOUND_PRESENCE). */
	bool presence;
};

/* --- Recording bots (appended to abi 3) --------------------------------------------------
 *
 * A platform that sends bots into other platforms' meetings (ML_CAP_BOT_JOINS on those)
 * and records them. Sans-IO like remote_step: the recording jobs make every request. What a
 * step learns goes into `state` (the job persists it): DISPATCH sets state.bot_id; FETCH
 * sets state.result, a platform-neutral object:
 *   {"status": "ready"|"processing"|"failed", "reason", "media_url", "audio_url",
 *    "duration_seconds", "speakers": [..], "transcript": [{"speaker", "start", "end",
 *    "text", "words": [{"start", "end", "text"}]}]}
 * A bot the provider no longer knows is GONE.
 */
enum ml_rop {
	ML_ROP_DISPATCH = 1, /* send the bot (exactly once per key: state.attempt > 1 looks
			      * for an earlier attempt's bot first) */
	ML_ROP_LEAVE,        /* take the bot out of the meeting; with no bot_id, the bot a
			      * dispatch whose answer was lost may have made, looked for by
			      * dedup_key (state.bot_id: the one found; none: done) */
	ML_ROP_FETCH,        /* the bot's status, media and transcript */
	ML_ROP_RETRANSCRIBE, /* transcribe the recording again */
	ML_ROP_DELETE,       /* delete the recording's data at the provider */
};

/* What a bot is asked to do. Borrowed. */
struct ml_bot_req {
	const char *meeting_url;
	const char *bot_name;
	const char *recording_mode;  /* "speaker_view", "gallery_view", "audio_only" */
	const char *transcription;   /* speech-to-text provider, NULL: no transcript */
	int waiting_room_timeout;    /* seconds; 0: the provider's default */
	int noone_joined_timeout;
	int silence_timeout;
	int64_t start_time;          /* Unix seconds the bot joins at; 0: at once */
	const char *dedup_key;       /* the same for every attempt of one recording */
	const char *webhook_url;     /* where the provider reports, NULL: the account's */
	const char *recording_id;    /* meetlink's id, echoed by the provider */
	const char *bot_id;          /* LEAVE, FETCH, RETRANSCRIBE, DELETE */
};

/* Calendar recordings: a host's calendar registered with the recorder, which then sends
 * bots to the events it is told to record. */
enum ml_cop {
	ML_COP_CREATE = 1, /* register: state.calendar = {id, email, name} */
	ML_COP_DELETE,     /* unregister (a calendar already gone is done) */
	ML_COP_EVENTS,     /* state.events = [{id, name, start, end, meeting_url, is_recurring,
			    * recurring_event_id, recording}], state.next: a cursor or absent */
	ML_COP_SCHEDULE,   /* record the event (all occurrences): state.events as they now are */
	ML_COP_UNSCHEDULE, /* stop recording it */
};

/* Borrowed. */
struct ml_cal_req {
	const char *platform;      /* CREATE: the host's connected calendar platform's name */
	const char *client_id;     /* CREATE: meetlink's OAuth client of that platform */
	const char *client_secret; /* CREATE: secret, never logged */
	const char *refresh_token; /* CREATE: the host's, secret, only ever sent to the recorder */
	const char *raw_calendar_id; /* CREATE: NULL: the account's primary calendar */
	const char *calendar_id;   /* the recorder's id of the calendar */
	const char *event_id;      /* SCHEDULE, UNSCHEDULE */
	bool all_occurrences;      /* SCHEDULE, UNSCHEDULE: every occurrence of a recurring one */
	const char *cursor;        /* EVENTS: the next page, NULL: the first */
	const struct ml_bot_req *bot; /* SCHEDULE: the bot's settings */
};

struct ml_recorder_info {
	int (*step)(const struct ml_provider_ctx *cx, enum ml_rop op, const struct ml_bot_req *req,
		    const struct ml_pcreds *cr, json_t *state, const struct ml_presp *resp,
		    struct ml_pstep *out, struct ml_perr *err);
	/* NULL: no calendar recordings. A CREATE refusing the platform is PERMANENT
	 * invalid_field after ml_error_set() naming "platform". */
	int (*calendar_step)(const struct ml_provider_ctx *cx, enum ml_cop op,
			     const struct ml_cal_req *req, const struct ml_pcreds *cr, json_t *state,
			     const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err);
};

struct ml_provider_ops {
	unsigned abi; /* append-only, like sqlite3_io_methods: check before using later members */
	const char *name;
	const char *label; /* "Jitsi Meet", for invitations */
	unsigned caps;
	int (*meeting_create)(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
			      struct ml_meeting *out, struct ml_perr *err);
	int (*meeting_update)(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
			      struct ml_meeting *out, struct ml_perr *err);
	int (*meeting_delete)(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
			      struct ml_perr *err);
	/* The personal join URL of one participant for meeting `m` (`*url` is the caller's).
	 * NULL member: everyone uses m->join_url (the host m->host_url when set). */
	int (*participant_url)(const struct ml_provider_ctx *cx, const struct ml_meeting_req *req,
			       const struct ml_meeting *m, const struct ml_participant_ref *p,
			       char **url, struct ml_perr *err);
	/* abi >= 2 */
	int (*remote_step)(const struct ml_provider_ctx *cx, enum ml_mop op,
			   const struct ml_meeting_req *req, const struct ml_pcreds *cr,
			   json_t *state, const struct ml_presp *resp, struct ml_pstep *out,
			   struct ml_perr *err);
	const struct ml_remote_info *remote;
	/* abi >= 3: everything else platform-specific the core needs, each optional (NULL
	 * when the platform lacks it; the core checks the pointer, never the name). */
	/* Where the platform's HTTP endpoints are (the provider's, or the sandbox's). */
	int (*endpoints)(const struct ml_endpoint_env *env, struct ml_endpoints *out);
	const struct ml_oauth_info *oauth;     /* ML_CAP_OAUTH: a host connects an account */
	const struct ml_cred_info *creds;      /* ML_CAP_ORG_CREDS: organization credentials */
	const struct ml_inbound_info *inbound; /* the provider's webhooks to us */
	/* 0 when services may use the platform with this server's settings; else a negative
	 * code with `err` (PERMANENT platform_not_configured) saying what is missing. */
	int (*ready)(const struct ml_provider_ctx *cx, struct ml_perr *err);
	/* meetlink's own video page for the platform (GET /video/{room}, web/video.html), or
	 * NULL: where the join gateway sends participants whose service names no page. */
	const struct ml_video_page_info *video_page;
	/* Appended: recording bots (see above); NULL for a platform without them. */
	const struct ml_recorder_info *recorder;
	/* Appended: ending the meeting for everyone (below); NULL: the platform has no way to
	 * (the join gateway closes; whoever is in the meeting stays). */
	const struct ml_end_info *end;
	/* Appended: changes made at the provider come back through a watch of the host's
	 * calendar (providers/watch.h); NULL for a platform without one. */
	const struct ml_watch_info *watch;
};

/* --- Ending a meeting for everyone (appended to abi 3): POST /v1/bookings/{id}/end ---- */
enum ml_end_kind {
	ML_END_CALL = 1, /* the provider ends it: remote_step(ML_MOP_END), run as a job */
	ML_END_TOKENS,   /* no call to make, but nobody enters without a personal token that
			  * the gateway mints: once it stops minting, nobody new gets in */
};

struct ml_end_info {
	enum ml_end_kind kind;
	/* ML_END_TOKENS where entering needs a token only with some settings (a self-hosted
	 * domain with token auth): true when it does now. NULL: always. */
	bool (*tokens_required)(const struct ml_provider_ctx *cx);
};

/* The browser SDK such a page loads: from npm (vendor/, installed by scripts/bootstrap.sh),
 * served by the daemon at /web/vendor/<sdk_name>, never from a CDN. */
struct ml_video_page_info {
	const char *sdk_name;    /* "x.min.js": served as /web/vendor/<sdk_name> */
	const char *sdk_path;    /* the file under the vendor directory's node_modules */
	const char *connect_src; /* what the page's CSP lets it connect to, besides 'self' */
	/* One text replacement made in the SDK as it is loaded (NULL: none): what in it a
	 * strict CSP would refuse. */
	const char *sdk_from, *sdk_to;
};

/* The platform the core itself stands for: a link typed by hand (override, fallback). */
#define ML_PLATFORM_MANUAL "manual"

/* The registered driver called `name`, or NULL. */
const struct ml_provider_ops *ml_provider_find(const char *name);
/* All registered drivers, NULL-terminated (for listing platforms). */
const struct ml_provider_ops *const *ml_provider_all(void);
/* True for every platform name the API accepts, registered driver or not yet. */
bool ml_platform_known(const char *name);
/* The names ml_platform_known() accepts, NULL-terminated (for messages). */
const char *const *ml_platform_names(void);
/* Adds a driver after the static table (test builds: tests/fake/). Call before any thread
 * starts; `ops` must outlive the process. ML_ECONFLICT when the name is taken. */
int ml_provider_register(const struct ml_provider_ops *ops);
/* The platform that records meetings (the first driver with ops->recorder), or NULL. */
const struct ml_provider_ops *ml_provider_recorder(void);
/* The member `m` of ops when its abi has it: ML_PROVIDER_HAS(ops, ready). */
#define ML_PROVIDER_HAS(ops, m) ((ops) && (ops)->abi >= 3 && (ops)->m)

/* Fills `err` (code and message truncated to fit) and returns the negative ML_E* code for the
 * kind: RETRY -> ML_EUNAVAIL, REAUTH -> ML_EAUTH, PERMANENT -> ML_EINTERNAL,
 * GONE -> ML_ENOTFOUND. Callers decide on err->kind, never on the returned code. */
int ml_perr_set(struct ml_perr *err, enum ml_perr_kind kind, int http_status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
