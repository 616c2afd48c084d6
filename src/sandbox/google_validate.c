/* The Google Calendar error envelope (specs/google/google-calendar-errors.json) and request
 * validation: what Google answers 400 to, with its reasons and locations. */
#include "sandbox/google.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the Google error envelope ------------------------------------------------------ */

static const char *status_word(int status)
{
	switch (status) {
	case 400:
		return "INVALID_ARGUMENT";
	case 401:
		return "UNAUTHENTICATED";
	case 403:
		return "PERMISSION_DENIED";
	case 404:
		return "NOT_FOUND";
	case 409:
		return "ALREADY_EXISTS";
	case 410:
		return "GONE";
	case 412:
		return "FAILED_PRECONDITION";
	case 429:
		return "RESOURCE_EXHAUSTED";
	case 503:
		return "UNAVAILABLE";
	default:
		return status >= 500 ? "INTERNAL" : "UNKNOWN";
	}
}

void ml_sb_gerr_full(struct ml_http_resp *resp, int status, const char *domain, const char *reason,
                     const char *message, const char *location_type, const char *location)
{
	json_t *item =
	    json_pack("{s:s, s:s, s:s}", "domain", domain, "reason", reason, "message", message);
	if (location_type) {
		json_object_set_new(item, "locationType", json_string(location_type));
		json_object_set_new(item, "location", json_string(location));
	}
	ml_resp_json(resp, status,
	             json_pack("{s:{s:[o], s:i, s:s, s:s}}", "error", "errors", item, "code",
	                       status, "message", message, "status", status_word(status)));
}

void ml_sb_gerr(struct ml_http_resp *resp, int status, const char *reason, const char *message)
{
	ml_sb_gerr_full(resp, status, "global", reason, message, NULL, NULL);
}

void ml_sb_gerr_param(struct ml_http_resp *resp, const char *reason, const char *message,
                      const char *param)
{
	ml_sb_gerr_full(resp, 400, "global", reason, message, "parameter", param);
}

/* The envelope for a status alone (faults without a body, unknown paths). */
void ml_sb_google_error(struct ml_http_resp *resp, int status, const char *message)
{
	switch (status) {
	case 429:
		ml_sb_gerr_full(resp, 429, "usageLimits", "rateLimitExceeded",
		                "Rate Limit Exceeded", NULL, NULL);
		break;
	case 403:
		ml_sb_gerr_full(resp, 403, "usageLimits", "rateLimitExceeded",
		                "Rate Limit Exceeded", NULL, NULL);
		break;
	case 401:
		ml_sb_gerr_full(resp, 401, "global", "authError", "Invalid Credentials", "header",
		                "Authorization");
		break;
	case 404:
		ml_sb_gerr(resp, 404, "notFound", "Not Found");
		break;
	case 409:
		ml_sb_gerr(resp, 409, "conflict", "Conflict");
		break;
	case 410:
		ml_sb_gerr(resp, 410, "deleted", "Resource has been deleted");
		break;
	case 412:
		ml_sb_gerr_full(resp, 412, "global", "conditionNotMet", "Precondition Failed",
		                "header", "If-Match");
		break;
	case 500:
		ml_sb_gerr(resp, 500, "backendError", "Backend Error");
		break;
	case 503:
		ml_sb_gerr(resp, 503, "backendError", "Service Unavailable");
		break;
	default:
		ml_sb_gerr(resp, status, status < 500 ? "badRequest" : "backendError", message);
	}
}

void ml_sb_google_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch)
{
	(void)req;
	if (mismatch)
		ml_sb_gerr(resp, 405, "httpMethodNotAllowed", "HTTP method not allowed");
	else
		ml_sb_gerr(resp, 404, "notFound", "Not Found");
}

/* ---- validation ---------------------------------------------------------------------- */

/* start/end: an object with dateTime (RFC 3339; without offset only with timeZone) or date. */
static bool parse_when(json_t *w, const char *which, int64_t *out, bool *all_day,
                       struct ml_http_resp *resp)
{
	char msg[64];
	snprintf(msg, sizeof msg, "Missing %s time.", which);
	if (!w) {
		ml_sb_gerr(resp, 400, "required", msg);
		return false;
	}
	snprintf(msg, sizeof msg, "Invalid %s time.", which);
	if (!json_is_object(w)) {
		ml_sb_gerr(resp, 400, "invalid", msg);
		return false;
	}
	const char *dt = ml_sb_str(w, "dateTime"), *d = ml_sb_str(w, "date"),
	           *tz = ml_sb_str(w, "timeZone");
	json_t *tzv = json_object_get(w, "timeZone");
	if ((tzv && !json_is_string(tzv) && !json_is_null(tzv)) || (tz && !ml_tz_valid(tz))) {
		snprintf(msg, sizeof msg, "Invalid time zone definition for %s time.", which);
		ml_sb_gerr(resp, 400, "invalid", msg);
		return false;
	}
	if (dt) {
		if (ml_time_parse(dt, out) == 0) {
			*all_day = false;
			return true;
		}
		if (tz && strlen(dt) < 40) { /* local time in the given zone: approximated as UTC */
			char buf[48];
			snprintf(buf, sizeof buf, "%sZ", dt);
			if (ml_time_parse(buf, out) == 0) {
				*all_day = false;
				return true;
			}
		}
		ml_sb_gerr(resp, 400, "invalid", msg);
		return false;
	}
	if (d) {
		char buf[32];
		snprintf(buf, sizeof buf, "%.10sT00:00:00Z", d);
		if (strlen(d) == 10 && ml_time_parse(buf, out) == 0) {
			*all_day = true;
			return true;
		}
		ml_sb_gerr(resp, 400, "invalid", msg);
		return false;
	}
	snprintf(msg, sizeof msg, "Missing %s time.", which);
	ml_sb_gerr(resp, 400, "required", msg);
	return false;
}

