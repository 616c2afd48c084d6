/* Calls other threads wait on (ml_worker_http_wait): a request thread's call runs on the
 * worker's multi loop beside the jobs' calls, and the thread waits on a condition variable. */
#include "queue/worker_internal.h"
#include "core/error.h"

#include <stdlib.h>
#include <sys/socket.h>

/* --- calls other threads wait on --- */

/* Hands a call's end to the thread waiting on it. */
void ml_wk_wait_done(struct ml_worker *w, struct http_wait *x, CURLcode code, long status,
                     const char *body)
{
	pthread_mutex_lock(&w->x_mu);
	x->code = code;
	x->status = status;
	x->body = ml_strdup(body ? body : "");
	x->done = true;
	pthread_cond_broadcast(&w->x_cv);
	pthread_mutex_unlock(&w->x_mu);
}

/* Curl thread: starts the calls submitted since the last turn. */
void ml_wk_start_waits(struct ml_worker *w)
{
	pthread_mutex_lock(&w->x_mu);
	struct http_wait *x = w->x_new;
	w->x_new = NULL;
	pthread_mutex_unlock(&w->x_mu);
	while (x) {
		struct http_wait *next = x->next;
		ml_wk_transfer_track(w, x->easy)->wait = x;
		curl_multi_add_handle(w->multi, x->easy);
		x = next;
	}
}

/* Curl thread, as the loop ends (after the drain): no call waits for it any more. */
void ml_wk_close_waits(struct ml_worker *w)
{
	pthread_mutex_lock(&w->x_mu);
	w->x_closed = true;
	struct http_wait *x = w->x_new;
	w->x_new = NULL;
	pthread_mutex_unlock(&w->x_mu);
	while (x) {
		struct http_wait *next = x->next;
		curl_easy_cleanup(x->easy);
		ml_wk_wait_done(w, x, CURLE_ABORTED_BY_CALLBACK, 0, "");
		x = next;
	}
	for (struct http_ctx *h = w->transfers, *next; h; h = next) {
		next = h->next;
		if (!h->wait)
			continue;
		struct http_wait *hw = h->wait;
		if (h->sock != CURL_SOCKET_BAD)
			shutdown(h->sock, SHUT_RDWR);
		ml_wk_transfer_free(w, h);
		ml_wk_wait_done(w, hw, CURLE_ABORTED_BY_CALLBACK, 0, "");
	}
}

int ml_worker_http_wait(struct ml_worker *w, CURL *easy, long *status, char **body)
{
	struct http_wait x = {.easy = easy};
	pthread_mutex_lock(&w->x_mu);
	if (w->x_closed) {
		pthread_mutex_unlock(&w->x_mu);
		curl_easy_cleanup(easy);
		*status = 0;
		*body = ml_strdup("");
		return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
		                    "No call can be made: the worker is stopping.");
	}
	x.next = w->x_new;
	w->x_new = &x;
	w->x_waiters++;
	pthread_mutex_unlock(&w->x_mu);
	ml_curl_loop_wake(w->loop);
	pthread_mutex_lock(&w->x_mu);
	while (!x.done)
		pthread_cond_wait(&w->x_cv, &w->x_mu);
	w->x_waiters--;
	pthread_cond_broadcast(&w->x_cv);
	pthread_mutex_unlock(&w->x_mu);
	*status = x.code == CURLE_OK ? x.status : 0;
	*body = x.body;
	if (x.code != CURLE_OK)
		return ml_error_set(ML_EUNAVAIL, "provider_unavailable", NULL,
		                    "The provider could not be reached (%s).",
		                    curl_easy_strerror(x.code));
	return 0;
}
