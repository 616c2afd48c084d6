/* The waiting room's live event streams (waiting_pages.h): the change bus wakes a stream,
 * the stream marks itself dirty and wakes its HTTP connection, and the next read re-reads
 * the store and writes the events that are new. Several signals before a read make one
 * read.
 *
 * The guests of one booking share that read: a per-booking room (struct room) keeps the
 * booking's rows as last read and the count of signals they reflect; the first guest stream
 * to find them stale reads the rows changed since from the store, under the room's lock, and
 * the others take their own row from it. An admit-all of 50 guests is then one store read,
 * not 50. */
#include "api/waiting_pages.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "meeting/presence.h"
#include "meeting/waitbus.h"
#include "meeting/waiting.h"
#include "store/store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The rows of one booking, shared by its guests' streams. */
struct room {
	char key[96];
	int refs;
	pthread_mutex_t mu;   /* the fields below; held across the store read */
	uint64_t signalled;   /* signals of the bus seen (atomically bumped by streams) */
	uint64_t loaded;      /* the value of signalled the rows reflect; UINT64_MAX: none */
	int64_t seq;          /* the highest seq read */
	json_t *rows;         /* participant_id -> row */
	struct room *next;
};

static pthread_mutex_t rooms_mu = PTHREAD_MUTEX_INITIALIZER;
static struct room *rooms;

static struct room *room_take(const char *org_id, const char *booking_id)
{
	char key[96];
	snprintf(key, sizeof key, "%s/%s", org_id, booking_id);
	pthread_mutex_lock(&rooms_mu);
	struct room *r = rooms;
	while (r && strcmp(r->key, key) != 0)
		r = r->next;
	if (!r) {
		r = ml_calloc(1, sizeof *r);
		memcpy(r->key, key, sizeof key);
		pthread_mutex_init(&r->mu, NULL);
		r->loaded = UINT64_MAX;
		r->rows = json_object();
		r->next = rooms;
		rooms = r;
	}
	r->refs++;
	pthread_mutex_unlock(&rooms_mu);
	return r;
}

