/* Address classification for the SSRF defence (netaddr.h). The tables follow the IANA
 * special-purpose registries (RFC 6890 and its updates): anything not plainly global
 * unicast is refused, so an omission errs towards a refusal, never towards a request. */
#include "core/netaddr.h"
#include "core/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* One inet_aton(3) part: decimal, 0-prefixed octal, 0x hex ("0x" alone is 0, as the
 * WHATWG URL parser and glibc read it). */
static int v4_part(const char *s, size_t n, uint64_t *out)
{
	unsigned base = 10;
	size_t i = 0;
	uint64_t v = 0;
	if (n == 0)
		return -1;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, i = 2;
	else if (n >= 2 && s[0] == '0')
		base = 8, i = 1;
	for (; i < n; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		v = v * base + d;
		if (v > 0xffffffffULL)
			return -1;
	}
	*out = v;
	return 0;
}

static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
	uint64_t parts[4];
	int np = 0;
	size_t start = 0;
	if (n > 0 && s[n - 1] == '.')
		n--; /* "127.0.0.1." is the same address to a resolver */
	if (n == 0)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (np == 4 || v4_part(s + start, i - start, &parts[np]) < 0)
			return -1;
		np++;
		start = i + 1;
	}
	/* Every part but the last is one byte; the last fills the bytes left. */
	uint64_t last_max = 0xffffffffULL >> (8 * (np - 1));
	for (int i = 0; i < np - 1; i++)
		if (parts[i] > 255)
			return -1;
	if (parts[np - 1] > last_max)
		return -1;
	uint32_t a = 0;
	for (int i = 0; i < np - 1; i++)
		a |= (uint32_t)parts[i] << (24 - 8 * i);
	a |= (uint32_t)parts[np - 1];
	out[0] = (uint8_t)(a >> 24);
	out[1] = (uint8_t)(a >> 16);
	out[2] = (uint8_t)(a >> 8);
	out[3] = (uint8_t)a;
	return 0;
}

int ml_netaddr_parse(const char *host, struct ml_netaddr *out)
{
	char buf[64];
	size_t n = host ? strlen(host) : 0;
	struct ml_netaddr a = {0};
	if (n == 0)
		return ML_EINVAL;
	if (parse_v4(host, n, a.bytes) == 0) {
		a.family = AF_INET;
		*out = a;
		return 0;
	}
	if (host[0] == '[') {
		if (n < 2 || host[n - 1] != ']')
			return ML_EINVAL;
		host++;
		n -= 2;
	}
	/* inet_pton refuses a zone id ("fe80::1%eth0"): such a host is no address here. */
	if (n == 0 || n >= sizeof buf || !memchr(host, ':', n))
		return ML_EINVAL;
	memcpy(buf, host, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, a.bytes) != 1)
		return ML_EINVAL;
	a.family = AF_INET6;
	*out = a;
	return 0;
}

static enum ml_netclass class_v4(const uint8_t b[4])
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	static const struct {
		uint32_t net, mask;
		enum ml_netclass c;
	} table[] = {
	    {0x00000000, 0xff000000, ML_NET_UNSPECIFIED}, /* 0/8 "this network" */
	    {0x0a000000, 0xff000000, ML_NET_PRIVATE},     /* 10/8 */
	    {0x64400000, 0xffc00000, ML_NET_PRIVATE},     /* 100.64/10 CGNAT */
	    {0x7f000000, 0xff000000, ML_NET_LOOPBACK},    /* 127/8 */
	    {0xa9fe0000, 0xffff0000, ML_NET_LINKLOCAL},   /* 169.254/16 (cloud metadata) */
	    {0xac100000, 0xfff00000, ML_NET_PRIVATE},     /* 172.16/12 */
	    {0xc0000000, 0xffffff00, ML_NET_RESERVED},    /* 192.0.0/24 IETF assignments */
	    {0xc0000200, 0xffffff00, ML_NET_RESERVED},    /* 192.0.2/24 TEST-NET-1 */
	    {0xc0586300, 0xffffff00, ML_NET_RESERVED},    /* 192.88.99/24 6to4 relay */
	    {0xc0a80000, 0xffff0000, ML_NET_PRIVATE},     /* 192.168/16 */
	    {0xc6120000, 0xfffe0000, ML_NET_RESERVED},    /* 198.18/15 benchmarking */
	    {0xc6336400, 0xffffff00, ML_NET_RESERVED},    /* 198.51.100/24 TEST-NET-2 */
	    {0xcb007100, 0xffffff00, ML_NET_RESERVED},    /* 203.0.113/24 TEST-NET-3 */
	    {0xe0000000, 0xf0000000, ML_NET_MULTICAST},   /* 224/4 */
	    {0xf0000000, 0xf0000000, ML_NET_RESERVED},    /* 240/4 and 255.255.255.255 */
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if ((a & table[i].mask) == table[i].net)
			return table[i].c;
	return ML_NET_PUBLIC;
}

