/* Invitations: parsed back with libical, every property checked, local times converted back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libical/ical.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "notify/ics.h"

#define URL "https://meet.jit.si/math-tutoring-abcdefghijklmnopqrstuvwxyz"

static const struct ml_ics_person attendees[] = {
    {"Doe, Jane; \"JJ\"", "jane@example.com"},
    {NULL, "bob@example.org"},
};

static struct ml_ics_event base(void)
{
	struct ml_ics_event ev = {0};
	ev.method = "REQUEST";
	ev.uid = "bkg_123@meetlink.test";
	ev.sequence = 0;
	ev.dtstamp = 1780000000;
	ev.start = 1783000800; /* 2026-07-02T14:00:00Z */
	ev.end = 1783003800;   /* 14:50Z */
	ev.tzid = "Europe/London";
	ev.summary = "Math tutoring";
	ev.description = "Bring your homework.";
	ev.join_url = URL;
	ev.platform_label = "Jitsi Meet";
	ev.organizer = (struct ml_ics_person){"Ada Host", "ada@example.com"};
	ev.attendees = attendees;
	ev.nattendees = 2;
	return ev;
}

/* Every physical line ends in CRLF and is at most 75 octets; no UTF-8 sequence is split. */
static void check_wire(const char *s)
{
	const char *p = s;
	while (*p) {
		const char *crlf = strstr(p, "\r\n");
		assert_non_null(crlf);
		assert_true(crlf - p <= 75);
		for (const char *q = p; q < crlf; q++)
			assert_true(*q != '\n' && *q != '\r');
		/* A continuation never starts with a UTF-8 continuation byte. */
		if (*p == ' ')
			assert_true(((unsigned char)p[1] & 0xC0) != 0x80);
		p = crlf + 2;
	}
	assert_int_equal(strncmp(s, "BEGIN:VCALENDAR\r\n", 17), 0);
}

static icalcomponent *parse(const char *s, icalcomponent **vev)
{
	icalcomponent *cal = icalparser_parse_string(s);
	assert_non_null(cal);
	assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	*vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_non_null(*vev);
	/* libical flags parse problems as X-LIC-ERROR properties. */
	assert_int_equal(icalcomponent_count_errors(cal), 0);
	return cal;
}

static const char *param_str(icalproperty *p, icalparameter_kind k)
{
	icalparameter *pa = icalproperty_get_first_parameter(p, k);
	assert_non_null(pa);
	return icalparameter_get_xvalue(pa) ? icalparameter_get_xvalue(pa)
	                                    : icalparameter_as_ical_string(pa);
}

/* The UTC instant of DTSTART/DTEND, resolved through the file's own VTIMEZONE. */
static int64_t instant(icalcomponent *cal, icalproperty *p, const char *want_tzid)
{
	struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
	icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (!want_tzid) {
		assert_null(tz);
		assert_true(icaltime_is_utc(t));
		return (int64_t)icaltime_as_timet(t);
	}
	assert_non_null(tz);
	assert_string_equal(icalparameter_get_tzid(tz), want_tzid);
	icaltimezone *z = icalcomponent_get_timezone(cal, want_tzid);
	assert_non_null(z);
	return (int64_t)icaltime_as_timet_with_zone(t, z);
}

