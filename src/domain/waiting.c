#include "domain/waiting.h"

#include <stddef.h>
#include <string.h>

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

bool ml_wr_state_valid(const char *state)
{
	return is(state, "waiting") || is(state, "admitted") || is(state, "rejected") ||
	       is(state, "left") || is(state, "closed");
}

static enum ml_wr_verdict ask(const char *state, int asks, const char **next, const char **why)
{
	if (!state || is(state, "left")) {
		*next = "waiting";
		return ML_WR_MOVE;
	}
	if (is(state, "waiting") || is(state, "admitted"))
		return ML_WR_SAME;
	if (is(state, "rejected")) {
		if (asks >= ML_WAITING_MAX_ASKS) {
			*why = "asks_exhausted";
			return ML_WR_REFUSE;
		}
		*next = "waiting";
		return ML_WR_MOVE;
	}
	*why = "closed";
	return ML_WR_REFUSE;
}

enum ml_wr_verdict ml_wr_next(const char *state, enum ml_wr_action action, int asks,
                              const char **next, const char **why)
{
	*next = NULL;
	*why = NULL;
	switch (action) {
	case ML_WR_ASK:
		return ask(state, asks, next, why);
	case ML_WR_LEAVE:
		if (is(state, "left"))
			return ML_WR_SAME;
		if (is(state, "waiting")) {
			*next = "left";
			return ML_WR_MOVE;
		}
		break;
	case ML_WR_ADMIT:
	case ML_WR_REJECT:
		if (is(state, "waiting")) {
			*next = action == ML_WR_ADMIT ? "admitted" : "rejected";
			return ML_WR_MOVE;
		}
		break;
	case ML_WR_CLOSE:
		if (is(state, "waiting")) {
			*next = "closed";
			return ML_WR_MOVE;
		}
		return ML_WR_SAME;
	}
	*why = is(state, "closed") ? "closed" : "not_waiting";
	return ML_WR_REFUSE;
}
