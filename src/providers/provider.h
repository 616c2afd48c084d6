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

#define ML_PROVIDER_ABI 1

struct ml_jwt_key; /* core/jwt.h */

enum {
	ML_CAP_LOCAL = 1u << 0,      /* the link is made without calling anyone: confirm answers 200 */
	ML_CAP_UPDATE = 1u << 1,     /* meeting_update keeps the link */
	ML_CAP_DELETE = 1u << 2,     /* meeting_delete removes it at the provider */
	ML_CAP_OAUTH = 1u << 3,      /* needs a host connection */
	ML_CAP_PERSONAL = 1u << 4,   /* participant_url mints per-participant links (tokens) */
	ML_CAP_ORG_CREDS = 1u << 5,  /* needs organization-level credentials */
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
};

struct ml_provider_ctx {
	const struct ml_platform_settings *settings;
	int64_t now; /* Unix seconds */
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
};

/* The registered driver called `name`, or NULL. */
const struct ml_provider_ops *ml_provider_find(const char *name);
/* All registered drivers, NULL-terminated (for listing platforms). */
const struct ml_provider_ops *const *ml_provider_all(void);
/* True for every platform name the API accepts, registered driver or not yet. */
bool ml_platform_known(const char *name);

/* Fills `err` (code and message truncated to fit) and returns the negative ML_E* code for the
 * kind: RETRY -> ML_EUNAVAIL, REAUTH -> ML_EAUTH, PERMANENT -> ML_EINTERNAL,
 * GONE -> ML_ENOTFOUND. Callers decide on err->kind, never on the returned code. */
int ml_perr_set(struct ml_perr *err, enum ml_perr_kind kind, int http_status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
