/* The waiting room's transitions (waiting.h). */
#include "meeting/waiting.h"
#include "core/error.h"
#include "core/timeutil.h"
#include "notify/outbox.h"

#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool ml_booking_participant(json_t *booking, const char *pid, struct ml_participant_ref *out)
{
	json_t *c = json_object_get(booking, "customer"), *p;
	size_t i;
	if (!pid)
		return false;
	if (eq(str(booking, "host_participant_id"), pid)) {
		json_t *org = json_object_get(booking, "organizer");
		*out = (struct ml_participant_ref){pid, "host", str(org, "name"), str(org, "email")};
		return true;
	}
	if (eq(str(c, "id"), pid)) {
		*out = (struct ml_participant_ref){pid, "customer", str(c, "name"), str(c, "email")};
		return true;
	}
	json_array_foreach(json_object_get(booking, "attendees"), i, p) {
		if (eq(str(p, "id"), pid)) {
			*out = (struct ml_participant_ref){pid, "attendee", str(p, "name"),
			                                   str(p, "email")};
			return true;
		}
	}
	/* Participants added after the booking was made, with their own role (host,
	 * customer, admin: the gateway's extra_participants). */
	json_array_foreach(json_object_get(booking, "extra_participants"), i, p) {
		if (eq(str(p, "id"), pid) && !json_is_true(json_object_get(p, "removed"))) {
			*out = (struct ml_participant_ref){pid, str(p, "role") ? str(p, "role")
			                                                       : "attendee",
			                                   str(p, "name"), str(p, "email")};
			return true;
		}
	}
	return false;
}

bool ml_waiting_enabled(json_t *service, json_t *org_settings)
{
	json_t *v = json_object_get(json_object_get(service, "settings"), "waiting_room");
	if (json_is_boolean(v))
		return json_is_true(v);
	return json_is_true(json_object_get(org_settings, "waiting_room_default"));
}

bool ml_waiting_holds(json_t *service, json_t *org_settings, const char *role)
{
	if (eq(role, "host") || eq(role, "admin"))
		return false;
	return ml_waiting_enabled(service, org_settings);
}

json_t *ml_waiting_row_view(json_t *row)
{
	int asks = (int)json_integer_value(json_object_get(row, "asks"));
	json_t *v = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:I}",
	                      "participant_id", str(row, "participant_id"), "role",
	                      str(row, "role"), "name", str(row, "name"), "state",
	                      str(row, "state"), "since", str(row, "since"), "decided_at",
	                      str(row, "decided_at"), "reason", str(row, "reason"), "asks", asks,
	                      "asks_left",
	                      asks < ML_WAITING_MAX_ASKS ? ML_WAITING_MAX_ASKS - asks : 0, "seq",
	                      json_integer_value(json_object_get(row, "seq")));
	/* Absent members read as null, as the API documents them. */
	static const char *const keys[] = {"role", "name", "since", "decided_at", "reason", NULL};
	for (int i = 0; keys[i]; i++)
		if (!json_object_get(v, keys[i]))
			json_object_set_new(v, keys[i], json_null());
	return v;
}

/* The audit entry and the webhook of one move, in tx. */
static int record(struct ml_tx *tx, const struct ml_step *st, json_t *booking, json_t *row,
                  const char *type)
{
	json_t *data = json_pack("{s:s, s:s?, s:s?, s:s?, s:I}", "participant_id",
	                         str(row, "participant_id"), "role", str(row, "role"), "name",
	                         str(row, "name"), "reason", str(row, "reason"), "asks",
	                         json_integer_value(json_object_get(row, "asks")));
	struct ml_audit a = {st->org_id, str(booking, "id"), type, st->actor, st->ip, data};
	int rc = ml_tx_audit_append(tx, &a);
	if (rc == 0 && (eq(type, "participant.waiting") || eq(type, "participant.admitted") ||
	                eq(type, "participant.rejected"))) {
		json_t *events = json_pack("[{s:s, s:O}]", "type", type, "data", data);
		struct ml_provider_ctx cx = {st->platforms, ml_now()};
		/* No mail follows these events (ml_notify_email_plan), so no service or host. */
		rc = ml_notify_events(tx, &cx, st->org_id, booking, NULL, NULL, events);
		json_decref(events);
	}
	json_decref(data);
	return rc;
}

static const char *event_of(const char *state)
{
	return eq(state, "waiting")    ? "participant.waiting"
	       : eq(state, "admitted") ? "participant.admitted"
	       : eq(state, "rejected") ? "participant.rejected"
	       : eq(state, "left")     ? "participant.left"
	                               : "participant.closed";
}

/* Moves row to `next` and writes it with its audit entry and webhook. */
static int move(struct ml_tx *tx, const struct ml_step *st, json_t *booking, json_t *row,
                const char *next, const struct ml_waiting_change *c)
{
	char now[ML_RFC3339_MAX];
	ml_time_format(ml_now(), now);
	json_object_set_new(row, "state", json_string(next));
	json_object_set_new(row, "updated_at", json_string(now));
	if (eq(next, "waiting")) {
		json_object_set_new(row, "since", json_string(now));
		json_object_del(row, "decided_at");
		json_object_del(row, "reason");
	} else if (eq(next, "admitted") || eq(next, "rejected")) {
		json_object_set_new(row, "decided_at", json_string(now));
		if (c && c->reason && *c->reason)
			json_object_set_new(row, "reason", json_string(c->reason));
	} else if (eq(next, "closed") && c && c->reason) {
		json_object_set_new(row, "reason", json_string(c->reason)); /* why, for the page */
	}
	int rc = ml_tx_admission_put(tx, st->org_id, str(booking, "id"), row);
	if (rc == 0)
		rc = record(tx, st, booking, row, event_of(next));
	return rc;
}

