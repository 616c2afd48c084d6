/* Secondary indexes beside the providers' JSON state (see sbindex.h). jansson's objects are
 * hash tables: an index is one object of arrays. */
#include "sandbox/sbindex.h"
#include "sandbox/sandbox.h"

#include <string.h>

bool ml_sb_index_stale(struct ml_sb_index *ix, const json_t *root)
{
	uint64_t gen = ml_sb_state_gen();
	if (ix->map && ix->root == root && ix->gen == gen)
		return false;
	json_decref(ix->map);
	ix->map = json_object();
	ix->root = root;
	ix->gen = gen;
	return true;
}

void ml_sb_index_drop(struct ml_sb_index *ix)
{
	json_decref(ix->map);
	ix->map = NULL;
	ix->root = NULL;
}

void ml_sb_index_add(struct ml_sb_index *ix, const char *key, const char *id)
{
	if (!ix->map || !key || !id)
		return;
	json_t *ids = json_object_get(ix->map, key), *v;
	size_t i;
	if (!ids) {
		ids = json_array();
		/* nocheck: a key or id that is not UTF-8 must not make the set fail. */
		json_object_set_new_nocheck(ix->map, key, ids);
	}
	/* Short: a key names one object, or a few (a room's UniqueName over its
	 * generations). */
	json_array_foreach(ids, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return;
	json_array_append_new(ids, json_string_nocheck(id));
}

json_t *ml_sb_index_get(const struct ml_sb_index *ix, const char *key)
{
	return ix->map && key ? json_object_get(ix->map, key) : NULL;
}
