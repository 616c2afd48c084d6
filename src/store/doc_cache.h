/* A process-wide cache of parsed documents by (kind, id), each tagged with the row version it
 * was read at. Used by optimistic transactions, whose commit re-checks every version read, so
 * a stale entry can cost a retry but never a wrong write (a refusal made on cached documents
 * is checked against the database too). Every write of a document on the writer drops its
 * entry; an optimistic write that committed caches what it wrote. Internal to the store. */
#ifndef ML_STORE_DOC_CACHE_H
#define ML_STORE_DOC_CACHE_H

#include "store/store.h"

enum ml_cache_read {
	ML_CACHE_COPY,  /* a private copy, for a caller that may change it */
	ML_CACHE_SHARE, /* the cached document itself, for a reader that never changes it */
	ML_CACHE_TAKE,  /* the entry leaves the cache: the document itself when nothing else
			 * references it, else a copy (for a reader about to rewrite it) */
};
/* The cached document of org_id as `how` says (a new reference), or NULL; *version set on a
 * hit. */
json_t *ml_doc_cache_get(enum ml_kind kind, const char *org_id, const char *id,
			 enum ml_cache_read how, int64_t *version);
/* Caches a copy of doc at version. */
void ml_doc_cache_put(enum ml_kind kind, const char *org_id, const char *id, int64_t version,
		      json_t *doc);
/* Caches doc itself (a new reference): nobody may change it any more. Jansson's reference
 * counts are atomic and reading (dump, copy) changes nothing, so threads can share it. */
void ml_doc_cache_put_shared(enum ml_kind kind, const char *org_id, const char *id,
			     int64_t version, json_t *doc);
void ml_doc_cache_drop(enum ml_kind kind, const char *id);

#endif
