/* Internal to the Google emulator (google.c: Calendar, google_oauth.c: OAuth). */
#ifndef ML_SANDBOX_GOOGLE_H
#define ML_SANDBOX_GOOGLE_H

#include "sandbox/sandbox.h"

struct ml_sb_fields;

static inline const char *nz(const char *s)
{
	return s ? s : "";
}

/* The Google error envelope {"error": {"errors": [{domain, reason, message, locationType?,
 * location?}], code, message, status}} (google_validate.c). */
void ml_sb_gerr_full(struct ml_http_resp *resp, int status, const char *domain, const char *reason,
                     const char *message, const char *location_type, const char *location);
/* Domain "global", no location. */
void ml_sb_gerr(struct ml_http_resp *resp, int status, const char *reason, const char *message);
/* 400 located at a query parameter. */
void ml_sb_gerr_param(struct ml_http_resp *resp, const char *reason, const char *message,
                      const char *param);
/* The envelope for a bare status (faults without a body) and for unknown paths. */
void ml_sb_google_error(struct ml_http_resp *resp, int status, const char *message);
void ml_sb_google_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch);

/* Validates a whole event resource (after a patch is merged in); answers 400 on failure.
 * conf_v1: conferenceDataVersion=1, so conferenceData is checked too. */
bool ml_sb_gcal_validate_event(json_t *ev, bool conf_v1, struct ml_http_resp *resp);
/* conferenceDataVersion and sendUpdates (or the deprecated sendNotifications) of a
 * mutation; answers 400 on a bad value. *send_updates is "all", "externalOnly" or "none". */
bool ml_sb_gcal_mutation_params(struct ml_http_req *req, struct ml_http_resp *resp, bool *conf_v1,
                                const char **send_updates);

/* google.c, shared with google_list.c: the current time in an event member; the token's
 * account when it may use Calendar (else answers, NULL); the events object of a calendar
 * (else answers, NULL; *cal its id); a pending conference settled once its time is up; the
 * `fields` parameter parsed (false after answering); an answer's selection (takes v). */
void ml_sb_gcal_set_now(json_t *ev, const char *key);
const char *ml_sb_gcal_authorize(struct ml_http_req *req, struct ml_http_resp *resp, bool write);
json_t *ml_sb_gcal_events_of(json_t *root, const char *account, const char *cal,
			     struct ml_http_resp *resp, const char **cal_key);
void ml_sb_gcal_settle(json_t *root, const char *cal, json_t *ev);
bool ml_sb_gcal_fields_param(struct ml_http_req *req, struct ml_http_resp *resp,
			     struct ml_sb_fields **out);
json_t *ml_sb_gcal_select(json_t *v, const struct ml_sb_fields *fields);
/* google_list.c: GET .../events and GET .../users/me/calendarList. */
void ml_sb_gcal_events_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_gcal_calendar_list(struct ml_http_req *req, struct ml_http_resp *resp);

/* google_push.c: push channels and the change log sync tokens read. The calendar's change
 * log {seq, min_seq, events: {id: seq}} (made when missing); a change of `event_id` (NULL:
 * none in particular) numbered and notified to the calendar's live channels; events.watch,
 * channels.stop; the host's own changes and notifications for tests. */
json_t *ml_sb_gcal_changes(json_t *root, const char *cal);
void ml_sb_gcal_push_changed(json_t *root, const char *cal, const char *event_id);
void ml_sb_gcal_events_watch(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_gcal_channels_stop(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_gcal_host_change(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_gcal_host_notify(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_gcal_host_expire(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_sb_google_authorize(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_decision(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_token(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_revoke(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_userinfo(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_discovery(struct ml_http_req *req, struct ml_http_resp *resp);

#endif