static void room_give(struct room *r)
{
	pthread_mutex_lock(&rooms_mu);
	if (--r->refs > 0) {
		pthread_mutex_unlock(&rooms_mu);
		return;
	}
	struct room **p = &rooms;
	while (*p != r)
		p = &(*p)->next;
	*p = r->next;
	pthread_mutex_unlock(&rooms_mu);
	json_decref(r->rows);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

struct wstream {
	const struct ml_env *env;
	struct room *room; /* guests' streams */
	char org_id[40], booking_id[40], participant_id[40]; /* "" for the host panel */
	int64_t last_seq;
	size_t passes_sent; /* the panel: how many passes it has shown */
	char *presence_sent; /* the panel: who is in the meeting, as last shown (JSON text) */
	bool hello;         /* the opening comment and retry hint went out */
	struct ml_buf out;  /* formatted, not yet sent */
	size_t off;
	pthread_mutex_t mu; /* dirty and hs, between the bus's thread and the reader */
	bool dirty;
	struct ml_http_stream *hs;
	struct ml_waitsub *sub;
};

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int64_t ml_api_last_event_id(const char *h)
{
	if (!h || !*h)
		return 0;
	char *end;
	long long v = strtoll(h, &end, 10);
	return *end || v < 0 ? 0 : v;
}

/* On the bus's thread: only hand the signal on. */
static void on_change(void *arg)
{
	struct wstream *w = arg;
	if (w->room)
		__atomic_add_fetch(&w->room->signalled, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&w->mu);
	w->dirty = true;
	if (w->hs)
		ml_http_stream_wake(w->hs);
	pthread_mutex_unlock(&w->mu);
}

static void event(struct wstream *w, const char *type, int64_t id, json_t *data)
{
	char *text = ml_json_text(data);
	if (!text)
		return;
	if (id > 0)
		ml_buf_printf(&w->out, "id: %lld\n", (long long)id);
	/* Compact JSON holds no line break: one data line. */
	ml_buf_printf(&w->out, "event: %s\ndata: %s\n\n", type, text);
	free(text);
}

struct reread {
	struct wstream *w;
	json_t *rows, *booking, *audit;
};

/* The panel's read: the rows changed after its last id, the booking, the audit trail. */
static int reread_fn(struct ml_tx *tx, void *arg)
{
	struct reread *r = arg;
	struct wstream *w = r->w;
	int rc;
	if ((rc = ml_tx_admission_list(tx, w->org_id, w->booking_id, w->last_seq, &r->rows)) < 0)
		return rc;
	if ((rc = ml_tx_doc_peek(tx, ML_KIND_BOOKING, w->org_id, w->booking_id, &r->booking)) < 0)
		return rc;
	return ml_tx_audit_list(tx, w->org_id, w->booking_id, &r->audit);
}

/* Who passed the gateway, for the panel: [{participant_id, role, name, at}], oldest first. */
static json_t *passes_of(json_t *audit, json_t *booking)
{
	json_t *out = json_array(), *e;
	size_t i;
	json_array_foreach(audit, i, e) {
		if (!str(e, "type") || strcmp(str(e, "type"), "participant.passed") != 0)
			continue;
		json_t *d = json_object_get(e, "data");
		struct ml_participant_ref p = {0};
		ml_booking_participant(booking, str(d, "participant_id"), &p);
		json_array_append_new(out, json_pack("{s:s?, s:s?, s:s?, s:s?}", "participant_id",
						     str(d, "participant_id"), "role",
						     str(d, "role"), "name", p.name, "at",
						     str(e, "at")));
	}
	return out;
}

struct room_read {
	struct wstream *w;
	struct room *room;
	json_t *rows;
};

static int room_read_fn(struct ml_tx *tx, void *arg)
{
	struct room_read *r = arg;
	return ml_tx_admission_list(tx, r->w->org_id, r->w->booking_id, r->room->seq, &r->rows);
}

/* The guest's row from the booking's shared rows, read again first when a signal came
 * since they were read. A new reference, or NULL. */
static json_t *room_row(struct wstream *w)
{
	struct room *room = w->room;
	json_t *row;
	pthread_mutex_lock(&room->mu);
	uint64_t sig = __atomic_load_n(&room->signalled, __ATOMIC_SEQ_CST);
	if (room->loaded != sig) {
		struct room_read r = {w, room, NULL};
		if (ml_store_read(w->env->store, room_read_fn, &r) == 0) {
			json_t *x;
			size_t i;
			json_array_foreach(r.rows, i, x) {
				json_object_set(room->rows, str(x, "participant_id"), x);
				room->seq = json_integer_value(json_object_get(x, "seq"));
			}
			room->loaded = sig;
		} else {
			ml_error_clear(); /* the next signal or keep-alive tries again */
		}
		json_decref(r.rows);
	}
	row = json_incref(json_object_get(room->rows, w->participant_id));
	pthread_mutex_unlock(&room->mu);
	return row;
}

static void refill(struct wstream *w)
{
	struct reread r = {w, NULL, NULL, NULL};
	if (w->room) {
		json_t *row = room_row(w);
		int64_t seq = json_integer_value(json_object_get(row, "seq"));
		if (row && seq > w->last_seq) {
			json_t *v = ml_waiting_row_view(row);
			event(w, "state", seq, v);
			json_decref(v);
			w->last_seq = seq;
		}
		json_decref(row);
		return;
	}
	if (ml_store_read(w->env->store, reread_fn, &r) < 0) {
		/* The store failed: the next signal or keep-alive tries again. */
		ml_error_clear();
		goto done;
	}
	json_t *row;
	size_t i;
	json_array_foreach(r.rows, i, row) {
		int64_t seq = json_integer_value(json_object_get(row, "seq"));
		if (seq <= w->last_seq)
			continue;
		json_t *v = ml_waiting_row_view(row);
		event(w, "participant", seq, v);
		json_decref(v);
		w->last_seq = seq;
	}
	json_t *passes = passes_of(r.audit, r.booking);
	if (json_array_size(passes) != w->passes_sent || !w->hello) {
		w->passes_sent = json_array_size(passes);
		event(w, "passes", 0, passes);
	}
	json_decref(passes);
	/* Who is in the meeting now, as the platform reports it (meeting/presence.h). */
	json_t *now = ml_presence_now(r.booking);
	char *text = ml_json_text(now);
	/* Nobody in the meeting is what the page shows at first: no event for it. */
	if (!w->presence_sent && json_array_size(now) == 0) {
		w->presence_sent = text;
	} else if (!w->presence_sent || strcmp(text, w->presence_sent) != 0) {
		event(w, "presence", 0, now);
		free(w->presence_sent);
		w->presence_sent = text;
	} else {
		free(text);
	}
	json_decref(now);
done:
	json_decref(r.rows);
	json_decref(r.booking);
	json_decref(r.audit);
}

static void s_attach(void *arg, struct ml_http_stream *hs)
{
	struct wstream *w = arg;
	pthread_mutex_lock(&w->mu);
	w->hs = hs;
	pthread_mutex_unlock(&w->mu);
}

static long s_read(void *arg, char *buf, size_t max, bool idle)
{
	struct wstream *w = arg;
	if (w->off == w->out.len) {
		w->off = w->out.len = 0;
		pthread_mutex_lock(&w->mu);
		bool dirty = w->dirty;
		w->dirty = false;
		pthread_mutex_unlock(&w->mu);
		if (dirty || !w->hello)
			refill(w);
		if (!w->hello) {
			/* First bytes at once, so the page knows it is connected: the retry
			 * hint, and the events due. */
			static const char hello[] = ": meetlink waiting room\nretry: 2000\n\n";
			struct ml_buf b = {0};
			ml_buf_append(&b, hello, sizeof hello - 1);
			ml_buf_append(&b, w->out.data ? w->out.data : "", w->out.len);
			ml_buf_free(&w->out);
			w->out = b;
			w->hello = true;
		}
		if (w->out.len == 0 && idle)
			ml_buf_puts(&w->out, ": keep-alive\n\n");
	}
	size_t n = w->out.len - w->off;
	if (n > max)
		n = max;
	memcpy(buf, w->out.data + w->off, n);
	w->off += n;
	return (long)n;
}

static void s_close(void *arg)
{
	struct wstream *w = arg;
	ml_waitbus_unsubscribe(w->sub); /* no wake runs after this */
	if (w->room)
		room_give(w->room);
	ml_buf_free(&w->out);
	free(w->presence_sent);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

static const struct ml_http_stream_ops wstream_ops = {s_attach, s_read, s_close};

void ml_api_waiting_stream(struct ml_http_resp *resp, const struct ml_env *env,
			   const char *org_id, const char *booking_id,
			   const char *participant_id, int64_t last_id)
{
	struct wstream *w = ml_calloc(1, sizeof *w);
	w->env = env;
	snprintf(w->org_id, sizeof w->org_id, "%s", org_id);
	snprintf(w->booking_id, sizeof w->booking_id, "%s", booking_id);
	snprintf(w->participant_id, sizeof w->participant_id, "%s",
		 participant_id ? participant_id : "");
	w->last_seq = last_id;
	pthread_mutex_init(&w->mu, NULL);
	if (participant_id)
		w->room = room_take(org_id, booking_id);
	/* Subscribed before the first read: a change committed after it is never missed. */
	w->sub = ml_waitbus_subscribe(env->waitbus, org_id, booking_id, on_change, w);
	ml_resp_stream(resp, 200, "text/event-stream; charset=utf-8", &wstream_ops, w);
}
