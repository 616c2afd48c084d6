/* Google's partial-response selector (src/sandbox/fields.c): paths, groups, arrays, `*`,
 * absent members, sharing instead of copying, and every syntax error with its message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json_text.h"
#include "sandbox/fields.h"

/* An event as the sandbox stores it (trimmed). */
static const char *EVENT =
    "{\"kind\":\"calendar#event\",\"etag\":\"\\\"3\\\"\",\"id\":\"ml0123456789\","
    "\"status\":\"confirmed\",\"summary\":\"Math\","
    "\"start\":{\"dateTime\":\"2026-12-01T15:00:00Z\",\"timeZone\":\"UTC\"},"
    "\"attendees\":[{\"email\":\"a@x.test\",\"responseStatus\":\"needsAction\"},"
    "{\"email\":\"b@x.test\",\"optional\":true}],"
    "\"recurrence\":[\"RRULE:FREQ=DAILY\"],\"reminders\":{\"useDefault\":true},"
    "\"hangoutLink\":\"https://meet.google.com/abc-defg-hij\","
    "\"conferenceData\":{\"createRequest\":{\"requestId\":\"r1\","
    "\"conferenceSolutionKey\":{\"type\":\"hangoutsMeet\"},"
    "\"status\":{\"statusCode\":\"success\"}},"
    "\"entryPoints\":[{\"entryPointType\":\"video\",\"uri\":\"https://meet.google.com/"
    "abc-defg-hij\",\"label\":\"meet.google.com/abc-defg-hij\"},"
    "{\"entryPointType\":\"more\",\"uri\":\"https://tel.meet/abc\",\"pin\":\"123\"}],"
    "\"conferenceId\":\"abc-defg-hij\"},"
    "\"extendedProperties\":{\"private\":{\"meetlink_booking\":\"bkg_1\"}}}";

static json_t *load(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	if (!v)
		fail_msg("bad JSON in the test: %s: %s", e.text, text);
	return v;
}

/* Applies `selector` to `src` and compares with `want` (JSON text); the text written
 * directly (ml_sb_fields_text) must be the applied selection's, byte for byte. */
static void check(json_t *src, const char *selector, const char *want)
{
	struct ml_sb_fields *f = NULL;
	if (ml_sb_fields_parse(&f, selector) < 0)
		fail_msg("%s: %s", selector, ml_error_message());
	json_t *got = ml_sb_fields_apply(f, src);
	json_t *exp = load(want);
	if (!json_equal(got, exp)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
		fail_msg("%s: got %s, want %s", selector, g ? g : "NULL", want);
	}
	char *text = ml_sb_fields_text(f, src), *applied = ml_json_text(got);
	if (!text != !applied || (text && strcmp(text, applied) != 0))
		fail_msg("%s: wrote %s, the selection is %s", selector, text ? text : "NULL",
		         applied ? applied : "NULL");
	free(text);
	free(applied);
	json_decref(got);
	json_decref(exp);
	ml_sb_fields_free(f);
}

static void test_paths_and_groups(void **state)
{
	(void)state;
	json_t *ev = load(EVENT);
	check(ev, "id", "{\"id\":\"ml0123456789\"}");
	check(ev, "id,status", "{\"id\":\"ml0123456789\",\"status\":\"confirmed\"}");
	check(ev, "start/dateTime", "{\"start\":{\"dateTime\":\"2026-12-01T15:00:00Z\"}}");
	check(ev, "conferenceData/createRequest/status/statusCode",
	      "{\"conferenceData\":{\"createRequest\":{\"status\":{\"statusCode\":\"success\"}}}}");
	check(ev, "extendedProperties/private/meetlink_booking",
	      "{\"extendedProperties\":{\"private\":{\"meetlink_booking\":\"bkg_1\"}}}");
	/* Selections of one member add up, in either spelling. */
	const char *both = "{\"conferenceData\":{\"createRequest\":{\"requestId\":\"r1\"},"
	                   "\"conferenceId\":\"abc-defg-hij\"}}";
	check(ev, "conferenceData/createRequest/requestId,conferenceData/conferenceId", both);
	check(ev, "conferenceData(createRequest/requestId,conferenceId)", both);
	/* The member whole wins over a part of it. */
	check(ev, "start/timeZone,start",
	      "{\"start\":{\"dateTime\":\"2026-12-01T15:00:00Z\",\"timeZone\":\"UTC\"}}");
	check(ev, "start,start/timeZone",
	      "{\"start\":{\"dateTime\":\"2026-12-01T15:00:00Z\",\"timeZone\":\"UTC\"}}");
	/* The Google Meet driver's selector. */
	check(ev,
	      "id,status,hangoutLink,conferenceData(createRequest/status/statusCode,"
	      "entryPoints(entryPointType,uri))",
	      "{\"id\":\"ml0123456789\",\"status\":\"confirmed\","
	      "\"hangoutLink\":\"https://meet.google.com/abc-defg-hij\","
	      "\"conferenceData\":{\"createRequest\":{\"status\":{\"statusCode\":\"success\"}},"
	      "\"entryPoints\":[{\"entryPointType\":\"video\","
	      "\"uri\":\"https://meet.google.com/abc-defg-hij\"},"
	      "{\"entryPointType\":\"more\",\"uri\":\"https://tel.meet/abc\"}]}}");
	json_decref(ev);
}

