/* Signals between nodes (store.h, ml_store_subscribe) over LISTEN/NOTIFY: a NOTIFY on channel
 * "ml_<name>" with payload "<node>|<payload>". The listener thread holds a connection of its
 * own, LISTENing on every channel with a subscriber, and waits on its socket (no polling):
 * a notification from another node (or any on "jobs") calls that channel's subscribers. When
 * the connection is lost it reconnects (1 s apart) and calls every subscriber once with
 * payload NULL: what was signalled meanwhile is not known. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pg_signal_sub {
	char channel[32];
	ml_store_signal_fn fn;
	void *arg;
	bool listening; /* LISTEN sent on the current connection */
	struct pg_signal_sub *next;
};

static bool channel_ok(const char *ch)
{
	size_t n = strlen(ch);
	if (n == 0 || n > 24)
		return false;
	for (const char *p = ch; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
			return false;
	return true;
}

static bool stopping(struct pg_store *s)
{
	pthread_mutex_lock(&s->mu);
	bool st = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return st;
}

/* LISTEN on every channel not yet listened to on this connection. */
static int listen_new(struct pg_store *s, struct pg_conn *c)
{
	int rc = 0;
	pthread_mutex_lock(&s->sub_mu);
	for (struct pg_signal_sub *u = s->subs; u && rc == 0; u = u->next) {
		if (u->listening)
			continue;
		char sql[64];
		snprintf(sql, sizeof sql, "LISTEN ml_%s", u->channel);
		if ((rc = ml_pg_exec(c, sql)) == 0)
			for (struct pg_signal_sub *v = s->subs; v; v = v->next)
				if (strcmp(v->channel, u->channel) == 0)
					v->listening = true;
	}
	pthread_mutex_unlock(&s->sub_mu);
	return rc;
}

static void deliver(struct pg_store *s, const char *pgchannel, const char *extra)
{
	const char *bar = extra ? strchr(extra, '|') : NULL;
	const char *ch = strncmp(pgchannel, "ml_", 3) == 0 ? pgchannel + 3 : pgchannel;
	bool jobs = strcmp(ch, "jobs") == 0;
	if (!jobs && bar && (size_t)(bar - extra) == strlen(s->node) &&
	    strncmp(extra, s->node, strlen(s->node)) == 0)
		return; /* our own: this node acted on it already */
	const char *payload = bar ? bar + 1 : extra;
	pthread_mutex_lock(&s->sub_mu);
	for (struct pg_signal_sub *u = s->subs; u; u = u->next)
		if (strcmp(u->channel, ch) == 0)
			u->fn(u->arg, payload);
	pthread_mutex_unlock(&s->sub_mu);
}

static void call_all(struct pg_store *s)
{
	pthread_mutex_lock(&s->sub_mu);
	for (struct pg_signal_sub *u = s->subs; u; u = u->next) {
		u->listening = false;
		u->fn(u->arg, NULL);
	}
	pthread_mutex_unlock(&s->sub_mu);
}

static void *listen_main(void *arg)
{
	struct pg_store *s = arg;
	pthread_setname_np(pthread_self(), "ml-pg-listen");
	struct pg_conn *c = NULL;
	bool lost = false;
	while (!stopping(s)) {
		if (!c) {
			if (ml_pg_conn_open(s->conninfo, &c) < 0) {
				c = NULL;
				lost = true;
				struct pollfd p = {s->listen_pipe[0], POLLIN, 0};
				poll(&p, 1, 1000);
				continue;
			}
			pthread_mutex_lock(&s->sub_mu);
			for (struct pg_signal_sub *u = s->subs; u; u = u->next)
				u->listening = false;
			pthread_mutex_unlock(&s->sub_mu);
			if (lost) {
				ml_info("store: the listener is connected again");
				call_all(s);
				lost = false;
			}
		}
		if (listen_new(s, c) < 0) {
			ml_pg_conn_close(c);
			c = NULL;
			lost = true;
			continue;
		}
		struct pollfd p[2] = {{PQsocket(c->db), POLLIN, 0}, {s->listen_pipe[0], POLLIN, 0}};
		if (poll(p, 2, 30000) < 0)
			continue;
		if (p[1].revents & POLLIN) {
			char buf[64];
			while (read(s->listen_pipe[0], buf, sizeof buf) > 0)
				;
		}
		if (!PQconsumeInput(c->db) || PQstatus(c->db) != CONNECTION_OK) {
			ml_warn("store: the listener lost its connection; reconnecting");
			ml_pg_conn_close(c);
			c = NULL;
			lost = true;
			continue;
		}
		PGnotify *n;
		while ((n = PQnotifies(c->db))) {
			deliver(s, n->relname, n->extra);
			PQfreemem(n);
		}
	}
	ml_pg_conn_close(c);
	return NULL;
}

int ml_pg_subscribe(struct ml_store *base, const char *channel, ml_store_signal_fn fn, void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	if (!channel_ok(channel))
		return ml_error_set(ML_EINVAL, "invalid_channel", NULL, "bad signal channel");
	struct pg_signal_sub *u = ml_calloc(1, sizeof *u);
	snprintf(u->channel, sizeof u->channel, "%s", channel);
	u->fn = fn;
	u->arg = arg;
	pthread_mutex_lock(&s->sub_mu);
	u->next = s->subs;
	s->subs = u;
	pthread_mutex_unlock(&s->sub_mu);
	pthread_mutex_lock(&s->mu);
	if (!s->listen_started) {
		s->listen_started = true;
		pthread_create(&s->listen_thread, NULL, listen_main, s);
	}
	pthread_mutex_unlock(&s->mu);
	if (write(s->listen_pipe[1], "x", 1) < 0) {
		/* full: the listener is awake already */
	}
	return 0;
}

int ml_pg_unsubscribe(struct ml_store *base, const char *channel, ml_store_signal_fn fn,
		      void *arg)
{
	struct pg_store *s = (struct pg_store *)base;
	/* Callbacks run under sub_mu: once it is ours, none is running. (The LISTEN stays: a
	 * signal on a channel nobody subscribes to is dropped.) */
	pthread_mutex_lock(&s->sub_mu);
	for (struct pg_signal_sub **pp = &s->subs; *pp;) {
		struct pg_signal_sub *u = *pp;
		if (u->fn == fn && u->arg == arg && strcmp(u->channel, channel) == 0) {
			*pp = u->next;
			free(u);
		} else {
			pp = &u->next;
		}
	}
	pthread_mutex_unlock(&s->sub_mu);
	return 0;
}

static void notify_args(struct pg_store *s, struct pg_args *a, char *pgch, size_t chn,
			char *payload, size_t pn, const char *channel, const char *p)
{
	snprintf(pgch, chn, "ml_%s", channel);
	snprintf(payload, pn, "%s|%s", s->node, p ? p : "");
	ml_pg_arg(a, pgch);
	ml_pg_arg(a, payload);
}

int ml_pg_signal(struct ml_store *base, const char *channel, const char *payload)
{
	struct pg_store *s = (struct pg_store *)base;
	if (!channel_ok(channel) || (payload && strlen(payload) > 7000))
		return ml_error_set(ML_EINVAL, "invalid_signal", NULL, "bad signal");
	struct pg_conn *c = ml_pg_take(s);
	if (!c)
		return ML_ESTORE;
	struct pg_args a = {0};
	char pgch[40], *buf = ml_malloc(7100);
	notify_args(s, &a, pgch, sizeof pgch, buf, 7100, channel, payload);
	int rc = ml_pg_qc(c, "SELECT pg_notify($1, $2)", &a, NULL, NULL);
	free(buf);
	ml_pg_give(s, c);
	return rc;
}

int ml_pg_tx_signal(struct ml_tx *tx, const char *channel, const char *payload)
{
	struct pg_tx *t = (struct pg_tx *)tx;
	struct pg_store *s = (struct pg_store *)tx->store;
	if (!channel_ok(channel) || (payload && strlen(payload) > 7000))
		return ml_error_set(ML_EINVAL, "invalid_signal", NULL, "bad signal");
	if (strcmp(channel, "jobs") == 0) {
		if (t->jobs_signalled)
			return 0;
		t->jobs_signalled = true;
	}
	struct pg_args a = {0};
	char pgch[40], *buf = ml_malloc(7100);
	notify_args(s, &a, pgch, sizeof pgch, buf, 7100, channel, payload);
	int rc = ml_pg_q(tx, "SELECT pg_notify($1, $2)", &a, NULL);
	free(buf);
	return rc;
}

void ml_pg_listen_stop(struct pg_store *s)
{
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	bool started = s->listen_started;
	pthread_mutex_unlock(&s->mu);
	if (write(s->listen_pipe[1], "x", 1) < 0) {
		/* full: it wakes anyway */
	}
	if (started)
		pthread_join(s->listen_thread, NULL);
	while (s->subs) {
		struct pg_signal_sub *u = s->subs;
		s->subs = u->next;
		free(u);
	}
}
