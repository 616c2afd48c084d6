/* Internal to the Google emulator (google.c: Calendar, google_oauth.c: OAuth). */
#ifndef ML_SANDBOX_GOOGLE_H
#define ML_SANDBOX_GOOGLE_H

#include "sandbox/sandbox.h"

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

void ml_sb_google_authorize(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_decision(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_token(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_revoke(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_userinfo(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_google_discovery(struct ml_http_req *req, struct ml_http_resp *resp);

#endif
