#include "notify/nudge.h"
#include "core/config.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "notify/invite.h"
#include "notify/jobs.h"
#include "notify/outbox.h"
#include "notify/template.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24 * 3600 * 1000LL)

const int64_t ml_nudge_offsets_ms[ML_NUDGE_COUNT] = {0, 1 * DAY_MS, 3 * DAY_MS, 7 * DAY_MS};

static _Atomic(const struct ml_nudge_hooks *) hooks;

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

void ml_nudge_schedule(int64_t now_ms, int64_t out[ML_NUDGE_COUNT])
{
	for (int i = 0; i < ML_NUDGE_COUNT; i++)
		out[i] = now_ms + ml_nudge_offsets_ms[i];
}

void ml_nudge_set_hooks(const struct ml_nudge_hooks *h)
{
	atomic_store(&hooks, h);
}

static char *group_of(const char *connection_id)
{
	return ml_asprintf("nudge:%s", connection_id);
}

int ml_notify_reauth_required(struct ml_tx *tx, const char *org_id, const char *connection_id,
                              json_t *host, const char *platform, const char *connect_url,
                              const char *why)
{
	int64_t at[ML_NUDGE_COUNT];
	char *group = group_of(connection_id);
	int rc = 0;

	ml_nudge_schedule(ml_now_ms(), at);
	for (int i = 0; i < ML_NUDGE_COUNT && rc == 0; i++) {
		json_t *p = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s?, s:i}", "connection_id",
		                      connection_id, "host_id", str(host, "id"), "host_name",
		                      str(host, "name") ? str(host, "name") : "", "host_email",
		                      str(host, "email") ? str(host, "email") : "", "platform",
		                      platform, "connect_url", connect_url, "nudge", i + 1);
		struct ml_job_new j = {org_id, "email.reconnect_nudge", group, NULL,
		                       p,      i == 0 ? 0 : at[i],      8};
		rc = ml_tx_job_enqueue(tx, &j, NULL);
		json_decref(p);
	}
	free(group);
	if (rc < 0)
		return rc;
	json_t *data = json_pack("{s:s, s:s?, s:s, s:s?}", "connection_id", connection_id,
	                         "host_id", str(host, "id"), "platform", platform, "reason", why);
	rc = ml_notify_webhook(tx, org_id, "connection.reauth_required", NULL, data);
	json_decref(data);
	return rc;
}

int ml_notify_reconnected(struct ml_tx *tx, const char *connection_id)
{
	char *group = group_of(connection_id);
	int rc = ml_tx_job_cancel_group(tx, group, "email.reconnect_nudge");
	free(group);
	return rc;
}

struct check {
	const struct ml_nudge_hooks *h;
	const char *org_id, *conn_id;
	int broken;
};

static int check_fn(struct ml_tx *tx, void *arg)
{
	struct check *c = arg;
	c->broken = c->h->still_broken(tx, c->org_id, c->conn_id);
	return c->broken < 0 ? c->broken : 0;
}

void ml_nudge_start(struct ml_job_run *run)
{
	const struct ml_env *env = run->env;
	json_t *p = run->job.payload;
	const struct ml_nudge_hooks *h = atomic_load(&hooks);
	char *url = NULL, *subject = NULL, *text = NULL, *html = NULL;
	json_t *tpl = NULL, *vars = NULL;

	if (h && h->still_broken) {
		struct check c = {h, run->job.org_id, str(p, "connection_id"), 1};
		if (ml_store_read(env->store, check_fn, &c) < 0) {
			ml_job_run_retry(run, 0, "cannot read the connection");
			return;
		}
		if (c.broken == 0) {
			json_t *result =
			    json_pack("{s:s}", "skipped", "the connection works again");
			struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, result};
			ml_job_run_finish(run, &f, NULL, NULL);
			json_decref(result);
			return;
		}
	}
	if (ml_notify_mail_wait_unconfigured(run))
		return;
	run->state = ml_notify_mail_new(str(p, "host_email"), "reconnect", NULL, run->job.id,
	                                env->cfg->public_url);
	if (h && h->connect_url)
		url = h->connect_url(env, run->job.org_id, str(p, "host_id"), str(p, "platform"));
	if (!url && str(p, "connect_url"))
		url = ml_strdup(str(p, "connect_url"));
	if (!url || !str(p, "host_email") || !*str(p, "host_email")) {
		ml_notify_mail_fail(run, url ? "the host has no email address"
		                             : "no connect link can be made for this host");
		free(url);
		return;
	}
	if (ml_notify_template_load(env->store, run->job.org_id, "reconnect", &tpl) < 0) {
		free(url);
		ml_job_run_retry(run, 0, "cannot read the template");
		return;
	}
	vars = json_pack("{s:s, s:s, s:s, s:s}", "host_name",
	                 *str(p, "host_name") ? str(p, "host_name") : str(p, "host_email"),
	                 "host_email", str(p, "host_email"), "platform",
	                 ml_invite_platform_label(str(p, "platform")), "connect_url", url);
	subject = ml_template_render(str(tpl, "subject"), vars, false);
	text = ml_template_render(str(tpl, "text"), vars, false);
	html = ml_template_render(str(tpl, "html"), vars, true);
	ml_notify_mail_notice(run, str(p, "host_name"), str(p, "host_email"), subject, text, html);
	free(url);
	free(subject);
	free(text);
	free(html);
	json_decref(tpl);
	json_decref(vars);
}
