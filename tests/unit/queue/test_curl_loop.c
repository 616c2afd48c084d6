/* The worker's curl event loop (src/queue/curl_loop.c) against a tiny local HTTP server:
 * many transfers at once all finish, curl's own timeouts fire (the timer path), and a wake
 * from another thread ends a long wait. */
#include "queue/curl_loop.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* --- a server: one thread per connection; "/slow" never answers (until closed) --- */

struct server {
	int fd;
	int port;
	pthread_t thread;
};

static void *conn_main(void *arg)
{
	int c = (int)(intptr_t)arg;
	char buf[2048];
	size_t n = 0;
	for (;;) {
		ssize_t r = recv(c, buf + n, sizeof buf - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		buf[n] = 0;
		if (strstr(buf, "\r\n\r\n")) {
			if (strncmp(buf, "GET /slow", 9) == 0) {
				while (recv(c, buf, sizeof buf, 0) > 0) /* until the client gives up */
					;
				break;
			}
			static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
						 "Connection: close\r\n\r\nok";
			ssize_t w = send(c, ok, sizeof ok - 1, MSG_NOSIGNAL);
			(void)w;
			break;
		}
	}
	close(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL; /* the listening socket was shut down */
		pthread_t t;
		pthread_create(&t, NULL, conn_main, (void *)(intptr_t)c);
		pthread_detach(t);
	}
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 256), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, accept_main, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->thread, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *easy_for(const struct server *s, const char *path, long timeout_ms)
{
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	return e;
}

/* Runs the loop until `n` transfers have finished (or 20 s pass); counts results. */
static int drive(CURLM *multi, struct ml_curl_loop *loop, int n, int *ok, int *timedout)
{
	int done = 0;
	int64_t deadline = now_ms() + 20000;
	while (done < n && now_ms() < deadline) {
		ml_curl_loop_run(loop, 100);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			long status = 0;
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			if (m->data.result == CURLE_OK && status == 200)
				(*ok)++;
			if (m->data.result == CURLE_OPERATION_TIMEDOUT)
				(*timedout)++;
			curl_multi_remove_handle(multi, m->easy_handle);
			curl_easy_cleanup(m->easy_handle);
			done++;
		}
	}
	return done;
}

static void many_transfers_all_finish(void **st)
{
	(void)st;
	struct server s;
	server_start(&s);
	CURLM *multi = curl_multi_init();
	struct ml_curl_loop *loop = ml_curl_loop_new(multi);
	assert_non_null(loop);
	enum { N = 64 };
	for (int i = 0; i < N; i++)
		curl_multi_add_handle(multi, easy_for(&s, "/", 10000));
	int ok = 0, timedout = 0;
	assert_int_equal(drive(multi, loop, N, &ok, &timedout), N);
	assert_int_equal(ok, N);
	/* And again on the same loop: sockets closed by the first round were forgotten. */
	for (int i = 0; i < N; i++)
		curl_multi_add_handle(multi, easy_for(&s, "/", 10000));
	ok = 0;
	assert_int_equal(drive(multi, loop, N, &ok, &timedout), N);
	assert_int_equal(ok, N);
	assert_int_equal(timedout, 0);
	curl_multi_cleanup(multi);
	ml_curl_loop_free(loop);
	server_stop(&s);
}

/* A call the server never answers ends by curl's own timeout: only the timer callback can
 * make that happen, no socket becomes ready. */
static void curl_timeouts_fire(void **st)
{
	(void)st;
	struct server s;
	server_start(&s);
	CURLM *multi = curl_multi_init();
	struct ml_curl_loop *loop = ml_curl_loop_new(multi);
	curl_multi_add_handle(multi, easy_for(&s, "/slow", 300));
	curl_multi_add_handle(multi, easy_for(&s, "/", 10000));
	int ok = 0, timedout = 0;
	assert_int_equal(drive(multi, loop, 2, &ok, &timedout), 2);
	assert_int_equal(ok, 1);
	assert_int_equal(timedout, 1);
	curl_multi_cleanup(multi);
	ml_curl_loop_free(loop);
	server_stop(&s);
}

static void *waker(void *arg)
{
	usleep(50 * 1000);
	ml_curl_loop_wake(arg);
	return NULL;
}

/* Nothing in flight, a 30 s wait: a wake from another thread ends it. */
static void wake_ends_a_wait(void **st)
{
	(void)st;
	CURLM *multi = curl_multi_init();
	struct ml_curl_loop *loop = ml_curl_loop_new(multi);
	pthread_t t;
	int64_t t0 = now_ms();
	pthread_create(&t, NULL, waker, loop);
	ml_curl_loop_run(loop, 30000);
	int64_t waited = now_ms() - t0;
	pthread_join(t, NULL);
	assert_true(waited < 15000);
	/* A wake already consumed does not end the next wait early. */
	t0 = now_ms();
	ml_curl_loop_run(loop, 200);
	assert_true(now_ms() - t0 >= 150);
	curl_multi_cleanup(multi);
	ml_curl_loop_free(loop);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_ALL);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(many_transfers_all_finish),
	    cmocka_unit_test(curl_timeouts_fire),
	    cmocka_unit_test(wake_ends_a_wait),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
