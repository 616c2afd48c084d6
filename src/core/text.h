/* Text checks for bytes that came from the network (paths, query values, header values)
 * before they go anywhere near a JSON document, a log line or a header. */
#ifndef ML_CORE_TEXT_H
#define ML_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). A NUL byte is valid UTF-8 here; ml_text_is_clean refuses it. */
bool ml_utf8_valid(const char *s, size_t n);

/* True when s[0..n) is well-formed UTF-8 without control characters: no C0 control (NUL, CR,
 * LF, TAB, ...), no DEL, no C1 control (U+0080..U+009F). */
bool ml_text_is_clean(const char *s, size_t n);

#endif
