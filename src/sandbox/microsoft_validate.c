/* The Graph error envelope and request validation (specs/msgraph/: the CSDL types give the
 * property types and enum members; msgraph-notes.json the error codes). */
#include "sandbox/microsoft.h"

#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void ml_sb_ms_graph_time(int64_t t, char out[40])
{
	char ts[ML_RFC3339_MAX];
	ml_time_format(t, ts);
	snprintf(out, 40, "%.19s", ts);
}

/* ---- error envelopes ---------------------------------------------------------------- */

void ml_sb_ms_gerr(struct ml_http_resp *resp, int status, const char *code, const char *message)
{
	char date[40];
	ml_sb_ms_graph_time(ml_sb_now(), date);
	char *rid = guid(), *crid = guid();
	ml_resp_json(resp, status,
	             json_pack("{s:{s:s, s:s, s:{s:s, s:s, s:s}}}", "error", "code", code,
	                       "message", message, "innerError", "date", date, "request-id", rid,
	                       "client-request-id", crid));
	ml_resp_header(resp, "request-id", rid);
	free(rid);
	free(crid);
}

void ml_sb_ms_error(struct ml_http_resp *resp, int status, const char *message)
{
	switch (status) {
	case 429:
		ml_sb_ms_gerr(resp, 429, "TooManyRequests", "Too many requests.");
		break;
	case 503:
		ml_sb_ms_gerr(resp, 503, "ServiceUnavailable", "Service unavailable.");
		break;
	case 401:
		ml_sb_ms_gerr(resp, 401, "InvalidAuthenticationToken",
		              "Access token has expired or is not yet valid.");
		break;
	case 403:
		ml_sb_ms_gerr(resp, 403, "ErrorAccessDenied",
		              "Access is denied. Check credentials and try again.");
		break;
	case 404:
		ml_sb_ms_gerr(resp, 404, "ErrorItemNotFound",
		              "The specified object was not found in the store.");
		break;
	case 500:
		ml_sb_ms_gerr(resp, 500, "generalException", "General exception while processing.");
		break;
	default:
		ml_sb_ms_gerr(resp, status, status < 500 ? "BadRequest" : "UnknownError", message);
	}
}

void ml_sb_ms_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch)
{
	char *m = ml_asprintf("Resource not found for the segment '%s'.", req->path);
	if (mismatch)
		ml_sb_ms_gerr(resp, 405, "Request_BadRequest",
		              "Specified HTTP method is not allowed for the request target.");
	else
		ml_sb_ms_gerr(resp, 400, "BadRequest", m);
	free(m);
}

/* Type checks the way OData deserialization reports them. */
static bool check_types(json_t *b, const char *const *names, json_type type,
                        struct ml_http_resp *resp)
{
	for (int i = 0; names[i]; i++) {
		json_t *v = json_object_get(b, names[i]);
		if (v && !json_is_null(v) && json_typeof(v) != type &&
		    !(type == JSON_TRUE && json_is_boolean(v))) {
			char *m = ml_asprintf("Invalid value for property '%s'.", names[i]);
			ml_sb_ms_gerr(resp, 400, "RequestBodyRead", m);
			free(m);
			return false;
		}
	}
	return true;
}

static bool check_enum(json_t *b, const char *name, const char *const *allowed,
                       struct ml_http_resp *resp)
{
	json_t *v = json_object_get(b, name);
	if (!v || json_is_null(v))
		return true;
	for (int i = 0; json_is_string(v) && allowed[i]; i++)
		if (strcmp(json_string_value(v), allowed[i]) == 0)
			return true;
	char *m = ml_asprintf("Requested value '%s' was not found.",
	                      json_is_string(v) ? json_string_value(v) : "?");
	ml_sb_ms_gerr(resp, 400, "RequestBodyRead", m);
	free(m);
	return false;
}

static const char *const lobby_scopes[] = {
    "organizer",          "organization", "organizationAndFederated",    "everyone",
    "unknownFutureValue", "invited",      "organizationExcludingGuests", NULL};
static const char *const presenters[] = {"everyone",  "organization",       "roleIsPresenter",
                                         "organizer", "unknownFutureValue", NULL};

/* The members of a complex type (msgraph v1.0 types) and their types: anything else is
 * refused as Graph's OData reader does. */