static bool check_enum(json_t *ev, const char *field, const char *const *allowed,
                       struct ml_http_resp *resp)
{
	json_t *v = json_object_get(ev, field);
	if (!v || json_is_null(v))
		return true;
	if (json_is_string(v))
		for (int i = 0; allowed[i]; i++)
			if (strcmp(json_string_value(v), allowed[i]) == 0)
				return true;
	char *m = ml_asprintf("Invalid value for: %s", field);
	ml_sb_gerr(resp, 400, "invalid", m);
	free(m);
	return false;
}

/* Validates a whole event resource (after a patch has been merged in). Answers on failure. */
bool ml_sb_gcal_validate_event(json_t *ev, bool conf_v1, struct ml_http_resp *resp)
{
	static const char *const strings[] = {"summary",          "description", "location",
	                                      "colorId",          "id",          "iCalUID",
	                                      "recurringEventId", NULL};
	static const char *const st[] = {"confirmed", "tentative", "cancelled", NULL};
	static const char *const vis[] = {"default", "public", "private", "confidential", NULL};
	static const char *const tr[] = {"opaque", "transparent", NULL};
	static const char *const et[] = {"default",  "outOfOffice", "focusTime", "workingLocation",
	                                 "birthday", "fromGmail",   NULL};
	for (int i = 0; strings[i]; i++) {
		json_t *v = json_object_get(ev, strings[i]);
		if (v && !json_is_string(v) && !json_is_null(v)) {
			char *m = ml_asprintf("Invalid value for: %s", strings[i]);
			ml_sb_gerr(resp, 400, "invalid", m);
			free(m);
			return false;
		}
	}
	if (!check_enum(ev, "status", st, resp) || !check_enum(ev, "visibility", vis, resp) ||
	    !check_enum(ev, "transparency", tr, resp) || !check_enum(ev, "eventType", et, resp))
		return false;
	int64_t s, e;
	bool sd, ed;
	if (!parse_when(json_object_get(ev, "start"), "start", &s, &sd, resp) ||
	    !parse_when(json_object_get(ev, "end"), "end", &e, &ed, resp))
		return false;
	if (sd != ed) {
		ml_sb_gerr(resp, 400, "invalid",
		           "Start and end times must either both be date or both be dateTime.");
		return false;
	}
	if (e < s) {
		ml_sb_gerr_full(resp, 400, "calendar", "timeRangeEmpty",
		                "The specified time range is empty.", NULL, NULL);
		return false;
	}
	json_t *att = json_object_get(ev, "attendees");
	if (att && !json_is_null(att)) {
		if (!json_is_array(att)) {
			ml_sb_gerr(resp, 400, "invalid", "Invalid value for: attendees");
			return false;
		}
		size_t i;
		json_t *a;
		json_array_foreach(att, i, a)
		{
			const char *em = ml_sb_str(a, "email");
			if (!json_is_object(a) || !em) {
				ml_sb_gerr(resp, 400, "required", "Missing attendee email.");
				return false;
			}
			if (!strchr(em, '@') || strchr(em, ' ')) {
				ml_sb_gerr(resp, 400, "invalid", "Invalid attendee email.");
				return false;
			}
		}
	}
	json_t *cd = json_object_get(ev, "conferenceData");
	if (conf_v1 && cd && !json_is_null(cd)) {
		json_t *cr = json_object_get(cd, "createRequest");
		if (!json_is_object(cd) ||
		    (!cr && !(json_object_get(cd, "conferenceSolution") &&
		              json_array_size(json_object_get(cd, "entryPoints"))))) {
			ml_sb_gerr(resp, 400, "invalid", "Invalid conference data.");
			return false;
		}
		if (cr) {
			const char *rid = ml_sb_str(cr, "requestId");
			const char *type =
			    ml_sb_str(json_object_get(cr, "conferenceSolutionKey"), "type");
			if (!rid || !*rid) {
				ml_sb_gerr(resp, 400, "invalid",
				           "Invalid conference create request.");
				return false;
			}
			if (!type || strcmp(type, "hangoutsMeet") != 0) {
				ml_sb_gerr(resp, 400, "invalid", "Invalid conference type value.");
				return false;
			}
		}
	}
	return true;
}

/* Common query parameters of mutations. */
bool ml_sb_gcal_mutation_params(struct ml_http_req *req, struct ml_http_resp *resp, bool *conf_v1,
                                const char **send_updates)
{
	const char *cv = ml_http_query(req, "conferenceDataVersion");
	const char *su = ml_http_query(req, "sendUpdates");
	*conf_v1 = false;
	if (cv) {
		if (strcmp(cv, "1") == 0)
			*conf_v1 = true;
		else if (strcmp(cv, "0") != 0) {
			ml_sb_gerr_param(
			    resp, "invalid",
			    "Invalid conference data version. Supported values are 0 and 1.",
			    "conferenceDataVersion");
			return false;
		}
	}
	if (su && strcmp(su, "all") != 0 && strcmp(su, "externalOnly") != 0 &&
	    strcmp(su, "none") != 0) {
		char *m = ml_asprintf("Invalid value '%s'. Values must match the following regular "
		                      "expression: '(all|externalOnly|none)'",
		                      su);
		ml_sb_gerr_param(resp, "invalid", m, "sendUpdates");
		free(m);
		return false;
	}
	const char *sn = ml_http_query(req, "sendNotifications");
	if (!su && sn && strcmp(sn, "true") == 0)
		su = "all";
	*send_updates = su ? su : "none";
	return true;
}
