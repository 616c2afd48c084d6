/* Opaque prefixed ids: "bkg_" + 24 base32 characters: the creation time in milliseconds (9)
 * then randomness (15, 75 bits). Ids name things; they are never secrets. */
#ifndef ML_CORE_IDS_H
#define ML_CORE_IDS_H

#include <stdbool.h>

#define ML_ID_MAX 40

/* Writes a fresh id with `prefix` ("bkg") into out. */
void ml_id_new(char out[ML_ID_MAX], const char *prefix);
/* True when s looks like an id with that prefix (shape only). */
bool ml_id_valid(const char *s, const char *prefix);

#endif
