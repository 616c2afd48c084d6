/* Logging: one line per event on stderr, `ts level msg key=value ...`.
 * Never pass a secret (token, key, password, signature) to these functions. */
#ifndef ML_CORE_LOG_H
#define ML_CORE_LOG_H

#include <stddef.h>

enum ml_log_level { ML_LOG_DEBUG, ML_LOG_INFO, ML_LOG_WARN, ML_LOG_ERROR };

void ml_log_set_level(enum ml_log_level level);
void ml_log(enum ml_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message as it is written: control characters, DEL and bytes that are not UTF-8 as
 * \xNN (a value from outside never starts a forged line), cut on a character boundary to fit
 * cap - 1 bytes. Returns the length written. */
size_t ml_log_escape(char *out, size_t cap, const char *msg);

#define ml_debug(...) ml_log(ML_LOG_DEBUG, __VA_ARGS__)
#define ml_info(...) ml_log(ML_LOG_INFO, __VA_ARGS__)
#define ml_warn(...) ml_log(ML_LOG_WARN, __VA_ARGS__)
#define ml_err(...) ml_log(ML_LOG_ERROR, __VA_ARGS__)

#endif
