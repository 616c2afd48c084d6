/* MeetingBaas (meeting bots): no meetings of its own; an organization credential (its key
 * is checked by listing the organization's bots with it), recording bots sent into the
 * meetings of the platforms it joins, and their webhooks (meetingbaas_bot.c). */
#include "core/mem.h"
#include "providers/meetingbaas.h"
#include "providers/remote.h"

#include <stdlib.h>
#include <string.h>

static int mb_endpoints(const struct ml_endpoint_env *env, struct ml_endpoints *out)
{
	out->api_base = ml_endpoint_base(env, "MEETLINK_MEETINGBAAS_URL", "/meetingbaas",
	                                 "https://api.meetingbaas.com");
	return 0;
}

static int mb_check(const struct ml_provider_ctx *cx, const struct ml_pcreds *cr,
                    json_t *config, json_t *secret, const struct ml_presp *resp,
                    struct ml_pstep *out, struct ml_perr *err)
{
	if (!resp) {
		const char *key = json_string_value(json_object_get(secret, "api_key"));
		ml_pstep_http(out, "GET", ml_asprintf("%s/bots/bots_with_metadata", cr->api_base),
		              NULL, NULL, NULL);
		out->http.header_name = "x-meeting-baas-api-key";
		out->http.header_value = ml_strdup(key ? key : "");
		return 0;
	}
	return ml_pcheck_answer(resp, out, err);
}

static const char *const mb_cred_config[] = {NULL};
static const char *const mb_cred_secrets[] = {"api_key", NULL};

static const struct ml_cred_info mb_creds = {
    .kind = "meetingbaas",
    .config = mb_cred_config,
    .secrets = mb_cred_secrets,
    .secret_max = 256,
    .check = mb_check,
};

static const struct ml_recorder_info mb_recorder = {
    .step = ml_mb_bot_step,
    .calendar_step = ml_mb_cal_step,
};

/* Webhooks carry the organization's own API key (not a server-wide secret). */
static const struct ml_inbound_info mb_inbound = {
    .verify = ml_mb_verify,
    .parse = ml_mb_parse,
    .cred_secret = "api_key",
    .subject = ml_mb_subject,
};

const struct ml_provider_ops ml_provider_meetingbaas = {
    .abi = ML_PROVIDER_ABI,
    .name = "meetingbaas",
    .label = "MeetingBaas",
    .caps = ML_CAP_ORG_CREDS,
    .endpoints = mb_endpoints,
    .creds = &mb_creds,
    .inbound = &mb_inbound,
    .recorder = &mb_recorder,
};
