/* "fake": a test-only platform, the proof that a platform is one driver (docs/providers.md,
 * "Adding a platform"). It is built into the test binary `meetlink-testplat` only (every file
 * of tests/platforms/ is, see tests/CMakeLists.txt), never into `meetlink`, and it touches no
 * core file: this driver, the one registration line at the bottom, and its e2e test
 * (tests/e2e/test_fake_platform.py, whose tiny emulator plays the provider).
 *
 * The provider it pretends to be, under one base URL (MEETLINK_FAKE_URL, or the sandbox's
 * /fake):
 *   GET  /authorize            OAuth consent (authorization code with PKCE)
 *   POST /token                code exchange and refresh (form, client_id/client_secret)
 *   GET  /me                   {"email": ...} with the bearer token
 *   POST /meetings             {"key", "title", "start", "end"} -> 201 {"id", "join_url"};
 *                              an existing key answers 200 with the same meeting
 *   DELETE /meetings/{id}      204, 404 when gone
 * and it signs its webhooks: x-fake-signature = hex(HMAC-SHA256(secret, body)), with the
 * body {"id": delivery id, "type": "meeting.deleted", "meeting_id": ...}.
 */
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "providers/remote.h"

#include <stdlib.h>
#include <string.h>

static int fake_endpoints(const struct ml_endpoint_env *env, struct ml_endpoints *out)
{
	char *base = ml_endpoint_base(env, "MEETLINK_FAKE_URL", "/fake", NULL);
	if (!base)
		return 0; /* neither configured nor sandboxed: not available */
	out->authorize_url = ml_asprintf("%s/authorize", base);
	out->token_url = ml_asprintf("%s/token", base);
	out->revoke_url = ml_asprintf("%s/revoke", base);
	out->account_url = ml_asprintf("%s/me", base);
	out->api_base = base;
	return 0;
}

static const struct ml_oauth_info fake_oauth = {
    .env = "FAKE",
    .sandbox_client_id = "fake-sandbox-client",
    .sandbox_client_secret = "fake-sandbox-secret",
    .scopes = "meetings",
};

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	return ml_perr_from_resp(err, r, "Fake", ml_pjs(body, "error"), ml_pjs(body, "message"));
}

static int fake_step(const struct ml_provider_ctx *cx, enum ml_mop op,
                     const struct ml_meeting_req *req, const struct ml_pcreds *cr,
                     json_t *state, const struct ml_presp *resp, struct ml_pstep *out,
                     struct ml_perr *err)
{
	json_t *body = NULL;
	int rc = 0;
	if (op != ML_MOP_CREATE && op != ML_MOP_DELETE && op != ML_MOP_UPDATE)
		return ml_pstep_end(out, ml_perr_set(err, ML_PERR_PERMANENT, 0, "unsupported",
		                                     "fake does not do this"),
		                    NULL);
	if (!resp) {
		if (op == ML_MOP_DELETE && !req->external_id) {
			out->kind = ML_PSTEP_DONE;
			return 0;
		}
		if (op == ML_MOP_DELETE) {
			ml_pphase(state, "delete");
			ml_pstep_http(out, "DELETE",
			              ml_asprintf("%s/meetings/%s", cr->api_base, req->external_id), NULL,
			              NULL, ml_pbearer(cr));
			return 0;
		}
		/* The key makes a retried create find the first meeting (idempotent). */
		char *key = ml_asprintf("%s-%u", req->booking_id, req->generation);
		json_t *b = json_pack("{s:s, s:s, s:I, s:I}", "key", key, "title",
		                      req->title ? req->title : "", "start", (json_int_t)req->start,
		                      "end", (json_int_t)req->end);
		free(key);
		ml_pphase(state, "create");
		ml_pstep_json(out, "POST", ml_asprintf("%s/meetings", cr->api_base), b, cr);
		return 0;
	}
	const char *ph = ml_pjs(state, "phase");
	if (ml_presp_settles(ph, resp, out))
		return 0;
	body = ml_presp_json(resp);
	if (ph && strcmp(ph, "create") == 0 && ml_presp_ok(resp) && ml_pjs(body, "id") &&
	    ml_pjs(body, "join_url")) {
		out->kind = ML_PSTEP_DONE;
		out->meeting.external_id = ml_strdup(ml_pjs(body, "id"));
		out->meeting.join_url = ml_strdup(ml_pjs(body, "join_url"));
		goto done;
	}
	rc = classify(err, resp, body);
done:
	return ml_pstep_end(out, rc, body);
}

static const struct ml_remote_info fake_remote = {.max_inflight_per_conn = 2};

static int fake_verify(const char *secret, const struct ml_inbound_req *r)
{
	const char *sig = r->header(r->arg, "x-fake-signature");
	uint8_t mac[32];
	char want[65];
	if (!sig)
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "x-fake-signature is required.");
	ml_hmac_sha256(secret, strlen(secret), r->body, r->body_len, mac);
	ml_hex_encode(mac, sizeof mac, want);
	if (!ml_ct_equal(want, strlen(want), sig, strlen(sig)))
		return ml_error_set(ML_EAUTH, "invalid_signature", NULL,
		                    "The signature does not match.");
	return 0;
}

static int fake_parse(const char *secret, const struct ml_inbound_req *r, json_t *body,
                      struct ml_inbound_event *out)
{
	const char *id = ml_pjs(body, "id"), *type = ml_pjs(body, "type");
	const char *mid = ml_pjs(body, "meeting_id");
	if (!id || !type)
		return ml_error_set(ML_EINVAL, "invalid_field", "id", "id and type are required.");
	snprintf(out->key, sizeof out->key, "%s", id);
	if (strcmp(type, "meeting.deleted") == 0 && mid) {
		out->kind = ML_INBOUND_MEETING_DELETED;
		snprintf(out->external_id, sizeof out->external_id, "%s", mid);
	}
	return 0;
}

static const struct ml_inbound_info fake_inbound = {
    .secret_setting = "MEETLINK_FAKE_WEBHOOK_SECRET",
    .sandbox_secret = "fake-sandbox-webhook-secret",
    .verify = fake_verify,
    .parse = fake_parse,
};

const struct ml_provider_ops ml_provider_fake = {
    .abi = ML_PROVIDER_ABI,
    .name = "fake",
    .label = "Fake Meet",
    .caps = ML_CAP_REMOTE | ML_CAP_OAUTH | ML_CAP_DELETE,
    .remote_step = fake_step,
    .remote = &fake_remote,
    .endpoints = fake_endpoints,
    .oauth = &fake_oauth,
    .inbound = &fake_inbound,
};

/* The registration line: before main(), so before any thread starts. */
__attribute__((constructor)) static void fake_register(void) { ml_provider_register(&ml_provider_fake); }
