/* Failing webhook endpoints are disabled (endpoint_health.h), and the `email.webhook_disabled`
 * job that tells their contact. */
#include "notify/endpoint_health.h"
#include "core/config.h"
#include "core/error.h"
#include "core/html.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "notify/endpoints.h"
#include "notify/jobs.h"
#include "notify/outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int ml_notify_endpoint_attempt(struct ml_tx *tx, const char *org_id, json_t *endpoint, bool ok,
                               int64_t at_ms, int64_t disable_after_ms, const char *error,
                               bool *disabled)
{
	const char *id = str(endpoint, "id");
	char since[ML_RFC3339_MAX];
	*disabled = false;
	int rc = ml_tx_webhook_endpoint_health(tx, org_id, id, ok, at_ms, disable_after_ms,
	                                       disabled);
	if (rc < 0 || !*disabled)
		return rc;
	/* The clock is read back: it started before this attempt, maybe days ago. */
	json_t *now_ep = NULL;
	if ((rc = ml_tx_webhook_endpoint_get(tx, org_id, id, &now_ep, NULL)) < 0)
		return rc;
	snprintf(since, sizeof since, "%s",
	         str(now_ep, "failing_since") ? str(now_ep, "failing_since") : "");
	json_decref(now_ep);
	json_t *data = json_pack("{s:s, s:s, s:s, s:s?, s:I}", "endpoint_id", id, "url",
	                         str(endpoint, "url"), "failing_since", since, "last_error", error,
	                         "disable_after_hours",
	                         (json_int_t)(disable_after_ms / (3600 * 1000)));
	struct ml_audit ev = {org_id, NULL, "webhook_endpoint.disabled", "worker", NULL, data};
	rc = ml_tx_audit_append(tx, &ev);
	if (rc == 0)
		rc = ml_notify_webhook_others(tx, org_id, "webhook_endpoint.disabled", data, id);
	const char *to = str(endpoint, "contact_email");
	if (rc == 0 && to && *to) {
		json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "endpoint_id", id, "url",
		                      str(endpoint, "url"), "to", to, "failing_since", since,
		                      "last_error", error);
		char *group = ml_asprintf("whd:%s", id);
		struct ml_job_new j = {org_id, "email.webhook_disabled", group, NULL, p, 0,
		                       ML_EMAIL_MAX_ATTEMPTS};
		rc = ml_tx_job_enqueue(tx, &j, NULL);
		free(group);
		json_decref(p);
	}
	json_decref(data);
	/* The cached lists are read again (at the latest a second later anyway); a delivery
	 * queued meanwhile is skipped when it comes up. */
	ml_notify_endpoints_changed();
	if (rc >= 0)
		rc = ml_tx_signal(tx, "endpoints", NULL); /* the other nodes, once committed */
	return rc;
}

/* --- email.webhook_disabled --- */

static void disabled_start(struct ml_job_run *run)
{
	const struct ml_env *env = run->env;
	json_t *p = run->job.payload;
	const char *to = str(p, "to"), *id = str(p, "endpoint_id"), *url = str(p, "url");
	const char *since = str(p, "failing_since"), *err = str(p, "last_error");
	if (ml_notify_mail_wait_unconfigured(run))
		return;
	run->state = ml_notify_mail_new(to, "webhook_disabled", NULL, run->job.id,
	                                env->cfg->public_url);
	if (!to || !id || !url) {
		ml_notify_mail_fail(run, "malformed email job");
		return;
	}
	char *subject = ml_asprintf("Webhook endpoint disabled: %s", url);
	char *text = ml_asprintf(
	    "meetlink has disabled your webhook endpoint\n\n  %s\n  (id %s)\n\n"
	    "Every delivery to it has failed since %s. The last error: %s.\n\n"
	    "No events are sent to it while it is disabled. Deliveries that were still being "
	    "retried are marked failed; they can be sent again with\n"
	    "POST /v1/webhook-endpoints/%s/deliveries/{delivery_id}/redeliver.\n\n"
	    "Once the receiver works again, enable the endpoint with\n"
	    "PATCH /v1/webhook-endpoints/%s {\"enabled\": true}\n",
	    url, id, since ? since : "(unknown)", err ? err : "(none recorded)", id, id);
	char *eurl = ml_html_escape(url), *eid = ml_html_escape(id);
	char *eerr = ml_html_escape(err ? err : "(none recorded)");
	char *esince = ml_html_escape(since ? since : "(unknown)");
	char *html = ml_asprintf(
	    "<p>meetlink has disabled your webhook endpoint <code>%s</code> (id <code>%s</code>)."
	    "</p><p>Every delivery to it has failed since %s. The last error: %s.</p>"
	    "<p>No events are sent to it while it is disabled. Once the receiver works again, "
	    "enable it with <code>PATCH /v1/webhook-endpoints/%s {\"enabled\": true}</code>; "
	    "failed deliveries can then be sent again with <code>POST "
	    "/v1/webhook-endpoints/%s/deliveries/{delivery_id}/redeliver</code>.</p>",
	    eurl, eid, esince, eerr, eid, eid);
	ml_notify_mail_notice(run, NULL, to, subject, text, html);
	free(subject);
	free(text);
	free(html);
	free(eurl);
	free(eid);
	free(eerr);
	free(esince);
}

static void disabled_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	ml_notify_mail_outcome(run, res);
}

const struct ml_job_handler ml_job_email_webhook_disabled = {
    .kind = "email.webhook_disabled",
    .start = disabled_start,
    .on_http = disabled_on_http,
    .release = ml_notify_mail_release,
};
