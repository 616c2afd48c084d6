/* JSON from outside (request bodies, provider answers, inbound webhooks, the sandbox's
 * control API) is parsed through here: the nesting is measured on the raw text, without
 * recursion, before jansson's recursive parser (2,048 levels) sees it, so every value that
 * comes back can be walked, copied and serialized recursively on a connection thread's
 * stack. */
#ifndef ML_CORE_JSON_IN_H
#define ML_CORE_JSON_IN_H

#include <jansson.h>
#include <stddef.h>

/* The nesting every JSON input may have: a body {"a": {"b": [...]}} is 3 deep. */
#define ML_JSON_MAX_DEPTH 32

/* Whether buf[0..n) nests at most max_depth arrays and objects (strings and escapes skipped;
 * the text need not be valid JSON). 0 when it does; ML_EINVAL when it does not, with *at the
 * offset of the bracket that went too deep and `key` (keycap bytes, may be NULL) the
 * top-level member under which it happened ("" when none, or when the name needs
 * unescaping). Sets no error detail. */
int ml_json_depth_check(const char *buf, size_t n, int max_depth, size_t *at, char *key,
                        size_t keycap);

/* json_loadb with the depth check first: NULL when the text nests deeper than max_depth
 * (err->text says so, err->position is the offset) or is not JSON. New reference. */
json_t *ml_json_parse(const char *buf, size_t n, size_t flags, int max_depth, json_error_t *err);

#endif
