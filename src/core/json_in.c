#include "core/json_in.h"
#include "core/error.h"
#include "core/utf8.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The end of the string whose opening quote is at buf[i]: the offset of its closing quote,
 * or n when it never closes. */
static size_t string_end(const char *buf, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (buf[i] == '\\')
			i++;
		else if (buf[i] == '"')
			return i;
	}
	return n;
}

static bool followed_by_colon(const char *buf, size_t n, size_t i)
{
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
		i++;
	return i < n && buf[i] == ':';
}

int ml_json_depth_check(const char *buf, size_t n, int max_depth, size_t *at, char *key,
                        size_t keycap)
{
	size_t key_from = 0, key_len = 0;
	bool top_object = false;
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '"') {
			size_t end = string_end(buf, n, i);
			/* A member name of the top-level object: remembered to name the field. */
			if (depth == 1 && top_object && end < n &&
			    followed_by_colon(buf, n, end + 1)) {
				key_from = i + 1;
				key_len = end - i - 1;
			}
			i = end;
		} else if (c == '{' || c == '[') {
			if (depth == 0)
				top_object = c == '{';
			if (++depth > max_depth) {
				if (at)
					*at = i;
				if (key && keycap > 0) {
					bool plain = memchr(buf + key_from, '\\', key_len) == NULL;
					size_t k =
					    plain ? ml_utf8_cut(buf + key_from, key_len, keycap - 1)
					          : 0;
					memcpy(key, buf + key_from, k);
					key[k] = '\0';
				}
				return ML_EINVAL;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			if (--depth == 0)
				key_len = 0;
		}
	}
	return 0;
}

json_t *ml_json_parse(const char *buf, size_t n, size_t flags, int max_depth, json_error_t *err)
{
	size_t at = 0;
	if (ml_json_depth_check(buf, n, max_depth, &at, NULL, 0) < 0) {
		if (err) {
			memset(err, 0, sizeof *err);
			snprintf(err->text, sizeof err->text, "nesting deeper than %d levels",
			         max_depth);
			err->position = (int)(at < (size_t)0x7fffffff ? at : 0x7fffffff);
			err->line = -1;
			err->column = -1;
		}
		return NULL;
	}
	return json_loadb(buf, n, flags, err);
}
