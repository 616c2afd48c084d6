/* The `webhook.deliver` job: one signed POST of one delivery to one endpoint (Standard
 * Webhooks: webhook-id is the delivery's id on every attempt, webhook-timestamp the attempt's
 * time, webhook-signature "v1,<base64 HMAC-SHA256>"). 2xx is delivered; 410 Gone stops; any
 * other answer, a timeout (10 s) or a network error retries with backoff (Retry-After
 * honoured) for more than a day. Every attempt is logged with the delivery, in the same
 * transaction as the job's new state. The request runs on the worker's multi handle: a slow
 * receiver holds one transfer, never a thread, and never the API.
 *
 * The URL is a client's: every address it resolves to is checked before connecting
 * (notify/target.h); a refused one fails the delivery at once, with nothing sent. Each
 * outcome also moves the endpoint's failure clock (notify/endpoint_health.h); a disabled
 * endpoint's deliveries are skipped.
 */
#include "core/config.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"
#include "domain/retry.h"
#include "http/outhdr.h"
#include "notify/endpoint_health.h"
#include "notify/jobs.h"
#include "notify/outbox.h"
#include "notify/target.h"
#include "notify/webhook.h"
#include "queue/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TIMEOUT_MS 10000L

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

struct hook {
	struct curl_slist *headers;
	char *delivery_id;
	int64_t at_ms, started_mono, duration_ms;
	long status;
	char *error;
	const char *state; /* after this attempt */
	/* what start() read */
	json_t *endpoint;
	char *secret, *body;
	struct ml_target_guard guard; /* lives as long as the transfer */
};

static void release(struct ml_job_run *run)
{
	struct hook *h = run->state;
	if (!h)
		return;
	curl_slist_free_all(h->headers);
	free(h->delivery_id);
	free(h->error);
	json_decref(h->endpoint);
	ml_vault_wipe_free(h->secret, 0);
	free(h->body);
	free(h);
	run->state = NULL;
}

struct load {
	const char *org_id, *endpoint_id;
	struct hook *h;
};

static int load_fn(struct ml_tx *tx, void *arg)
{
	struct load *l = arg;
	return ml_tx_webhook_endpoint_get(tx, l->org_id, l->endpoint_id, &l->h->endpoint,
	                                  &l->h->secret);
}

static void skip(struct ml_job_run *run, const char *why)
{
	json_t *result = json_pack("{s:s}", "skipped", why);
	struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, result};
	ml_job_run_finish(run, &f, NULL, NULL);
	json_decref(result);
}

static int skip_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct hook *h = run->state;
	return ml_tx_webhook_delivery_skip(tx, h->delivery_id, ML_ENDPOINT_SKIPPED);
}

static void start(struct ml_job_run *run)
{
	json_t *p = run->job.payload;
	const struct ml_env *env = run->env;
	struct hook *h = ml_calloc(1, sizeof *h);
	run->state = h;
	h->delivery_id = ml_strdup(str(p, "delivery_id") ? str(p, "delivery_id") : "");
	struct load l = {run->job.org_id, str(p, "endpoint_id"), h};
	h->body = ml_strdup(str(p, "body") ? str(p, "body") : "");
	if (!l.endpoint_id || !str(p, "body") || !str(p, "event_type")) {
		skip(run, "malformed delivery job");
		return;
	}
	int rc = ml_store_read(env->store, load_fn, &l);
	if (rc == ML_ENOTFOUND) {
		/* The endpoint was deleted (its log with it): nobody wants this any more. */
		skip(run, "the endpoint was deleted");
		return;
	}
	if (rc < 0) {
		ml_job_run_retry(run, 0, "cannot read the delivery");
		return;
	}
	if (str(h->endpoint, "status") && strcmp(str(h->endpoint, "status"), "disabled") == 0) {
		/* Not attempted; a delivery already in the log is failed there, redeliverable once
		 * the endpoint is enabled again. */
		json_t *result = json_pack("{s:s}", "skipped", ML_ENDPOINT_SKIPPED);
		struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, result};
		ml_job_run_finish(run, &f, skip_commit, run);
		json_decref(result);
		return;
	}
	/* A sealed secret (the vault's "mlv1:" ciphertexts) is opened for this request only. */
	if (strncmp(h->secret, "mlv1:", 5) == 0) {
		char aad[64], *plain = NULL;
		ml_notify_secret_aad(aad, sizeof aad, l.endpoint_id);
		if (!env->vault || ml_vault_decrypt(env->vault, aad, h->secret, &plain, NULL) < 0) {
			struct ml_job_finish f = {
			    ML_JOB_FAIL, 0, NULL,
			    "the endpoint's secret does not open with the vault", NULL};
			ml_job_run_finish(run, &f, NULL, NULL);
			return;
		}
		ml_vault_wipe_free(h->secret, 0);
		h->secret = plain;
	}
	int64_t ts = ml_now();
	char *sig = NULL;
	if (ml_webhook_sign(&sig, h->secret, h->delivery_id, ts, h->body, strlen(h->body)) < 0) {
		struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, "the endpoint's secret is unusable",
		                          NULL};
		ml_job_run_finish(run, &f, NULL, NULL);
		return;
	}
	char ts_text[24];
	snprintf(ts_text, sizeof ts_text, "%lld", (long long)ts);
	/* "Expect:" empty: no 100-continue round trip for every delivery. */
	if (ml_outhdr_append(&h->headers, "Content-Type", "application/json") < 0 ||
	    ml_outhdr_append(&h->headers, "User-Agent", "meetlink-webhooks/" ML_VERSION) < 0 ||
	    ml_outhdr_append(&h->headers, "Expect", "") < 0 ||
	    ml_outhdr_append(&h->headers, "webhook-id", h->delivery_id) < 0 ||
	    ml_outhdr_append(&h->headers, "webhook-timestamp", ts_text) < 0 ||
	    ml_outhdr_append(&h->headers, "webhook-signature", sig) < 0) {
		free(sig);
		struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, "a header of the delivery was unusable",
		                          NULL};
		ml_job_run_finish(run, &f, NULL, NULL);
		return;
	}
	free(sig);

	CURL *easy = curl_easy_init();
	curl_easy_setopt(easy, CURLOPT_URL, str(h->endpoint, "url"));
	/* A client chose this URL: every address it resolves to is checked before connecting
	 * (no redirects, no proxy, http(s) only). */
	h->guard.allow_private = env->cfg->allow_private_targets;
	ml_target_guard_apply(easy, &h->guard);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(h->body));
	curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, h->body);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	h->at_ms = ml_now_ms();
	h->started_mono = ml_mono_ms();
	ml_job_run_http(run, easy);
}

