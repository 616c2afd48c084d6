/* URLs a client supplies and meetlink then requests (webhook endpoints): the SSRF defence.
 *
 * Two checks, because a name can resolve to anything and change its answer between them
 * (DNS rebinding):
 *   - when the URL is given, ml_target_url_check refuses what is wrong on its face: another
 *     scheme, credentials in the URL, a host that is a loopback, private, link-local,
 *     multicast, unspecified or reserved address in any notation (core/netaddr.h), a
 *     "localhost" name, a host that looks like an address but is none;
 *   - on every request, ml_target_guard_apply makes libcurl show each resolved address to
 *     the guard before a socket is opened (CURLOPT_OPENSOCKETFUNCTION) and each connection,
 *     new or reused, before a byte is sent (CURLOPT_PREREQFUNCTION); a non-public address
 *     is refused there, and the guard records it. No redirects, http and https only, no
 *     proxy (not even one from the environment).
 * allow_private (MEETLINK_ALLOW_PRIVATE_TARGETS=1, development and tests) lets private and
 * loopback addresses through both checks; schemes and credentials are still refused.
 */
#ifndef ML_NOTIFY_TARGET_H
#define ML_NOTIFY_TARGET_H

#include <curl/curl.h>
#include <stdbool.h>

/* 0, or ML_EINVAL ("invalid_url" or "forbidden_target", naming `field`). */
int ml_target_url_check(const char *url, const char *field, bool allow_private);

struct ml_target_guard {
	bool allow_private;
	bool refused;  /* set when a resolved or connected address was refused */
	char why[128]; /* what was refused: the kind of address, never the address itself */
};

/* Arms `easy` with the guard (which must outlive the transfer) and the options above. */
void ml_target_guard_apply(CURL *easy, struct ml_target_guard *g);

/* The hooks themselves, for the unit test (no network needed). */
curl_socket_t ml_target_open_socket(void *guard, curlsocktype purpose,
                                    struct curl_sockaddr *addr);
int ml_target_prereq(void *guard, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port);

#endif
