#include "http/outhdr.h"
#include "core/error.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool ml_outhdr_value_ok(const char *value)
{
	if (!value)
		return false;
	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

int ml_outhdr_append(struct curl_slist **list, const char *name, const char *value)
{
	size_t nl = name ? strlen(name) : 0;
	if (nl == 0)
		return ml_error_set(ML_EINVAL, "invalid_header", NULL, "A header needs a name.");
	for (size_t i = 0; i < nl; i++)
		if (!tchar((unsigned char)name[i]))
			return ml_error_set(ML_EINVAL, "invalid_header", NULL,
			                    "A header name must be a token.");
	if (!ml_outhdr_value_ok(value))
		return ml_error_set(ML_EINVAL, "invalid_header", name,
		                    "The value of the %.64s header holds a control character; the "
		                    "call was not made.",
		                    name);
	size_t vl = strlen(value), n = nl + 2 + vl + 1;
	char *line = ml_malloc(n);
	memcpy(line, name, nl);
	line[nl] = ':';
	line[nl + 1] = vl ? ' ' : '\0';
	memcpy(line + nl + 2, value, vl + 1);
	if (!vl)
		line[nl + 1] = '\0';
	struct curl_slist *l = curl_slist_append(*list, line);
	memset(line, 0, n);
	free(line);
	if (!l)
		abort(); /* allocation failure aborts, as everywhere */
	*list = l;
	return 0;
}
