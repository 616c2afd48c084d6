/* application/x-www-form-urlencoded bodies (the WHATWG URL standard's parser, strict): what
 * Twilio's status callbacks send. */
#ifndef ML_CORE_FORM_H
#define ML_CORE_FORM_H

#include <jansson.h>
#include <stddef.h>

/* The most parameters a form may carry, and the longest name. */
#define ML_FORM_MAX_PARAMS 64
#define ML_FORM_MAX_NAME 64

/* Parses body[0..n) into a JSON object of strings (name → value; '+' is a space, %XX a
 * byte). 0 with *out (caller frees); ML_EINVAL (ml_error_set, the field named) when a
 * name repeats, is empty or too long, a percent escape is broken, a name or value is not
 * UTF-8 or holds a control character other than tab, CR and LF in values (Twilio's callbacks
 * carry none), or there are more than ML_FORM_MAX_PARAMS parameters. */
int ml_form_parse(const char *body, size_t n, json_t **out);

#endif
