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

const char *ml_booking_action_name(enum ml_booking_action action)
{
	static const char *names[] = {"confirm", "reschedule", "cancel",
				      "reject",  "start",      "complete"};
	return names[action];
}

bool ml_meeting_can(const char *from, const char *to)
{
	static const struct {
		const char *from, *to;
	} moves[] = {
		{"none", "pending"},    {"none", "ready"},      {"none", "error"},
		{"pending", "ready"},   {"pending", "error"},   {"pending", "cancelled"},
		{"ready", "cancelled"}, {"error", "cancelled"}, {"error", "pending"},
		{"error", "ready"},     {"ready", "pending"},   {"ready", "ready"},
		{"none", "cancelled"},
	};
	for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++)
		if (strcmp(moves[i].from, from) == 0 && strcmp(moves[i].to, to) == 0)
			return true;
	return false;
}
