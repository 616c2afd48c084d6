/* Google's partial-response selector (the `fields` standard query parameter) on JSON values.
 *
 * Syntax: a comma-separated list of selections. `a/b` selects b inside a; `a(b,c)` selects
 * b and c inside a (nestable: `conferenceData(createRequest/status,entryPoints(uri))`); `*`
 * selects every member of its level, and `*` followed by `/x` or `(x)` selects x inside every
 * member. Selections of the same member add up (`a/b,a/c` is `a(b,c)`).
 *
 * Applied to a value:
 *   - a member selected whole is shared as is;
 *   - an object with a sub-selection keeps only the selected members; members that do not
 *     exist are simply absent, and so is an object member of which nothing was kept;
 *   - an array takes its selection to each element: object elements stay (possibly `{}`, so
 *     positions are kept), other elements have no members and are left out;
 *   - any other value with a sub-selection is absent.
 * Names are not checked against a schema.
 */
#ifndef ML_SANDBOX_FIELDS_H
#define ML_SANDBOX_FIELDS_H

#include <jansson.h>

/* A parsed selector. */
struct ml_sb_fields;

/* Parses `selector` into *out (free with ml_sb_fields_free()). Returns 0, or ML_EINVAL on a
 * syntax error (an empty selector, unbalanced parentheses, an empty name, a stray comma, text
 * after a closing parenthesis, a `*` inside a name, white space or control characters,
 * nesting deeper than 64) with ml_error_message() set to "Invalid field selection X", X
 * being the top-level selection at fault (the whole selector when that one is empty);
 * *out is untouched then. */
int ml_sb_fields_parse(struct ml_sb_fields **out, const char *selector);

/* The part of `v` that `f` selects: a new reference whose values are shared with `v`
 * (incref'd, not copied), so it is cheap to serialize once and free. Never NULL for an
 * object (`{}` when nothing is selected); NULL when a non-object has nothing selected. */
json_t *ml_sb_fields_apply(const struct ml_sb_fields *f, json_t *v);

/* The compact JSON text (ml_json_text) of ml_sb_fields_apply(f, v), written without building
 * the selection: for answers, which are only written. Never NULL for an object. */
char *ml_sb_fields_text(const struct ml_sb_fields *f, json_t *v);

/* Accepts NULL. */
void ml_sb_fields_free(struct ml_sb_fields *f);

#endif
