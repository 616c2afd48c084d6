/* Email templates: the built-in defaults, the placeholders they may use, and rendering.
 *
 * A template has a subject, a text body and an HTML body. `{{name}}` inserts a value;
 * `{{#name}}…{{/name}}` keeps its content only when the value is non-empty and
 * `{{^name}}…{{/name}}` only when it is empty. In the HTML body every inserted value is
 * HTML-escaped; there is no way to insert raw HTML. Organizations replace templates through
 * the API (stored per organization); deleting the replacement restores the default.
 */
#ifndef ML_NOTIFY_TEMPLATE_H
#define ML_NOTIFY_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

/* "invitation", "update", "cancellation", "reconnect", "join_now"; NULL-terminated. */
extern const char *const ml_template_names[];
/* The placeholders a template may use, NULL-terminated. */
extern const char *const ml_template_vars[];

bool ml_template_known(const char *name);

/* The built-in template as {"subject","text","html"} (new reference), or NULL. */
json_t *ml_template_default(const char *name);

/* Checks one template text: every tag names a known placeholder and sections are balanced.
 * ML_EINVAL with `field` named and the offending tag in the message. */
int ml_template_check(const char *text, const char *field);

/* Renders `text` with `vars` (an object of strings; absent means empty). html: escape every
 * inserted value for HTML. Caller frees. */
char *ml_template_render(const char *text, json_t *vars, bool html);

#endif
