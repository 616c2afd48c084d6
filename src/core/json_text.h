/* Compact JSON text of a jansson value, byte for byte what json_dumps(j, ML_JSON_TEXT_FLAGS)
 * writes, about four times faster: one pass into one growing buffer instead of a callback
 * per token. Documents, job payloads and answers are serialized on every request, so this
 * is on the hot path of every write. */
#ifndef ML_CORE_JSON_TEXT_H
#define ML_CORE_JSON_TEXT_H

#include <jansson.h>

#define ML_JSON_TEXT_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

#include "core/mem.h"

/* A new NUL-terminated string (caller frees); NULL for NULL. Objects in insertion order. */
char *ml_json_text(const json_t *j);
/* The same text appended to b (NULL appends null); < 0 on a value jansson cannot dump. */
int ml_json_text_append(struct ml_buf *b, const json_t *j);
/* s as a JSON string (NULL: null), escaped as ml_json_text escapes strings. */
void ml_json_text_string(struct ml_buf *b, const char *s);

#endif
