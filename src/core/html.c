#include "core/html.h"
#include "core/mem.h"

void ml_html_escape_buf(struct ml_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			ml_buf_puts(b, "&amp;");
			break;
		case '<':
			ml_buf_puts(b, "&lt;");
			break;
		case '>':
			ml_buf_puts(b, "&gt;");
			break;
		case '"':
			ml_buf_puts(b, "&quot;");
			break;
		case '\'':
			ml_buf_puts(b, "&#39;");
			break;
		default:
			ml_buf_append(b, s, 1);
		}
	}
}

char *ml_html_escape(const char *s)
{
	struct ml_buf b = {0};
	ml_buf_puts(&b, "");
	ml_html_escape_buf(&b, s);
	return ml_buf_steal(&b);
}
