/* Internet messages (RFC 5322 + MIME, RFC 2045-2047): what the email jobs hand to SMTP.
 *
 * One message is multipart/mixed: a multipart/alternative (text/plain and text/html, both
 * UTF-8 quoted-printable) and, when given, the invitation as text/calendar with its METHOD
 * (base64, attached as invite.ics). Header values never carry a raw CR or LF; non-ASCII
 * subjects and display names become RFC 2047 encoded-words; no line passes 998 octets (body
 * lines stay within 76). Pure functions, safe from any thread.
 */
#ifndef ML_NOTIFY_EMAIL_H
#define ML_NOTIFY_EMAIL_H

#include <stddef.h>
#include <stdint.h>

struct ml_email_addr {
	const char *name;  /* display name, may be NULL or "" */
	const char *email; /* addr-spec */
};

struct ml_email {
	struct ml_email_addr from, to;
	const char *subject;
	const char *message_id; /* without angle brackets: "job_…@meetlink.example" */
	int64_t date;           /* Unix seconds */
	const char *text;       /* the text/plain body (LF or CRLF line ends) */
	const char *html;       /* the text/html body */
	const char *ics;        /* text/calendar attachment, or NULL */
	const char *ics_method; /* "REQUEST" or "CANCEL" (with ics) */
};

/* Builds the whole message, CRLF line ends (caller frees *out). ML_EINVAL when an address is
 * missing or malformed (control characters, angle brackets, no '@'). */
int ml_email_build(char **out, const struct ml_email *m);

/* The value of an unstructured header (Subject): ASCII as is, folded at spaces; anything else
 * as UTF-8 "B" encoded-words of at most 75 characters, each on its own folded line. The first
 * line assumes `used` characters are already taken by "Name: ". Caller frees. */
char *ml_email_header_text(const char *s, size_t used);
/* "Name <addr>" for an address header, the name quoted or encoded as needed. Caller frees;
 * NULL when the address is unusable. */
char *ml_email_format_addr(const struct ml_email_addr *a);
/* Quoted-printable (RFC 2045 §6.7) of UTF-8 text, line ends made CRLF. Caller frees. */
char *ml_email_qp(const char *s);
/* Base64 in lines of 76 characters, CRLF after each. Caller frees. */
char *ml_email_base64_lines(const void *data, size_t n);
/* "Tue, 01 Dec 2026 15:00:00 +0000" (RFC 5322 date-time, UTC). */
void ml_email_date(int64_t t, char out[40]);
/* The addr-spec of "Name <a@b>" or "a@b" (for MAIL FROM). Caller frees; NULL if none. */
char *ml_email_addr_spec(const char *from);
/* The display name of "Name <a@b>" ("" when none). Caller frees. */
char *ml_email_addr_name(const char *from);


#endif
