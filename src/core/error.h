/* Error codes and the thread-local error detail (libgit2 style).
 *
 * Functions return 0 (or a non-negative count) on success and a negative ML_E* code on
 * failure. Detail text, and for validation errors the offending field, go to a thread-local
 * slot through ml_error_set(); the caller that decides what to do reads them back.
 */
#ifndef ML_CORE_ERROR_H
#define ML_CORE_ERROR_H

enum {
	ML_OK = 0,
	ML_EINVAL = -1,    /* bad input: 400/422, field named */
	ML_ENOTFOUND = -2, /* 404 */
	ML_ECONFLICT = -3, /* 409: state or uniqueness conflict */
	ML_EAUTH = -4,     /* 401 */
	ML_ETOOBIG = -5,   /* 413 */
	ML_EIDEMP = -6,    /* 422: idempotency key reused with another body */
	ML_ESTORE = -7,    /* store failure: 500/503 */
	ML_EINTERNAL = -8, /* anything else: 500 */
	ML_EUNAVAIL = -9,  /* a dependency is down: 503 */
	ML_EUNSUPPORTED = -10, /* 415: the body is not in a media type we take */
};

/* Record the detail of the error about to be returned. `code` is the snake_case API code
 * ("invalid_field"), `field` the JSON path of the offending input or NULL. Returns `err` so a
 * caller can write `return ml_error_set(ML_EINVAL, "invalid_email", "customer.email", "...")`. */
int ml_error_set(int err, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void ml_error_clear(void);

/* The last detail set on this thread; never NULL (empty strings when unset). Borrowed. */
const char *ml_error_code(void);
const char *ml_error_field(void);
const char *ml_error_message(void);
int ml_error_last(void);

/* The HTTP status for an ML_E* code. */
int ml_error_http_status(int err);

#endif
