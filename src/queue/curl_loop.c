/* The worker's libcurl multi event loop (see curl_loop.h): CURLMOPT_SOCKETFUNCTION keeps an
 * epoll set in step with the sockets curl wants watched, CURLMOPT_TIMERFUNCTION records when
 * curl must be called for its timeouts, and an eventfd in the same set carries wakeups from
 * other threads. It needs only libc and libcurl: bench/pipeline_load.c drives its calls with
 * the same loop. */
#include "queue/curl_loop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_MAX 256

struct ml_curl_loop {
	CURLM *multi;
	int epfd;
	int wakefd;
	int64_t timer_at; /* monotonic ms when curl's timeout is due; -1: none */
	ml_curl_loop_sock_fn on_sock;
	void *on_sock_arg;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct ml_curl_loop *l = userp;
	if (l->on_sock && easy)
		l->on_sock(easy, what == CURL_POLL_REMOVE ? CURL_SOCKET_BAD : s, l->on_sock_arg);
	if (what == CURL_POLL_REMOVE) {
		/* The socket may already be closed (then epoll forgot it by itself). */
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL);
		curl_multi_assign(l->multi, s, NULL);
		return 0;
	}
	struct epoll_event ev = {0};
	ev.data.fd = s;
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	/* socketp marks a socket already in the set (curl keeps it for us). */
	if (socketp) {
		if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev) == 0 || errno != ENOENT)
			return 0;
	}
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev) != 0 && errno == EEXIST)
		epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev);
	curl_multi_assign(l->multi, s, (void *)1);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct ml_curl_loop *l = userp;
	l->timer_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	return 0;
}

struct ml_curl_loop *ml_curl_loop_new(CURLM *multi)
{
	struct ml_curl_loop *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->multi = multi;
	l->timer_at = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->wakefd};
	if (l->epfd < 0 || l->wakefd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev)) {
		ml_curl_loop_free(l);
		return NULL;
	}
	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(multi, CURLMOPT_TIMERDATA, l);
	return l;
}

void ml_curl_loop_free(struct ml_curl_loop *l)
{
	if (!l)
		return;
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	free(l);
}

void ml_curl_loop_on_socket(struct ml_curl_loop *l, ml_curl_loop_sock_fn fn, void *arg)
{
	l->on_sock = fn;
	l->on_sock_arg = arg;
}

void ml_curl_loop_wake(struct ml_curl_loop *l)
{
	uint64_t one = 1;
	ssize_t n = write(l->wakefd, &one, sizeof one);
	(void)n; /* EAGAIN: the counter is already non-zero, a wakeup is pending anyway */
}

CURLcode ml_curl_loop_perform(CURL *easy)
{
	CURLM *multi = curl_multi_init();
	struct ml_curl_loop *l = multi ? ml_curl_loop_new(multi) : NULL;
	CURLcode cc = CURLE_FAILED_INIT;
	bool done = false;
	if (!l || curl_multi_add_handle(multi, easy) != CURLM_OK)
		goto out;
	/* The easy handle's own timeouts bound this loop. */
	while (!done) {
		CURLMsg *msg;
		int left;
		ml_curl_loop_run(l, 1000);
		while ((msg = curl_multi_info_read(multi, &left)))
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
				cc = msg->data.result;
				done = true;
			}
	}
	curl_multi_remove_handle(multi, easy);
out:
	if (multi)
		curl_multi_cleanup(multi);
	ml_curl_loop_free(l);
	return cc;
}

void ml_curl_loop_run(struct ml_curl_loop *l, int max_wait_ms)
{
	int running;
	int wait = max_wait_ms;
	if (l->timer_at >= 0) {
		int64_t left = l->timer_at - mono_ms();
		if (left < wait)
			wait = left < 0 ? 0 : (int)left;
	}
	struct epoll_event evs[EVENTS_MAX];
	int n = epoll_wait(l->epfd, evs, EVENTS_MAX, wait);
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == l->wakefd) {
			uint64_t v;
			ssize_t r = read(l->wakefd, &v, sizeof v);
			(void)r;
			continue;
		}
		int flags = 0;
		if (evs[i].events & (EPOLLIN | EPOLLHUP))
			flags |= CURL_CSELECT_IN;
		if (evs[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (evs[i].events & EPOLLERR)
			flags |= CURL_CSELECT_ERR;
		curl_multi_socket_action(l->multi, evs[i].data.fd, flags, &running);
	}
	if (l->timer_at >= 0 && mono_ms() >= l->timer_at) {
		l->timer_at = -1;
		curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
}