struct member {
	const char *name;
	json_type type; /* JSON_TRUE: a boolean */
};
static const struct member lobby_members[] = {
    {"scope", JSON_STRING}, {"isDialInBypassEnabled", JSON_TRUE}, {NULL, 0}};
static const struct member join_members[] = {{"isPasscodeRequired", JSON_TRUE},
                                             {"joinMeetingId", JSON_STRING},
                                             {"passcode", JSON_STRING},
                                             {NULL, 0}};

static bool check_members(json_t *o, const struct member *m, struct ml_http_resp *resp)
{
	const char *k;
	json_t *v;
	if (!o)
		return true;
	json_object_foreach(o, k, v)
	{
		int i = 0;
		while (m[i].name && strcmp(m[i].name, k) != 0)
			i++;
		bool ok = m[i].name && (json_is_null(v) ||
		                        (m[i].type == JSON_TRUE ? json_is_boolean(v)
		                                                : json_typeof(v) == m[i].type));
		if (!ok) {
			char *msg = ml_asprintf("The property '%s' does not exist on type "
			                        "'microsoft.graph.%s' or its value is not valid.",
			                        k, m == lobby_members ? "lobbyBypassSettings"
			                                              : "joinMeetingIdSettings");
			ml_sb_ms_gerr(resp, 400, "RequestBodyRead", msg);
			free(msg);
			return false;
		}
	}
	return true;
}

bool ml_sb_ms_validate_meeting(json_t *b, struct ml_http_resp *resp)
{
	static const char *const strs[] = {"subject",    "startDateTime",     "endDateTime",
	                                   "externalId", "allowedPresenters", NULL};
	static const char *const objs[] = {"participants", "lobbyBypassSettings", "chatInfo",
	                                   "joinMeetingIdSettings", NULL};
	static const char *const bools[] = {"isEntryExitAnnounced", "recordAutomatically",
	                                    "allowTeamworkReactions", NULL};
	if (!check_types(b, strs, JSON_STRING, resp) || !check_types(b, objs, JSON_OBJECT, resp) ||
	    !check_types(b, bools, JSON_TRUE, resp) ||
	    !check_enum(b, "allowedPresenters", presenters, resp) ||
	    !check_enum(json_object_get(b, "lobbyBypassSettings"), "scope", lobby_scopes, resp) ||
	    !check_members(json_object_get(b, "lobbyBypassSettings"), lobby_members, resp) ||
	    !check_members(json_object_get(b, "joinMeetingIdSettings"), join_members, resp))
		return false;
	int64_t s = 0, e = 0;
	const char *ss = ml_sb_str(b, "startDateTime"), *es = ml_sb_str(b, "endDateTime");
	if ((ss && ml_time_parse(ss, &s) < 0) || (es && ml_time_parse(es, &e) < 0)) {
		ml_sb_ms_gerr(
		    resp, 400, "BadRequest",
		    "The value of startDateTime or endDateTime is not a valid DateTimeOffset.");
		return false;
	}
	if (ss && es && e < s) {
		ml_sb_ms_gerr(resp, 400, "BadRequest", "endDateTime must be after startDateTime.");
		return false;
	}
	return true;
}

static const char *const providers[] = {"unknown", "skypeForBusiness", "skypeForConsumer",
                                        "teamsForBusiness", NULL};

/* Windows zone names Graph accepts besides IANA ones (a common subset). */
static bool tz_ok(const char *tz)
{
	static const char *const win[] = {"UTC",
	                                  "Pacific Standard Time",
	                                  "Mountain Standard Time",
	                                  "Central Standard Time",
	                                  "Eastern Standard Time",
	                                  "GMT Standard Time",
	                                  "W. Europe Standard Time",
	                                  "Central Europe Standard Time",
	                                  "Romance Standard Time",
	                                  "E. Europe Standard Time",
	                                  "India Standard Time",
	                                  "Tokyo Standard Time",
	                                  "China Standard Time",
	                                  "AUS Eastern Standard Time",
	                                  "Greenwich Standard Time",
	                                  "FLE Standard Time",
	                                  "Russian Standard Time",
	                                  "South Africa Standard Time",
	                                  "E. South America Standard Time",
	                                  NULL};
	for (int i = 0; win[i]; i++)
		if (strcmp(tz, win[i]) == 0)
			return true;
	return ml_tz_valid(tz);
}