static void test_arrays(void **state)
{
	(void)state;
	json_t *ev = load(EVENT);
	/* A selection on an array applies to each element; an element keeps its place even
	 * when nothing of it is selected. */
	check(ev, "attendees/email",
	      "{\"attendees\":[{\"email\":\"a@x.test\"},"
	      "{\"email\":\"b@x.test\"}]}");
	check(ev, "attendees(optional)", "{\"attendees\":[{},{\"optional\":true}]}");
	check(ev, "conferenceData/entryPoints/pin",
	      "{\"conferenceData\":{\"entryPoints\":[{},{\"pin\":\"123\"}]}}");
	/* A whole array is shared as is; strings in it have no members to select. */
	check(ev, "recurrence", "{\"recurrence\":[\"RRULE:FREQ=DAILY\"]}");
	check(ev, "recurrence/x", "{\"recurrence\":[]}");
	/* A list resource. */
	json_t *list = load("{\"kind\":\"calendar#events\",\"nextPageToken\":\"p2\",\"items\":["
	                    "{\"id\":\"a1\",\"status\":\"confirmed\",\"summary\":\"A\"},"
	                    "{\"id\":\"b2\",\"status\":\"cancelled\"}]}");
	check(list, "items(id,status),nextPageToken",
	      "{\"nextPageToken\":\"p2\",\"items\":[{\"id\":\"a1\",\"status\":\"confirmed\"},"
	      "{\"id\":\"b2\",\"status\":\"cancelled\"}]}");
	check(list, "items/summary", "{\"items\":[{\"summary\":\"A\"},{}]}");
	/* Applied to an array itself. */
	json_t *items = json_object_get(list, "items");
	check(items, "id", "[{\"id\":\"a1\"},{\"id\":\"b2\"}]");
	json_decref(list);
	json_decref(ev);
}

static void test_star(void **state)
{
	(void)state;
	json_t *ev = load(EVENT);
	struct ml_sb_fields *f = NULL;
	assert_int_equal(ml_sb_fields_parse(&f, "*"), 0);
	json_t *got = ml_sb_fields_apply(f, ev);
	assert_true(got == ev); /* the value whole, shared */
	json_decref(got);
	ml_sb_fields_free(f);
	check(ev, "id,*", EVENT);
	check(ev, "start/*",
	      "{\"start\":{\"dateTime\":\"2026-12-01T15:00:00Z\",\"timeZone\":\"UTC\"}}");
	check(ev, "reminders(*)", "{\"reminders\":{\"useDefault\":true}}");
	/* `*` with a sub-selection: inside every member. */
	check(ev, "conferenceData/createRequest/*/type",
	      "{\"conferenceData\":{\"createRequest\":{\"conferenceSolutionKey\":"
	      "{\"type\":\"hangoutsMeet\"}}}}");
	check(ev, "conferenceData/entryPoints/*",
	      "{\"conferenceData\":{\"entryPoints\":"
	      "[{\"entryPointType\":\"video\",\"uri\":"
	      "\"https://meet.google.com/abc-defg-hij\","
	      "\"label\":\"meet.google.com/abc-defg-hij\"},"
	      "{\"entryPointType\":\"more\",\"uri\":"
	      "\"https://tel.meet/abc\",\"pin\":\"123\"}]}}");
	/* A member named and reached by `*`: the union of both selections. */
	json_t *o = load("{\"a\":{\"x\":1,\"y\":2,\"z\":3},\"b\":{\"x\":4,\"y\":5}}");
	check(o, "*/x,a/y", "{\"a\":{\"x\":1,\"y\":2},\"b\":{\"x\":4}}");
	check(o, "a/y,*(x)", "{\"a\":{\"x\":1,\"y\":2},\"b\":{\"x\":4}}");
	check(o, "*(x),a", "{\"a\":{\"x\":1,\"y\":2,\"z\":3},\"b\":{\"x\":4}}");
	json_decref(o);
	json_decref(ev);
}

