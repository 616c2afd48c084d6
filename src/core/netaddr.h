/* IP addresses a client may point meetlink at, and those it may not (SSRF defence).
 *
 * ml_netaddr_parse reads a host the way resolvers and libcurl do: IPv4 in every notation
 * inet_aton(3) takes (1 to 4 parts, each decimal, 0-prefixed octal or 0x hex, the last part
 * filling the remaining bytes: "127.1", "0177.0.0.1", "0x7f000001", "2130706433"), and IPv6
 * (with or without brackets; a zone id is refused). ml_netaddr_class says what kind of
 * address it is; only ML_NET_PUBLIC may be the target of a request a client asked for.
 * IPv6 that carries an IPv4 address (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d,
 * translated ::ffff:0:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16) is classified by the
 * IPv4 address inside. Pure functions: no I/O, no allocation.
 */
#ifndef ML_CORE_NETADDR_H
#define ML_CORE_NETADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum ml_netclass {
	ML_NET_PUBLIC = 0,   /* global unicast */
	ML_NET_LOOPBACK,     /* 127/8, ::1 */
	ML_NET_PRIVATE,      /* RFC 1918, CGNAT 100.64/10, fc00::/7, fec0::/10, 64:ff9b:1::/48 */
	ML_NET_LINKLOCAL,    /* 169.254/16, fe80::/10 */
	ML_NET_MULTICAST,    /* 224/4, ff00::/8 */
	ML_NET_UNSPECIFIED,  /* 0/8, :: */
	ML_NET_RESERVED,     /* broadcast, 240/4, documentation, benchmarking, IETF, Teredo, ... */
};

struct ml_netaddr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t bytes[16];   /* network order: 4 used for AF_INET */
};

/* Parses `host` (not NUL-terminated beyond len when len > 0; len 0: strlen) as an IP
 * literal. One trailing dot is allowed after IPv4 ("127.0.0.1."). Returns 0, or ML_EINVAL
 * when it is not an address in any notation (a name, or garbage). *out is untouched then. */
int ml_netaddr_parse(const char *host, struct ml_netaddr *out);

/* What kind of address it is. */
enum ml_netclass ml_netaddr_class(const struct ml_netaddr *a);

/* The same for a socket address (what a resolver gave back); anything that is not
 * AF_INET/AF_INET6, or too short, is ML_NET_RESERVED. */
enum ml_netclass ml_netaddr_class_sockaddr(const struct sockaddr *sa, socklen_t len);

/* "public", "loopback", "private", "link-local", "multicast", "unspecified", "reserved". */
const char *ml_netclass_name(enum ml_netclass c);

/* True when the host (a name, not an address) is one the system answers itself:
 * "localhost", "*.localhost" (RFC 6761), "localhost.localdomain", any case, trailing dot. */
bool ml_netaddr_local_name(const char *host);

#endif