/* dateTimeTimeZone: {"dateTime": "2026-03-15T12:00:00[.fffffff]", "timeZone": "..."}. */
static bool parse_dttz(json_t *v, const char *which, int64_t *out, struct ml_http_resp *resp)
{
	char m[128];
	if (!json_is_object(v)) {
		snprintf(m, sizeof m, "Your request can't be completed. The %s date is missing.",
		         which);
		ml_sb_ms_gerr(resp, 400, "ErrorInvalidRequest", m);
		return false;
	}
	const char *dt = ml_sb_str(v, "dateTime"), *tz = ml_sb_str(v, "timeZone");
	if (!tz || !*tz || !tz_ok(tz)) {
		ml_sb_ms_gerr(
		    resp, 400, "TimeZoneNotSupportedException",
		    "A valid TimeZone value must be specified. The following TimeZone value is not "
		    "supported: ''.");
		return false;
	}
	char buf[48];
	if (dt && strlen(dt) >= 19) {
		snprintf(buf, sizeof buf, "%.19sZ", dt);
		if (ml_time_parse(buf, out) == 0)
			return true;
	}
	snprintf(m, sizeof m,
	         "Cannot convert the literal '%.40s' to the expected type "
	         "'Edm.DateTimeOffset'.",
	         dt ? dt : "");
	ml_sb_ms_gerr(resp, 400, "RequestBodyRead", m);
	return false;
}

/* Graph echoes dateTime with seven fractional digits. */
bool ml_sb_ms_validate_event(json_t *b, bool full, struct ml_http_resp *resp)
{
	static const char *const strs[] = {"subject",    "transactionId", "onlineMeetingProvider",
	                                   "importance", "sensitivity",   "showAs",
	                                   NULL};
	static const char *const objs[] = {"body", "start", "end", "location", NULL};
	static const char *const bools[] = {"isOnlineMeeting",
	                                    "isAllDay",
	                                    "allowNewTimeProposals",
	                                    "isReminderOn",
	                                    "responseRequested",
	                                    "hideAttendees",
	                                    NULL};
	static const char *const arrs[] = {"attendees", "categories", "locations", NULL};
	static const char *const imp[] = {"low", "normal", "high", NULL};
	static const char *const sens[] = {"normal", "personal", "private", "confidential", NULL};
	static const char *const show[] = {
	    "free", "tentative", "busy", "oof", "workingElsewhere", "unknown", NULL};
	if (!check_types(b, strs, JSON_STRING, resp) || !check_types(b, objs, JSON_OBJECT, resp) ||
	    !check_types(b, bools, JSON_TRUE, resp) || !check_types(b, arrs, JSON_ARRAY, resp) ||
	    !check_enum(b, "onlineMeetingProvider", providers, resp) ||
	    !check_enum(b, "importance", imp, resp) || !check_enum(b, "sensitivity", sens, resp) ||
	    !check_enum(b, "showAs", show, resp))
		return false;
	json_t *body = json_object_get(b, "body");
	const char *ct = ml_sb_str(body, "contentType");
	if (json_object_get(body, "contentType") &&
	    (!ct || (strcasecmp(ct, "text") != 0 && strcasecmp(ct, "html") != 0))) {
		ml_sb_ms_gerr(resp, 400, "RequestBodyRead",
		              "Requested value for 'contentType' was not found.");
		return false;
	}
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(b, "attendees"), i, a)
	{
		const char *addr = ml_sb_str(json_object_get(a, "emailAddress"), "address");
		static const char *const types[] = {"required", "optional", "resource", NULL};
		if (!addr || !strchr(addr, '@')) {
			ml_sb_ms_gerr(resp, 400, "ErrorInvalidRecipients",
			              "At least one recipient isn't valid.");
			return false;
		}
		if (!check_enum(a, "type", types, resp))
			return false;
	}
	int64_t s, e;
	if (full || json_object_get(b, "start") || json_object_get(b, "end")) {
		if (!parse_dttz(json_object_get(b, "start"), "start", &s, resp) ||
		    !parse_dttz(json_object_get(b, "end"), "end", &e, resp))
			return false;
		if (e < s) {
			ml_sb_ms_gerr(
			    resp, 400, "ErrorInvalidRequest",
			    "Your request can't be completed. The end date you entered occurs "
			    "before the start date.");
			return false;
		}
	}
	return true;
}
