/* The SSRF defence for webhook targets (notify/target.h).
 *  - ml_target_url_check: the URLs of the issue (metadata, RFC 1918, localhost, 127.1, octal,
 *    integer, userinfo) and their relatives are refused when given; public ones pass.
 *  - the connect-time hooks, called directly with socket addresses: no network at all.
 *  - libcurl with the guard, a name resolved (CURLOPT_RESOLVE, as DNS rebinding would) to a
 *    loopback listener this test opens: the transfer fails, the guard says refused, and the
 *    listener never saw a connection. With allow_private the same transfer connects. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "notify/target.h"

static const char *const refused[] = {
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://localhost/hook",
    "http://LOCALHOST.:8080/hook",
    "http://api.localhost/hook",
    "http://127.1/hook",
    "http://127.0.0.1/hook",
    "http://0177.0.0.1/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://0x7f.1/hook",
    "http://127.0.0.1.:9000/hook",
    "https://192.168.0.10/",
    "https://172.20.1.1/",
    "https://100.64.1.1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://255.255.255.255/",
    "http://224.0.0.1/",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/",
    "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[ff02::1]/",
};

static const char *const invalid[] = {
    "http://user:pass@127.0.0.1/hook",
    "http://user:pass@example.com/hook",
    "https://token@example.com/hook",
    "http://example.com@10.0.0.1/",
    "http://:@example.com/",
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "gopher://example.com/",
    "http:///path",
    "http://1.2.3.999/",
    "http://999999999999/",
    "http://0x1g.1/",
    "http://[fe80::1%25eth0]/",
    "http://%31%32%37.0.0.1/",
    "not a url",
};

static const char *const accepted[] = {
    "https://platform.example/hooks/meetlink",
    "http://hooks.example.com:8080/x?y=1#z",
    "https://8.8.8.8/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://1password.com/",       /* a name that starts with a digit */
    "https://localhost.example.com/", /* not the local name */
};

static void test_url_check(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		int rc = ml_target_url_check(refused[i], "url", false);
		if (rc != ML_EINVAL)
			fail_msg("accepted %s", refused[i]);
		assert_string_equal(ml_error_field(), "url");
	}
	for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
		int rc = ml_target_url_check(invalid[i], "url", true);
		if (rc != ML_EINVAL)
			fail_msg("accepted %s even with private targets allowed", invalid[i]);
		assert_string_equal(ml_error_code(), "invalid_url");
		assert_string_equal(ml_error_field(), "url");
	}
	for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++)
		if (ml_target_url_check(accepted[i], "url", false) != 0)
			fail_msg("refused %s: %s", accepted[i], ml_error_message());
	/* The development switch lets loopback and private addresses through, not the rest. */
	assert_int_equal(ml_target_url_check("http://127.0.0.1:9/x", "url", true), 0);
	assert_int_equal(ml_target_url_check("http://localhost:9/x", "url", true), 0);
	assert_int_equal(ml_target_url_check("http://10.1.2.3/x", "url", true), 0);
	assert_int_equal(ml_target_url_check("http://0.0.0.0/x", "url", true), ML_EINVAL);
	assert_int_equal(ml_target_url_check("http://224.0.0.1/x", "url", true), ML_EINVAL);
	/* The message says what kind of address, and which field. */
	assert_int_equal(ml_target_url_check("http://169.254.169.254/", "url", false), ML_EINVAL);
	assert_string_equal(ml_error_code(), "forbidden_target");
	assert_non_null(strstr(ml_error_message(), "link-local"));
}

static struct curl_sockaddr *sa_of(struct curl_sockaddr *buf, size_t bufsz, const char *ip)
{
	memset(buf, 0, bufsz);
	buf->socktype = SOCK_STREAM;
	buf->protocol = IPPROTO_TCP;
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&buf->addr;
		buf->family = AF_INET6;
		buf->addrlen = sizeof *in6;
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &in6->sin6_addr);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&buf->addr;
		buf->family = AF_INET;
		buf->addrlen = sizeof *in;
		in->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &in->sin_addr);
	}
	return buf;
}

