#include "core/log.h"
#include "core/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum ml_log_level min_level = ML_LOG_INFO;

void ml_log_set_level(enum ml_log_level level)
{
	min_level = level;
}

size_t ml_log_escape(char *out, size_t cap, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, left = strlen(msg);
	const char *p = msg;

	while (left > 0) {
		/* The valid run up to the next byte that needs escaping. */
		size_t run = 0;
		while (run < left && (unsigned char)p[run] >= 0x20 && p[run] != 0x7f)
			run++;
		run = ml_utf8_cut(p, run, run);
		size_t fit = ml_utf8_cut(p, run, cap - 1 - n);
		memcpy(out + n, p, fit);
		n += fit;
		if (fit < run)
			break;
		p += run;
		left -= run;
		if (left == 0 || n + 4 > cap - 1)
			break;
		out[n++] = '\\';
		out[n++] = 'x';
		out[n++] = hex[(unsigned char)*p >> 4];
		out[n++] = hex[(unsigned char)*p & 15];
		p++;
		left--;
	}
	out[n] = '\0';
	return n;
}

void ml_log(enum ml_log_level level, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	char line[1024], msg[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     ts.tv_nsec / 1000000, names[level]);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof line)
		ml_log_escape(line + n, sizeof line - (size_t)n, msg);
	/* One fputs per line keeps concurrent lines whole. */
	fprintf(stderr, "%s\n", line);
}
