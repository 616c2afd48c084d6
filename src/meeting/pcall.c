/* A driver's HTTP step as a libcurl easy handle, and a transfer's outcome (pcall.h). */
#include "meeting/pcall.h"

#include "core/config.h"
#include "http/outhdr.h"

#include <string.h>

CURL *ml_pcall_easy(const struct ml_phttp *h, long timeout_ms, struct curl_slist **headers)
{
	CURL *e = curl_easy_init();
	if (!e)
		return NULL;
	curl_slist_free_all(*headers);
	*headers = NULL;
	curl_easy_setopt(e, CURLOPT_URL, h->url);
	if (strcmp(h->method, "GET") != 0) {
		if (strcmp(h->method, "POST") == 0)
			curl_easy_setopt(e, CURLOPT_POST, 1L);
		else
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, h->method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(h->body ? strlen(h->body) : 0));
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, h->body ? h->body : "");
	}
	/* A value from a stored credential or a provider's answer with CR/LF in it would add
	 * headers of its own: such a call is never made. */
	if ((h->authorization && ml_outhdr_append(headers, "Authorization", h->authorization) < 0) ||
	    (h->header_name &&
	     ml_outhdr_append(headers, h->header_name, h->header_value ? h->header_value : "") < 0) ||
	    (h->content_type && ml_outhdr_append(headers, "Content-Type", h->content_type) < 0) ||
	    ml_outhdr_append(headers, "Accept", "application/json") < 0 ||
	    ml_outhdr_append(headers, "Expect", "") < 0) {
		curl_easy_cleanup(e);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "meetlink/" ML_VERSION);
	if (h->not_idempotent) {
#if LIBCURL_VERSION_NUM >= 0x081000
		curl_easy_setopt(e, CURLOPT_FORBID_RETRY_ON_REUSE, 1L);
#else
		/* libcurl before 8.16 resends a request whose reused connection the server
		 * closed without answering: a second meeting (or bot). A fresh connection cannot
		 * be "reused and dead", so it is never resent. */
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
#endif
	}
	return e;
}

enum ml_ptransport ml_pcall_transport(CURLcode c)
{
	switch (c) {
	case CURLE_OK:
		return ML_PT_OK;
	case CURLE_OPERATION_TIMEDOUT:
		return ML_PT_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return ML_PT_CONNECT;
	default:
		/* Nothing back, a broken answer: the provider may have acted. */
		return ML_PT_DROPPED;
	}
}
