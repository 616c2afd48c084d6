/* ics_check: reads one iCalendar object on stdin, parses it with libical's parser (not
 * meetlink's code) and prints what the end-to-end tests compare, one "KEY:value" per line:
 *   METHOD, UID, SEQUENCE, STATUS, DTSTART and DTEND (converted to UTC through the
 *   calendar's own VTIMEZONE: "2026-12-01T15:00:00Z"), TZID, SUMMARY, URL, ORGANIZER and one
 *   ATTENDEE line per attendee (the mailto: address).
 * Exits 1 when the input does not parse into a VCALENDAR with one VEVENT. */
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *read_all(FILE *f)
{
	size_t cap = 65536, len = 0, n;
	char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static void print_utc(const char *key, icalcomponent *ev, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(ev, kind);
	if (!p)
		return;
	struct icaltimetype t = kind == ICAL_DTSTART_PROPERTY ? icalcomponent_get_dtstart(ev)
	                                                      : icalcomponent_get_dtend(ev);
	time_t tt =
	    icaltime_as_timet_with_zone(t, t.zone ? t.zone : icaltimezone_get_utc_timezone());
	struct tm tm;
	gmtime_r(&tt, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s:%s\n", key, buf);
	icalparameter *tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (tz && kind == ICAL_DTSTART_PROPERTY)
		printf("TZID:%s\n", icalparameter_get_tzid(tz));
}

int main(void)
{
	char *in = read_all(stdin);
	if (!in)
		return 1;
	icalcomponent *cal = icalparser_parse_string(in);
	free(in);
	if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		fprintf(stderr, "ics_check: not a VCALENDAR\n");
		return 1;
	}
	icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	if (!ev || icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		fprintf(stderr, "ics_check: expected exactly one VEVENT\n");
		return 1;
	}
	icalproperty *p = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	if (p)
		printf("METHOD:%s\n", icalproperty_method_to_string(icalproperty_get_method(p)));
	printf("UID:%s\n", icalcomponent_get_uid(ev));
	printf("SEQUENCE:%d\n", icalcomponent_get_sequence(ev));
	p = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
	if (p)
		printf("STATUS:%s\n", icalproperty_status_to_string(icalproperty_get_status(p)));
	print_utc("DTSTART", ev, ICAL_DTSTART_PROPERTY);
	print_utc("DTEND", ev, ICAL_DTEND_PROPERTY);
	if (icalcomponent_get_summary(ev))
		printf("SUMMARY:%s\n", icalcomponent_get_summary(ev));
	p = icalcomponent_get_first_property(ev, ICAL_URL_PROPERTY);
	if (p)
		printf("URL:%s\n", icalproperty_get_url(p));
	p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
	if (p)
		printf("ORGANIZER:%s\n", icalproperty_get_organizer(p));
	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY))
		printf("ATTENDEE:%s\n", icalproperty_get_attendee(p));
	icalcomponent_free(cal);
	return 0;
}
