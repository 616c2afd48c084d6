#include "domain/booking.h"

#include <stddef.h>
#include <string.h>

static const struct {
	enum ml_booking_action action;
	const char *from, *to;
} booking_moves[] = {
	{ML_BK_CONFIRM, "pending", "confirmed"},
	{ML_BK_RESCHEDULE, "pending", "pending"},
	{ML_BK_RESCHEDULE, "confirmed", "confirmed"},
	{ML_BK_CANCEL, "pending", "cancelled"},
	{ML_BK_CANCEL, "confirmed", "cancelled"},
	{ML_BK_REJECT, "pending", "rejected"},
	{ML_BK_START, "confirmed", "in_progress"},
	{ML_BK_COMPLETE, "confirmed", "completed"},
	{ML_BK_COMPLETE, "in_progress", "completed"},
	{ML_BK_END, "confirmed", "completed"},
	{ML_BK_END, "in_progress", "completed"},
	{ML_BK_END, "completed", "completed"},
};

const char *ml_booking_next(const char *status, enum ml_booking_action action)
{
	for (size_t i = 0; i < sizeof booking_moves / sizeof booking_moves[0]; i++)
		if (booking_moves[i].action == action && strcmp(booking_moves[i].from, status) == 0)
			return booking_moves[i].to;
	return NULL;
}

bool ml_booking_status_valid(const char *status)
{
	static const char *all[] = {"pending",   "confirmed", "in_progress",
				    "completed", "cancelled", "rejected"};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (strcmp(all[i], status) == 0)
			return true;
	return false;
}

bool ml_booking_create_status(const char *status, bool *confirm)
{
	*confirm = strcmp(status, "confirmed") == 0;
	return *confirm || strcmp(status, "pending") == 0;
}

const char *ml_booking_status_new(void)
{
	return "pending";
}

const char *const ml_booking_live[] = {"pending", "confirmed", "in_progress", NULL};

const char *ml_booking_action_name(enum ml_booking_action action)
{
	static const char *names[] = {"confirm", "reschedule", "cancel", "reject",
				      "start",   "complete",   "end"};
	return names[action];
}

static const struct {
	enum ml_meeting_event ev;
	const char *from, *to;
} meeting_moves[] = {
	{ML_MEV_REQUEST, "none", "pending"},
	{ML_MEV_REQUEST, "error", "pending"},
	{ML_MEV_MADE, "pending", "ready"},
	{ML_MEV_MADE, "error", "ready"},
	{ML_MEV_FAILED, "pending", "error"},
	{ML_MEV_FAILED, "error", "error"},
	{ML_MEV_MADE_HERE, "none", "ready"},
	{ML_MEV_MADE_HERE, "error", "ready"},
	{ML_MEV_FAILED_HERE, "none", "error"},
	{ML_MEV_FAILED_HERE, "error", "error"},
	{ML_MEV_UPDATED, "ready", "ready"},
	{ML_MEV_OPENED, "ready", "ready"},
	{ML_MEV_GONE, "ready", "error"},
	{ML_MEV_GONE_REPORTED, "ready", "error"},
	{ML_MEV_GONE_REPORTED, "pending", "error"},
	{ML_MEV_CANCEL, "none", "cancelled"},
	{ML_MEV_CANCEL, "pending", "cancelled"},
	{ML_MEV_CANCEL, "ready", "cancelled"},
	{ML_MEV_CANCEL, "error", "cancelled"},
	{ML_MEV_RETRY, "error", "pending"},
	{ML_MEV_REGENERATE, "ready", "pending"},
	{ML_MEV_REGENERATE, "error", "pending"},
};

const char *ml_meeting_next(const char *status, enum ml_meeting_event ev)
{
	if (!status)
		status = "none";
	for (size_t i = 0; i < sizeof meeting_moves / sizeof meeting_moves[0]; i++)
		if (meeting_moves[i].ev == ev && strcmp(meeting_moves[i].from, status) == 0)
			return meeting_moves[i].to;
	return NULL;
}

bool ml_meeting_can(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof meeting_moves / sizeof meeting_moves[0]; i++)
		if (strcmp(meeting_moves[i].from, from) == 0 && strcmp(meeting_moves[i].to, to) == 0)
			return true;
	return false;
}

static bool meeting_status_is(json_t *meeting, const char *status)
{
	const char *s = json_string_value(json_object_get(meeting, "status"));
	return s && strcmp(s, status) == 0;
}

bool ml_meeting_is_ready(json_t *meeting)
{
	return meeting_status_is(meeting, "ready");
}

bool ml_meeting_is_pending(json_t *meeting)
{
	return meeting_status_is(meeting, "pending");
}
