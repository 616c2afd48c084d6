/* libmicrohttpd's own error answers, in the API's JSON shape.
 *
 * libmicrohttpd 0.9.75 answers some requests itself, before any access handler runs: a request
 * line or header section larger than its per-connection memory (414, 431), a malformed chunked
 * body (400, 413), an HTTP version it does not speak (505). Those answers are fixed HTML pages
 * built by one internal function, with no option to replace them. That function makes its
 * response through the exported MHD_create_response_from_buffer, called through the PLT with
 * MHD_RESPMEM_PERSISTENT, so the definition below, in the executable, is the one it gets
 * (ELF symbol interposition): a PERSISTENT buffer that opens with libmicrohttpd's
 * "<html><head><title>" becomes the matching JSON error with Content-Type application/json.
 * Every other call (this program's own responses are MHD_RESPMEM_MUST_FREE) goes straight to
 * the library's function. tests/e2e/test_http_hardening.py checks each status, so a library
 * that stops calling through the PLT fails a test instead of going unnoticed. */
#include "http/http.h"

#include <dlfcn.h>
#include <microhttpd.h>
#include <pthread.h>
#include <string.h>

typedef struct MHD_Response *(*create_fn)(size_t size, void *buffer,
					   enum MHD_ResponseMemoryMode mode);

static create_fn real_create;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void find_real(void)
{
	/* POSIX's way to turn dlsym's object pointer into a function pointer. */
	*(void **)(&real_create) = dlsym(RTLD_NEXT, "MHD_create_response_from_buffer");
}

#define MHD_PAGE "<html><head><title>"
#define JSON_ERR(code, msg) "{\"error\":{\"code\":\"" code "\",\"message\":\"" msg "\"}}"

/* libmicrohttpd's page titles and bodies, matched on words they contain. */
static const struct {
	const char *needle;
	const char *json;
} pages[] = {
	{"<title>Request too big</title>",
	 JSON_ERR("request_too_large", "The request line or its headers are too large.")},
	{"chunked encoding was syntactically incorrect",
	 JSON_ERR("invalid_chunked_encoding", "The chunked request body is malformed.")},
	{"chunk size used in your HTTP chunked",
	 JSON_ERR("body_too_large", "A chunk of the request body is too large.")},
	{"too large value for <b>Content-Length",
	 JSON_ERR("body_too_large", "The Content-Length is too large.")},
	{"wrong value for <b>Content-Length",
	 JSON_ERR("invalid_content_length", "Content-Length must be a decimal number of bytes.")},
	{"header required",
	 JSON_ERR("invalid_host", "An HTTP/1.1 request carries exactly one Host header.")},
	{"HTTP version is not supported",
	 JSON_ERR("http_version_not_supported", "Use HTTP/1.1 or HTTP/1.0.")},
	{"<title>Internal server error</title>",
	 JSON_ERR("internal_error", "Something went wrong on our side.")},
};

static const char *json_for(const char *page, size_t n)
{
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++)
		if (memmem(page, n, pages[i].needle, strlen(pages[i].needle)))
			return pages[i].json;
	return JSON_ERR("bad_request", "The request is not valid HTTP.");
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	const char *json;

	pthread_once(&real_once, find_real);
	if (mode != MHD_RESPMEM_PERSISTENT || size < sizeof MHD_PAGE - 1 ||
	    memcmp(buffer, MHD_PAGE, sizeof MHD_PAGE - 1) != 0)
		return real_create(size, buffer, mode);
	json = json_for(buffer, size);
	r = real_create(strlen(json), (void *)json, MHD_RESPMEM_PERSISTENT);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return r;
}
