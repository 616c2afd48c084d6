/* Streamed answers (http/stream.c) on a real server, in both threading models: the first
 * bytes arrive at once, a wake sends what is new within milliseconds, a quiet stream gets
 * keep-alives, the client leaving closes the stream, and stopping the server ends streams
 * that are still open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/timeutil.h"
#include "http/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct tstream {
	pthread_mutex_t mu;
	struct ml_http_stream *hs;
	int due; /* events to write */
	int sent;
	bool hello;
};

static struct tstream *current;
static atomic_int closed;

static void t_attach(void *arg, struct ml_http_stream *s)
{
	struct tstream *t = arg;
	pthread_mutex_lock(&t->mu);
	t->hs = s;
	current = t;
	pthread_mutex_unlock(&t->mu);
}

static long t_read(void *arg, char *buf, size_t max, bool idle)
{
	struct tstream *t = arg;
	pthread_mutex_lock(&t->mu);
	long n = 0;
	if (!t->hello) {
		n = snprintf(buf, max, ": hello\n\n");
		t->hello = true;
	} else if (t->sent < t->due) {
		n = snprintf(buf, max, "data: %d\n\n", ++t->sent);
	} else if (idle) {
		n = snprintf(buf, max, ": ka\n\n");
	}
	pthread_mutex_unlock(&t->mu);
	return n;
}

static void t_close(void *arg)
{
	struct tstream *t = arg;
	pthread_mutex_lock(&t->mu);
	if (current == t)
		current = NULL;
	pthread_mutex_unlock(&t->mu);
	pthread_mutex_destroy(&t->mu);
	free(t);
	atomic_fetch_add(&closed, 1);
}

static const struct ml_http_stream_ops tops = {t_attach, t_read, t_close};

static void dispatch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct tstream *t = calloc(1, sizeof *t);
	(void)req;
	pthread_mutex_init(&t->mu, NULL);
	ml_resp_stream(resp, 200, "text/event-stream", &tops, t);
}

static int connect_to(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	const char req[] = "GET /s HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	return fd;
}

/* Reads until `want` has been seen (or timeout_ms); true when it was. */
static bool read_until(int fd, const char *want, int timeout_ms, char *acc, size_t cap)
{
	size_t len = strlen(acc);
	int64_t end = ml_mono_ms() + timeout_ms;
	while (!strstr(acc, want)) {
		int64_t left = end - ml_mono_ms();
		struct pollfd p = {fd, POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
		ssize_t n = read(fd, acc + len, cap - len - 1);
		if (n <= 0)
			return false;
		len += (size_t)n;
		acc[len] = '\0';
	}
	return true;
}

static void wake_current(int due)
{
	for (int i = 0; i < 200 && !current; i++)
		usleep(1000);
	struct tstream *t = current;
	assert_non_null(t);
	pthread_mutex_lock(&t->mu);
	t->due = due;
	ml_http_stream_wake(t->hs);
	pthread_mutex_unlock(&t->mu);
}

static void run(unsigned pool)
{
	struct ml_http_server *srv;
	struct ml_http_config cfg = {.listen = "127.0.0.1:0", .pool = pool, .dispatch = dispatch,
				     .stream_idle_ms = 300};
	char acc[8192] = "";
	atomic_store(&closed, 0);
	assert_int_equal(ml_http_start(&srv, &cfg), 0);
	int fd = connect_to(ml_http_port(srv));
	assert_true(read_until(fd, "text/event-stream", 2000, acc, sizeof acc));
	assert_true(read_until(fd, ": hello", 2000, acc, sizeof acc));
	/* A wake sends at once. */
	int64_t t0 = ml_mono_ms();
	wake_current(1);
	assert_true(read_until(fd, "data: 1\n\n", 2000, acc, sizeof acc));
	assert_true(ml_mono_ms() - t0 < 100);
	wake_current(3);
	assert_true(read_until(fd, "data: 3\n\n", 2000, acc, sizeof acc));
	/* Quiet: keep-alives, within the idle time and a bit. */
	assert_true(read_until(fd, ": ka", 1000, acc, sizeof acc));
	/* The client goes away: the next keep-alive's write fails and the stream closes. */
	close(fd);
	for (int i = 0; i < 300 && atomic_load(&closed) == 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&closed), 1);
	/* A stream still open when the server stops is ended, not waited for. */
	fd = connect_to(ml_http_port(srv));
	acc[0] = '\0';
	assert_true(read_until(fd, ": hello", 2000, acc, sizeof acc));
	t0 = ml_mono_ms();
	ml_http_stop(srv);
	assert_true(ml_mono_ms() - t0 < 2000);
	assert_int_equal(atomic_load(&closed), 2);
	close(fd);
}

static void test_thread_per_connection(void **state)
{
	(void)state;
	run(0);
}

static void test_pool(void **state)
{
	(void)state;
	run(2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thread_per_connection),
		cmocka_unit_test(test_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
