/* MeetingBaas webhooks (docs: api__reference__webhooks__webhook_documentation.mdx): a JSON
 * POST of {"event", "data"} to the bot's webhook_url, else the account's, with the header
 * `x-meeting-baas-api-key: <the account's API key>` and `content-type: application/json`.
 * A delivery that does not get a 2xx is retried (the v1 docs say "the system will attempt
 * to retry"; the schedule is v2's: +5 s, +10 s, +5 min, +15 min, +30 min, +2 h on the
 * sandbox clock). Outbound fault rules ("direction": "out", faults.c) lose, delay,
 * duplicate or reorder deliveries. Deliveries leave through one ordered queue (outq.c).
 *
 * Every webhook made is kept in root["webhooks"] (last 1000): its payload, URL, the fault
 * that hit it and each attempt's answer. Deliveries not sent yet wait in root["outbox"]. */
#include "sandbox/meetingbaas_internal.h"
#include "sandbox/outq.h"
#include "sandbox/sb_internal.h"

#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLD_MAX_MS 10000 /* a reordered delivery waits at most this long for a next one */
#define KEEP 1000

static struct ml_sb_outq outq = ML_SB_OUTQ_INIT;
static const int64_t retry_s[] = {5, 10, 300, 900, 1800, 7200};

struct attempt {
	uint64_t gen;
	json_int_t id;
};

static json_t *record_find(json_t *root, json_int_t id)
{
	json_t *list = json_object_get(root, "webhooks");
	for (size_t i = json_array_size(list); i-- > 0;) {
		json_t *r = json_array_get(list, i);
		if (ml_mb_int(r, "id", 0) == id)
			return r;
	}
	return NULL;
}

static void send_now(json_t *root, json_t *rec);

/* The answer of one attempt (sender thread, lock not held). */
static void attempt_done(void *arg, long status, const char *body)
{
	struct attempt *a = arg;
	(void)body;
	ml_sb_lock();
	json_t *root = ml_sb_root(MBP);
	json_t *rec = root && a->gen == ml_sb_state_gen() ? record_find(root, a->id) : NULL;
	if (rec) {
		int64_t now = ml_sb_now_ms();
		json_array_append_new(
		    json_object_get(rec, "attempts"),
		    json_pack("{s:i, s:o}", "status", (int)status, "at", ml_mb_time_ms(now)));
		size_t n = json_array_size(json_object_get(rec, "attempts"));
		if (status >= 200 && status < 300) {
			json_object_set_new(rec, "delivered", json_true());
		} else if (ml_sb_cfg_bool(MBP, "webhook_retries", true) &&
		           n <= sizeof retry_s / sizeof retry_s[0]) {
			json_array_append_new(json_object_get(root, "outbox"),
			                      json_pack("{s:I, s:I}", "id", a->id, "due",
			                                (json_int_t)(now + retry_s[n - 1] * 1000)));
		}
	}
	ml_sb_unlock();
	free(a);
}

static void send_now(json_t *root, json_t *rec)
{
	json_t *acct = ml_mb_account_by_id(root, ml_mb_int(rec, "account_id", 0));
	const char *key = ml_sb_str(acct, "api_key"), *url = ml_sb_str(rec, "url");
	char *body = json_dumps(json_object_get(rec, "payload"), JSON_COMPACT);
	char *h_key = ml_asprintf("x-meeting-baas-api-key: %s", key ? key : "");
	const char *headers[] = {"Content-Type: application/json", h_key,
	                         "User-Agent: meetingbaas-sandbox", NULL};
	struct attempt *a = ml_calloc(1, sizeof *a);
	a->gen = ml_sb_state_gen();
	a->id = ml_mb_int(rec, "id", 0);
	ml_sb_outq_post(&outq, MBP, url, headers, body, strlen(body), attempt_done, a);
	free(h_key);
	free(body);
}

