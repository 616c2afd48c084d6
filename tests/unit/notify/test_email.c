/* Messages: RFC 2047 encoded-words, quoted-printable, address quoting, header injection,
 * line lengths, the multipart structure, and templates (placeholders, sections, escaping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "notify/email.h"
#include "notify/template.h"

/* Decodes a header value made of "=?UTF-8?B?…?=" words (and plain text between them). */
static char *decode_words(const char *v)
{
	struct ml_buf b = {0};
	const char *p = v;
	while (*p) {
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			const char *e = strstr(p + 10, "?=");
			assert_non_null(e);
			size_t n;
			uint8_t *raw = ml_base64_decode(p + 10, (size_t)(e - p - 10), &n);
			assert_non_null(raw);
			ml_buf_append(&b, raw, n);
			free(raw);
			p = e + 2;
			/* folding white space between adjacent encoded-words is dropped */
			while (*p == '\r' || *p == '\n' || *p == ' ')
				p++;
		} else {
			if (*p == '\r' && p[1] == '\n' && p[2] == ' ') {
				p += 2; /* unfold */
				continue;
			}
			ml_buf_append(&b, p, 1);
			p++;
		}
	}
	return ml_buf_steal(&b);
}

static void assert_lines_within(const char *s, size_t max)
{
	for (const char *p = s; *p;) {
		const char *e = strstr(p, "\r\n");
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n > max)
			fail_msg("line of %zu characters: %.*s", n, (int)n, p);
		/* never a bare LF or CR */
		for (size_t i = 0; i < n; i++)
			assert_true(p[i] != '\n' && p[i] != '\r');
		p = e ? e + 2 : p + n;
	}
}

static void encoded_words(void **state)
{
	(void)state;
	const char *subj =
	    "Einladung: Mathe mit Ådä Lövelace — 15:00 (Europe/Zürich) 日本語のテキスト"
	    " und noch ein bisschen mehr Text, damit es mehrere Wörter werden";
	char *v = ml_email_header_text(subj, 9);
	assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
	assert_lines_within(v, 76);
	/* every encoded-word is at most 75 characters (RFC 2047 §2) */
	for (const char *p = strstr(v, "=?"); p; p = strstr(p + 2, "=?")) {
		const char *e = strstr(p + 10, "?=");
		assert_true(e - p + 2 <= 75);
	}
	char *back = decode_words(v);
	assert_string_equal(back, subj);
	free(back);
	free(v);

	/* ASCII stays readable, folded at spaces, never past 78 columns when it can fold. */
	const char *ascii = "Invitation: Mathematics tutoring with a rather long title that "
	                    "goes on and on and on past the usual line length of a header";
	v = ml_email_header_text(ascii, 9);
	assert_null(strstr(v, "=?"));
	assert_lines_within(v, 78);
	back = decode_words(v);
	assert_string_equal(back, ascii);
	free(back);
	free(v);

	/* Header injection: a CR/LF in a value never starts a new header. */
	v = ml_email_header_text("Hello\r\nBcc: victim@example.test", 9);
	assert_null(strstr(v, "\r\nBcc"));
	assert_null(strchr(v, '\n'));
	free(v);
	/* Text that looks like an encoded-word is encoded itself. */
	v = ml_email_header_text("=?UTF-8?B?QQ==?=", 9);
	back = decode_words(v);
	assert_string_equal(back, "=?UTF-8?B?QQ==?=");
	free(back);
	free(v);
}

static void addresses(void **state)
{
	(void)state;
	struct ml_email_addr a = {"Grace Hopper", "grace@example.test"};
	char *s = ml_email_format_addr(&a);
	assert_string_equal(s, "Grace Hopper <grace@example.test>");
	free(s);
	a.name = "Hopper, Grace \"Amazing\"";
	s = ml_email_format_addr(&a);
	assert_string_equal(s, "\"Hopper, Grace \\\"Amazing\\\"\" <grace@example.test>");
	free(s);
	a.name = "Jürgen Müller";
	s = ml_email_format_addr(&a);
	assert_true(strncmp(s, "=?UTF-8?B?", 10) == 0);
	assert_non_null(strstr(s, " <grace@example.test>"));
	free(s);
	a.name = NULL;
	s = ml_email_format_addr(&a);
	assert_string_equal(s, "grace@example.test");
	free(s);
	a.name = "Eve\r\nBcc: x@y";
	s = ml_email_format_addr(&a);
	assert_null(strchr(s, '\n'));
	free(s);
	a.email = "bad address@example.test";
	assert_null(ml_email_format_addr(&a));
	a.email = "a@b>\r\nBcc: c@d";
	assert_null(ml_email_format_addr(&a));

	char *spec = ml_email_addr_spec("meetlink <noreply@example.test>");
	assert_string_equal(spec, "noreply@example.test");
	free(spec);
	spec = ml_email_addr_spec("noreply@example.test");
	assert_string_equal(spec, "noreply@example.test");
	free(spec);
	assert_null(ml_email_addr_spec("nobody"));
	char *name = ml_email_addr_name("\"Meet Link\" <noreply@example.test>");
	assert_string_equal(name, "Meet Link");
	free(name);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c - 'A' + 10;
}

static char *qp_decode(const char *s)
{
	struct ml_buf b = {0};
	for (const char *p = s; *p;) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 3;
		} else if (p[0] == '=') {
			char c = (char)(hexval(p[1]) * 16 + hexval(p[2]));
			ml_buf_append(&b, &c, 1);
			p += 3;
		} else {
			ml_buf_append(&b, p, 1);
			p++;
		}
	}
	return ml_buf_steal(&b);
}