static void check_common(icalcomponent *cal, icalcomponent *vev, const struct ml_ics_event *ev,
                         int local_hour)
{
	assert_string_equal(
	    icalproperty_get_prodid(icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY)),
	    "-//meetlink//meetlink " ML_VERSION "//EN");
	assert_string_equal(
	    icalproperty_get_version(icalcomponent_get_first_property(cal, ICAL_VERSION_PROPERTY)),
	    "2.0");
	assert_string_equal(icalcomponent_get_uid(vev), ev->uid);
	assert_int_equal(icalcomponent_get_sequence(vev), (int)ev->sequence);

	struct icaltimetype st = icalcomponent_get_dtstamp(vev);
	assert_true(icaltime_is_utc(st));
	assert_int_equal((int64_t)icaltime_as_timet(st), ev->dtstamp);

	icalproperty *ds = icalcomponent_get_first_property(vev, ICAL_DTSTART_PROPERTY);
	icalproperty *de = icalcomponent_get_first_property(vev, ICAL_DTEND_PROPERTY);
	const char *tzid = ev->tzid && strcmp(ev->tzid, "UTC") != 0 ? ev->tzid : NULL;
	assert_int_equal(instant(cal, ds, tzid), ev->start);
	assert_int_equal(instant(cal, de, tzid), ev->end);
	struct icaltimetype lt = icalvalue_get_datetime(icalproperty_get_value(ds));
	assert_int_equal(lt.hour, local_hour);
	if (tzid) {
		icalcomponent *vtz =
		    icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
		assert_non_null(vtz);
		assert_string_equal(icalproperty_get_tzid(
		                        icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)),
		                    tzid);
	} else {
		assert_null(icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT));
	}

	icalproperty *org = icalcomponent_get_first_property(vev, ICAL_ORGANIZER_PROPERTY);
	assert_string_equal(icalproperty_get_organizer(org), "mailto:ada@example.com");
	assert_string_equal(
	    icalparameter_get_cn(icalproperty_get_first_parameter(org, ICAL_CN_PARAMETER)),
	    "Ada Host");

	assert_int_equal(icalcomponent_count_properties(vev, ICAL_ATTENDEE_PROPERTY),
	                 (int)ev->nattendees);
	size_t i = 0;
	for (icalproperty *a = icalcomponent_get_first_property(vev, ICAL_ATTENDEE_PROPERTY); a;
	     a = icalcomponent_get_next_property(vev, ICAL_ATTENDEE_PROPERTY), i++) {
		char want[128];
		snprintf(want, sizeof(want), "mailto:%s", ev->attendees[i].email);
		assert_string_equal(icalproperty_get_attendee(a), want);
		icalparameter *cn = icalproperty_get_first_parameter(a, ICAL_CN_PARAMETER);
		if (ev->attendees[i].name)
			assert_string_equal(icalparameter_get_cn(cn), ev->attendees[i].name);
		else
			assert_null(cn);
		assert_int_equal(icalparameter_get_role(
		                     icalproperty_get_first_parameter(a, ICAL_ROLE_PARAMETER)),
		                 ICAL_ROLE_REQPARTICIPANT);
		assert_int_equal(icalparameter_get_partstat(
		                     icalproperty_get_first_parameter(a, ICAL_PARTSTAT_PARAMETER)),
		                 ICAL_PARTSTAT_NEEDSACTION);
		assert_non_null(icalproperty_get_first_parameter(a, ICAL_RSVP_PARAMETER));
	}

	assert_string_equal(icalcomponent_get_location(vev), ev->join_url);
	assert_string_equal(
	    icalproperty_get_url(icalcomponent_get_first_property(vev, ICAL_URL_PROPERTY)),
	    ev->join_url);
	assert_non_null(strstr(icalcomponent_get_description(vev), ev->join_url));
	icalproperty *conf = icalcomponent_get_first_property(vev, ICAL_CONFERENCE_PROPERTY);
	assert_non_null(conf);
	assert_string_equal(icalproperty_get_conference(conf), ev->join_url);
	assert_int_equal(
	    icalparameter_get_value(icalproperty_get_first_parameter(conf, ICAL_VALUE_PARAMETER)),
	    ICAL_VALUE_URI);
	assert_int_equal(icalparameter_get_feature(
	                     icalproperty_get_first_parameter(conf, ICAL_FEATURE_PARAMETER)),
	                 ICAL_FEATURE_VIDEO);
	assert_string_equal(
	    icalparameter_get_label(icalproperty_get_first_parameter(conf, ICAL_LABEL_PARAMETER)),
	    ev->platform_label);
	(void)param_str;
}

