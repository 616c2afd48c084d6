/* The one allocator: allocation failure aborts, so callers never check for NULL. */
#ifndef ML_CORE_MEM_H
#define ML_CORE_MEM_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

void *ml_malloc(size_t n);
void *ml_calloc(size_t count, size_t n);
void *ml_realloc(void *p, size_t n);
char *ml_strdup(const char *s);
char *ml_strndup(const char *s, size_t n);
/* A growable array of `n` elements of `size` bytes in `p`, room for `*cap`: returns it with room
 * for at least one more (the capacity doubles, from `first`), perhaps moved. */
void *ml_grow(void *p, size_t n, size_t *cap, size_t size, size_t first);
/* A new string from a format; caller frees. */
char *ml_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer; always NUL-terminated. */
struct ml_buf {
	char *data;
	size_t len, cap;
};
/* Makes room for `extra` more bytes and the NUL (capacity doubles). */
void ml_buf_grow(struct ml_buf *b, size_t extra);
/* Inline: JSON writing appends a few bytes at a time, millions of times a second. */
static inline void ml_buf_append(struct ml_buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap)
		ml_buf_grow(b, n);
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}
void ml_buf_puts(struct ml_buf *b, const char *s);
void ml_buf_printf(struct ml_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the buffer's string (caller frees) and resets the buffer. */
char *ml_buf_steal(struct ml_buf *b);
void ml_buf_free(struct ml_buf *b);

#endif
