/* Calls made for other threads on the worker's curl loop (ml_worker_http_wait): the request
 * threads' one client path (connect callback, credential checks). A loopback server answers;
 * the calls come back with status and body, several threads at once; a refused connection is
 * ML_EUNAVAIL; a call still out when the worker stops ends (ML_EUNAVAIL) instead of hanging.
 * And the tools' path (ml_curl_loop_perform) on a loop of its own. */
#include "core/error.h"
#include "core/timeutil.h"
#include "queue/curl_loop.h"
#include "queue/worker.h"

#include "../tmpstore.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct ml_job_handler *const no_handlers[] = {NULL};

/* A server answering every connection with one fixed response (or never, when mute). */
struct server {
	int fd;
	int port;
	bool mute;
	pthread_t thread;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[4096];
		ssize_t n = read(c, buf, sizeof buf);
		(void)n;
		if (s->mute) {
			sleep(5);
			close(c);
			continue;
		}
		static const char resp[] = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n"
					   "Connection: close\r\n\r\nhello";
		n = write(c, resp, sizeof resp - 1);
		close(c);
	}
}

static void server_start(struct server *s, bool mute)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	s->mute = mute;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, serve, s);
	pthread_detach(s->thread);
}

static CURL *get(int port)
{
	char url[64];
	CURL *e = curl_easy_init();
	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	return e;
}

struct caller {
	struct ml_worker *w;
	int port;
	int rc;
	long status;
	char *body;
};

static void *call(void *arg)
{
	struct caller *c = arg;
	c->rc = ml_worker_http_wait(c->w, get(c->port), &c->status, &c->body);
	return NULL;
}

static void test_calls_from_other_threads(void **state)
{
	struct env *e = *state;
	struct server s;
	server_start(&s, false);
	struct ml_worker_config cfg = {.store = e->store, .handlers = no_handlers};
	struct ml_worker *w;
	assert_int_equal(ml_worker_start(&w, &cfg), 0);

	struct caller c[6];
	pthread_t t[6];
	for (int i = 0; i < 6; i++) {
		c[i] = (struct caller){w, s.port, -1, 0, NULL};
		pthread_create(&t[i], NULL, call, &c[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].rc, 0);
		assert_int_equal(c[i].status, 201);
		assert_string_equal(c[i].body, "hello");
		free(c[i].body);
	}

	/* Nobody listens there: no answer. */
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	int port = ntohs(a.sin_port);
	long status = -1;
	char *body = NULL;
	assert_int_equal(ml_worker_http_wait(w, get(port), &status, &body), ML_EUNAVAIL);
	assert_int_equal(status, 0);
	assert_string_equal(body, "");
	free(body);
	close(fd);
	ml_worker_stop(w);
	shutdown(s.fd, SHUT_RDWR);
}

static void test_stop_ends_a_waiting_call(void **state)
{
	struct env *e = *state;
	struct server s;
	server_start(&s, true);
	struct ml_worker_config cfg = {.store = e->store, .handlers = no_handlers};
	struct ml_worker *w;
	assert_int_equal(ml_worker_start(&w, &cfg), 0);
	struct caller c = {w, s.port, 1, -1, NULL};
	pthread_t t;
	pthread_create(&t, NULL, call, &c);
	usleep(200 * 1000); /* the call is out, the server silent */
	int64_t t0 = ml_mono_ms();
	ml_worker_stop(w);
	pthread_join(t, NULL);
	assert_true(ml_mono_ms() - t0 < 3000); /* not its 10 s timeout */
	assert_int_equal(c.rc, ML_EUNAVAIL);
	assert_int_equal(c.status, 0);
	free(c.body);
	shutdown(s.fd, SHUT_RDWR);
}

static size_t sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += size * n;
	return size * n;
}

static void test_tools_loop(void **state)
{
	(void)state;
	struct server s;
	server_start(&s, false);
	size_t got = 0;
	long status = 0;
	CURL *e = get(s.port);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &got);
	assert_int_equal(ml_curl_loop_perform(e), CURLE_OK);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 201);
	assert_int_equal(got, 5);
	curl_easy_cleanup(e);
	shutdown(s.fd, SHUT_RDWR);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_calls_from_other_threads, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_stop_ends_a_waiting_call, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test(test_tools_loop),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