static void test_request_london_summer(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	check_wire(s);
	assert_non_null(strstr(s, "\r\nMETHOD:REQUEST\r\n"));
	assert_non_null(strstr(s, "\r\nDTSTART;TZID=Europe/London:20260702T150000\r\n"));
	assert_non_null(strstr(s, "\r\nDTEND;TZID=Europe/London:20260702T155000\r\n"));
	assert_non_null(strstr(s, "\r\nDTSTAMP:20260528T202640Z\r\n"));
	assert_non_null(
	    strstr(s, "\r\nCONFERENCE;VALUE=URI;FEATURE=VIDEO;LABEL=Jitsi Meet:https:"));
	assert_non_null(strstr(s, "\r\nSTATUS:CONFIRMED\r\n"));
	icalcomponent *cal = parse(s, &vev);
	assert_int_equal(icalcomponent_get_method(cal), ICAL_METHOD_REQUEST);
	assert_int_equal(icalcomponent_get_status(vev), ICAL_STATUS_CONFIRMED);
	check_common(cal, vev, &ev, 15);
	assert_string_equal(icalcomponent_get_summary(vev), "Math tutoring");
	assert_string_equal(icalcomponent_get_description(vev),
	                    "Bring your homework.\n\nJoin Jitsi Meet: " URL);
	icalcomponent_free(cal);
	free(s);
}

static void test_london_winter_and_new_york(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev, *cal;

	ev.start = 1796220000; /* 2026-12-02T14:00:00Z: GMT, so 14:00 local */
	ev.end = ev.start + 3600;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	check_wire(s);
	assert_non_null(strstr(s, "DTSTART;TZID=Europe/London:20261202T140000\r\n"));
	cal = parse(s, &vev);
	check_common(cal, vev, &ev, 14);
	icalcomponent_free(cal);
	free(s);

	ev.tzid = "America/New_York"; /* EST: 09:00 */
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	check_wire(s);
	assert_non_null(strstr(s, "DTSTART;TZID=America/New_York:20261202T090000\r\n"));
	cal = parse(s, &vev);
	check_common(cal, vev, &ev, 9);
	icalcomponent_free(cal);
	free(s);

	ev.start = 1783000800; /* July: EDT, 10:00 */
	ev.end = ev.start + 1800;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_non_null(strstr(s, "DTSTART;TZID=America/New_York:20260702T100000\r\n"));
	assert_non_null(strstr(s, "DTEND;TZID=America/New_York:20260702T103000\r\n"));
	cal = parse(s, &vev);
	check_common(cal, vev, &ev, 10);
	icalcomponent_free(cal);
	free(s);

	/* Across midnight into another local day (Asia/Tokyo, +9). */
	ev.tzid = "Asia/Tokyo";
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_non_null(strstr(s, "DTSTART;TZID=Asia/Tokyo:20260702T230000\r\n"));
	assert_non_null(strstr(s, "DTEND;TZID=Asia/Tokyo:20260702T233000\r\n"));
	cal = parse(s, &vev);
	check_common(cal, vev, &ev, 23);
	icalcomponent_free(cal);
	free(s);
}

static void test_utc(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev, *cal;
	ev.tzid = "UTC";
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_null(strstr(s, "VTIMEZONE"));
	assert_non_null(strstr(s, "\r\nDTSTART:20260702T140000Z\r\n"));
	cal = parse(s, &vev);
	check_common(cal, vev, &ev, 14);
	icalcomponent_free(cal);
	free(s);

	/* A zone alias libical does not list still gives the right instants, in UTC. */
	ev.tzid = "Not/AZone";
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_null(strstr(s, "VTIMEZONE"));
	assert_non_null(strstr(s, "\r\nDTSTART:20260702T140000Z\r\n"));
	free(s);
}

