/* One delivery loop with faults for the sandbox's signed outbound senders (outbound.h). */
#include "sandbox/outbound.h"

#include "sandbox/sb_internal.h"

#include "core/json_in.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static json_t *member(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_array(v)) {
		v = json_array();
		json_object_set_new(o, key, v);
	}
	return v;
}

json_t *ml_sb_outbound_find(const struct ml_sb_outbound *ob, json_t *root, json_int_t id)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(root, ob->list), i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
	return NULL;
}

struct attempt {
	struct ml_sb_outbound *ob;
	uint64_t gen; /* the sandbox's state generation: a reset in between drops the answer */
	json_int_t id;
};

/* The answer of one attempt (the sender's thread, lock not held). */
static void attempt_done(void *arg, long status, const char *body)
{
	struct attempt *a = arg;
	json_t *answer = body ? ml_json_parse(body, strlen(body), 0, ML_JSON_MAX_DEPTH, NULL) : NULL;
	ml_sb_lock();
	json_t *root = ml_sb_root(a->ob->provider);
	json_t *rec = root && a->gen == ml_sb_state_gen() ? ml_sb_outbound_find(a->ob, root, a->id)
							   : NULL;
	if (rec)
		json_array_append_new(member(rec, "attempts"),
				      json_pack("{s:i, s:o}", "status", (int)status, "answer",
						answer ? json_incref(answer) : json_null()));
	ml_sb_unlock();
	json_decref(answer);
	free(a);
}

void ml_sb_outbound_post(struct ml_sb_outbound *ob, json_t *rec, const char *url,
			 const char *const *headers, const char *body, size_t n)
{
	struct attempt *a = ml_calloc(1, sizeof *a);
	a->ob = ob;
	a->gen = ml_sb_state_gen();
	a->id = json_integer_value(json_object_get(rec, "id"));
	ml_sb_outq_post(&ob->q, ob->provider, url, headers, body, n, attempt_done, a);
}

/* Sends what a reorder fault held back (after the delivery just sent). */
static void release_held(struct ml_sb_outbound *ob, json_t *root)
{
	json_t *held = member(root, ob->held), *id;
	size_t i;
	json_array_foreach(held, i, id) {
		json_t *rec = ml_sb_outbound_find(ob, root, json_integer_value(id));
		if (rec)
			ob->send(ob, root, rec);
	}
	json_array_clear(held);
}

void ml_sb_outbound_deliver(struct ml_sb_outbound *ob, json_t *root, json_t *rec,
			    const char *event)
{
	struct ml_sb_fault_hit f;
	if (!ml_sb_fault_pick_out(ob->provider, event, &f)) {
		ob->send(ob, root, rec);
		release_held(ob, root);
		return;
	}
	json_object_set_new(rec, "fault", json_string(f.drop ? "lost"
						      : f.reorder ? "reordered"
						      : f.duplicate ? "duplicated"
								    : "none"));
	if (f.reorder) {
		json_array_append_new(member(root, ob->held), json_copy(json_object_get(rec, "id")));
	} else if (!f.drop) {
		ob->send(ob, root, rec);
		if (f.duplicate)
			ob->send(ob, root, rec);
		release_held(ob, root);
	}
	ml_sb_fault_hit_free(&f);
}
