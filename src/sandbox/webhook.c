/* Outbound webhooks: providers (Zoom event notifications, Twilio status callbacks) POST to
 * URLs a test configured. Each send runs on its own detached thread with libcurl so a
 * handler never blocks; shutdown waits for sends in flight (each is bounded by a timeout). */
#include "sandbox/sb_internal.h"

#include "core/log.h"
#include "core/mem.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct send {
	char *provider, *url, *body;
	size_t n;
	char **headers; /* NULL-terminated */
	ml_sb_post_done done;
	void *arg;
};

static pthread_mutex_t wh_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wh_cv = PTHREAD_COND_INITIALIZER;
static int in_flight;

void ml_sb_webhook_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ml_buf *b = arg;
	if (b->len < 64 * 1024)
		ml_buf_append(b, ptr, size * nmemb);
	return size * nmemb;
}

static void *send_thread(void *arg)
{
	struct send *s = arg;
	struct ml_buf answer = {0};
	struct curl_slist *hl = NULL;
	long status = 0;
	CURL *c = curl_easy_init();

	for (int i = 0; s->headers[i]; i++)
		hl = curl_slist_append(hl, s->headers[i]);
	hl = curl_slist_append(hl, "Expect:");
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, s->url);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, s->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)s->n);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "meetlink-sandbox");
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(c);
	}
	curl_slist_free_all(hl);
	const char *body = answer.data ? answer.data : "";
	ml_sb_log_record_out(s->provider, s->url, (const char *const *)s->headers, s->body, s->n,
	                     status, body);
	if (s->done)
		s->done(s->arg, status, body);
	ml_buf_free(&answer);
	for (int i = 0; s->headers[i]; i++)
		free(s->headers[i]);
	free(s->headers);
	free(s->provider);
	free(s->url);
	free(s->body);
	free(s);

	pthread_mutex_lock(&wh_mu);
	if (--in_flight == 0)
		pthread_cond_broadcast(&wh_cv);
	pthread_mutex_unlock(&wh_mu);
	return NULL;
}

void ml_sb_webhook_send(const char *provider, const char *url, const char *const *headers,
                        const char *body, size_t n, ml_sb_post_done done, void *arg)
{
	struct send *s = ml_calloc(1, sizeof *s);
	int nh = 0;
	while (headers && headers[nh])
		nh++;
	s->headers = ml_calloc((size_t)nh + 1, sizeof *s->headers);
	for (int i = 0; i < nh; i++)
		s->headers[i] = ml_strdup(headers[i]);
	s->provider = ml_strdup(provider);
	s->url = ml_strdup(url);
	s->body = ml_strndup(body ? body : "", body ? n : 0);
	s->n = body ? n : 0;
	s->done = done;
	s->arg = arg;

	pthread_attr_t at;
	pthread_t th;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 512 * 1024);
	pthread_mutex_lock(&wh_mu);
	in_flight++;
	pthread_mutex_unlock(&wh_mu);
	if (pthread_create(&th, &at, send_thread, s) != 0) {
		ml_warn("sandbox: cannot start a webhook thread; sending inline");
		send_thread(s);
	}
	pthread_attr_destroy(&at);
}

void ml_sb_webhook_shutdown(void)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 7; /* longer than one send's timeout */
	pthread_mutex_lock(&wh_mu);
	while (in_flight > 0)
		if (pthread_cond_timedwait(&wh_cv, &wh_mu, &until) != 0)
			break;
	pthread_mutex_unlock(&wh_mu);
	curl_global_cleanup();
}
