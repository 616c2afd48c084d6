#include "notify/email.h"
#include "core/html.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QP_LINE 76    /* RFC 2045 §6.7 (5): encoded lines at most 76 characters */
#define WORD_BYTES 45 /* UTF-8 bytes per "B" encoded-word: 60 base64 + 12 = 72 <= 75 */
#define FOLD_AT 78    /* RFC 5322 §2.1.1: SHOULD stay within 78 characters */

static bool is_ascii_printable(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* A header value without control characters (a CR or LF would start a new header). */
static char *header_clean(const char *s)
{
	char *o = ml_strdup(s ? s : ""), *w = o;
	for (const unsigned char *r = (const unsigned char *)o; *r; r++)
		*w++ = (*r < 0x20 || *r == 0x7f) ? ' ' : (char)*r;
	*w = '\0';
	return o;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray continuation bytes). */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0)
		return c < 0xf0 ? 3 : 1;
	if (c >= 0xc0)
		return 2;
	return 1;
}

/* Encoded-words for s, never splitting a UTF-8 sequence; words separated by CRLF SP. */
static void encoded_words(struct ml_buf *b, const char *s)
{
	size_t n = strlen(s), i = 0;
	bool first = true;
	while (i < n) {
		size_t take = 0;
		while (i + take < n) {
			size_t l = utf8_len((unsigned char)s[i + take]);
			if (i + take + l > n)
				l = n - i - take;
			if (take + l > WORD_BYTES)
				break;
			take += l;
		}
		if (take == 0)
			take = 1;
		char *enc = ml_base64_encode(s + i, take);
		ml_buf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
		free(enc);
		first = false;
		i += take;
	}
}

char *ml_email_header_text(const char *s, size_t used)
{
	char *v = header_clean(s);
	struct ml_buf b = {0};
	/* "=?" in plain text would be read as the start of an encoded-word: encode it too. */
	if (!is_ascii_printable(v) || strstr(v, "=?")) {
		encoded_words(&b, v);
		free(v);
		return ml_buf_steal(&b);
	}
	/* Plain ASCII: fold at spaces to keep lines near 78 characters (never past 998). */
	size_t col = used;
	const char *p = v;
	while (*p) {
		size_t word = strcspn(p + (*p == ' '), " ") + (*p == ' ');
		if (col + word > FOLD_AT && col > used && *p == ' ') {
			ml_buf_puts(&b, "\r\n");
			col = 0;
		}
		ml_buf_append(&b, p, word);
		col += word;
		p += word;
	}
	free(v);
	if (!b.data)
		ml_buf_puts(&b, "");
	return ml_buf_steal(&b);
}

static bool addr_ok(const char *e)
{
	if (!e || !*e || !strchr(e, '@') || strlen(e) > 254)
		return false;
	for (const unsigned char *p = (const unsigned char *)e; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"' || *p == '\\' ||
		    *p == ',' || *p == ';' || *p == '(' || *p == ')')
			return false;
	return true;
}

/* RFC 5322 atext plus space: a phrase that needs no quoting. */
static bool plain_phrase(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(" !#$%&'*+-/=?^_`{|}~", *p)))
			return false;
	return true;
}

/* A display name longer than this goes out as encoded-words, one per folded line. */
#define NAME_PLAIN_MAX 64

char *ml_email_format_addr(const struct ml_email_addr *a)
{
	if (!addr_ok(a->email))
		return NULL;
	char *name = header_clean(a->name);
	struct ml_buf b = {0};
	/* Trim: a name of spaces is no name. */
	size_t nl = strlen(name);
	while (nl > 0 && name[nl - 1] == ' ')
		name[--nl] = '\0';
	const char *n = name;
	while (*n == ' ')
		n++;
	if (!*n) {
		ml_buf_puts(&b, a->email);
	} else if (!is_ascii_printable(n) || strstr(n, "=?") || strlen(n) > NAME_PLAIN_MAX) {
		/* (A long name too: encoded-words fold, so no line passes 998 octets.) */
		encoded_words(&b, n);
		ml_buf_printf(&b, " <%s>", a->email);
	} else if (plain_phrase(n)) {
		ml_buf_printf(&b, "%s <%s>", n, a->email);
	} else {
		ml_buf_puts(&b, "\"");
		for (const char *p = n; *p; p++) {
			if (*p == '"' || *p == '\\')
				ml_buf_puts(&b, "\\");
			ml_buf_append(&b, p, 1);
		}
		ml_buf_printf(&b, "\" <%s>", a->email);
	}
	free(name);
	return ml_buf_steal(&b);
}

