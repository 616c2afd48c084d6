/* A driver's HTTP step made on the worker's curl multi: what the meeting, recording and
 * watch jobs share (each drives its own driver's steps; the call itself is one). Internal
 * to src/meeting/. */
#ifndef ML_MEETING_PCALL_H
#define ML_MEETING_PCALL_H

#include "providers/provider.h"

#include <curl/curl.h>

/* The step's request as an easy handle: method and body, its headers (Authorization, the
 * driver's own header, Content-Type, Accept; *headers replaced, the caller frees it when
 * the transfer is over), the timeouts, and a create never resent by libcurl on a reused
 * connection (not_idempotent). NULL when a header value holds CR/LF: the call is not made. */
CURL *ml_pcall_easy(const struct ml_phttp *h, long timeout_ms, struct curl_slist **headers);

/* What a finished transfer's libcurl code says about the call: ML_PT_DROPPED when nothing
 * (or a broken answer) came back, so the provider may have acted. */
enum ml_ptransport ml_pcall_transport(CURLcode c);

#endif
