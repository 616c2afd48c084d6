/* The email jobs: `email.send` (invitation, update, cancellation to one participant) and
 * `email.reconnect_nudge` (notify/nudge.h). Each renders its message when it runs (the
 * organization's template or the default) and hands it to SMTP through libcurl on the
 * worker's multi handle: smtp:// (STARTTLS with ?starttls=1), smtps://, AUTH from the URL's
 * user information. Mail is never dropped: without MEETLINK_SMTP_URL it waits (and is woken
 * when the daemon starts with one); while the server is down it retries with backoff; the
 * outcome goes on the booking's audit trail as email.sent / email.failed.
 */
#include "core/config.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/retry.h"
#include "domain/gateway.h"
#include "notify/email.h"
#include "notify/ics.h"
#include "notify/invite.h"
#include "notify/jobs.h"
#include "notify/nudge.h"
#include "notify/outbox.h"
#include "notify/template.h"
#include "queue/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

struct mail {
	struct curl_slist *rcpt;
	char *msg;
	size_t len, off;
	char *to;         /* the recipient's address, for the trail */
	char *template;   /* which message */
	char *booking_id; /* NULL for a nudge */
	char *message_id;
	char *error; /* why it failed, for the trail */
	bool final;  /* the last attempt: record email.failed */
};

static void mail_free(struct mail *m)
{
	if (!m)
		return;
	curl_slist_free_all(m->rcpt);
	free(m->msg);
	free(m->to);
	free(m->template);
	free(m->booking_id);
	free(m->message_id);
	free(m->error);
	free(m);
}

static void release(struct ml_job_run *run)
{
	mail_free(run->state);
	run->state = NULL;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct mail *m = arg;
	size_t room = size * n, left = m->len - m->off;
	size_t k = left < room ? left : room;
	memcpy(buf, m->msg + m->off, k);
	m->off += k;
	return k;
}

/* --- time in words, in the booking's zone --- */

static void when_words(int64_t start, int64_t end, const char *tz, char *start_s, size_t sn,
                       char *when_s, size_t wn, char *end_s, size_t en)
{
	static const char *const wd[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
	                                 "Thursday", "Friday", "Saturday"};
	static const char *const mo[] = {"January",   "February", "March",    "April",
	                                 "May",       "June",     "July",     "August",
	                                 "September", "October",  "November", "December"};
	struct tm a, b;
	const char *zone = tz && *tz ? tz : "UTC";
	if (ml_ics_local_time(start, zone, &a) < 0)
		zone = "UTC";
	ml_ics_local_time(end, zone, &b);
	snprintf(start_s, sn, "%.3s %d %.3s %d, %02d:%02d (%s)", wd[a.tm_wday], a.tm_mday,
	         mo[a.tm_mon], a.tm_year + 1900, a.tm_hour, a.tm_min, zone);
	snprintf(end_s, en, "%.3s %d %.3s %d, %02d:%02d (%s)", wd[b.tm_wday], b.tm_mday,
	         mo[b.tm_mon], b.tm_year + 1900, b.tm_hour, b.tm_min, zone);
	if (a.tm_year == b.tm_year && a.tm_mon == b.tm_mon && a.tm_mday == b.tm_mday)
		snprintf(when_s, wn, "%s %d %s %d, %02d:%02d\u2013%02d:%02d (%s)", wd[a.tm_wday],
		         a.tm_mday, mo[a.tm_mon], a.tm_year + 1900, a.tm_hour, a.tm_min, b.tm_hour,
		         b.tm_min, zone);
	else
		snprintf(when_s, wn, "%s \u2013 %s", start_s, end_s);
}