char *ml_email_qp(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct ml_buf b = {0};
	size_t col = 0;
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		if (*p == '\r' || *p == '\n') {
			/* A hard line break; trailing white space before it was encoded already. */
			if (*p == '\r' && p[1] == '\n')
				p++;
			p++;
			ml_buf_puts(&b, "\r\n");
			col = 0;
			continue;
		}
		char tok[4];
		size_t tl;
		bool at_eol = p[1] == '\0' || p[1] == '\r' || p[1] == '\n';
		bool literal =
		    (*p >= 33 && *p <= 126 && *p != '=') || ((*p == ' ' || *p == '\t') && !at_eol);
		/* A leading dot is encoded so no relay ever mistakes it for the end of data. */
		if (*p == '.' && col == 0)
			literal = false;
		if (literal) {
			tok[0] = (char)*p;
			tl = 1;
		} else {
			tok[0] = '=';
			tok[1] = hex[*p >> 4];
			tok[2] = hex[*p & 15];
			tl = 3;
		}
		/* Keep room for the '=' of a soft break; never split an =XX triplet. */
		bool last_on_line = at_eol;
		if (col + tl > QP_LINE - 1 && !(last_on_line && col + tl <= QP_LINE)) {
			ml_buf_puts(&b, "=\r\n");
			col = 0;
			if (*p == '.') {
				tok[0] = '=';
				tok[1] = '2';
				tok[2] = 'E';
				tl = 3;
			}
		}
		ml_buf_append(&b, tok, tl);
		col += tl;
		p++;
	}
	if (!b.data)
		ml_buf_puts(&b, "");
	return ml_buf_steal(&b);
}

char *ml_email_base64_lines(const void *data, size_t n)
{
	char *all = ml_base64_encode(data, n);
	size_t len = strlen(all);
	struct ml_buf b = {0};
	for (size_t i = 0; i < len; i += 76) {
		ml_buf_append(&b, all + i, len - i < 76 ? len - i : 76);
		ml_buf_puts(&b, "\r\n");
	}
	free(all);
	if (!b.data)
		ml_buf_puts(&b, "");
	return ml_buf_steal(&b);
}

void ml_email_date(int64_t t, char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
	         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *ml_email_addr_spec(const char *from)
{
	if (!from)
		return NULL;
	const char *lt = strrchr(from, '<');
	char *spec;
	if (lt) {
		const char *gt = strchr(lt, '>');
		if (!gt)
			return NULL;
		spec = ml_strndup(lt + 1, (size_t)(gt - lt - 1));
	} else {
		while (*from == ' ')
			from++;
		size_t n = strlen(from);
		while (n > 0 && from[n - 1] == ' ')
			n--;
		spec = ml_strndup(from, n);
	}
	if (!addr_ok(spec)) {
		free(spec);
		return NULL;
	}
	return spec;
}

char *ml_email_addr_name(const char *from)
{
	const char *lt = from ? strrchr(from, '<') : NULL;
	if (!lt)
		return ml_strdup("");
	const char *s = from;
	while (*s == ' ')
		s++;
	size_t n = (size_t)(lt - s);
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	return ml_strndup(s, n);
}


static void boundary(char out[40], const char *kind)
{
	uint8_t r[12];
	char hex[25];
	ml_random(r, sizeof r);
	ml_hex_encode(r, sizeof r, hex);
	/* "=_" never occurs in quoted-printable or base64 output, so no body line matches. */
	snprintf(out, 40, "=_ml_%s_%s", kind, hex);
}

int ml_email_build(char **out, const struct ml_email *m)
{
	char *from = ml_email_format_addr(&m->from), *to = ml_email_format_addr(&m->to);
	if (!from || !to) {
		free(from);
		free(to);
		return ml_error_set(ML_EINVAL, "invalid_email", from ? "to" : "from",
		                    "The %s address cannot be used in a message.",
		                    from ? "recipient" : "sender");
	}
	char date[40], mixed[40], alt[40];
	struct ml_buf b = {0};
	ml_email_date(m->date, date);
	boundary(mixed, "mixed");
	boundary(alt, "alt");
	char *subject = ml_email_header_text(m->subject, strlen("Subject: "));
	char *mid = header_clean(m->message_id);

	ml_buf_printf(&b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s>\r\nSubject: %s\r\n",
	              date, from, to, mid, subject);
	ml_buf_puts(&b, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
	ml_buf_printf(&b, "Content-Type: multipart/mixed;\r\n boundary=\"%s\"\r\n\r\n", mixed);
	ml_buf_puts(&b, "This is a multi-part message in MIME format.\r\n");
	ml_buf_printf(&b,
	              "\r\n--%s\r\nContent-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n",
	              mixed, alt);

	char *text = ml_email_qp(m->text), *html = ml_email_qp(m->html);
	ml_buf_printf(&b,
	              "\r\n--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
	              "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n",
	              alt, text);
	ml_buf_printf(&b,
	              "\r\n--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
	              "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n",
	              alt, html);
	ml_buf_printf(&b, "\r\n--%s--\r\n", alt);
	free(text);
	free(html);

	if (m->ics) {
		const char *method =
		    m->ics_method && strcmp(m->ics_method, "CANCEL") == 0 ? "CANCEL" : "REQUEST";
		char *ics = ml_email_base64_lines(m->ics, strlen(m->ics));
		ml_buf_printf(
		    &b,
		    "\r\n--%s\r\nContent-Type: text/calendar; charset=UTF-8; method=%s;\r\n"
		    " name=\"invite.ics\"\r\n"
		    "Content-Disposition: attachment; filename=\"invite.ics\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n\r\n%s",
		    mixed, method, ics);
		free(ics);
	}
	ml_buf_printf(&b, "\r\n--%s--\r\n", mixed);
	free(subject);
	free(mid);
	free(from);
	free(to);
	*out = ml_buf_steal(&b);
	return 0;
}
