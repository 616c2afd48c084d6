#include "core/error.h"
#include "core/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct {
	int err;
	char code[48];
	char field[128];
	char message[512];
} tl;

int ml_error_set(int err, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;

	tl.err = err;
	/* Each part becomes a JSON string of the error body: cut whole characters only, and
	 * stop before bytes that are not UTF-8 (a provider's text, a cut elsewhere). */
	ml_utf8_copy(tl.code, sizeof tl.code, code);
	ml_utf8_copy(tl.field, sizeof tl.field, field);
	va_start(ap, fmt);
	vsnprintf(tl.message, sizeof tl.message, fmt, ap);
	va_end(ap);
	ml_utf8_clip(tl.message);
	return err;
}

void ml_error_clear(void)
{
	memset(&tl, 0, sizeof tl);
}

const char *ml_error_code(void)
{
	return tl.code;
}

const char *ml_error_field(void)
{
	return tl.field;
}

const char *ml_error_message(void)
{
	return tl.message;
}

int ml_error_last(void)
{
	return tl.err;
}

int ml_error_http_status(int err)
{
	switch (err) {
	case ML_EINVAL:
		return 400;
	case ML_ENOTFOUND:
		return 404;
	case ML_ECONFLICT:
		return 409;
	case ML_EAUTH:
		return 401;
	case ML_ETOOBIG:
		return 413;
	case ML_EIDEMP:
		return 422;
	case ML_EUNAVAIL:
		return 503;
	case ML_EUNSUPPORTED:
		return 415;
	default:
		return 500;
	}
}
