#include "sandbox/outq.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

struct ml_sb_outq_item {
	struct ml_sb_outq_item *next;
	struct ml_sb_outq *q;
	char *provider, *url, *body;
	size_t n;
	char **headers;
	ml_sb_post_done done;
	void *arg;
};

static void item_free(struct ml_sb_outq_item *it)
{
	for (int i = 0; it->headers[i]; i++)
		free(it->headers[i]);
	free(it->headers);
	free(it->provider);
	free(it->url);
	free(it->body);
	free(it);
}

static void launch(struct ml_sb_outq_item *it);

/* Runs on the sender thread: report, then start the next item (still counted as in flight by
 * webhook.c until we return, so shutdown keeps waiting for the chain). */
static void chained_done(void *arg, long status, const char *body)
{
	struct ml_sb_outq_item *it = arg, *next;
	struct ml_sb_outq *q = it->q;

	if (it->done)
		it->done(it->arg, status, body);
	item_free(it);
	pthread_mutex_lock(&q->mu);
	next = q->head;
	if (next) {
		q->head = next->next;
		if (!q->head)
			q->tail = NULL;
	} else {
		q->busy = false;
	}
	pthread_mutex_unlock(&q->mu);
	if (next)
		launch(next);
}

static void launch(struct ml_sb_outq_item *it)
{
	/* webhook_send copies what it needs; `it` lives until chained_done. */
	ml_sb_webhook_send(it->provider, it->url, (const char *const *)it->headers, it->body, it->n,
			   chained_done, it);
}

void ml_sb_outq_post(struct ml_sb_outq *q, const char *provider, const char *url,
		     const char *const *headers, const char *body, size_t n, ml_sb_post_done done,
		     void *arg)
{
	struct ml_sb_outq_item *it = ml_calloc(1, sizeof *it);
	int nh = 0;
	bool start;

	while (headers && headers[nh])
		nh++;
	it->headers = ml_calloc((size_t)nh + 1, sizeof *it->headers);
	for (int i = 0; i < nh; i++)
		it->headers[i] = ml_strdup(headers[i]);
	it->q = q;
	it->provider = ml_strdup(provider);
	it->url = ml_strdup(url);
	it->body = ml_strndup(body ? body : "", body ? n : 0);
	it->n = body ? n : 0;
	it->done = done;
	it->arg = arg;

	pthread_mutex_lock(&q->mu);
	start = !q->busy;
	if (start) {
		q->busy = true;
	} else {
		if (q->tail)
			q->tail->next = it;
		else
			q->head = it;
		q->tail = it;
	}
	pthread_mutex_unlock(&q->mu);
	if (start)
		launch(it);
}
