#include "notify/template.h"
#include "core/html.h"
#include "core/error.h"
#include "core/mem.h"
#include "notify/email.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ml_template_names[] = {"invitation", "update",   "cancellation",
                                         "reconnect",  "join_now", NULL};

const char *const ml_template_vars[] = {"recipient_name",
                                        "recipient_email",
                                        "recipient_role",
                                        "title",
                                        "when",
                                        "start",
                                        "end",
                                        "timezone",
                                        "duration_minutes",
                                        "join_url",
                                        "platform",
                                        "passcode",
                                        "host_name",
                                        "host_email",
                                        "customer_name",
                                        "customer_email",
                                        "cancel_reason",
                                        "booking_id",
                                        "connect_url",
                                        "is_online",
                                        "message",
                                        NULL};

struct tpl {
	const char *name, *subject, *text, *html;
};

#define HTML_HEAD                                                                                  \
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{{title}}</title></head>\n"   \
	"<body style=\"font-family:sans-serif;line-height:1.5\">\n"
#define HTML_TAIL "</body></html>\n"

static const struct tpl defaults[] = {
    {"invitation", "Invitation: {{title}} on {{start}}",
     "Hello {{recipient_name}},\n\n"
     "\"{{title}}\" with {{host_name}} is booked for {{when}}.\n\n"
     "{{#join_url}}Join {{platform}}: {{join_url}}\n{{#passcode}}Passcode: {{passcode}}\n"
     "{{/passcode}}\nThis link is yours alone; please do not share it.\n{{/join_url}}"
     "{{^join_url}}{{#is_online}}Your personal meeting link will follow in a separate "
     "message.\n{{/is_online}}{{/join_url}}"
     "\nThe attached invitation adds it to your calendar.\n",
     HTML_HEAD "<p>Hello {{recipient_name}},</p>\n"
               "<p><strong>{{title}}</strong> with {{host_name}} is booked for {{when}}.</p>\n"
               "{{#join_url}}<p><a href=\"{{join_url}}\">Join the {{platform}} meeting</a>"
               "<br><small>{{join_url}}</small></p>\n"
               "{{#passcode}}<p>Passcode: {{passcode}}</p>\n{{/passcode}}"
               "<p>This link is yours alone; please do not share it.</p>\n{{/join_url}}"
               "{{^join_url}}{{#is_online}}<p>Your personal meeting link will follow in a "
               "separate message.</p>\n{{/is_online}}{{/join_url}}"
               "<p>The attached invitation adds it to your calendar.</p>\n" HTML_TAIL},
    {"update", "Updated: {{title}} on {{start}}",
     "Hello {{recipient_name}},\n\n"
     "\"{{title}}\" with {{host_name}} has changed. It is now {{when}}.\n\n"
     "{{#join_url}}Join {{platform}}: {{join_url}}\n{{#passcode}}Passcode: {{passcode}}\n"
     "{{/passcode}}\nThis link is yours alone; please do not share it.\n{{/join_url}}"
     "\nThe attached invitation updates your calendar.\n",
     HTML_HEAD "<p>Hello {{recipient_name}},</p>\n"
               "<p><strong>{{title}}</strong> with {{host_name}} has changed. It is now "
               "{{when}}.</p>\n"
               "{{#join_url}}<p><a href=\"{{join_url}}\">Join the {{platform}} meeting</a>"
               "<br><small>{{join_url}}</small></p>\n"
               "{{#passcode}}<p>Passcode: {{passcode}}</p>\n{{/passcode}}"
               "<p>This link is yours alone; please do not share it.</p>\n{{/join_url}}"
               "<p>The attached invitation updates your calendar.</p>\n" HTML_TAIL},
    {"cancellation", "Cancelled: {{title}} on {{start}}",
     "Hello {{recipient_name}},\n\n"
     "\"{{title}}\" with {{host_name}} on {{when}} is cancelled.\n"
     "{{#cancel_reason}}Reason: {{cancel_reason}}\n{{/cancel_reason}}"
     "\nThe attached cancellation removes it from your calendar.\n",
     HTML_HEAD "<p>Hello {{recipient_name}},</p>\n"
               "<p><strong>{{title}}</strong> with {{host_name}} on {{when}} is "
               "cancelled.</p>\n"
               "{{#cancel_reason}}<p>Reason: {{cancel_reason}}</p>\n{{/cancel_reason}}"
               "<p>The attached cancellation removes it from your calendar.</p>\n" HTML_TAIL},
    /* An instant meeting (issue 18 §4): happening now, with the host's optional message. */
    {"join_now", "Join now: {{title}} is happening now",
     "Hello {{recipient_name}},\n\n"
     "\"{{title}}\" with {{host_name}} is happening now ({{when}}).\n\n"
     "{{#message}}A message from {{host_name}}:\n{{message}}\n\n{{/message}}"
     "{{#join_url}}Join {{platform}} now: {{join_url}}\n{{#passcode}}Passcode: {{passcode}}\n"
     "{{/passcode}}\nThis link is yours alone; please do not share it.\n{{/join_url}}"
     "{{^join_url}}{{#is_online}}Your personal meeting link will follow in a separate "
     "message.\n{{/is_online}}{{/join_url}}",
     HTML_HEAD "<p>Hello {{recipient_name}},</p>\n"
               "<p><strong>{{title}}</strong> with {{host_name}} is happening now "
               "({{when}}).</p>\n"
               "{{#message}}<p>A message from {{host_name}}:</p>\n<blockquote>{{message}}"
               "</blockquote>\n{{/message}}"
               "{{#join_url}}<p><a href=\"{{join_url}}\">Join the {{platform}} meeting now</a>"
               "<br><small>{{join_url}}</small></p>\n"
               "{{#passcode}}<p>Passcode: {{passcode}}</p>\n{{/passcode}}"
               "<p>This link is yours alone; please do not share it.</p>\n{{/join_url}}"
               "{{^join_url}}{{#is_online}}<p>Your personal meeting link will follow in a "
               "separate message.</p>\n{{/is_online}}{{/join_url}}" HTML_TAIL},
    {"reconnect", "Please reconnect your {{platform}} account",
     "Hello {{host_name}},\n\n"
     "Your {{platform}} account is no longer connected, so new meetings cannot be made "
     "for your sessions.\n\n"
     "Reconnect it here: {{connect_url}}\n\n"
     "Until you do, the meetings of your bookings wait; they are made as soon as you "
     "reconnect.\n",
     "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Reconnect {{platform}}"
     "</title></head>\n<body style=\"font-family:sans-serif;line-height:1.5\">\n"
     "<p>Hello {{host_name}},</p>\n"
     "<p>Your {{platform}} account is no longer connected, so new meetings cannot be made "
     "for your sessions.</p>\n"
     "<p><a href=\"{{connect_url}}\">Reconnect {{platform}}</a></p>\n"
     "<p>Until you do, the meetings of your bookings wait; they are made as soon as you "
     "reconnect.</p>\n" HTML_TAIL},
};