static bool zeros(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static enum ml_netclass class_v6(const uint8_t b[16])
{
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	if (zeros(b, 16))
		return ML_NET_UNSPECIFIED;
	if (zeros(b, 15) && b[15] == 1)
		return ML_NET_LOOPBACK;
	/* IPv4 inside IPv6: what is reached is the IPv4 address. */
	if (zeros(b, 10) && b[10] == 0xff && b[11] == 0xff) /* ::ffff:a.b.c.d mapped */
		return class_v4(b + 12);
	if (zeros(b, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
		return class_v4(b + 12); /* ::ffff:0:a.b.c.d translated (RFC 2765) */
	if (zeros(b, 12)) {          /* ::a.b.c.d compatible: deprecated, never routed */
		enum ml_netclass c = class_v4(b + 12);
		return c == ML_NET_PUBLIC ? ML_NET_RESERVED : c;
	}
	if (memcmp(b, nat64, 12) == 0) /* 64:ff9b::/96 NAT64 well-known prefix */
		return class_v4(b + 12);
	if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0 && b[5] == 1)
		return ML_NET_PRIVATE; /* 64:ff9b:1::/48 local-use NAT64 */
	if (b[0] == 0x20 && b[1] == 0x02) /* 2002::/16 6to4 */
		return class_v4(b + 2);
	if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0)
		return ML_NET_RESERVED; /* 2001::/23 IETF assignments, Teredo among them */
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return ML_NET_RESERVED; /* 2001:db8::/32 documentation */
	if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0)
		return ML_NET_RESERVED; /* 3fff::/20 documentation */
	if ((b[0] & 0xfe) == 0xfc)
		return ML_NET_PRIVATE; /* fc00::/7 unique local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return ML_NET_LINKLOCAL; /* fe80::/10 */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return ML_NET_PRIVATE; /* fec0::/10 site-local (deprecated) */
	if (b[0] == 0xff)
		return ML_NET_MULTICAST;
	/* Only 2000::/3 is global unicast; 100::/64 discard and the rest are not. */
	if ((b[0] & 0xe0) == 0x20)
		return ML_NET_PUBLIC;
	return ML_NET_RESERVED;
}

enum ml_netclass ml_netaddr_class(const struct ml_netaddr *a)
{
	if (a->family == AF_INET)
		return class_v4(a->bytes);
	if (a->family == AF_INET6)
		return class_v6(a->bytes);
	return ML_NET_RESERVED;
}

enum ml_netclass ml_netaddr_class_sockaddr(const struct sockaddr *sa, socklen_t len)
{
	if (!sa)
		return ML_NET_RESERVED;
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return class_v4((const uint8_t *)&in->sin_addr.s_addr);
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		return class_v6(in6->sin6_addr.s6_addr);
	}
	return ML_NET_RESERVED;
}

const char *ml_netclass_name(enum ml_netclass c)
{
	switch (c) {
	case ML_NET_PUBLIC:
		return "public";
	case ML_NET_LOOPBACK:
		return "loopback";
	case ML_NET_PRIVATE:
		return "private";
	case ML_NET_LINKLOCAL:
		return "link-local";
	case ML_NET_MULTICAST:
		return "multicast";
	case ML_NET_UNSPECIFIED:
		return "unspecified";
	case ML_NET_RESERVED:
		break;
	}
	return "reserved";
}

bool ml_netaddr_local_name(const char *host)
{
	static const char *const names[] = {"localhost", "localhost.localdomain", "ip6-localhost",
	                                    "ip6-loopback", NULL};
	size_t n = host ? strlen(host) : 0;
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0)
		return false;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == n && strncasecmp(host, names[i], n) == 0)
			return true;
	return n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0;
}