/* The placeholders of a booking email for one recipient (notify/template.h lists them). */
json_t *ml_notify_booking_vars(json_t *booking, json_t *host, json_t *recipient)
{
	json_t *m = json_object_get(booking, "meeting");
	json_t *c = json_object_get(booking, "customer");
	int64_t s = 0, e = 0;
	char start[96], end[96], when[200];
	ml_time_parse(str(booking, "start"), &s);
	ml_time_parse(str(booking, "end"), &e);
	when_words(s, e, str(booking, "timezone"), start, sizeof start, when, sizeof when, end,
	           sizeof end);
	const char *name = str(recipient, "name");
	bool online = json_is_true(json_object_get(booking, "is_online")) && str(m, "platform");
	json_t *v = json_object();
	json_object_set_new(v, "recipient_name",
	                    json_string(name && *name ? name : str(recipient, "email")));
	json_object_set_new(v, "recipient_email", json_string(str(recipient, "email")));
	json_object_set_new(v, "recipient_role", json_string(str(recipient, "role")));
	json_object_set_new(v, "title",
	                    json_string(str(booking, "title") ? str(booking, "title") : "Meeting"));
	json_object_set_new(v, "when", json_string(when));
	json_object_set_new(v, "start", json_string(start));
	json_object_set_new(v, "end", json_string(end));
	json_object_set_new(
	    v, "timezone",
	    json_string(str(booking, "timezone") ? str(booking, "timezone") : "UTC"));
	char dur[24];
	snprintf(dur, sizeof dur, "%lld",
	         (long long)json_integer_value(json_object_get(booking, "duration_minutes")));
	json_object_set_new(v, "duration_minutes", json_string(dur));
	if (str(recipient, "join_url"))
		json_object_set_new(v, "join_url", json_string(str(recipient, "join_url")));
	if (online)
		json_object_set_new(v, "platform",
		                    json_string(ml_invite_platform_label(str(m, "platform"))));
	if (str(m, "passcode"))
		json_object_set_new(v, "passcode", json_string(str(m, "passcode")));
	json_object_set_new(v, "host_name",
	                    json_string(str(host, "name") ? str(host, "name") : ""));
	json_object_set_new(v, "host_email",
	                    json_string(str(host, "email") ? str(host, "email") : ""));
	json_object_set_new(v, "customer_name", json_string(str(c, "name") ? str(c, "name") : ""));
	json_object_set_new(v, "customer_email",
	                    json_string(str(c, "email") ? str(c, "email") : ""));
	if (str(booking, "cancel_reason"))
		json_object_set_new(v, "cancel_reason", json_string(str(booking, "cancel_reason")));
	json_object_set_new(v, "booking_id", json_string(str(booking, "id")));
	/* An instant meeting's personal message (bounded and checked on the way in). */
	const char *msg = str(json_object_get(booking, "instant"), "message");
	if (msg && *msg)
		json_object_set_new(v, "message", json_string(msg));
	if (online)
		json_object_set_new(v, "is_online", json_string("yes"));
	return v;
}

/* --- the template of the organization, or the default --- */

struct tpl_read {
	const char *org_id, *name;
	json_t *tpl;
};

static int tpl_fn(struct ml_tx *tx, void *arg)
{
	struct tpl_read *t = arg;
	int rc = ml_tx_template_get(tx, t->org_id, t->name, &t->tpl);
	return rc == ML_ENOTFOUND ? 0 : rc;
}

int ml_notify_template_load(struct ml_store *store, const char *org_id, const char *name,
                            json_t **out)
{
	struct tpl_read t = {org_id, name, NULL};
	int rc = ml_store_read(store, tpl_fn, &t);
	if (rc < 0)
		return rc;
	*out = t.tpl ? t.tpl : ml_template_default(name);
	return *out ? 0
	            : ml_error_set(ML_EINVAL, "unknown_template", "template",
	                           "No template called %s.", name);
}

/* --- SMTP --- */

static char *public_host(const char *public_url)
{
	const char *h = strstr(public_url ? public_url : "", "://");
	h = h ? h + 3 : "meetlink.invalid";
	return ml_strndup(h, strcspn(h, ":/"));
}

/* MEETLINK_SMTP_URL without meetlink's own query options (curl would take them for part of
 * the EHLO domain), and those options: starttls=1|required, starttls=try, insecure=1. */
static char *smtp_url(const char *url, long *use_ssl, bool *insecure)
{
	const char *q = strchr(url, '?');
	*use_ssl = CURLUSESSL_NONE;
	*insecure = false;
	if (!q)
		return ml_strdup(url);
	for (const char *p = q + 1; *p;) {
		size_t n = strcspn(p, "&");
		if ((n == 10 && strncmp(p, "starttls=1", 10) == 0) ||
		    (n == 17 && strncmp(p, "starttls=required", 17) == 0))
			*use_ssl = CURLUSESSL_ALL;
		else if (n == 12 && strncmp(p, "starttls=try", 12) == 0)
			*use_ssl = CURLUSESSL_TRY;
		else if (n == 10 && strncmp(p, "insecure=1", 10) == 0)
			*insecure = true;
		p += n + (p[n] == '&');
	}
	return ml_strndup(url, (size_t)(q - url));
}

int ml_notify_mail_send(struct ml_job_run *run, struct mail *m, const struct ml_email *msg)
{
	const struct ml_env *env = run->env;
	char *spec = ml_email_addr_spec(env->cfg->smtp_from);
	int rc;
	if (!spec)
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_SMTP_FROM",
		                    "MEETLINK_SMTP_FROM has no usable address.");
	if ((rc = ml_email_build(&m->msg, msg)) < 0) {
		free(spec);
		return rc;
	}
	m->len = strlen(m->msg);
	char *rcpt = ml_asprintf("<%s>", msg->to.email);
	m->rcpt = curl_slist_append(NULL, rcpt);
	free(rcpt);
	char *from = ml_asprintf("<%s>", spec);
	free(spec);

	long use_ssl;
	bool insecure;
	char *url = smtp_url(env->cfg->smtp_url, &use_ssl, &insecure);
	CURL *easy = curl_easy_init();
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(easy, CURLOPT_USE_SSL, use_ssl);
	if (insecure) {
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(easy, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, m->rcpt);
	curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(easy, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(easy, CURLOPT_READDATA, m);
	curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->len);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 60000L);
	free(url);
	free(from);
	/* libcurl waits for the server's answer to the end of data on the thread driving the
	 * transfer: the aside loop, not the one every provider call and webhook runs on. */
	ml_job_run_http_aside(run, easy);
	return 0;
}

