#include "notify/ics.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <libical/ical.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef ML_VERSION
#define ML_VERSION "0"
#endif

#define FOLD 75 /* octets per line, CRLF excluded (RFC 5545 §3.1) */

/* libical 3.0 loads zones lazily into shared state and expands a zone's transitions on first
 * conversion; its own locking has changed between releases (and the conversion path
 * carries no_sanitize("thread") annotations upstream). Everything that touches a shared
 * icaltimezone happens under this lock; the rest works on private components. */
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

static bool is_utc(const char *tzid)
{
	return !tzid || !*tzid || strcmp(tzid, "UTC") == 0 || strcmp(tzid, "Etc/UTC") == 0 ||
	       strcmp(tzid, "Z") == 0;
}

/* Whether t can go into the invitation as a DATE-TIME (core/timeutil.h: past 3000 libical
 * writes 00000000T000000, and an invitation without its DTSTART is worse than none). */
static bool writable(struct icaltimetype t)
{
	return !icaltime_is_null_time(t) && t.year >= 1 && t.year <= ML_TIME_MAX_YEAR;
}

/* The event's local start and end in `tzid` (floating times, TZID added by the caller) and a
 * private copy of the zone's VTIMEZONE, trimmed to the observances from the start on. Returns
 * NULL when libical does not know the zone. */
static icalcomponent *zone_times(const char *tzid, int64_t start, int64_t end,
                                 struct icaltimetype *ls, struct icaltimetype *le)
{
	icalcomponent *vtz = NULL;
	icaltimezone *z;

	pthread_mutex_lock(&tz_lock);
	z = icaltimezone_get_builtin_timezone(tzid);
	if (z && icaltimezone_get_component(z)) {
		vtz = icalcomponent_new_clone(icaltimezone_get_component(z));
		*ls = icaltime_from_timet_with_zone((time_t)start, 0, z);
		*le = icaltime_from_timet_with_zone((time_t)end, 0, z);
	}
	pthread_mutex_unlock(&tz_lock);
	if (!vtz)
		return NULL;
	if (!writable(*ls) || !writable(*le)) {
		/* Past the last local year we write (core/timeutil.h): UTC times instead, the
		 * instants stay right. */
		icalcomponent_free(vtz);
		return NULL;
	}
	/* Floating wall-clock values; the TZID parameter binds them to the VTIMEZONE. */
	ls->zone = le->zone = NULL;
	ls->is_date = le->is_date = 0;

	/* A year back is plenty for any client to find the observance in force; keep the rest so
	 * a reschedule months later still resolves with the same VTIMEZONE. */
	struct icaltimetype from = icaltime_from_timet_with_zone((time_t)(start - 366 * 86400), 0,
	                                                         icaltimezone_get_utc_timezone());
	icaltimezone_truncate_vtimezone(vtz, from, icaltime_null_time(), 1);

	/* libical names its zones "/freeassociation.sourceforge.net/Europe/London"; invitations
	 * carry the plain IANA name, which is what calendar clients map best. */
	icalproperty *p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
	if (p)
		icalproperty_set_tzid(p, tzid);
	else
		icalcomponent_add_property(vtz, icalproperty_new_tzid(tzid));
	return vtz;
}

static icalproperty *time_prop(icalproperty *p, const char *tzid)
{
	if (tzid)
		icalproperty_add_parameter(p, icalparameter_new_tzid(tzid));
	return p;
}

/* Text for a parameter or value: control characters (other than newline in TEXT values)
 * become spaces; libical escapes and quotes the rest. */
static char *clean(const char *s, bool keep_newlines)
{
	char *o = ml_strdup(s ? s : ""), *w = o;
	for (const unsigned char *r = (const unsigned char *)o; *r; r++) {
		if (*r == '\r')
			continue;
		if (*r == '\n' && keep_newlines)
			*w++ = '\n';
		else if (*r < 0x20 || *r == 0x7f)
			*w++ = ' ';
		else
			*w++ = (char)*r;
	}
	*w = '\0';
	return o;
}

static bool email_ok(const char *e)
{
	if (!e || !*e || !strchr(e, '@'))
		return false;
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
			return false;
	return true;
}

static icalproperty *person(icalproperty *p, const struct ml_ics_person *who)
{
	if (who->name && *who->name) {
		char *cn = clean(who->name, false);
		icalproperty_add_parameter(p, icalparameter_new_cn(cn));
		free(cn);
	}
	return p;
}

/* Unfolds libical's output and folds it again at 75 octets, never inside a UTF-8 sequence
 * (libical 3.0 counts characters, so lines of multi-byte text come out too long). */