bool ml_template_known(const char *name)
{
	for (int i = 0; name && ml_template_names[i]; i++)
		if (strcmp(ml_template_names[i], name) == 0)
			return true;
	return false;
}

json_t *ml_template_default(const char *name)
{
	for (size_t i = 0; name && i < sizeof defaults / sizeof defaults[0]; i++)
		if (strcmp(defaults[i].name, name) == 0)
			return json_pack("{s:s, s:s, s:s}", "subject", defaults[i].subject, "text",
			                 defaults[i].text, "html", defaults[i].html);
	return NULL;
}

static bool var_known(const char *name, size_t n)
{
	for (int i = 0; ml_template_vars[i]; i++)
		if (strlen(ml_template_vars[i]) == n && memcmp(ml_template_vars[i], name, n) == 0)
			return true;
	return false;
}

/* One tag "{{ x }}" at p: its sigil ('#', '^', '/' or 0), name and where it ends. */
struct tag {
	char sigil;
	const char *name;
	size_t len;
	const char *end; /* just past "}}" */
};

static bool next_tag(const char *p, const char **at, struct tag *t)
{
	const char *open = strstr(p, "{{");
	if (!open)
		return false;
	const char *close = strstr(open + 2, "}}");
	if (!close)
		return false;
	const char *s = open + 2, *e = close;
	while (s < e && *s == ' ')
		s++;
	t->sigil = 0;
	if (s < e && (*s == '#' || *s == '^' || *s == '/'))
		t->sigil = *s++;
	while (s < e && *s == ' ')
		s++;
	while (e > s && e[-1] == ' ')
		e--;
	t->name = s;
	t->len = (size_t)(e - s);
	t->end = close + 2;
	*at = open;
	return true;
}

