/* MeetingBaas's recording bots and webhooks (meetingbaas_bot.c), for its driver
 * (meetingbaas.c) and its unit test. */
#ifndef ML_PROVIDERS_MEETINGBAAS_H
#define ML_PROVIDERS_MEETINGBAAS_H

#include "providers/provider.h"

/* ml_recorder_info.step. */
int ml_mb_bot_step(const struct ml_provider_ctx *cx, enum ml_rop op, const struct ml_bot_req *q,
                   const struct ml_pcreds *cr, json_t *state, const struct ml_presp *r,
                   struct ml_pstep *out, struct ml_perr *err);
/* ml_recorder_info.calendar_step (meetingbaas_cal.c). */
int ml_mb_cal_step(const struct ml_provider_ctx *cx, enum ml_cop op, const struct ml_cal_req *q,
                   const struct ml_pcreds *cr, json_t *state, const struct ml_presp *r,
                   struct ml_pstep *out, struct ml_perr *err);
/* ml_inbound_info members: x-meeting-baas-api-key against the organization's key. */
int ml_mb_verify(const char *secret, const struct ml_inbound_req *r);
int ml_mb_subject(json_t *body, char *out, size_t n);
int ml_mb_parse(const char *secret, const struct ml_inbound_req *r, json_t *body,
                struct ml_inbound_event *out);

#endif