static char *refold(const char *in)
{
	struct ml_buf b = {0};
	const char *p = in;

	while (*p) {
		/* One logical line: up to a CRLF (or LF) not followed by a fold. */
		struct ml_buf line = {0};
		for (;;) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			size_t m = n;
			/* Every CR before the LF: libical folds a text that ends at its fold
			 * point between the CR and the LF of the line end ("…\r" "\r\n " "\n"). */
			while (m > 0 && p[m - 1] == '\r')
				m--;
			ml_buf_append(&line, p, m);
			p = nl ? nl + 1 : p + n;
			if (nl && (*p == ' ' || *p == '\t')) {
				p++;
				continue;
			}
			break;
		}
		if (line.len == 0) {
			ml_buf_free(&line);
			continue;
		}
		size_t i = 0, room = FOLD;
		while (i < line.len) {
			size_t take = line.len - i < room ? line.len - i : room;
			if (i + take < line.len) {
				size_t whole = take;
				while (take > 0 &&
				       ((unsigned char)line.data[i + take] & 0xC0) == 0x80)
					take--;
				/* Not UTF-8 (a run of continuation bytes longer than a line):
				 * cut where the room ends rather than never. */
				if (take == 0)
					take = whole;
			}
			if (i > 0)
				ml_buf_puts(&b, "\r\n ");
			ml_buf_append(&b, line.data + i, take);
			i += take;
			room = FOLD - 1;
		}
		ml_buf_puts(&b, "\r\n");
		ml_buf_free(&line);
	}
	return ml_buf_steal(&b);
}

static int check(const struct ml_ics_event *ev)
{
	if (!ev->method ||
	    (strcmp(ev->method, "REQUEST") != 0 && strcmp(ev->method, "CANCEL") != 0 &&
	     strcmp(ev->method, "PUBLISH") != 0))
		return ml_error_set(ML_EINVAL, "invalid_field", "method",
		                    "method must be REQUEST, CANCEL or PUBLISH");
	if (!ev->uid || !*ev->uid)
		return ml_error_set(ML_EINVAL, "invalid_field", "uid", "the event needs a UID");
	if (!ml_time_in_range(ev->start))
		return ml_error_set(ML_EINVAL, "invalid_field", "start", "start must be %s",
		                    ML_TIME_RANGE_TEXT);
	if (!ml_time_in_range(ev->end))
		return ml_error_set(ML_EINVAL, "invalid_field", "end", "end must be %s",
		                    ML_TIME_RANGE_TEXT);
	if (!ml_time_in_range(ev->dtstamp))
		return ml_error_set(ML_EINVAL, "invalid_field", "dtstamp", "dtstamp must be %s",
		                    ML_TIME_RANGE_TEXT);
	if (ev->end < ev->start)
		return ml_error_set(ML_EINVAL, "invalid_field", "end", "end is before start");
	if (!email_ok(ev->organizer.email))
		return ml_error_set(ML_EINVAL, "invalid_email", "organizer.email",
		                    "the organizer needs a valid email");
	for (size_t i = 0; i < ev->nattendees; i++)
		if (!email_ok(ev->attendees[i].email))
			return ml_error_set(ML_EINVAL, "invalid_email", "attendees",
			                    "attendee %zu has no valid email", i);
	return 0;
}

/* The event's description and its link (location, URL, and the RFC 7986 conference). */
static void add_link(icalcomponent *vev, const struct ml_ics_event *ev)
{
	const char *label =
	    ev->platform_label && *ev->platform_label ? ev->platform_label : "Online meeting";
	struct ml_buf desc = {0};
	if (ev->description && *ev->description) {
		char *d = clean(ev->description, true);
		ml_buf_puts(&desc, d);
		free(d);
	}
	if (ev->join_url && *ev->join_url) {
		if (desc.len)
			ml_buf_puts(&desc, "\n\n");
		ml_buf_printf(&desc, "Join %s: %s", label, ev->join_url);
	}
	if (desc.len)
		icalcomponent_add_property(vev, icalproperty_new_description(desc.data));
	ml_buf_free(&desc);

	if (ev->join_url && *ev->join_url) {
		char *url = clean(ev->join_url, false);
		icalcomponent_add_property(vev, icalproperty_new_location(url));
		icalcomponent_add_property(vev, icalproperty_new_url(url));
		icalproperty *conf = icalproperty_new_conference(url);
		icalproperty_add_parameter(conf, icalparameter_new_value(ICAL_VALUE_URI));
		icalproperty_add_parameter(conf, icalparameter_new_feature(ICAL_FEATURE_VIDEO));
		char *cl = clean(label, false);
		icalproperty_add_parameter(conf, icalparameter_new_label(cl));
		free(cl);
		icalcomponent_add_property(vev, conf);
		free(url);
	}
}

