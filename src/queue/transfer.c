/* The calls on the worker's multi loop (and its aside loop): each easy handle tracked with
 * its response, handed back to its run (or to the thread waiting on it) when it ends, and
 * abandoned when its run's lease is about to run out. */
#include "queue/worker_internal.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx *h = arg;
	if (h->body.len + size * n > (8u << 20))
		return 0; /* refuse absurd bodies: the transfer fails */
	ml_buf_append(&h->body, p, size * n);
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_ctx *h = arg;
	if (h->headers.len + size * n <= (64u << 10))
		ml_buf_append(&h->headers, p, size * n);
	return size * n;
}

char *ml_http_result_header(const struct ml_http_result *res, const char *name)
{
	size_t nl = strlen(name);
	const char *p = res->headers;
	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t vl = len - (size_t)(v - p);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			return ml_strndup(v, vl);
		}
		p = eol ? eol + 2 : NULL;
	}
	return NULL;
}

struct http_ctx *ml_wk_transfer_track(struct ml_worker *w, CURL *easy)
{
	struct http_ctx *h = ml_calloc(1, sizeof *h);
	h->easy = easy;
	h->sock = CURL_SOCKET_BAD;
	h->next = w->transfers;
	if (w->transfers)
		w->transfers->prev = h;
	w->transfers = h;
	curl_easy_setopt(easy, CURLOPT_PRIVATE, h);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	return h;
}

static struct http_ctx *transfer_new(struct ml_job_run *run, CURL *easy)
{
	struct http_ctx *h = ml_wk_transfer_track(run->worker, easy);
	h->run = run;
	run->inflight_http++;
	return h;
}

void ml_job_run_http(struct ml_job_run *run, CURL *easy)
{
	transfer_new(run, easy);
	curl_multi_add_handle(run->worker->multi, easy);
}

void ml_job_run_http_aside(struct ml_job_run *run, CURL *easy)
{
	struct ml_worker *w = run->worker;
	if (!w->aside) {
		ml_job_run_http(run, easy);
		return;
	}
	transfer_new(run, easy)->aside = true;
	ml_aside_add(w->aside, easy);
}

/* Which socket each transfer's connection uses (curl_loop.h): what ml_worker_stop shuts
 * down before it abandons the transfer. */
void ml_wk_note_socket(CURL *easy, curl_socket_t s, void *arg)
{
	(void)arg;
	struct http_ctx *h = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
	if (h && h->easy == easy)
		h->sock = s;
}

void ml_wk_wake_loop(void *loop)
{
	ml_curl_loop_wake(loop);
}

void ml_wk_transfer_free(struct ml_worker *w, struct http_ctx *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		w->transfers = h->next;
	if (h->next)
		h->next->prev = h->prev;
	/* (An aside transfer comes back removed from its multi, or is removed by its stop.) */
	if (!h->aside)
		curl_multi_remove_handle(w->multi, h->easy);
	curl_easy_cleanup(h->easy);
	ml_buf_free(&h->body);
	ml_buf_free(&h->headers);
	free(h);
}

/* A transfer is over (done, failed, or abandoned): its run hears of it. */
static void transfer_done(struct ml_worker *w, struct http_ctx *h, struct ml_http_result *res)
{
	struct ml_job_run *run = h->run;
	if (h->wait) {
		ml_wk_wait_done(w, h->wait, res->code, res->status, res->body);
		ml_wk_transfer_free(w, h);
		return;
	}
	run->inflight_http--;
	if (!run->finished) {
		const struct ml_job_handler *hd = ml_wk_handler_for(w, run->job.kind);
		hd->on_http(run, res);
		if (!run->finished && run->inflight_http == 0)
			/* A handler that neither asks again nor ends would hang: retry. */
			ml_job_run_retry(run, 0, "handler stopped without an outcome");
	}
	ml_wk_transfer_free(w, h);
	if (run->committed && run->inflight_http == 0) {
		w->inflight--;
		ml_wk_run_free(run);
	}
}

static void complete_one(struct ml_worker *w, CURL *easy, CURLcode result)
{
	struct http_ctx *h = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&h);
	struct ml_http_result res = {result, 0, NULL, 0, NULL, NULL};
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
	res.body = h->body.data ? h->body.data : (char *)"";
	res.body_len = h->body.len;
	res.headers = h->headers.data ? h->headers.data : (char *)"";
	res.error =
	    h->cancelling ? "the job's lease runs out: call abandoned" : curl_easy_strerror(result);
	transfer_done(w, h, &res);
}

void ml_wk_complete_transfers(struct ml_worker *w)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(w->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		complete_one(w, msg->easy_handle, msg->data.result);
	}
	struct ml_aside_done done[64];
	size_t n;
	while (w->aside && (n = ml_aside_take(w->aside, done, 64)) > 0)
		for (size_t i = 0; i < n; i++)
			complete_one(w, done[i].easy, done[i].result);
}

/* A run whose lease is about to run out must not go on calling: another claim of its job
 * could run it a second time meanwhile. Its calls still out at its deadline are abandoned,
 * as a timeout (handlers retry), so the outcome commits while the lease holds, whatever
 * timeouts and how many calls in a row a handler uses. Looked at four times a second. */
void ml_wk_abandon_overdue(struct ml_worker *w, int64_t now)
{
	for (struct http_ctx *h = w->transfers, *next; h; h = next) {
		next = h->next;
		struct ml_job_run *run = h->run;
		if (!run || ml_wk_deadline_of(w, run) > now)
			continue; /* another thread's call ends by its own timeout */
		if (h->aside) {
			/* Cut on its own thread; it comes back as a timeout (complete_transfers).
			 */
			if (!h->cancelling)
				ml_aside_cancel(w->aside, h->easy);
			h->cancelling = true;
			continue;
		}
		/* Shut down first: removing it must send nothing more (see ml_worker_stop). */
		if (h->sock != CURL_SOCKET_BAD)
			shutdown(h->sock, SHUT_RDWR);
		struct ml_http_result res = {CURLE_OPERATION_TIMEDOUT,
		                             0,
		                             "",
		                             0,
		                             "",
		                             "the job's lease runs out: call abandoned"};
		bool finished = run->finished; /* (a finished run may be freed below) */
		transfer_done(w, h, &res);
		/* A handler that answered with another call ends here all the same; that call
		 * is abandoned on the next turn of this loop. */
		if (!finished && !run->finished)
			ml_job_run_retry(run, 0, "the job's lease runs out");
		/* The handler may have added or ended other transfers: start over. */
		next = w->transfers;
	}
}