static int attempt_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct hook *h = run->state;
	json_t *p = run->job.payload;
	struct ml_webhook_delivery_new d = {h->delivery_id,        run->job.org_id,
	                                    str(p, "endpoint_id"), str(p, "event_type"),
	                                    str(p, "booking_id"),  h->body};
	struct ml_webhook_attempt a = {h->delivery_id, h->at_ms, h->status,
	                               h->duration_ms, h->error, h->state};
	const struct ml_env *env = run->env;
	bool disabled = false;
	int rc = ml_tx_webhook_delivery_insert(tx, &d);
	if (rc == 0)
		rc = ml_tx_webhook_attempt_record(tx, &a);
	/* The endpoint's failure clock; a failure long enough after the first disables it. */
	if (rc == 0)
		rc = ml_notify_endpoint_attempt(tx, run->job.org_id, h->endpoint,
		                                strcmp(h->state, "delivered") == 0, h->at_ms,
		                                env->cfg->webhook_disable_after_ms, h->error,
		                                &disabled);
	return rc;
}

static void on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	struct hook *h = run->state;
	const struct ml_env *env = run->env;
	h->status = res->code == CURLE_OK ? res->status : 0;
	/* The duration is taken now, not when the outcome commits. */
	h->duration_ms = ml_mono_ms() - h->started_mono;
	if (h->status >= 200 && h->status < 300) {
		h->state = "delivered";
		struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, NULL};
		ml_job_run_finish(run, &f, attempt_commit, run);
		return;
	}
	if (h->guard.refused) {
		/* Refused before any connection (or before a reused one carried a byte): nothing
		 * was sent and nothing came back. Not retried: the address will not turn public
		 * by itself; a redelivery tries again. */
		h->status = 0;
		h->error = ml_strdup(h->guard.why);
		h->state = "failed";
		struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, h->error, NULL};
		ml_job_run_finish(run, &f, attempt_commit, run);
		return;
	}
	h->error = res->code != CURLE_OK ? ml_strdup(res->error)
	                                 : ml_asprintf("the endpoint answered %ld", res->status);
	if (h->status == 410) {
		/* Gone: the receiver asks us to stop. */
		h->state = "failed";
		struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, h->error, NULL};
		ml_job_run_finish(run, &f, attempt_commit, run);
		return;
	}
	int64_t after = 0;
	char *ra = h->status ? ml_http_result_header(res, "Retry-After") : NULL;
	if (ra && ml_retry_after_parse(ra, ml_now(), &after) < 0)
		after = 0;
	free(ra);
	uint32_t rnd;
	ml_random(&rnd, sizeof rnd);
	int64_t delay = ml_retry_delay_ms(run->job.attempts, env->cfg->retry_base_ms,
	                                  ML_WEBHOOK_BACKOFF_CAP_MS, after, rnd);
	h->state = run->job.attempts >= run->job.max_attempts ? "failed" : "pending";
	struct ml_job_finish f = {ML_JOB_RETRY, ml_now_ms() + delay, NULL, h->error, NULL};
	ml_job_run_finish(run, &f, attempt_commit, run);
}

const struct ml_job_handler ml_job_webhook_deliver = {
    .kind = "webhook.deliver",
    .start = start,
    .on_http = on_http,
    .release = release,
};