/* Times an invitation cannot carry are refused, never written as a broken file (libical
 * writes DTSTART:00000000T000000 past the year 3000; core/timeutil.h stops at 2499). */
static void test_time_bounds(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev, *cal;

	ev.start = 253402257600; /* 9999-12-31T12:00:00Z */
	ev.end = ev.start + 86400;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	assert_null(s);
	ev.end = ev.start - 1;
	ev.start = -60;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	ev = base();
	ev.dtstamp = INT64_MAX;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);

	ev = base();
	ev.start = 32535216000; /* 3001-01-01T00:00:00Z */
	ev.end = ev.start + 3600;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	assert_null(s);
	ev.start = 16725225600; /* 2500-01-01T00:00:00Z */
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	assert_null(s);

	/* Pacific/Kiritimati is UTC+14: 2499-12-31T12:00Z is 2500-01-01 there, still written in
	 * the zone. */
	ev = base();
	ev.tzid = "Pacific/Kiritimati";
	ev.start = 16725182400;
	ev.end = 16725225599; /* 2499-12-31T23:59:59Z */
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_non_null(strstr(s, "DTSTART;TZID=Pacific/Kiritimati:25000101T020000\r\n"));
	cal = parse(s, &vev);
	check_common(cal, vev, &ev, 2);
	icalcomponent_free(cal);
	free(s);

	/* The first instant, in a zone west of UTC (1969 locally), is written in that zone. */
	ev.tzid = "America/New_York";
	ev.start = 0;
	ev.end = 3600;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_non_null(strstr(s, "DTSTART;TZID=America/New_York:19691231T190000"));
	free(s);
}

/* Text from outside never starts a line of its own: CR and LF in a TEXT value are escaped
 * (RFC 5545 §3.3.11), in a parameter they become spaces, other controls too. */
static void test_control_characters(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev, *cal;
	ev.summary = "Sync\r\nBEGIN:VALARM\r\nACTION:AUDIO\x01\x7f";
	ev.description = "one\r\nATTENDEE:mailto:evil@attacker.test\ntwo";
	ev.organizer.name = "Ada\r\nATTENDEE:mailto:evil@attacker.test\x1b";
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	check_wire(s);
	assert_null(strstr(s, "\r\nBEGIN:VALARM"));
	assert_null(strstr(s, "\r\nATTENDEE:mailto:evil"));
	assert_null(strstr(s, "\x01"));
	assert_null(strstr(s, "\x1b"));
	assert_null(strstr(s, "\x7f"));
	for (const char *p = s; (p = strchr(p, '\r')) != NULL; p++)
		assert_int_equal(p[1], '\n'); /* a CR only ends a line */
	cal = parse(s, &vev);
	assert_null(icalcomponent_get_first_component(vev, ICAL_VALARM_COMPONENT));
	int attendees = 0;
	for (icalproperty *a = icalcomponent_get_first_property(vev, ICAL_ATTENDEE_PROPERTY); a;
	     a = icalcomponent_get_next_property(vev, ICAL_ATTENDEE_PROPERTY))
		attendees++;
	assert_int_equal(attendees, (int)ev.nattendees);
	icalcomponent_free(cal);
	free(s);
}

static void test_cancel(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev, *cal;
	ev.method = "CANCEL";
	ev.sequence = 2;
	ev.dtstamp += 3600;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	check_wire(s);
	cal = parse(s, &vev);
	assert_int_equal(icalcomponent_get_method(cal), ICAL_METHOD_CANCEL);
	assert_int_equal(icalcomponent_get_status(vev), ICAL_STATUS_CANCELLED);
	assert_int_equal(icalcomponent_get_sequence(vev), 2);
	check_common(cal, vev, &ev, 15);
	assert_non_null(strstr(s, "\r\nSTATUS:CANCELLED\r\n"));
	assert_non_null(strstr(s, "\r\nSEQUENCE:2\r\n"));
	assert_non_null(strstr(s, "\r\nUID:bkg_123@meetlink.test\r\n"));
	icalcomponent_free(cal);
	free(s);
}