/* Sends the deliveries held for reordering (after the one just sent). */
static void release_held(json_t *root)
{
	json_t *box = json_object_get(root, "outbox");
	for (size_t i = 0; i < json_array_size(box);) {
		json_t *d = json_array_get(box, i);
		if (!json_is_true(json_object_get(d, "hold"))) {
			i++;
			continue;
		}
		json_t *rec = record_find(root, ml_mb_int(d, "id", 0));
		if (rec)
			send_now(root, rec);
		json_array_remove(box, i);
	}
}

void ml_mb_hooks_flush(json_t *root)
{
	json_t *box = json_object_get(root, "outbox");
	int64_t now = ml_sb_now_ms();
	bool sent = false;
	for (size_t i = 0; i < json_array_size(box);) {
		json_t *d = json_array_get(box, i);
		bool hold = json_is_true(json_object_get(d, "hold"));
		int64_t due = ml_mb_int(d, "due", 0) + (hold ? HOLD_MAX_MS : 0);
		if (due > now) {
			i++;
			continue;
		}
		json_t *rec = record_find(root, ml_mb_int(d, "id", 0));
		if (rec)
			send_now(root, rec);
		json_array_remove(box, i);
		sent = sent || !hold;
	}
	if (sent)
		release_held(root);
}

static const char *target(json_t *root, const json_t *account, const json_t *bot, const char *to)
{
	const char *u;
	if (to && *to)
		return to;
	if ((u = ml_sb_str(bot, "webhook_url")) && *u)
		return u;
	if ((u = ml_sb_str(account, "webhook_url")) && *u)
		return u;
	(void)root;
	u = ml_sb_cfg_str(MBP, "webhook_url", NULL);
	return u && *u ? u : NULL;
}

void ml_mb_hook(json_t *root, const json_t *account, const json_t *bot, const char *to,
                const char *event, json_t *data)
{
	const char *url = target(root, account, bot, to);
	json_t *list = json_object_get(root, "webhooks");
	json_int_t id = ml_mb_next_id(root, "delivery");
	int64_t now = ml_sb_now_ms();
	json_t *rec =
	    json_pack("{s:I, s:s, s:s?, s:O, s:o, s:{s:s, s:o}, s:o, s:b, s:n}", "id", id, "event",
	              event, "url", url, "account_id", json_object_get(account, "id"), "created_at",
	              ml_mb_time_ms(now), "payload", "event", event, "data", data, "attempts",
	              json_array(), "delivered", 0, "fault");
	const char *bid = ml_sb_str(bot, "uuid");
	ml_mb_set_str(rec, "bot_id", bid);
	json_array_append_new(list, rec);
	while (json_array_size(list) > KEEP)
		json_array_remove(list, 0);
	if (!url)
		return;

	struct ml_sb_fault_hit f;
	if (!ml_sb_fault_pick_out(MBP, event, &f)) {
		send_now(root, rec);
		release_held(root);
		return;
	}
	json_object_set_new(rec, "fault",
	                    json_pack("{s:i, s:s}", "id", f.id, "kind",
	                              f.drop        ? "lost"
	                              : f.reorder   ? "reordered"
	                              : f.duplicate ? "duplicated"
	                                            : "late"));
	json_t *box = json_object_get(root, "outbox");
	if (f.drop) {
		ml_sb_fault_hit_free(&f);
		return;
	}
	if (f.reorder) {
		json_array_append_new(
		    box, json_pack("{s:I, s:I, s:b}", "id", id, "due", (json_int_t)now, "hold", 1));
	} else if (f.latency_ms > 0) {
		json_array_append_new(box, json_pack("{s:I, s:I}", "id", id, "due",
		                                     (json_int_t)(now + f.latency_ms)));
		if (f.duplicate)
			json_array_append_new(box, json_pack("{s:I, s:I}", "id", id, "due",
			                                     (json_int_t)(now + f.latency_ms)));
	} else {
		send_now(root, rec);
		if (f.duplicate)
			send_now(root, rec);
		release_held(root);
	}
	ml_sb_fault_hit_free(&f);
}
