#include "core/json_text.h"
#include "core/mem.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes a JSON string must escape: '"', '\\' and the control characters. Jansson keeps
 * '/' and non-ASCII as they are without JSON_ESCAPE_SLASH / JSON_ENSURE_ASCII; so do we. */
static const unsigned char needs_escape[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
};

static void put_string(struct ml_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run = p;
	ml_buf_append(b, "\"", 1);
	for (; p < end; p++) {
		if (!needs_escape[*p])
			continue;
		if (p > run)
			ml_buf_append(b, run, (size_t)(p - run));
		char esc[8];
		const char *text = esc;
		size_t len = 2;
		switch (*p) {
		case '"': text = "\\\""; break;
		case '\\': text = "\\\\"; break;
		case '\b': text = "\\b"; break;
		case '\f': text = "\\f"; break;
		case '\n': text = "\\n"; break;
		case '\r': text = "\\r"; break;
		case '\t': text = "\\t"; break;
		default:
			snprintf(esc, sizeof esc, "\\u%04X", (unsigned)*p);
			len = 6;
			break;
		}
		ml_buf_append(b, text, len);
		run = p + 1;
	}
	if (p > run)
		ml_buf_append(b, run, (size_t)(p - run));
	ml_buf_append(b, "\"", 1);
}

static int put_value(struct ml_buf *b, const json_t *j)
{
	char num[32];
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *v;
		bool first = true;
		ml_buf_append(b, "{", 1);
		/* Insertion order, as json_dumps without JSON_SORT_KEYS. */
		for (void *it = json_object_iter((json_t *)j); it;
		     it = json_object_iter_next((json_t *)j, it)) {
			key = json_object_iter_key(it);
			v = json_object_iter_value(it);
			if (!first)
				ml_buf_append(b, ",", 1);
			first = false;
			put_string(b, key, json_object_iter_key_len(it));
			ml_buf_append(b, ":", 1);
			if (put_value(b, v) < 0)
				return -1;
		}
		ml_buf_append(b, "}", 1);
		return 0;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		ml_buf_append(b, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				ml_buf_append(b, ",", 1);
			if (put_value(b, json_array_get(j, i)) < 0)
				return -1;
		}
		ml_buf_append(b, "]", 1);
		return 0;
	}
	case JSON_STRING:
		put_string(b, json_string_value(j), json_string_length(j));
		return 0;
	case JSON_INTEGER: {
		int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		ml_buf_append(b, num, (size_t)n);
		return 0;
	}
	case JSON_REAL: {
		/* Rare in documents: jansson's own formatting, so the text stays identical. */
		char *s = json_dumps(j, JSON_ENCODE_ANY | ML_JSON_TEXT_FLAGS);
		if (!s)
			return -1;
		ml_buf_puts(b, s);
		free(s);
		return 0;
	}
	case JSON_TRUE:
		ml_buf_append(b, "true", 4);
		return 0;
	case JSON_FALSE:
		ml_buf_append(b, "false", 5);
		return 0;
	case JSON_NULL:
		ml_buf_append(b, "null", 4);
		return 0;
	}
	return -1;
}

int ml_json_text_append(struct ml_buf *b, const json_t *j)
{
	if (!j) {
		ml_buf_append(b, "null", 4);
		return 0;
	}
	return put_value(b, j);
}

void ml_json_text_string(struct ml_buf *b, const char *s)
{
	if (s)
		put_string(b, s, strlen(s));
	else
		ml_buf_append(b, "null", 4);
}

char *ml_json_text(const json_t *j)
{
	if (!j)
		return NULL;
	struct ml_buf b = {0};
	ml_buf_grow(&b, 1000); /* documents are about 1 KB: no growing on the way */
	if (put_value(&b, j) < 0) {
		ml_buf_free(&b);
		return NULL;
	}
	return ml_buf_steal(&b);
}
