/* fuzz_notify: the messages meetlink writes from what clients send (names, emails, titles,
 * descriptions, links, zones, templates). An input is a mode byte, then fields separated by
 * NUL bytes (a field is a C string in the code under test anyway).
 *
 *   mode%4 == 0  ml_ics_build: fields method, uid, tzid, summary, description, join_url,
 *                platform_label, organizer name, organizer email, then attendee name/email
 *                pairs (at most 4); the 6 bytes after the mode byte give the sequence, the
 *                start (hours), the duration (minutes) and DTSTAMP. Checked: CRLF line
 *                ends only, no line over 75 octets, continuation lines start with a space,
 *                no fold inside a UTF-8 sequence, libical's own parser reads back one VCALENDAR
 *                with one VEVENT, the UID, and a clean summary unchanged.
 *   mode%4 == 1  ml_email_build: fields from name, from email, to name, to email, subject,
 *                message id, text, html, ics (empty: none), ics method. Checked: only CRLF
 *                line ends, header lines within 998 octets, body lines within 76, and the
 *                header section holds exactly the headers meetlink writes, each once, whatever
 *                the subject and names hold (no header injection).
 *   mode%4 == 2  templates: field template text, then one value per placeholder. Checked
 *                (ml_template_check, then ml_template_render, text and HTML): in HTML, no
 *                inserted value adds a '<', '>' or '"'.
 *   mode%4 == 3  the header helpers on one field: ml_email_header_text, ml_email_qp,
 *                ml_email_format_addr, ml_email_addr_spec, ml_email_addr_name. Checked: no
 *                raw CR or LF outside CRLF + space folds.
 */
#include "fuzz_common.h"

#include "core/error.h"
#include "core/mem.h"
#include "notify/email.h"
#include "notify/ics.h"
#include "notify/template.h"

#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 24

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

struct fields {
	const char *f[MAX_FIELDS];
	int n;
	char *buf;
};

/* Splits [p, p+n) at NUL bytes into up to MAX_FIELDS strings; missing ones are "". */
static void split(struct fields *fs, const uint8_t *p, size_t n)
{
	fs->buf = ml_malloc(n + 1);
	memcpy(fs->buf, p, n);
	fs->buf[n] = '\0';
	fs->n = 0;
	size_t i = 0;
	while (fs->n < MAX_FIELDS) {
		fs->f[fs->n++] = fs->buf + i;
		i += strlen(fs->buf + i);
		if (i >= n)
			break;
		i++;
	}
	for (int k = fs->n; k < MAX_FIELDS; k++)
		fs->f[k] = "";
}

/* Every line of s ends with CRLF, is at most `max` octets; a line starting with a space or
 * tab continues a header only where `folds` allows it. Returns the number of lines. */
static int check_lines(const char *what, const char *s, size_t max)
{
	int lines = 0;
	const char *p = s;
	while (*p) {
		const char *e = strstr(p, "\r\n");
		if (!e)
			fz_fail("%s: a last line without CRLF: %.80s", what, p);
		size_t n = (size_t)(e - p);
		for (size_t i = 0; i < n; i++)
			if (p[i] == '\r' || p[i] == '\n')
				fz_fail("%s: a bare CR or LF in: %.*s", what, (int)n, p);
		if (n > max)
			fz_fail("%s: a line of %zu octets (max %zu): %.*s", what, n, max, (int)n, p);
		lines++;
		p = e + 2;
	}
	return lines;
}

static bool clean_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return fz_utf8_valid(s, strlen(s));
}

/* got == want but for spaces around want: libical's parser drops those from a value. */
static bool same_trimmed(const char *got, const char *want)
{
	size_t wl = strlen(want);
	while (*want == ' ' || *want == '\t')
		want++, wl--;
	while (wl > 0 && (want[wl - 1] == ' ' || want[wl - 1] == '\t'))
		wl--;
	if (!got)
		return wl == 0;
	return strlen(got) == wl && strncmp(got, want, wl) == 0;
}