/* Everything of a mail outcome that goes on the trail commits with the job's new state. */
static int sent_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct mail *m = run->state;
	json_t *data = json_pack("{s:s, s:s, s:s, s:i}", "to", m->to, "template", m->template,
	                         "message_id", m->message_id, "attempts", run->job.attempts);
	struct ml_audit ev = {run->job.org_id, m->booking_id, "email.sent", "worker", NULL, data};
	int rc = ml_tx_audit_append(tx, &ev);
	json_decref(data);
	return rc;
}

static int failed_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct mail *m = run->state;
	json_t *data = json_pack("{s:s, s:s, s:s, s:i}", "to", m->to, "template", m->template,
	                         "error", m->error ? m->error : "", "attempts", run->job.attempts);
	struct ml_audit ev = {run->job.org_id, m->booking_id, "email.failed", "worker", NULL, data};
	int rc = ml_tx_audit_append(tx, &ev);
	json_decref(data);
	return rc;
}

void ml_notify_mail_outcome(struct ml_job_run *run, const struct ml_http_result *res)
{
	struct mail *m = run->state;
	const struct ml_env *env = run->env;
	if (res->code == CURLE_OK) {
		struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, NULL};
		json_t *result = json_pack("{s:s, s:s}", "message_id", m->message_id, "to", m->to);
		f.result = result;
		ml_job_run_finish(run, &f, sent_commit, run);
		json_decref(result);
		return;
	}
	m->error = res->status > 0 ? ml_asprintf("SMTP %ld: %s", res->status, res->error)
	                           : ml_asprintf("SMTP: %s", res->error);
	/* 550-554 refuse this message for good (no such mailbox, not allowed, too big, policy).
	 * Other 5xx (530 STARTTLS or AUTH required, 535 login refused, 500-504 protocol) are a
	 * configuration an operator fixes: those keep retrying, like 4xx and network errors. */
	bool permanent =
	    res->status >= 550 && res->status <= 554 && res->code != CURLE_LOGIN_DENIED;
	if (permanent) {
		struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, m->error, NULL};
		ml_job_run_finish(run, &f, failed_commit, run);
		return;
	}
	uint32_t rnd;
	ml_random(&rnd, sizeof rnd);
	int64_t delay = ml_retry_delay_ms(run->job.attempts, env->cfg->retry_base_ms,
	                                  ML_EMAIL_BACKOFF_CAP_MS, 0, rnd);
	m->final = run->job.attempts >= run->job.max_attempts;
	struct ml_job_finish f = {ML_JOB_RETRY, ml_now_ms() + delay, NULL, m->error, NULL};
	ml_job_run_finish(run, &f, m->final ? failed_commit : NULL, run);
}

void ml_notify_mail_release(struct ml_job_run *run)
{
	release(run);
}

const char *ml_notify_mail_id(const struct mail *m)
{
	return m->message_id;
}

struct mail *ml_notify_mail_new(const char *to, const char *tpl, const char *booking_id,
                                const char *job_id, const char *public_url)
{
	struct mail *m = ml_calloc(1, sizeof *m);
	char *host = public_host(public_url);
	m->to = ml_strdup(to ? to : "");
	m->template = ml_strdup(tpl);
	m->booking_id = booking_id ? ml_strdup(booking_id) : NULL;
	/* Derived from the job: the same on every attempt, so a retried send is recognisable. */
	m->message_id = ml_asprintf("%s@%s", job_id, host);
	free(host);
	return m;
}

/* No server configured: the job parks until a daemon starts with one (serve wakes "smtp"). */
bool ml_notify_mail_wait_unconfigured(struct ml_job_run *run)
{
	const struct ml_env *env = run->env;
	if (env->cfg->smtp_url)
		return false;
	struct ml_job_finish f = {ML_JOB_WAIT, 0, ML_NOTIFY_SMTP_WAIT_KEY,
	                          ML_NOTIFY_SMTP_WAIT_REASON,
	                          NULL};
	ml_job_run_finish(run, &f, NULL, NULL);
	return true;
}

