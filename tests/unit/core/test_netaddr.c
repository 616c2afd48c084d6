/* The SSRF address classifier (core/netaddr.h): every notation a resolver or libcurl accepts
 * for an address is read as that address, and every address that is not global unicast is
 * classified as what it is. A table: host text, whether it parses, the expected class. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/netaddr.h"

#define BAD (-1) /* not an address */

static const struct {
	const char *host;
	int class; /* enum ml_netclass, or BAD */
} cases[] = {
    /* IPv4 loopback in every notation */
    {"127.0.0.1", ML_NET_LOOPBACK},
    {"127.0.0.1.", ML_NET_LOOPBACK},
    {"127.1", ML_NET_LOOPBACK},
    {"127.0.1", ML_NET_LOOPBACK},
    {"0177.0.0.1", ML_NET_LOOPBACK},
    {"0177.1", ML_NET_LOOPBACK},
    {"0x7f.0.0.1", ML_NET_LOOPBACK},
    {"0x7F.0x0.0x0.0x1", ML_NET_LOOPBACK},
    {"0x7f000001", ML_NET_LOOPBACK},
    {"2130706433", ML_NET_LOOPBACK},
    {"017700000001", ML_NET_LOOPBACK},
    {"127.255.255.254", ML_NET_LOOPBACK},
    {"0000127.0.0.1", ML_NET_PUBLIC}, /* octal 0000127 = 87: 87.0.0.1 */
    /* private, CGNAT */
    {"10.0.0.1", ML_NET_PRIVATE},
    {"10.255.255.255", ML_NET_PRIVATE},
    {"012.1", ML_NET_PRIVATE},
    {"167772161", ML_NET_PRIVATE},
    {"172.16.0.1", ML_NET_PRIVATE},
    {"172.31.255.255", ML_NET_PRIVATE},
    {"172.15.255.255", ML_NET_PUBLIC},
    {"172.32.0.0", ML_NET_PUBLIC},
    {"192.168.1.1", ML_NET_PRIVATE},
    {"0xc0a80101", ML_NET_PRIVATE},
    {"100.64.0.1", ML_NET_PRIVATE},
    {"100.127.255.255", ML_NET_PRIVATE},
    {"100.63.255.255", ML_NET_PUBLIC},
    {"100.128.0.0", ML_NET_PUBLIC},
    /* link-local, the metadata service */
    {"169.254.169.254", ML_NET_LINKLOCAL},
    {"0xa9fea9fe", ML_NET_LINKLOCAL},
    {"2852039166", ML_NET_LINKLOCAL},
    {"0251.0376.0251.0376", ML_NET_LINKLOCAL},
    {"169.254.43518", ML_NET_LINKLOCAL},
    /* unspecified, broadcast, multicast, reserved */
    {"0.0.0.0", ML_NET_UNSPECIFIED},
    {"0", ML_NET_UNSPECIFIED},
    {"0x0", ML_NET_UNSPECIFIED},
    {"0.1.2.3", ML_NET_UNSPECIFIED},
    {"255.255.255.255", ML_NET_RESERVED},
    {"4294967295", ML_NET_RESERVED},
    {"240.0.0.1", ML_NET_RESERVED},
    {"224.0.0.1", ML_NET_MULTICAST},
    {"239.255.255.250", ML_NET_MULTICAST},
    {"192.0.0.8", ML_NET_RESERVED},
    {"192.0.2.1", ML_NET_RESERVED},
    {"198.18.0.1", ML_NET_RESERVED},
    {"198.19.255.255", ML_NET_RESERVED},
    {"198.51.100.7", ML_NET_RESERVED},
    {"203.0.113.9", ML_NET_RESERVED},
    {"192.88.99.1", ML_NET_RESERVED},
    /* public */
    {"8.8.8.8", ML_NET_PUBLIC},
    {"93.184.216.34", ML_NET_PUBLIC},
    {"1.1", ML_NET_PUBLIC}, /* 1.0.0.1 */
    {"134744072", ML_NET_PUBLIC},
    /* not addresses */
    {"", BAD},
    {"example.com", BAD},
    {"localhost", BAD},
    {"1.2.3.4.5", BAD},
    {"256.1.1.1", BAD},
    {"1.256.1.1", BAD},
    {"1.2.3.256", BAD},
    {"1.2.65536", BAD},
    {"1.16777216", BAD},
    {"4294967296", BAD},
    {"08.0.0.1", BAD},
    {"0x.0x.0x.0xg", BAD},
    {"1..1", BAD},
    {".1.1.1", BAD},
    {"1.1.1.1..", BAD},
    {"127.0.0.1 ", BAD},
    {"99999999999999999999", BAD},
    /* IPv6 */
    {"::1", ML_NET_LOOPBACK},
    {"[::1]", ML_NET_LOOPBACK},
    {"0:0:0:0:0:0:0:1", ML_NET_LOOPBACK},
    {"::", ML_NET_UNSPECIFIED},
    {"[::]", ML_NET_UNSPECIFIED},
    {"fe80::1", ML_NET_LINKLOCAL},
    {"febf:ffff::1", ML_NET_LINKLOCAL},
    {"fec0::1", ML_NET_PRIVATE},
    {"fc00::1", ML_NET_PRIVATE},
    {"fd12:3456:789a::1", ML_NET_PRIVATE},
    {"ff02::1", ML_NET_MULTICAST},
    {"ff05::1:3", ML_NET_MULTICAST},
    {"2001:db8::1", ML_NET_RESERVED},
    {"2001::1", ML_NET_RESERVED},          /* Teredo */
    {"2001:10::1", ML_NET_RESERVED},       /* ORCHID */
    {"3fff::1", ML_NET_RESERVED},
    {"100::1", ML_NET_RESERVED},           /* discard-only */
    {"4000::1", ML_NET_RESERVED},          /* outside 2000::/3 */
    {"2606:4700:4700::1111", ML_NET_PUBLIC},
    {"[2a00:1450:4001:80b::200e]", ML_NET_PUBLIC},
    /* IPv4 inside IPv6 */
    {"::ffff:127.0.0.1", ML_NET_LOOPBACK},
    {"::ffff:7f00:1", ML_NET_LOOPBACK},
    {"[::ffff:169.254.169.254]", ML_NET_LINKLOCAL},
    {"::ffff:10.0.0.1", ML_NET_PRIVATE},
    {"::ffff:8.8.8.8", ML_NET_PUBLIC},
    {"::ffff:0:127.0.0.1", ML_NET_LOOPBACK},
    {"::127.0.0.1", ML_NET_LOOPBACK},
    {"::10.0.0.1", ML_NET_PRIVATE},
    {"::8.8.8.8", ML_NET_RESERVED},
    {"64:ff9b::127.0.0.1", ML_NET_LOOPBACK},
    {"64:ff9b::a9fe:a9fe", ML_NET_LINKLOCAL},
    {"64:ff9b::8.8.8.8", ML_NET_PUBLIC},
    {"64:ff9b:1::1", ML_NET_PRIVATE},
    {"2002:7f00:1::1", ML_NET_LOOPBACK},
    {"2002:a9fe:a9fe::", ML_NET_LINKLOCAL},
    {"2002:808:808::1", ML_NET_PUBLIC},
    /* not addresses */
    {"[::1", BAD},
    {"::1]", BAD},
    {"[]", BAD},
    {"fe80::1%eth0", BAD},
    {"[fe80::1%25eth0]", BAD},
    {":::1", BAD},
    {"1:2:3:4:5:6:7:8:9", BAD},
    {"[127.0.0.1]", BAD},
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ml_netaddr a;
		memset(&a, 0xaa, sizeof a);
		int rc = ml_netaddr_parse(cases[i].host, &a);
		int got = rc < 0 ? BAD : (int)ml_netaddr_class(&a);
		if (got != cases[i].class)
			fail_msg("%s: expected %d, got %d", cases[i].host, cases[i].class, got);
	}
}