/* The "{{/name}}" closing the section opened just before p (same-name sections nest). */
static bool section_end(const char *p, const struct tag *open, const char **close_at,
                        const char **after)
{
	int depth = 1;
	const char *at;
	struct tag t;
	while (next_tag(p, &at, &t)) {
		if (t.len == open->len && memcmp(t.name, open->name, t.len) == 0) {
			if (t.sigil == '#' || t.sigil == '^')
				depth++;
			else if (t.sigil == '/' && --depth == 0) {
				*close_at = at;
				*after = t.end;
				return true;
			}
		}
		p = t.end;
	}
	return false;
}

static int check_range(const char *p, const char *end, const char *field)
{
	const char *at;
	struct tag t;
	while (p < end && next_tag(p, &at, &t) && at < end) {
		if (!var_known(t.name, t.len))
			return ml_error_set(ML_EINVAL, "invalid_template", field,
			                    "{{%.*s}} is not a placeholder this template can use.",
			                    (int)t.len, t.name);
		if (t.sigil == '/')
			return ml_error_set(ML_EINVAL, "invalid_template", field,
			                    "{{/%.*s}} closes a section that was never opened.",
			                    (int)t.len, t.name);
		if (t.sigil) {
			const char *close_at, *after;
			if (!section_end(t.end, &t, &close_at, &after) || close_at > end)
				return ml_error_set(ML_EINVAL, "invalid_template", field,
				                    "{{%c%.*s}} is never closed with {{/%.*s}}.",
				                    t.sigil, (int)t.len, t.name, (int)t.len,
				                    t.name);
			int rc = check_range(t.end, close_at, field);
			if (rc < 0)
				return rc;
			p = after;
			continue;
		}
		p = t.end;
	}
	return 0;
}

int ml_template_check(const char *text, const char *field)
{
	return check_range(text, text + strlen(text), field);
}

static const char *value(json_t *vars, const struct tag *t)
{
	char name[64];
	if (t->len >= sizeof name)
		return "";
	memcpy(name, t->name, t->len);
	name[t->len] = '\0';
	const char *v = json_string_value(json_object_get(vars, name));
	return v ? v : "";
}

static void render_range(struct ml_buf *b, const char *p, const char *end, json_t *vars, bool html)
{
	const char *at;
	struct tag t;
	while (p < end) {
		if (!next_tag(p, &at, &t) || at >= end) {
			ml_buf_append(b, p, (size_t)(end - p));
			return;
		}
		ml_buf_append(b, p, (size_t)(at - p));
		if (t.sigil == '#' || t.sigil == '^') {
			const char *close_at, *after;
			if (!section_end(t.end, &t, &close_at, &after) || close_at > end) {
				p = t.end; /* unbalanced (refused on PUT): drop the tag */
				continue;
			}
			bool set = *value(vars, &t) != '\0';
			if (set == (t.sigil == '#'))
				render_range(b, t.end, close_at, vars, html);
			p = after;
			continue;
		}
		if (t.sigil == 0) {
			const char *v = value(vars, &t);
			if (html) {
				char *e = ml_html_escape(v);
				ml_buf_puts(b, e);
				free(e);
			} else {
				ml_buf_puts(b, v);
			}
		}
		p = t.end;
	}
}

char *ml_template_render(const char *text, json_t *vars, bool html)
{
	struct ml_buf b = {0};
	render_range(&b, text, text + strlen(text), vars, html);
	return ml_buf_steal(&b);
}