void ml_notify_mail_notice(struct ml_job_run *run, const char *to_name, const char *to,
                           const char *subject, const char *text, const char *html)
{
	const struct ml_env *env = run->env;
	char *from_name = ml_email_addr_name(env->cfg->smtp_from);
	char *spec = ml_email_addr_spec(env->cfg->smtp_from);
	struct ml_email msg = {
	    .from = {from_name, spec},
	    .to = {to_name, to},
	    .subject = subject,
	    .message_id = ml_notify_mail_id(run->state),
	    .date = ml_now(),
	    .text = text,
	    .html = html,
	};
	if (ml_notify_mail_send(run, run->state, &msg) < 0)
		ml_notify_mail_fail(run, ml_error_message());
	free(spec);
	free(from_name);
}

void ml_notify_mail_fail(struct ml_job_run *run, const char *why)
{
	struct mail *m = run->state;
	if (m && !m->error)
		m->error = ml_strdup(why);
	struct ml_job_finish f = {ML_JOB_FAIL, 0, NULL, why, NULL};
	ml_job_run_finish(run, &f, m ? failed_commit : NULL, run);
}

static int wake_fn(struct ml_tx *tx, void *arg)
{
	int *n = arg;
	*n = ml_tx_job_wake(tx, ML_NOTIFY_SMTP_WAIT_KEY);
	return *n < 0 ? *n : 0;
}

int ml_notify_smtp_wake(struct ml_store *store)
{
	int n = 0;
	int rc = ml_store_write(store, wake_fn, &n);
	return rc < 0 ? rc : n;
}

/* --- email.send --- */

static void send_start(struct ml_job_run *run)
{
	const struct ml_env *env = run->env;
	json_t *p = run->job.payload;
	json_t *booking = json_object_get(p, "booking"), *host = json_object_get(p, "host");
	json_t *r = json_object_get(p, "recipient");
	const char *tname = str(p, "template");
	json_t *tpl = NULL, *vars = NULL;
	char *subject = NULL, *text = NULL, *html = NULL, *ics = NULL, *from_name = NULL;
	const char *method = NULL;

	if (ml_notify_mail_wait_unconfigured(run))
		return;
	run->state = ml_notify_mail_new(str(r, "email"), tname ? tname : "", str(p, "booking_id"),
	                                run->job.id, env->cfg->public_url);
	if (!tname || !ml_template_known(tname) || !json_is_object(booking)) {
		ml_notify_mail_fail(run, "malformed email job");
		return;
	}
	if (ml_notify_template_load(env->store, run->job.org_id, tname, &tpl) < 0) {
		ml_job_run_retry(run, 0, "cannot read the template");
		return;
	}
	/* The recipient's gateway link, made now from its generation (never stored). */
	if (json_is_integer(json_object_get(r, "gateway_link_generation"))) {
		char *gw = ml_gateway_url_of(
		    &env->platforms, run->job.org_id, str(p, "booking_id"), str(r, "participant_id"),
		    json_integer_value(json_object_get(r, "gateway_link_generation")));
		json_object_set_new(r, "join_url", gw ? json_string(gw) : json_null());
		free(gw);
	}
	vars = ml_notify_booking_vars(booking, host, r);
	subject = ml_template_render(str(tpl, "subject"), vars, false);
	text = ml_template_render(str(tpl, "text"), vars, false);
	html = ml_template_render(str(tpl, "html"), vars, true);
	struct ml_invite inv = {booking,  host, env->cfg->public_url,
	                        ml_now(), true, str(r, "join_url")};
	int rc = ml_invite_build(&ics, &method, &inv);
	if (rc < 0) {
		ml_notify_mail_fail(run, ml_error_message());
		goto done;
	}
	struct mail *m = run->state;
	from_name = ml_email_addr_name(env->cfg->smtp_from);
	struct ml_email msg = {
	    .from = {from_name, env->cfg->smtp_from},
	    .to = {str(r, "name"), str(r, "email")},
	    .subject = subject,
	    .message_id = m->message_id,
	    .date = ml_now(),
	    .text = text,
	    .html = html,
	    .ics = ics,
	    .ics_method = method,
	};
	char *spec = ml_email_addr_spec(env->cfg->smtp_from);
	msg.from.email = spec;
	rc = ml_notify_mail_send(run, m, &msg);
	free(spec);
	if (rc < 0)
		ml_notify_mail_fail(run, ml_error_message());
done:
	json_decref(tpl);
	json_decref(vars);
	free(subject);
	free(text);
	free(html);
	free(ics);
	free(from_name);
}

static void send_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	ml_notify_mail_outcome(run, res);
}

const struct ml_job_handler ml_job_email_send = {
    .kind = "email.send",
    .start = send_start,
    .on_http = send_on_http,
    .release = release,
};

const struct ml_job_handler ml_job_email_nudge = {
    .kind = "email.reconnect_nudge",
    .start = ml_nudge_start,
    .on_http = send_on_http,
    .release = release,
};
