/* A small JSON Schema subset validator for request bodies, so emulators reject what the
 * provider's published schema rejects. Understands: type (object, array, string, integer,
 * number, boolean; a list of them), properties, required, items, enum, minLength, maxLength,
 * minimum, maximum, maxItems, format "email" (a light check). Unknown keywords are ignored,
 * as unknown members of an object are (providers accept extra fields). */
#ifndef ML_SANDBOX_SCHEMA_H
#define ML_SANDBOX_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

/* Returns 0 when `v` satisfies `schema`; otherwise -1 with the dotted path of the first
 * offending member in `path` ("settings.jbh_time"; "" for the root) and a short reason
 * ("type", "enum", "required", "maxLength", ...) in *why. */
int ml_sb_schema_check(const json_t *schema, const json_t *v, char *path, size_t pathsz,
		       const char **why);

#endif
