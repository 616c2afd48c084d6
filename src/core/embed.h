/* Files compiled into the binary (migrations, web pages, the OpenAPI document). */
#ifndef ML_CORE_EMBED_H
#define ML_CORE_EMBED_H

#include <stddef.h>

struct ml_embedded {
	const char *path; /* relative to the repository root: "web/connect.html" */
	const unsigned char *data; /* NUL-terminated */
	size_t len;
};

/* Terminated by a NULL path. */
extern const struct ml_embedded ml_embedded_files[];

/* The file at `path`, or NULL. */
const struct ml_embedded *ml_embed_find(const char *path);

#endif
