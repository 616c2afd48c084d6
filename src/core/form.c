/* application/x-www-form-urlencoded, parsed strictly (core/form.h). */
#include "core/form.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/url.h"
#include "core/utf8.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Decodes s[0..n) ('+' a space, %XX a byte) into a new string; NULL when an escape is
 * broken or the result holds a NUL. *len gets its length. */
static char *decode(const char *s, size_t n, size_t *len)
{
	char *o = ml_malloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi = i + 2 < n ? ml_url_hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? ml_url_hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				free(o);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0') {
			free(o);
			return NULL;
		}
		o[j++] = c;
	}
	o[j] = '\0';
	*len = j;
	return o;
}

/* A value may keep tab, CR and LF (free text); nothing else below 0x20, no DEL. */
static bool value_ok(const char *v, size_t n)
{
	if (!ml_utf8_valid(v, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
			return false;
	}
	return true;
}

static int refuse(json_t *o, const char *field, const char *msg)
{
	json_decref(o);
	return ml_error_set(ML_EINVAL, "invalid_form", field, "%s", msg);
}

int ml_form_parse(const char *body, size_t n, json_t **out)
{
	json_t *o = json_object();
	size_t count = 0;
	*out = NULL;
	for (size_t i = 0; i <= n;) {
		const char *p = body + i;
		const char *amp = memchr(p, '&', n - i);
		size_t len = amp ? (size_t)(amp - p) : n - i;
		i += len + 1;
		if (len == 0)
			continue; /* "a=1&&b=2", a trailing '&' */
		if (++count > ML_FORM_MAX_PARAMS)
			return refuse(o, "body", "The form has too many parameters.");
		const char *eq = memchr(p, '=', len);
		size_t nlen = eq ? (size_t)(eq - p) : len;
		size_t klen, vlen;
		char *k = decode(p, nlen, &klen);
		char *v = eq ? decode(eq + 1, len - nlen - 1, &vlen) : ml_strdup("");
		if (!eq)
			vlen = 0;
		int rc = 0;
		if (!k || !v)
			rc = refuse(o, "body", "The form has a broken percent escape or a NUL.");
		else if (klen == 0 || klen > ML_FORM_MAX_NAME || !ml_text_is_clean(k, klen))
			rc = refuse(o, "body", "A form parameter's name is empty, too long or not text.");
		else if (!value_ok(v, vlen))
			rc = refuse(o, k, "A form parameter's value is not text.");
		else if (json_object_get(o, k))
			rc = refuse(o, k, "A form parameter is repeated.");
		else
			json_object_set_new(o, k, json_stringn(v, vlen));
		free(k);
		free(v);
		if (rc < 0)
			return rc;
	}
	*out = o;
	return 0;
}