static void test_hooks(void **state)
{
	(void)state;
	/* Room for a sockaddr_in6, as libcurl allocates it. */
	union {
		struct curl_sockaddr sa;
		char room[sizeof(struct curl_sockaddr) + sizeof(struct sockaddr_in6)];
	} u;
	static const char *const bad[] = {"169.254.169.254", "10.0.0.1", "127.0.0.1", "0.0.0.0",
	                                  "::1", "fe80::1", "::ffff:10.1.1.1", "fd00::5"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ml_target_guard g = {false};
		curl_socket_t s =
		    ml_target_open_socket(&g, CURLSOCKTYPE_IPCXN, sa_of(&u.sa, sizeof u, bad[i]));
		if (s != CURL_SOCKET_BAD)
			fail_msg("a socket was opened for %s", bad[i]);
		assert_true(g.refused);
		assert_non_null(strstr(g.why, "refused"));
		assert_null(strstr(g.why, bad[i])); /* the address itself is not shown */
		struct ml_target_guard g2 = {false};
		assert_int_equal(ml_target_prereq(&g2, (char *)bad[i], "", 80, 1234),
		                 CURL_PREREQFUNC_ABORT);
		assert_true(g2.refused);
	}
	/* A public address gets its socket (created, never connected: no traffic). */
	struct ml_target_guard g = {false};
	curl_socket_t s =
	    ml_target_open_socket(&g, CURLSOCKTYPE_IPCXN, sa_of(&u.sa, sizeof u, "8.8.8.8"));
	assert_int_not_equal(s, CURL_SOCKET_BAD);
	assert_false(g.refused);
	close(s);
	assert_int_equal(ml_target_prereq(&g, "2606:4700::1", "", 443, 1), CURL_PREREQFUNC_OK);
	assert_int_equal(ml_target_prereq(&g, "garbage", "", 443, 1), CURL_PREREQFUNC_ABORT);
	/* Allowed for development: loopback passes. */
	struct ml_target_guard dev = {true};
	s = ml_target_open_socket(&dev, CURLSOCKTYPE_IPCXN, sa_of(&u.sa, sizeof u, "127.0.0.1"));
	assert_int_not_equal(s, CURL_SOCKET_BAD);
	close(s);
	assert_false(dev.refused);
}

static size_t sink(char *p, size_t sz, size_t n, void *u)
{
	(void)p;
	(void)u;
	return sz * n;
}

/* A loopback listener; returns its fd, the port in *port. */
static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static CURLcode deliver(int port, struct ml_target_guard *g)
{
	char url[128], map[128];
	snprintf(url, sizeof url, "http://rebound.example:%d/hook", port);
	/* What a DNS answer changed after the URL was accepted would give. */
	snprintf(map, sizeof map, "rebound.example:%d:127.0.0.1", port);
	struct curl_slist *resolve = curl_slist_append(NULL, map);
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{}");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 1500L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	ml_target_guard_apply(e, g);
	CURLcode rc = curl_easy_perform(e);
	curl_easy_cleanup(e);
	curl_slist_free_all(resolve);
	return rc;
}

static void test_rebinding_refused_before_connect(void **state)
{
	(void)state;
	int port, fd = listener(&port);
	struct ml_target_guard g = {false};
	CURLcode rc = deliver(port, &g);
	assert_int_not_equal(rc, CURLE_OK);
	assert_true(g.refused);
	assert_non_null(strstr(g.why, "loopback"));
	/* Nothing ever connected to the listener. */
	int c = accept(fd, NULL, NULL);
	assert_int_equal(c, -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);

	/* With the development switch the same request connects (the listener proves the
	 * hook lets it through; it answers nothing, so the transfer times out). */
	struct ml_target_guard dev = {true};
	deliver(port, &dev);
	assert_false(dev.refused);
	c = accept(fd, NULL, NULL);
	assert_true(c >= 0);
	close(c);
	close(fd);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_check),
	    cmocka_unit_test(test_hooks),
	    cmocka_unit_test(test_rebinding_refused_before_connect),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
