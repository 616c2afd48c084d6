/* The SSRF defence for client-supplied URLs (target.h). The URL is taken apart with
 * libcurl's own parser, so what is checked is what libcurl would connect to. */
#include "notify/target.h"
#include "core/error.h"
#include "core/netaddr.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static int bad_url(const char *field, const char *why)
{
	return ml_error_set(ML_EINVAL, "invalid_url", field, "%s must be an http(s) URL%s.", field,
	                    why);
}

static int forbidden(const char *field, const char *what)
{
	return ml_error_set(ML_EINVAL, "forbidden_target", field,
	                    "%s points at a %s address; meetlink only sends to public addresses.",
	                    field, what);
}

/* A last label that is digits (or 0x digits) makes the host an IPv4 address to a resolver
 * or a URL parser, whatever the rest: one that does not parse as an address is no host. */
static bool looks_numeric(const char *host)
{
	size_t n = strlen(host);
	if (n > 0 && host[n - 1] == '.')
		n--;
	size_t start = n;
	while (start > 0 && host[start - 1] != '.')
		start--;
	if (start == n || host[start] < '0' || host[start] > '9')
		return false;
	for (size_t i = start; i < n; i++) {
		char c = host[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
		      c == 'x' || c == 'X'))
			return false;
	}
	return true;
}

/* An '@' in the authority, even one libcurl's parser would not call userinfo. */
static bool has_userinfo(const char *url)
{
	const char *a = strstr(url, "://");
	a = a ? a + 3 : url;
	size_t n = strcspn(a, "/?#\\");
	return memchr(a, '@', n) != NULL;
}

static int check_host(const char *host, const char *field, bool allow_private)
{
	struct ml_netaddr a;
	if (!host || !*host)
		return bad_url(field, " with a host");
	if (strchr(host, '%'))
		return bad_url(field, " without percent-encoding or a zone id in the host");
	if (ml_netaddr_parse(host, &a) == 0) {
		enum ml_netclass c = ml_netaddr_class(&a);
		if (c == ML_NET_PUBLIC)
			return 0;
		/* Unspecified, multicast and reserved addresses are never a receiver. */
		if (allow_private && (c == ML_NET_LOOPBACK || c == ML_NET_PRIVATE ||
		                      c == ML_NET_LINKLOCAL))
			return 0;
		return forbidden(field, ml_netclass_name(c));
	}
	if (host[0] == '[' || looks_numeric(host))
		return bad_url(field, " with a valid host");
	if (ml_netaddr_local_name(host) && !allow_private)
		return forbidden(field, "loopback");
	return 0;
}

int ml_target_url_check(const char *url, const char *field, bool allow_private)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *pass = NULL, *opts = NULL, *host = NULL, *zone = NULL;
	int rc = 0;
	const char *auth = strstr(url, "://");
	if (!u)
		return ml_error_set(ML_EINTERNAL, "internal", NULL, "out of memory");
	/* libcurl reads "http:///x" as host "x"; a person meant something else. */
	if (!auth || auth[3] == '/' || auth[3] == '\\' || auth[3] == '\0') {
		rc = bad_url(field, " with a host");
		goto done;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		rc = bad_url(field, "");
		goto done;
	}
	if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
		rc = bad_url(field, "");
		goto done;
	}
	/* Credentials in the URL would be sent to whoever answers, and show in every list. */
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	curl_url_get(u, CURLUPART_OPTIONS, &opts, 0);
	if (user || pass || opts || has_userinfo(url)) {
		rc = ml_error_set(ML_EINVAL, "invalid_url", field,
		                  "%s must not carry credentials (user:password@); the receiver "
		                  "verifies the webhook-signature header instead.",
		                  field);
		goto done;
	}
	if (memchr(auth + 3, '%', strcspn(auth + 3, "/?#\\"))) {
		rc = bad_url(field, " without percent-encoding or a zone id in the host");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK && zone) {
		rc = bad_url(field, " without a zone id");
		goto done;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = bad_url(field, " with a host");
		goto done;
	}
	rc = check_host(host, field, allow_private);
done:
	curl_free(scheme);
	curl_free(user);
	curl_free(pass);
	curl_free(opts);
	curl_free(host);
	curl_free(zone);
	curl_url_cleanup(u);
	return rc;
}

static bool permitted(struct ml_target_guard *g, enum ml_netclass c)
{
	if (c == ML_NET_PUBLIC)
		return true;
	if (g->allow_private &&
	    (c == ML_NET_LOOPBACK || c == ML_NET_PRIVATE || c == ML_NET_LINKLOCAL))
		return true;
	g->refused = true;
	snprintf(g->why, sizeof g->why,
	         "refused: the endpoint's host resolves to a %s address; no connection was made",
	         ml_netclass_name(c));
	return false;
}

curl_socket_t ml_target_open_socket(void *guard, curlsocktype purpose,
                                    struct curl_sockaddr *addr)
{
	struct ml_target_guard *g = guard;
	/* The address is checked before the socket exists: nothing reaches a refused host. */
	if (purpose != CURLSOCKTYPE_IPCXN ||
	    !permitted(g, ml_netaddr_class_sockaddr(&addr->addr, addr->addrlen)))
		return CURL_SOCKET_BAD;
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

int ml_target_prereq(void *guard, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
	(void)conn_local_ip;
	(void)conn_primary_port;
	(void)conn_local_port;
	struct ml_target_guard *g = guard;
	struct ml_netaddr a;
	/* A reused connection was opened for another transfer: look at it again. */
	if (!conn_primary_ip || ml_netaddr_parse(conn_primary_ip, &a) < 0) {
		g->refused = true;
		snprintf(g->why, sizeof g->why, "refused: the connection's address is unknown");
		return CURL_PREREQFUNC_ABORT;
	}
	return permitted(g, ml_netaddr_class(&a)) ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

void ml_target_guard_apply(CURL *easy, struct ml_target_guard *g)
{
	g->refused = false;
	g->why[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, ml_target_open_socket);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, g);
	curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, ml_target_prereq);
	curl_easy_setopt(easy, CURLOPT_PREREQDATA, g);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
	/* "": no proxy at all, whatever http_proxy/https_proxy/all_proxy say. */
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
}
