/* Percent-encoding for URLs (RFC 3986: everything but unreserved characters is escaped). */
#ifndef ML_CORE_URL_H
#define ML_CORE_URL_H

struct ml_buf;

/* Appends the encoding of s to b. */
void ml_url_escape(struct ml_buf *b, const char *s);
/* The encoding of s as a new string (caller frees). */
char *ml_url_encode(const char *s);

/* The value of one hexadecimal digit (either case), or -1. */
int ml_url_hexval(char c);

#endif