/* The organizer and every attendee, each asked to answer unless the event is cancelled. */
static void add_people(icalcomponent *vev, const struct ml_ics_event *ev, bool cancel)
{
	char *addr = ml_asprintf("mailto:%s", ev->organizer.email);
	icalcomponent_add_property(vev, person(icalproperty_new_organizer(addr), &ev->organizer));
	free(addr);
	for (size_t i = 0; i < ev->nattendees; i++) {
		const struct ml_ics_person *a = &ev->attendees[i];
		addr = ml_asprintf("mailto:%s", a->email);
		icalproperty *p = person(icalproperty_new_attendee(addr), a);
		icalproperty_add_parameter(p, icalparameter_new_cutype(ICAL_CUTYPE_INDIVIDUAL));
		icalproperty_add_parameter(p, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
		icalproperty_add_parameter(p,
		                           icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
		icalproperty_add_parameter(
		    p, icalparameter_new_rsvp(cancel ? ICAL_RSVP_FALSE : ICAL_RSVP_TRUE));
		icalcomponent_add_property(vev, p);
		free(addr);
	}
}

int ml_ics_build(char **out, const struct ml_ics_event *ev)
{
	struct icaltimetype ls, le;
	icalcomponent *cal, *vev, *vtz = NULL;
	const char *tzid = NULL;
	bool cancel;
	int rc;

	if ((rc = check(ev)) < 0)
		return rc;
	cancel = strcmp(ev->method, "CANCEL") == 0;

	if (!is_utc(ev->tzid)) {
		vtz = zone_times(ev->tzid, ev->start, ev->end, &ls, &le);
		if (vtz)
			tzid = ev->tzid;
	}
	if (!vtz) {
		icaltimezone *utc = icaltimezone_get_utc_timezone();
		ls = icaltime_from_timet_with_zone((time_t)ev->start, 0, utc);
		le = icaltime_from_timet_with_zone((time_t)ev->end, 0, utc);
	}
	if (!writable(ls) || !writable(le)) {
		if (vtz)
			icalcomponent_free(vtz);
		return ml_error_set(ML_EINVAL, "invalid_field", "start",
		                    "the event's times cannot be written in an invitation");
	}

	cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(
	    cal, icalproperty_new_prodid("-//meetlink//meetlink " ML_VERSION "//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(
	    cal, icalproperty_new_method(icalproperty_string_to_method(ev->method)));
	if (vtz)
		icalcomponent_add_component(cal, vtz);

	vev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalcomponent_add_property(vev, icalproperty_new_uid(ev->uid));
	icalcomponent_add_property(vev, icalproperty_new_sequence((int)ev->sequence));
	icalcomponent_add_property(vev,
	                           icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
	                               (time_t)ev->dtstamp, 0, icaltimezone_get_utc_timezone())));
	icalcomponent_add_property(vev, time_prop(icalproperty_new_dtstart(ls), tzid));
	icalcomponent_add_property(vev, time_prop(icalproperty_new_dtend(le), tzid));

	char *summary = clean(ev->summary && *ev->summary ? ev->summary : "Meeting", true);
	icalcomponent_add_property(vev, icalproperty_new_summary(summary));
	free(summary);

	add_link(vev, ev);
	add_people(vev, ev, cancel);
	icalcomponent_add_property(
	    vev, icalproperty_new_status(cancel ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(vev, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
	icalcomponent_add_component(cal, vev);

	char *raw = icalcomponent_as_ical_string_r(cal);
	icalcomponent_free(cal);
	if (!raw)
		return ml_error_set(ML_EINTERNAL, "internal", NULL, "libical could not serialise");
	*out = refold(raw);
	free(raw);
	return 0;
}

int ml_ics_local_time(int64_t t, const char *tzid, struct tm *out)
{
	struct icaltimetype lt;
	icaltimezone *z = NULL;
	int rc = -1;

	pthread_mutex_lock(&tz_lock);
	if (!is_utc(tzid))
		z = icaltimezone_get_builtin_timezone(tzid);
	if (z) {
		lt = icaltime_from_timet_with_zone((time_t)t, 0, z);
		rc = 0;
	} else {
		lt = icaltime_from_timet_with_zone((time_t)t, 0, icaltimezone_get_utc_timezone());
		rc = is_utc(tzid) && tzid ? 0 : -1;
	}
	pthread_mutex_unlock(&tz_lock);
	memset(out, 0, sizeof *out);
	out->tm_year = lt.year - 1900;
	out->tm_mon = lt.month - 1;
	out->tm_mday = lt.day;
	out->tm_hour = lt.hour;
	out->tm_min = lt.minute;
	out->tm_sec = lt.second;
	out->tm_wday = icaltime_day_of_week(lt) - 1;
	return rc;
}