static void ics(const uint8_t *data, size_t size)
{
	if (size < 7)
		return;
	struct fields fs;
	struct ml_ics_person att[4];
	struct ml_ics_event ev = {0};
	int64_t base = 1924992000; /* 2031-01-01 */
	split(&fs, data + 7, size - 7);
	ev.sequence = data[1];
	ev.start = base + (int64_t)(int16_t)(data[2] << 8 | data[3]) * 3600;
	ev.end = ev.start + (int64_t)(int16_t)(data[4] << 8 | data[5]) * 60;
	ev.dtstamp = base - (int64_t)data[6] * 86400;
	ev.method = fs.f[0];
	ev.uid = fs.f[1];
	ev.tzid = *fs.f[2] ? fs.f[2] : NULL;
	ev.summary = fs.f[3];
	ev.description = fs.f[4];
	ev.join_url = fs.f[5];
	ev.platform_label = fs.f[6];
	ev.organizer.name = fs.f[7];
	ev.organizer.email = fs.f[8];
	for (int i = 0; i < 4 && 9 + 2 * i + 1 < fs.n; i++) {
		att[i].name = fs.f[9 + 2 * i];
		att[i].email = fs.f[10 + 2 * i];
		ev.nattendees++;
	}
	ev.attendees = att;
	char *out = NULL;
	int rc = ml_ics_build(&out, &ev);
	ml_error_clear();
	if (rc < 0) {
		if (out)
			fz_fail("ml_ics_build failed and set *out");
		free(fs.buf);
		return;
	}
	check_lines("ics", out, 75);
	/* A fold never splits a UTF-8 sequence of UTF-8 text: a continuation never starts
	 * inside one. */
	bool utf8 = true;
	for (int i = 0; i < fs.n; i++)
		utf8 = utf8 && fz_utf8_valid(fs.f[i], strlen(fs.f[i]));
	for (const char *p = strstr(out, "\r\n "); utf8 && p; p = strstr(p + 1, "\r\n "))
		if (((unsigned char)p[3] & 0xC0) == 0x80)
			fz_fail("ics: a fold inside a UTF-8 sequence");
	icalcomponent *cal = icalparser_parse_string(out);
	if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT)
		fz_fail("ics: libical does not read a VCALENDAR back:\n%s", out);
	icalcomponent *vev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	if (!vev || icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		fz_fail("ics: not exactly one VEVENT:\n%s", out);
	/* Text libical escapes on the way out comes back the same (clean, non-empty UTF-8). */
	const char *uid = icalcomponent_get_uid(vev);
	if (clean_text(ev.uid) && !same_trimmed(uid, ev.uid))
		fz_fail("ics: UID \"%s\" came back as \"%s\"", ev.uid, uid ? uid : "(none)");
	const char *sum = icalcomponent_get_summary(vev);
	if (*ev.summary && clean_text(ev.summary) && !same_trimmed(sum, ev.summary))
		fz_fail("ics: SUMMARY \"%s\" came back as \"%s\"", ev.summary, sum ? sum : "(none)");
	icalcomponent_free(cal);
	free(out);
	free(fs.buf);
}

static const char *const header_names[] = {"Date",	   "From",	     "To",
					   "Message-ID",   "Subject",	     "MIME-Version",
					   "Auto-Submitted", "Content-Type", NULL};