static void test_missing_and_sharing(void **state)
{
	(void)state;
	json_t *ev = load(EVENT);
	/* Members that do not exist are absent; so is an object of which nothing was kept. */
	check(ev, "nosuch", "{}");
	check(ev, "id,nosuch", "{\"id\":\"ml0123456789\"}");
	check(ev, "start/nosuch", "{}");
	check(ev, "conferenceData(nosuch,createRequest/nosuch)", "{}");
	check(ev, "summary/x", "{}"); /* a string has no members */
	json_t *pending = load("{\"id\":\"e1\",\"conferenceData\":{\"createRequest\":{\"status\":"
	                       "{\"statusCode\":\"pending\"}}}}");
	check(pending, "id,hangoutLink,conferenceData(entryPoints(uri))", "{\"id\":\"e1\"}");
	/* A member selected whole is empty as it is. */
	json_t *empty = load("{\"a\":{},\"b\":[]}");
	check(empty, "a,b", "{\"a\":{},\"b\":[]}");
	check(empty, "a/x,b/x", "{\"b\":[]}");
	json_decref(empty);
	json_decref(pending);

	/* Selected values are the source's, not copies. */
	struct ml_sb_fields *f = NULL;
	assert_int_equal(ml_sb_fields_parse(&f, "start,conferenceData(entryPoints/uri)"), 0);
	json_t *got = ml_sb_fields_apply(f, ev);
	json_t *start = json_object_get(ev, "start");
	assert_true(json_object_get(got, "start") == start);
	assert_int_equal(start->refcount, 2);
	json_t *ep0 = json_array_get(
	    json_object_get(json_object_get(ev, "conferenceData"), "entryPoints"), 0);
	json_t *got0 = json_array_get(
	    json_object_get(json_object_get(got, "conferenceData"), "entryPoints"), 0);
	assert_true(json_object_get(got0, "uri") == json_object_get(ep0, "uri"));
	json_decref(got);
	assert_int_equal(start->refcount, 1);
	ml_sb_fields_free(f);
	json_decref(ev);
}

/* A bad selector: ML_EINVAL, the message naming the selection at fault, *out untouched. */
static void bad(const char *selector, const char *part)
{
	struct ml_sb_fields *f = (struct ml_sb_fields *)&f; /* a sentinel */
	int rc = ml_sb_fields_parse(&f, selector);
	if (rc != ML_EINVAL)
		fail_msg("accepted: \"%s\"", selector);
	assert_true(f == (struct ml_sb_fields *)&f);
	char want[256];
	snprintf(want, sizeof want, "Invalid field selection %s", part);
	if (strcmp(ml_error_message(), want) != 0)
		fail_msg("\"%s\": message \"%s\", want \"%s\"", selector, ml_error_message(), want);
	assert_string_equal(ml_error_field(), "fields");
}

static void test_syntax_errors(void **state)
{
	(void)state;
	/* Unbalanced parentheses. */
	bad("a(b", "a(b");
	bad("id,conferenceData(entryPoints(uri)", "conferenceData(entryPoints(uri)");
	bad("a(b))", "a(b))");
	bad("a)", "a)");
	bad("id),status", "id)");
	bad(")", ")");
	bad("(a)", "(a)");
	/* Empty names. */
	bad("a()", "a()");
	bad("a(b,)", "a(b,)");
	bad("a(,b)", "a(,b)");
	bad("x,a(b,,c),y", "a(b,,c)");
	bad("a//b", "a//b");
	bad("a/", "a/");
	bad("/a", "/a");
	bad("", "");
	/* Stray, leading and trailing commas: the whole selector is named. */
	bad("id,", "id,");
	bad(",id", ",id");
	bad("id,,status", "id,,status");
	/* Text after a group. */
	bad("a(b)c", "a(b)c");
	bad("a(b)/c", "a(b)/c");
	/* `*` is a name of its own. */
	bad("a*", "a*");
	bad("id,*a/b", "*a/b");
	/* White space and control characters. */
	bad("id, status", " status");
	bad("a b", "a b");
	bad("a\tb", "a\tb");
}

static void test_depth_limit(void **state)
{
	(void)state;
	char sel[2 * 70 + 1];
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(sel + n, sizeof sel - n, i ? "/a" : "a");
	struct ml_sb_fields *f = NULL;
	assert_int_equal(ml_sb_fields_parse(&f, sel), 0);
	ml_sb_fields_free(f);
	snprintf(sel + n, sizeof sel - n, "/a");
	bad(sel, sel);
	/* Groups count as levels too. */
	char grp[65 * 3 + 2];
	n = 0;
	for (int i = 0; i < 65; i++)
		grp[n++] = 'a', grp[n++] = '(';
	grp[n++] = 'b';
	for (int i = 0; i < 65; i++)
		grp[n++] = ')';
	grp[n] = '\0';
	bad(grp, grp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths_and_groups),
	    cmocka_unit_test(test_arrays),
	    cmocka_unit_test(test_star),
	    cmocka_unit_test(test_missing_and_sharing),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_depth_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
