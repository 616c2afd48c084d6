#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("meetlink: out of memory\n", stderr);
	abort();
}

void *ml_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *ml_calloc(size_t count, size_t n)
{
	void *p = calloc(count ? count : 1, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *ml_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *ml_strdup(const char *s)
{
	return ml_strndup(s, strlen(s));
}

char *ml_strndup(const char *s, size_t n)
{
	char *p = ml_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ml_asprintf(const char *fmt, ...)
{
	struct ml_buf b = {0};
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	b.cap = (size_t)n + 1;
	b.data = ml_malloc(b.cap);
	va_start(ap, fmt);
	vsnprintf(b.data, b.cap, fmt, ap);
	va_end(ap);
	return b.data;
}

void *ml_grow(void *p, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : first;
	return ml_realloc(p, *cap * size);
}

void ml_buf_grow(struct ml_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = ml_realloc(b->data, cap);
	b->cap = cap;
}

void ml_buf_puts(struct ml_buf *b, const char *s)
{
	ml_buf_append(b, s, strlen(s));
}

void ml_buf_printf(struct ml_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	ml_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *ml_buf_steal(struct ml_buf *b)
{
	char *s = b->data;
	if (!s)
		s = ml_strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

void ml_buf_free(struct ml_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