static bool booking_open(json_t *booking)
{
	const char *s = str(booking, "status");
	return eq(s, "confirmed") || eq(s, "in_progress");
}

static int refuse(const char *why, json_t *row, const char *pid)
{
	const char *state = str(row, "state");
	if (eq(why, "asks_exhausted"))
		return ml_error_set(ML_ECONFLICT, "asks_exhausted", "participant_id",
		                    "This participant was turned away and has asked %d times "
		                    "already.", ML_WAITING_MAX_ASKS);
	if (eq(why, "too_many_steps"))
		return ml_error_set(ML_ECONFLICT, "too_many_steps", "participant_id",
		                    "This participant has come and gone %d times already.",
		                    ML_WAITING_MAX_GUEST_STEPS);
	if (eq(why, "closed"))
		return ml_error_set(ML_ECONFLICT, "booking_closed", "participant_id",
		                    "The booking is no longer open.");
	return ml_error_set(ML_ECONFLICT, "admission_conflict", "participant_id",
	                    "Participant %s is not waiting (current state: %s).", pid,
	                    state ? state : "none");
}

int ml_waiting_apply(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                     const struct ml_waiting_change *c, json_t **row_out)
{
	struct ml_participant_ref p;
	json_t *row = NULL;
	const char *next, *why;
	int rc;

	if (!ml_booking_participant(booking, c->participant_id, &p))
		return ml_error_set(ML_ENOTFOUND, "not_found", "participant_id",
		                    "The booking has no participant %s.", c->participant_id);
	rc = ml_tx_admission_get(tx, st->org_id, str(booking, "id"), c->participant_id, &row);
	if (rc == ML_ENOTFOUND && c->action == ML_WR_ASK) {
		ml_error_clear();
		row = json_pack("{s:s, s:s?, s:i}", "participant_id", c->participant_id, "role",
		                p.role, "asks", 0);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	const char *state = json_object_get(row, "seq") ? str(row, "state") : NULL;
	int asks = (int)json_integer_value(json_object_get(row, "asks"));
	enum ml_wr_verdict v = ml_wr_next(state, c->action, asks, &next, &why);
	/* A booking that is no longer open takes no one in, whatever the row says. */
	if (!booking_open(booking) && (c->action == ML_WR_ASK || c->action == ML_WR_ADMIT ||
	                               c->action == ML_WR_REJECT) &&
	    !(c->action == ML_WR_ASK && v == ML_WR_SAME && eq(state, "admitted"))) {
		v = ML_WR_REFUSE;
		why = "closed";
	}
	int steps = (int)json_integer_value(json_object_get(row, "steps"));
	bool guest = c->action == ML_WR_ASK || c->action == ML_WR_LEAVE;
	if (v == ML_WR_MOVE && guest && steps >= ML_WAITING_MAX_GUEST_STEPS) {
		v = ML_WR_REFUSE;
		why = "too_many_steps";
	}
	if (v == ML_WR_REFUSE) {
		rc = refuse(why, row, c->participant_id);
	} else if (v == ML_WR_MOVE) {
		if (guest)
			json_object_set_new(row, "steps", json_integer(steps + 1));
		if (c->action == ML_WR_ASK) {
			/* A first ask, or again after a rejection, counts; coming back after
			 * leaving is the same ask. */
			if (!state || eq(state, "rejected"))
				asks++;
			json_object_set_new(row, "asks", json_integer(asks ? asks : 1));
			const char *name = c->name && *c->name ? c->name : p.name;
			json_object_set_new(row, "name", json_string(name ? name : ""));
		}
		rc = move(tx, st, booking, row, next, c);
	}
	*row_out = row;
	return rc;
}

int ml_waiting_admit_all(struct ml_tx *tx, const struct ml_step *st, json_t *booking,
                         json_t **rows_out)
{
	json_t *rows = NULL, *done = json_array(), *row;
	size_t i;
	int rc;
	if (!booking_open(booking)) {
		json_decref(done);
		return ml_error_set(ML_ECONFLICT, "booking_closed", NULL,
		                    "The booking is no longer open.");
	}
	if ((rc = ml_tx_admission_list(tx, st->org_id, str(booking, "id"), 0, &rows)) < 0) {
		json_decref(done);
		return rc;
	}
	json_array_foreach(rows, i, row) {
		if (!eq(str(row, "state"), "waiting"))
			continue;
		if ((rc = move(tx, st, booking, row, "admitted", NULL)) < 0)
			break;
		json_array_append(done, row);
	}
	json_decref(rows);
	if (rc < 0) {
		json_decref(done);
		return rc;
	}
	*rows_out = done;
	return 0;
}

int ml_waiting_close(struct ml_tx *tx, const struct ml_step *st, json_t *booking)
{
	json_t *rows = NULL, *row;
	size_t i;
	int rc = ml_tx_admission_list(tx, st->org_id, str(booking, "id"), 0, &rows);
	if (rc < 0)
		return rc;
	/* The guest's page says why there is nothing more to wait for. */
	struct ml_waiting_change c = {.reason = eq(str(booking, "status"), "completed")
	                                            ? "This meeting has ended."
	                                            : "This meeting was cancelled."};
	json_array_foreach(rows, i, row) {
		if (eq(str(row, "state"), "waiting") &&
		    (rc = move(tx, st, booking, row, "closed", &c)) < 0)
			break;
	}
	json_decref(rows);
	return rc;
}