static void email(const uint8_t *data, size_t size)
{
	struct fields fs;
	split(&fs, data + 1, size - 1);
	struct ml_email m = {
	    .from = {fs.f[0], fs.f[1]},
	    .to = {fs.f[2], fs.f[3]},
	    .subject = fs.f[4],
	    .message_id = fs.f[5],
	    .date = 1924992000 + (int64_t)size * 977,
	    .text = fs.f[6],
	    .html = fs.f[7],
	    .ics = *fs.f[8] ? fs.f[8] : NULL,
	    .ics_method = fs.f[9],
	};
	/* The Message-ID is meetlink's own ("job_…@host"), never a client's: a realistic length
	 * (one without spaces cannot be folded under 998 octets). */
	char mid[201];
	snprintf(mid, sizeof mid, "%s", fs.f[5]);
	m.message_id = mid;
	char *out = NULL;
	int rc = ml_email_build(&out, &m);
	ml_error_clear();
	if (rc < 0) {
		free(fs.buf);
		return;
	}
	const char *end = strstr(out, "\r\n\r\n");
	if (!end)
		fz_fail("email: no end of the header section");
	char *head = ml_strndup(out, (size_t)(end - out) + 2);
	check_lines("email headers", head, 998);
	int seen[16] = {0};
	for (const char *p = head; *p;) {
		const char *e = strstr(p, "\r\n");
		if (*p != ' ' && *p != '\t') {
			const char *colon = memchr(p, ':', (size_t)(e - p));
			int k;
			for (k = 0; colon && header_names[k]; k++)
				if ((size_t)(colon - p) == strlen(header_names[k]) &&
				    strncasecmp(p, header_names[k], (size_t)(colon - p)) == 0)
					break;
			if (!colon || !header_names[k])
				fz_fail("email: an unexpected header line: %.*s", (int)(e - p), p);
			if (++seen[k] > 1)
				fz_fail("email: header %s twice", header_names[k]);
		}
		p = e + 2;
	}
	for (int k = 0; header_names[k]; k++)
		if (!seen[k])
			fz_fail("email: no %s header", header_names[k]);
	check_lines("email body", end + 4, 76);
	free(head);
	free(out);
	free(fs.buf);
}

static size_t count(const char *s, const char *set)
{
	size_t n = 0;
	for (; *s; s++)
		if (strchr(set, *s))
			n++;
	return n;
}

static void templates(const uint8_t *data, size_t size)
{
	struct fields fs;
	split(&fs, data + 1, size - 1);
	json_t *vars = json_object();
	for (int i = 0; ml_template_vars[i] && 1 + i < MAX_FIELDS; i++) {
		json_t *v = json_string(fs.f[1 + i]);
		if (v)
			json_object_set_new(vars, ml_template_vars[i], v);
	}
	ml_template_check(fs.f[0], "text");
	ml_error_clear();
	char *text = ml_template_render(fs.f[0], vars, false);
	char *html = ml_template_render(fs.f[0], vars, true);
	if (!text || !html)
		fz_fail("ml_template_render returned NULL");
	if (count(html, "<>\"") > count(fs.f[0], "<>\""))
		fz_fail("template: an inserted value added markup: \"%s\" -> \"%s\"", fs.f[0], html);
	free(text);
	free(html);
	json_decref(vars);
	free(fs.buf);
}

static void no_bare_breaks(const char *what, const char *s)
{
	if (!s)
		return;
	for (const char *p = s; *p; p++) {
		if (*p == '\r' && p[1] == '\n' && (p[2] == ' ' || p[2] == '\t')) {
			p += 2;
			continue;
		}
		if (*p == '\r' || *p == '\n')
			fz_fail("%s: a raw CR or LF: \"%s\"", what, s);
	}
}

static void helpers(const uint8_t *data, size_t size)
{
	struct fields fs;
	split(&fs, data + 1, size - 1);
	char *h = ml_email_header_text(fs.f[0], (size_t)(size % 40));
	no_bare_breaks("ml_email_header_text", h);
	free(h);
	char *qp = ml_email_qp(fs.f[0]);
	char *qpl = *qp ? ml_asprintf("%s\r\n", qp) : ml_strdup("");
	check_lines("quoted-printable", qpl, 76);
	free(qpl);
	free(qp);
	struct ml_email_addr a = {fs.f[0], fs.f[1]};
	char *f = ml_email_format_addr(&a);
	no_bare_breaks("ml_email_format_addr", f);
	free(f);
	char *spec = ml_email_addr_spec(fs.f[0]);
	if (spec && strpbrk(spec, "\r\n<>"))
		fz_fail("ml_email_addr_spec: \"%s\"", spec);
	free(spec);
	free(ml_email_addr_name(fs.f[0]));
	char *b64 = ml_email_base64_lines(fs.f[0], strlen(fs.f[0]));
	check_lines("base64 lines", b64, 76);
	free(b64);
	free(fs.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 4) {
	case 0:
		ics(data, size);
		break;
	case 1:
		email(data, size);
		break;
	case 2:
		templates(data, size);
		break;
	case 3:
		helpers(data, size);
		break;
	}
	return 0;
}