static void test_escaping_and_folding(void **state)
{
	(void)state;
	struct ml_ics_event ev = base();
	char *s = NULL;
	icalcomponent *vev, *cal;
	const char *summary =
	    "Tutoring, algebra; week 3\nZoë & 日本語 \\ done — "
	    "ééééééééééééééééééééééééééééééééééééééééé 日本語日本語日本語日本語日本語";
	ev.summary = summary;
	ev.description = "Line one, with comma; and semicolon\nLine two: ünïcödé";
	ev.organizer.name = "Ada \"Countess\" Lovelace, FRS";
	ev.platform_label = "Jitsi, Meet";
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	check_wire(s);
	/* Escaped per RFC 5545 §3.3.11. */
	assert_non_null(strstr(s, "SUMMARY:Tutoring\\, algebra\\; week 3\\nZo"));
	assert_non_null(strstr(s, "\\\\ done"));
	cal = parse(s, &vev);
	assert_string_equal(icalcomponent_get_summary(vev), summary);
	assert_string_equal(icalcomponent_get_description(vev),
	                    "Line one, with comma; and semicolon\nLine two: ünïcödé\n\n"
	                    "Join Jitsi, Meet: " URL);
	icalproperty *org = icalcomponent_get_first_property(vev, ICAL_ORGANIZER_PROPERTY);
	const char *cn =
	    icalparameter_get_cn(icalproperty_get_first_parameter(org, ICAL_CN_PARAMETER));
	/* libical writes DQUOTE in parameters with RFC 6868 ^' and reads it back. */
	assert_non_null(strstr(cn, "Countess"));
	assert_non_null(strstr(cn, "Lovelace, FRS"));
	icalproperty *a = icalcomponent_get_first_property(vev, ICAL_ATTENDEE_PROPERTY);
	assert_non_null(
	    strstr(icalparameter_get_cn(icalproperty_get_first_parameter(a, ICAL_CN_PARAMETER)),
	           "Doe, Jane;"));
	icalproperty *conf = icalcomponent_get_first_property(vev, ICAL_CONFERENCE_PROPERTY);
	assert_string_equal(
	    icalparameter_get_label(icalproperty_get_first_parameter(conf, ICAL_LABEL_PARAMETER)),
	    "Jitsi, Meet");
	icalcomponent_free(cal);
	free(s);
}

/* A property whose text ends exactly where libical folds: libical 3.0 folds between the CR and
 * the LF of the line end ("…Loon\r" "\r\n " "\n"); the refold must not keep that CR (found by
 * tests/fuzz/fuzz_notify: a bare CR before the CRLF). Every length of a link around the fold
 * points, in the description, LOCATION, URL and CONFERENCE lines. */
static void test_text_ending_at_a_fold(void **state)
{
	(void)state;
	char url[300];
	for (int n = 1; n < 200; n++) {
		struct ml_ics_event ev = base();
		char *s = NULL;
		snprintf(url, sizeof url, "https://meet.example.test/%.*s", n,
		         "================================================================"
		         "================================================================"
		         "================================================================"
		         "==========");
		ev.join_url = url;
		ev.platform_label = "Ada \xe2\x80\x94 caf\xc3\xa9";
		assert_int_equal(ml_ics_build(&s, &ev), 0);
		check_wire(s);
		icalcomponent *vev, *cal = parse(s, &vev);
		icalproperty *u = icalcomponent_get_first_property(vev, ICAL_URL_PROPERTY);
		assert_non_null(u);
		assert_string_equal(icalproperty_get_url(u), url);
		icalcomponent_free(cal);
		free(s);
	}
}

/* Text that is not UTF-8 (a run of continuation bytes longer than a line) still folds: the
 * refold looked for a character boundary that never came and looped for ever (found by
 * tests/fuzz/fuzz_notify). */
