/* UTF-8-safe cuts. Text from outside (field names, names, titles, provider messages) is cut
 * to fit fixed buffers, error details and log lines; a cut through a multi-byte character
 * leaves a string that jansson refuses to turn into JSON, so every cut in src/ goes through
 * these. Validity is RFC 3629's, as jansson checks it: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
#ifndef ML_CORE_UTF8_H
#define ML_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The byte length of the longest prefix of s[0..n) that is at most `max` bytes, ends on a
 * character boundary and is valid UTF-8: the cut stops before a character that would not fit
 * and before the first invalid or incomplete sequence. */
size_t ml_utf8_cut(const char *s, size_t n, size_t max);

/* Whether s[0..n) is valid UTF-8. A NUL byte is valid UTF-8 here; ml_text_is_clean refuses it. */
bool ml_utf8_valid(const char *s, size_t n);

/* True when s[0..n) is valid UTF-8 without control characters: no C0 control (NUL, CR, LF,
 * TAB, ...), no DEL, no C1 control (U+0080..U+009F). For bytes from the network (paths,
 * query values, header values) before they reach a JSON document, a log line or a header. */
bool ml_text_is_clean(const char *s, size_t n);

/* snprintf(dst, cap, "%s", src) that never cuts inside a character: copies the longest valid
 * prefix of src (NULL: "") that fits in cap - 1 bytes and terminates it. Returns the bytes
 * copied. cap must be at least 1. */
size_t ml_utf8_copy(char *dst, size_t cap, const char *src);

/* Ends the NUL-terminated s after its longest valid UTF-8 prefix, in place: for a buffer that
 * snprintf may have cut inside a character. Returns the new length. */
size_t ml_utf8_clip(char *s);

#endif
