/* The aside loop (aside.h): one thread, one multi handle, driven by curl_loop.c. Handles
 * cross threads only through the lists under mu; each entry remembers the socket curl
 * watches for it, so that a cut can shut the connection down before curl may write to it. */
#include "queue/aside.h"
#include "queue/curl_loop.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

struct entry {
	CURL *easy;
	curl_socket_t sock; /* the connection's socket while curl watches it */
	bool cancel;        /* asked to be cut */
	bool in_multi;      /* added to the multi, not yet removed */
	CURLcode result;
	struct entry *next;
};

struct ml_aside {
	pthread_t thread;
	CURLM *multi;
	struct ml_curl_loop *loop;
	void (*wake)(void *);
	void *wake_arg;
	pthread_mutex_t mu;
	/* under mu */
	struct entry *added; /* not yet in the multi */
	struct entry *live;  /* in the multi (or about to be) */
	struct entry *done;  /* finished, removed from the multi, not yet taken */
	bool cancels;        /* some live entry has cancel set */
	bool stop;
};

static struct entry *find(struct entry *l, CURL *easy)
{
	for (; l; l = l->next)
		if (l->easy == easy)
			return l;
	return NULL;
}

static void unlink_entry(struct entry **l, struct entry *e)
{
	for (; *l; l = &(*l)->next)
		if (*l == e) {
			*l = e->next;
			return;
		}
}

static void note_socket(CURL *easy, curl_socket_t s, void *arg)
{
	struct ml_aside *a = arg;
	pthread_mutex_lock(&a->mu);
	struct entry *e = find(a->live, easy);
	if (e)
		e->sock = s;
	pthread_mutex_unlock(&a->mu);
}

/* Aside thread, mu held (dropped meanwhile): e leaves the multi for the done list. Off the
 * live list first, so that note_socket (curl calls it from the removal) no longer finds it,
 * and onto the done list last, once nothing here touches it any more. */
static void finish(struct ml_aside *a, struct entry *e, CURLcode result, bool cut)
{
	if (cut && e->sock != CURL_SOCKET_BAD)
		shutdown(e->sock, SHUT_RDWR);
	unlink_entry(&a->live, e);
	pthread_mutex_unlock(&a->mu);
	curl_multi_remove_handle(a->multi, e->easy);
	pthread_mutex_lock(&a->mu);
	e->in_multi = false;
	e->result = result;
	e->next = a->done;
	a->done = e;
}

static void *aside_main(void *arg)
{
	struct ml_aside *a = arg;
	pthread_setname_np(pthread_self(), "ml-aside");
	for (;;) {
		pthread_mutex_lock(&a->mu);
		if (a->stop) {
			pthread_mutex_unlock(&a->mu);
			break;
		}
		struct entry *add = a->added;
		a->added = NULL;
		pthread_mutex_unlock(&a->mu);
		while (add) {
			struct entry *e = add;
			add = e->next;
			pthread_mutex_lock(&a->mu);
			e->next = a->live;
			a->live = e;
			e->in_multi = true;
			pthread_mutex_unlock(&a->mu);
			/* Outside mu: curl may call note_socket, which takes it. */
			curl_multi_add_handle(a->multi, e->easy);
		}
		bool any_done = false;
		pthread_mutex_lock(&a->mu);
		while (a->cancels) {
			a->cancels = false;
			for (struct entry *e = a->live; e; e = e->next)
				if (e->cancel) {
					finish(a, e, CURLE_OPERATION_TIMEDOUT, true);
					any_done = true;
					a->cancels = true; /* the list changed: look again */
					break;
				}
		}
		pthread_mutex_unlock(&a->mu);
		ml_curl_loop_run(a->loop, 200);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(a->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			CURL *easy = msg->easy_handle;
			CURLcode rc = msg->data.result;
			pthread_mutex_lock(&a->mu);
			struct entry *e = find(a->live, easy);
			if (e) {
				finish(a, e, rc, false);
				any_done = true;
			}
			pthread_mutex_unlock(&a->mu);
		}
		if (any_done)
			a->wake(a->wake_arg);
	}
	return NULL;
}

struct ml_aside *ml_aside_start(void (*wake)(void *), void *arg)
{
	struct ml_aside *a = ml_calloc(1, sizeof *a);
	a->wake = wake;
	a->wake_arg = arg;
	a->multi = curl_multi_init();
	a->loop = ml_curl_loop_new(a->multi);
	if (!a->loop) {
		curl_multi_cleanup(a->multi);
		free(a);
		return NULL;
	}
	ml_curl_loop_on_socket(a->loop, note_socket, a);
	pthread_mutex_init(&a->mu, NULL);
	if (pthread_create(&a->thread, NULL, aside_main, a) != 0) {
		pthread_mutex_destroy(&a->mu);
		curl_multi_cleanup(a->multi);
		ml_curl_loop_free(a->loop);
		free(a);
		return NULL;
	}
	return a;
}

void ml_aside_add(struct ml_aside *a, CURL *easy)
{
	struct entry *e = ml_calloc(1, sizeof *e);
	e->easy = easy;
	e->sock = CURL_SOCKET_BAD;
	pthread_mutex_lock(&a->mu);
	e->next = a->added;
	a->added = e;
	pthread_mutex_unlock(&a->mu);
	ml_curl_loop_wake(a->loop);
}

void ml_aside_cancel(struct ml_aside *a, CURL *easy)
{
	pthread_mutex_lock(&a->mu);
	struct entry *e = find(a->live, easy);
	if (!e)
		e = find(a->added, easy);
	if (e) {
		e->cancel = true;
		a->cancels = true;
	}
	pthread_mutex_unlock(&a->mu);
	ml_curl_loop_wake(a->loop);
}

size_t ml_aside_take(struct ml_aside *a, struct ml_aside_done *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&a->mu);
	while (a->done && n < max) {
		struct entry *e = a->done;
		a->done = e->next;
		out[n].easy = e->easy;
		out[n].result = e->result;
		n++;
		free(e);
	}
	pthread_mutex_unlock(&a->mu);
	return n;
}

void ml_aside_stop(struct ml_aside *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_mutex_unlock(&a->mu);
	ml_curl_loop_wake(a->loop);
	pthread_join(a->thread, NULL);
	/* Alone now. Cut what is still in flight: shut down first, then remove. */
	for (struct entry *e = a->live; e; e = e->next)
		if (e->sock != CURL_SOCKET_BAD)
			shutdown(e->sock, SHUT_RDWR);
	struct entry *lists[3] = {a->added, a->live, a->done};
	/* Off the lists first: removing a handle calls note_socket, which walks a->live. */
	a->added = a->live = a->done = NULL;
	for (int i = 0; i < 3; i++)
		while (lists[i]) {
			struct entry *e = lists[i];
			lists[i] = e->next;
			if (e->in_multi)
				curl_multi_remove_handle(a->multi, e->easy);
			free(e);
		}
	curl_multi_cleanup(a->multi); /* QUIT to the idle SMTP sessions */
	ml_curl_loop_free(a->loop);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
