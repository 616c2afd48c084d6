#include "core/embed.h"

#include <string.h>

const struct ml_embedded *ml_embed_find(const char *path)
{
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++)
		if (strcmp(e->path, path) == 0)
			return e;
	return NULL;
}