static void test_not_utf8_terminates(void **state)
{
	(void)state;
	char junk[300];
	memset(junk, 0x80, sizeof junk - 1);
	junk[sizeof junk - 1] = '\0';
	struct ml_ics_event ev = base();
	char *s = NULL;
	ev.summary = junk;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	const char *p = s;
	while (*p) {
		const char *crlf = strstr(p, "\r\n");
		assert_non_null(crlf);
		assert_true(crlf - p <= 75);
		p = crlf + 2;
	}
	free(s);
}

static void test_invalid(void **state)
{
	(void)state;
	struct ml_ics_event ev;
	char *s = NULL;
	struct ml_ics_person bad = {"X", "not an email"};

	ev = base();
	ev.uid = NULL;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	ev = base();
	ev.method = "REPLY";
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	ev = base();
	ev.end = ev.start - 1;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	ev = base();
	ev.organizer.email = NULL;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	ev = base();
	ev.attendees = &bad;
	ev.nattendees = 1;
	assert_int_equal(ml_ics_build(&s, &ev), ML_EINVAL);
	assert_string_equal(ml_error_field(), "attendees");
	assert_null(s);

	/* No link yet: no LOCATION/URL/CONFERENCE, still valid. */
	ev = base();
	ev.join_url = NULL;
	ev.description = NULL;
	ev.nattendees = 0;
	assert_int_equal(ml_ics_build(&s, &ev), 0);
	assert_null(strstr(s, "CONFERENCE"));
	assert_null(strstr(s, "\r\nLOCATION"));
	icalcomponent *vev, *cal = parse(s, &vev);
	icalcomponent_free(cal);
	free(s);
}

static const char *zones[] = {"Europe/London",     "America/New_York", "Asia/Kolkata",
                              "Australia/Sydney",  "Europe/Berlin",    "UTC",
                              "America/Sao_Paulo", "Pacific/Auckland"};

static void *worker(void *arg)
{
	intptr_t id = (intptr_t)arg;
	long bad = 0;
	for (int i = 0; i < 40; i++) {
		struct ml_ics_event ev = base();
		ev.tzid = zones[(id + i) % 8];
		ev.start += i * 86400 * 9;
		ev.end = ev.start + 3600;
		char *s = NULL;
		if (ml_ics_build(&s, &ev) < 0) {
			bad++;
			continue;
		}
		icalcomponent *cal = icalparser_parse_string(s);
		icalcomponent *vev =
		    cal ? icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT) : NULL;
		if (!vev) {
			bad++;
		} else {
			icalproperty *p =
			    icalcomponent_get_first_property(vev, ICAL_DTSTART_PROPERTY);
			struct icaltimetype t = icalvalue_get_datetime(icalproperty_get_value(p));
			icaltimezone *z = strcmp(ev.tzid, "UTC") == 0
			                      ? icaltimezone_get_utc_timezone()
			                      : icalcomponent_get_timezone(cal, ev.tzid);
			if (!z || (int64_t)icaltime_as_timet_with_zone(t, z) != ev.start)
				bad++;
		}
		if (cal)
			icalcomponent_free(cal);
		free(s);
	}
	return (void *)bad;
}

static void test_threads(void **state)
{
	(void)state;
	pthread_t th[8];
	for (intptr_t i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	long bad = 0;
	for (int i = 0; i < 8; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad += (long)(intptr_t)r;
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_threads), /* first: zones not yet loaded */
	    cmocka_unit_test(test_request_london_summer),
	    cmocka_unit_test(test_london_winter_and_new_york),
	    cmocka_unit_test(test_utc),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_time_bounds),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_escaping_and_folding),
	    cmocka_unit_test(test_text_ending_at_a_fold),
	    cmocka_unit_test(test_not_utf8_terminates),
	    cmocka_unit_test(test_invalid),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	icaltimezone_free_builtin_timezones();
	return rc;
}