/* Leading zeros make octal however many there are; the bytes are the address's. */
static void test_octal_leading_zeros(void **state)
{
	(void)state;
	struct ml_netaddr a;
	assert_int_equal(ml_netaddr_parse("00000177.0.0.1", &a), 0);
	assert_int_equal(ml_netaddr_class(&a), ML_NET_LOOPBACK);
	assert_int_equal(a.family, AF_INET);
	assert_memory_equal(a.bytes, "\x7f\x00\x00\x01", 4);
}

static void test_sockaddr(void **state)
{
	(void)state;
	struct sockaddr_in in = {.sin_family = AF_INET};
	inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
	assert_int_equal(ml_netaddr_class_sockaddr((struct sockaddr *)&in, sizeof in),
	                 ML_NET_LINKLOCAL);
	inet_pton(AF_INET, "8.8.4.4", &in.sin_addr);
	assert_int_equal(ml_netaddr_class_sockaddr((struct sockaddr *)&in, sizeof in),
	                 ML_NET_PUBLIC);
	/* Too short for its family, or another family: never public. */
	assert_int_equal(ml_netaddr_class_sockaddr((struct sockaddr *)&in, 4), ML_NET_RESERVED);
	assert_int_equal(ml_netaddr_class_sockaddr(NULL, 0), ML_NET_RESERVED);
	struct sockaddr un = {.sa_family = AF_UNIX};
	assert_int_equal(ml_netaddr_class_sockaddr(&un, sizeof un), ML_NET_RESERVED);

	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::ffff:192.168.0.1", &in6.sin6_addr);
	assert_int_equal(ml_netaddr_class_sockaddr((struct sockaddr *)&in6, sizeof in6),
	                 ML_NET_PRIVATE);
	inet_pton(AF_INET6, "2a00:1450::1", &in6.sin6_addr);
	assert_int_equal(ml_netaddr_class_sockaddr((struct sockaddr *)&in6, sizeof in6),
	                 ML_NET_PUBLIC);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(ml_netaddr_local_name("localhost"));
	assert_true(ml_netaddr_local_name("LocalHost."));
	assert_true(ml_netaddr_local_name("api.localhost"));
	assert_true(ml_netaddr_local_name("localhost.localdomain"));
	assert_true(ml_netaddr_local_name("ip6-localhost"));
	assert_false(ml_netaddr_local_name("localhost.example.com"));
	assert_false(ml_netaddr_local_name("mylocalhost"));
	assert_false(ml_netaddr_local_name(""));
	assert_false(ml_netaddr_local_name(NULL));
	assert_string_equal(ml_netclass_name(ML_NET_LINKLOCAL), "link-local");
	assert_string_equal(ml_netclass_name(ML_NET_PUBLIC), "public");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_octal_leading_zeros),
	    cmocka_unit_test(test_sockaddr),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