static void quoted_printable(void **state)
{
	(void)state;
	struct ml_buf in = {0};
	ml_buf_puts(&in, "Hello Grüße, a=b   \n.leading dot\n");
	for (int i = 0; i < 40; i++)
		ml_buf_puts(&in, "wörd ");
	ml_buf_puts(&in, "\nend\t");
	char *qp = ml_email_qp(in.data);
	assert_lines_within(qp, 76);
	assert_non_null(strstr(qp, "a=3Db"));
	assert_non_null(strstr(qp, "=20\r\n"));        /* trailing space encoded */
	assert_non_null(strstr(qp, "\r\n=2Eleading")); /* no line starts with a dot */
	assert_true(qp[strlen(qp) - 1] != '\t');
	char *back = qp_decode(qp);
	/* decoding gives the text back with CRLF line ends */
	struct ml_buf want = {0};
	for (const char *p = in.data; *p; p++) {
		if (*p == '\n')
			ml_buf_puts(&want, "\r\n");
		else
			ml_buf_append(&want, p, 1);
	}
	assert_string_equal(back, want.data);
	free(back);
	free(qp);
	ml_buf_free(&in);
	ml_buf_free(&want);
}

static void message(void **state)
{
	(void)state;
	struct ml_email m = {
	    .from = {"meetlink", "noreply@example.test"},
	    .to = {"Zoë", "zoe@example.test"},
	    .subject = "Invitation: Maths",
	    .message_id = "job_abc@meetlink.test",
	    .date = 1780000000,
	    .text = "Hi\n",
	    .html = "<p>Hi</p>\n",
	    .ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
	    .ics_method = "REQUEST",
	};
	char *msg = NULL;
	assert_int_equal(ml_email_build(&msg, &m), 0);
	assert_lines_within(msg, 998);
	assert_true(strncmp(msg, "Date: Thu, 28 May 2026 20:26:40 +0000\r\n", 39) == 0);
	assert_non_null(strstr(msg, "\r\nMessage-ID: <job_abc@meetlink.test>\r\n"));
	assert_non_null(strstr(msg, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(msg, "\r\nTo: =?UTF-8?B?"));
	assert_non_null(strstr(msg, "Content-Type: multipart/mixed;"));
	assert_non_null(strstr(msg, "Content-Type: multipart/alternative;"));
	assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8"));
	assert_non_null(strstr(msg, "Content-Type: text/html; charset=UTF-8"));
	assert_non_null(strstr(msg, "Content-Type: text/calendar; charset=UTF-8; method=REQUEST;"));
	assert_non_null(strstr(msg, "Content-Transfer-Encoding: base64"));
	/* the headers end before the first blank line */
	const char *blank = strstr(msg, "\r\n\r\n");
	assert_non_null(blank);
	assert_true(strstr(msg, "Content-Type: multipart/mixed") < blank);
	free(msg);

	m.to.email = "no-at-sign";
	assert_int_equal(ml_email_build(&msg, &m), ML_EINVAL);
}

static void templates(void **state)
{
	(void)state;
	json_t *vars =
	    json_pack("{s:s, s:s, s:s}", "recipient_name", "<script>alert('x')</script> & \"Co\"",
	              "title", "Maths", "join_url", "https://meet.example/r?a=1&b=2");
	char *html = ml_template_render("<p>Hi {{ recipient_name }}</p><a href=\"{{join_url}}\">"
	                                "{{title}}</a>{{#passcode}}Code {{passcode}}{{/passcode}}"
	                                "{{^passcode}}no code{{/passcode}}",
	                                vars, true);
	assert_null(strstr(html, "<script>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
	                             "&quot;Co&quot;"));
	assert_non_null(strstr(html, "href=\"https://meet.example/r?a=1&amp;b=2\""));
	assert_null(strstr(html, "Code"));
	assert_non_null(strstr(html, "no code"));
	free(html);
	char *text = ml_template_render(
	    "Hi {{recipient_name}} {{#join_url}}[{{join_url}}]{{/join_url}}", vars, false);
	assert_string_equal(text, "Hi <script>alert('x')</script> & \"Co\" "
	                          "[https://meet.example/r?a=1&b=2]");
	free(text);
	json_decref(vars);

	assert_int_equal(
	    ml_template_check("Hi {{recipient_name}} {{#join_url}}x{{/join_url}}", "text"), 0);
	assert_int_equal(ml_template_check("Hi {{password}}", "text"), ML_EINVAL);
	assert_string_equal(ml_error_field(), "text");
	assert_int_equal(ml_template_check("{{#join_url}}never closed", "html"), ML_EINVAL);
	assert_int_equal(ml_template_check("{{/join_url}}", "html"), ML_EINVAL);
	/* every default is valid and every name has one */
	for (int i = 0; ml_template_names[i]; i++) {
		json_t *t = ml_template_default(ml_template_names[i]);
		assert_non_null(t);
		assert_int_equal(
		    ml_template_check(json_string_value(json_object_get(t, "subject")), "subject"),
		    0);
		assert_int_equal(
		    ml_template_check(json_string_value(json_object_get(t, "text")), "text"), 0);
		assert_int_equal(
		    ml_template_check(json_string_value(json_object_get(t, "html")), "html"), 0);
		json_decref(t);
	}
	assert_null(ml_template_default("nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encoded_words),    cmocka_unit_test(addresses),
	    cmocka_unit_test(quoted_printable), cmocka_unit_test(message),
	    cmocka_unit_test(templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
