/* HTML escaping for text and attribute values (& < > " '). */
#ifndef ML_CORE_HTML_H
#define ML_CORE_HTML_H

struct ml_buf;

/* Appends the escaped form of s (NULL: nothing) to b. */
void ml_html_escape_buf(struct ml_buf *b, const char *s);
/* The escaped form of s as a new string (caller frees; "" for NULL). */
char *ml_html_escape(const char *s);

#endif
