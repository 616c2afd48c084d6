/* iCalendar invitations (RFC 5545, iTIP RFC 5546, CONFERENCE from RFC 7986), built with libical.
 *
 * One VCALENDAR with METHOD, one VEVENT and, for a local-time zone, its VTIMEZONE. The same
 * booking always gives the same UID; the caller raises SEQUENCE on every reschedule and for
 * the cancel, and passes the send time as DTSTAMP. Safe to call from many threads at once.
 */
#ifndef ML_NOTIFY_ICS_H
#define ML_NOTIFY_ICS_H

#include <stddef.h>
#include <stdint.h>

struct ml_ics_person {
	const char *name;  /* CN; may be NULL */
	const char *email; /* required: mailto: address */
};

struct ml_ics_event {
	const char *method;         /* "REQUEST" or "CANCEL" (also "PUBLISH") */
	const char *uid;            /* stable per booking, e.g. "bkg_…@meetlink.example" */
	unsigned sequence;          /* 0 at creation, +1 per reschedule and for the cancel */
	int64_t dtstamp;            /* Unix seconds: when this message is made */
	int64_t start, end;         /* Unix seconds (UTC instants) */
	const char *tzid;           /* IANA zone for DTSTART/DTEND; NULL or "UTC": UTC times */
	const char *summary;        /* NULL: "Meeting" */
	const char *description;    /* may be NULL; the join line is appended */
	const char *join_url;       /* may be NULL (no link yet) */
	const char *platform_label; /* "Jitsi Meet": CONFERENCE LABEL and the join line */
	struct ml_ics_person organizer;
	const struct ml_ics_person *attendees;
	size_t nattendees;
};

/* Builds the invitation as text/calendar (CRLF line ends, folded at 75 octets without
 * splitting UTF-8). `*out` is the caller's (free()). Returns 0 or ML_EINVAL (missing uid or
 * organizer email, end before start, unknown method, an email with spaces or control
 * characters), field named in the error detail. A zone libical does not know (an alias such as
 * "US/Eastern") falls back to UTC times: the instants stay right. */
int ml_ics_build(char **out, const struct ml_ics_event *ev);

/* Wall-clock fields of instant t in the IANA zone tzid (tm_year etc. as in struct tm; tm_wday
 * set). Returns 0, or -1 when the zone is unknown or NULL, in which case UTC is used. */
struct tm;
int ml_ics_local_time(int64_t t, const char *tzid, struct tm *out);

#endif
