/* Request headers of outbound calls (providers, webhooks): the one place a header line is
 * appended to a libcurl list, so that no value can smuggle another header or end the
 * header block. A name must be an RFC 9110 token; a value must hold no control character
 * (CR, LF, NUL, anything below 0x20 but HTAB, and DEL). What is refused is never appended:
 * the caller fails the call (classified permanent) instead of sending it. */
#ifndef ML_HTTP_OUTHDR_H
#define ML_HTTP_OUTHDR_H

#include <curl/curl.h>
#include <stdbool.h>

/* True when `value` may be a header value as is. */
bool ml_outhdr_value_ok(const char *value);

/* Appends "name: value" to *list (a NULL *list starts one). Returns 0, or ML_EINVAL
 * ("invalid_header", field = name; the value is never quoted in the message) with *list
 * unchanged. The line is built in memory that is wiped before it is freed: values are often
 * credentials. "name:" with an empty value (curl's "remove this header") is allowed. */
int ml_outhdr_append(struct curl_slist **list, const char *name, const char *value);

#endif
