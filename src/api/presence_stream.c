/* GET /v1/bookings/{id}/participants/events: the booking's participants, live, for the
 * dashboard (and any integrator holding an API key).
 *
 * The same body GET …/participants answers (state, joined_at, left_at, passes, unmatched,
 * presence_source) as event `participants`, at once when the stream opens and again each
 * time it changes. Authenticated like every API call (Authorization: Bearer; no key in the
 * URL: the dashboard reads the stream with fetch, not EventSource, which cannot send the
 * header). It rides the waiting room's change signal (meeting/waitbus.h), which the presence
 * job, the gateway's passes and every waiting-room step raise after their commit: a woken
 * stream re-reads the list and writes it when its text changed. No id: each connection
 * starts with the whole list, so a reconnect misses nothing. Keep-alive comments while quiet
 * (http/stream.c). */
#include "api/api.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "meeting/waitbus.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pstream {
	const struct ml_env *env;
	char org_id[40], booking_id[40];
	char *sent;         /* the list as last written (JSON text) */
	char *first;        /* the list read before the stream started, written first */
	struct ml_buf out;  /* formatted, not yet sent */
	size_t off;
	pthread_mutex_t mu; /* dirty and hs, between the bus's thread and the reader */
	bool dirty;
	struct ml_http_stream *hs;
	struct ml_waitsub *sub;
};

/* On the bus's thread: only hand the signal on. */
static void on_change(void *arg)
{
	struct pstream *p = arg;
	pthread_mutex_lock(&p->mu);
	p->dirty = true;
	if (p->hs)
		ml_http_stream_wake(p->hs);
	pthread_mutex_unlock(&p->mu);
}

/* Writes text (taken) as the next event when it differs from what was sent. */
static void offer(struct pstream *p, char *text)
{
	if (!text)
		return;
	if (p->sent && strcmp(p->sent, text) == 0) {
		free(text);
		return;
	}
	/* Compact JSON holds no line break: one data line. */
	ml_buf_printf(&p->out, "event: participants\ndata: %s\n\n", text);
	free(p->sent);
	p->sent = text;
}

static void refill(struct pstream *p)
{
	json_t *list = NULL;
	if (ml_api_participants_view(p->env, p->org_id, p->booking_id, &list) < 0) {
		ml_error_clear(); /* gone, or the store failed: the next signal tries again */
		return;
	}
	offer(p, ml_json_text(list));
	json_decref(list);
}

static void s_attach(void *arg, struct ml_http_stream *hs)
{
	struct pstream *p = arg;
	pthread_mutex_lock(&p->mu);
	p->hs = hs;
	pthread_mutex_unlock(&p->mu);
}

static long s_read(void *arg, char *buf, size_t max, bool idle)
{
	struct pstream *p = arg;
	if (p->off == p->out.len) {
		p->off = p->out.len = 0;
		if (p->first) {
			ml_buf_puts(&p->out, ": meetlink participants\nretry: 2000\n\n");
			offer(p, p->first);
			p->first = NULL;
		}
		pthread_mutex_lock(&p->mu);
		bool dirty = p->dirty;
		p->dirty = false;
		pthread_mutex_unlock(&p->mu);
		if (dirty)
			refill(p);
		if (p->out.len == 0 && idle)
			ml_buf_puts(&p->out, ": keep-alive\n\n");
	}
	size_t n = p->out.len - p->off;
	if (n > max)
		n = max;
	memcpy(buf, p->out.data + p->off, n);
	p->off += n;
	return (long)n;
}

static void s_close(void *arg)
{
	struct pstream *p = arg;
	ml_waitbus_unsubscribe(p->sub); /* no wake runs after this */
	ml_buf_free(&p->out);
	free(p->sent);
	free(p->first);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static const struct ml_http_stream_ops pstream_ops = {s_attach, s_read, s_close};

void ml_api_participants_stream(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct pstream *p = ml_calloc(1, sizeof *p);
	p->env = ctx->app;
	snprintf(p->org_id, sizeof p->org_id, "%s", ctx->org_id);
	snprintf(p->booking_id, sizeof p->booking_id, "%s", req->params[0]);
	pthread_mutex_init(&p->mu, NULL);
	/* Subscribed before the first read: a change committed after it is never missed. */
	p->sub = ml_waitbus_subscribe(ctx->app->waitbus, p->org_id, p->booking_id, on_change, p);
	json_t *list = NULL;
	int rc = ml_api_participants_view(ctx->app, p->org_id, p->booking_id, &list);
	if (rc < 0) {
		/* Another organization's booking is not found, like every other read. */
		s_close(p);
		ml_resp_errno(resp, rc);
		return;
	}
	p->first = ml_json_text(list);
	json_decref(list);
	ml_resp_stream(resp, 200, "text/event-stream; charset=utf-8", &pstream_ops, p);
	ml_resp_header(resp, "Cache-Control", "no-store");
}
