/* Shared helpers for remote (sans-IO) drivers; see provider.h for the step protocol. */
#ifndef ML_PROVIDERS_REMOTE_H
#define ML_PROVIDERS_REMOTE_H

#include "providers/provider.h"

#include <stdio.h>

/* base32hex (Google event ids: a-v, 0-9) and RFC 4648 lower-case base32. */
#define ML_B32HEX "0123456789abcdefghijklmnopqrstuv"
#define ML_B32 "abcdefghijklmnopqrstuvwxyz234567"

/* A deterministic, unguessable provider-side key for the booking's current generation:
 * `len` (<= 51) characters of `alphabet` from HMAC-SHA256(room_secret, purpose, org, booking,
 * generation). Different purposes give unrelated keys. 0, or -1 without a room secret. */
int ml_provider_key(char *out, size_t cap, const struct ml_platform_settings *s,
                    const struct ml_meeting_req *req, const char *purpose, const char *alphabet,
                    size_t len);

/* ops->endpoints helpers. The base every endpoint of a platform hangs from: the override
 * `setting` when configured (a regional endpoint, a local stub), else the sandbox's
 * `sandbox_path` ("<sandbox>/zoom") with the sandbox, else `real` (NULL: none). Owned. */
char *ml_endpoint_base(const struct ml_endpoint_env *env, const char *setting,
		       const char *sandbox_path, const char *real);

/* The answer's body as JSON (new reference) or NULL. */
json_t *ml_presp_json(const struct ml_presp *r);
/* A string member or NULL. */
const char *ml_pjs(json_t *o, const char *k);

/* The provider answered 2xx. */
bool ml_presp_ok(const struct ml_presp *r);
/* The provider answered that the meeting is not there (404, 410): a delete is done, an
 * update reports the meeting deleted at the provider. */
bool ml_presp_gone(const struct ml_presp *r);
/* The answer in phase "update" or "delete" (a plain PATCH/PUT or DELETE of the meeting) that
 * ends the step: a 2xx, or a gone meeting (404/410: a delete is
 * done, an update reports the meeting deleted at the provider). Sets out->kind DONE and
 * returns true; false for any other phase or answer (the driver classifies it). */
bool ml_presp_settles(const char *phase, const struct ml_presp *r, struct ml_pstep *out);
/* "Bearer <access token>" (owned; ml_pstep_clear wipes it). */
char *ml_pbearer(const struct ml_pcreds *cr);
/* Records the request the driver is waiting on (state.phase). */
void ml_pphase(json_t *state, const char *phase);
/* An HTTP step with a JSON body and the bearer token: `body` is serialized and released. */
void ml_pstep_json(struct ml_pstep *s, const char *method, char *url_owned, json_t *body,
                   const struct ml_pcreds *cr);
/* How a driver's on_response ends: a failure (rc < 0) makes the step FAIL; the parsed
 * answer `body` (may be NULL) is released. Returns rc. */
int ml_pstep_end(struct ml_pstep *out, int rc, json_t *body);
/* A credential check's one answer judged: 2xx done; 401/403 failed, permanent
 * (invalid_credentials); anything else failed, retry (provider_unavailable). */
int ml_pcheck_answer(const struct ml_presp *resp, struct ml_pstep *out, struct ml_perr *err);

#endif
