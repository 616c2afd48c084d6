#include "notify/invite.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/booking.h"
#include "notify/ics.h"
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

const char *ml_invite_platform_label(const char *platform)
{
	if (!platform)
		return "";
	const struct ml_provider_ops *ops = ml_provider_find(platform);
	return ops && ops->label ? ops->label : platform;
}

int ml_invite_build(char **out, const char **method, const struct ml_invite *inv)
{
	json_t *b = inv->booking;
	const char *status = str(b, "status");
	if (status && strcmp(status, "rejected") == 0)
		return ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
		                    "A rejected booking has no invitation.");
	json_t *m = json_object_get(b, "meeting");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	bool cancelled = status && strcmp(status, "cancelled") == 0;

	json_t *att = json_object_get(b, "attendees");
	size_t n = 1 + json_array_size(att);
	struct ml_ics_person *people = ml_calloc(n, sizeof *people);
	json_t *c = json_object_get(b, "customer");
	people[0].name = str(c, "name");
	people[0].email = str(c, "email");
	for (size_t i = 1; i < n; i++) {
		people[i].name = str(json_array_get(att, i - 1), "name");
		people[i].email = str(json_array_get(att, i - 1), "email");
	}
	/* The UID is stable for the booking's whole life: every update replaces the same event. */
	const char *host_part = strstr(inv->public_url ? inv->public_url : "", "://");
	host_part = host_part ? host_part + 3 : "meetlink";
	char *uid = ml_asprintf("%s@%.*s", str(b, "id"), (int)strcspn(host_part, ":/"), host_part);
	const char *join = NULL;
	if (inv->personal)
		join = inv->join_url;
	else if (ml_meeting_is_ready(m) || (cancelled && str(m, "join_url")))
		join = str(m, "join_url");
	struct ml_ics_event ev = {
	    .method = cancelled ? "CANCEL" : "REQUEST",
	    .uid = uid,
	    .sequence = (unsigned)json_integer_value(json_object_get(b, "sequence")),
	    .dtstamp = inv->dtstamp,
	    .tzid = str(b, "timezone"),
	    .summary = str(b, "title"),
	    .join_url = join,
	    .platform_label = ops ? ops->label : NULL,
	    .organizer = {str(inv->host, "name"), str(inv->host, "email")},
	    .attendees = people,
	    .nattendees = n,
	};
	/* A stored time that does not parse (written before times were bounded) fails the
	 * invitation; it never becomes 1970. */
	int rc = ml_time_parse(str(b, "start") ? str(b, "start") : "", &ev.start) < 0 ||
	                 ml_time_parse(str(b, "end") ? str(b, "end") : "", &ev.end) < 0
	             ? ml_error_set(ML_EINVAL, "invalid_field", "start",
	                            "The booking's times cannot be written in an invitation.")
	             : ml_ics_build(out, &ev);
	if (rc == 0 && method)
		*method = ev.method;
	free(uid);
	free(people);
	return rc;
}
