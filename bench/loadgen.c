/* meetlink load generator: keep-alive HTTP/1.1 clients on loopback that create and confirm
 * Jitsi bookings (or GET /healthz, or a join gateway link's pass), for a fixed time, with
 * latency histograms.
 *
 *   loadgen -p PORT -k KEY [-c CONNS] [-t THREADS] [-w WARMUP_S] [-d DURATION_S]
 *           [-m pairs|healthz|gateway] [-u /j/TOKEN/go (gateway: each GET must answer 303)]
 *
 * Each thread drives its share of the connections with epoll; every connection runs its own
 * loop: POST /v1/bookings (expects 201, reads the booking id), then
 * POST /v1/bookings/{id}/confirm (expects 200 and a "ready" meeting). Only what completes
 * inside the measured window (after the warm-up) is counted. The program stops by itself:
 * at the end of the window plus a 5 s grace period at most, whatever the server does.
 * Machine-readable results go to stdout as "key value" lines; progress goes to stderr. */
#define _GNU_SOURCE
#include "h1client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RBUF 16384
#define WBUF 2048
#define NBUCKET 2048
#define GRACE_NS (5 * 1000000000LL)

/* --- latency histogram: microseconds, ~1.5% resolution, 0 µs .. ~70 s --- */

struct hist {
	uint64_t n, sum_us, max_us;
	uint64_t b[NBUCKET];
};

static int bucket_of(uint64_t us)
{
	if (us < 128)
		return (int)us;
	int msb = 63 - __builtin_clzll(us);
	int idx = 128 + (msb - 7) * 64 + (int)((us >> (msb - 6)) & 63);
	return idx < NBUCKET ? idx : NBUCKET - 1;
}

static uint64_t bucket_value(int idx) /* the middle of the bucket */
{
	if (idx < 128)
		return (uint64_t)idx;
	int msb = (idx - 128) / 64 + 7, sub = (idx - 128) % 64;
	uint64_t lo = ((uint64_t)(64 + sub)) << (msb - 6);
	return lo + ((1ULL << (msb - 6)) >> 1);
}

static void hist_add(struct hist *h, uint64_t us)
{
	h->n++;
	h->sum_us += us;
	if (us > h->max_us)
		h->max_us = us;
	h->b[bucket_of(us)]++;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	into->n += h->n;
	into->sum_us += h->sum_us;
	if (h->max_us > into->max_us)
		into->max_us = h->max_us;
	for (int i = 0; i < NBUCKET; i++)
		into->b[i] += h->b[i];
}

static double hist_pct_ms(const struct hist *h, double p)
{
	if (!h->n)
		return 0;
	uint64_t want = (uint64_t)(p / 100.0 * (double)h->n + 0.5), seen = 0;
	if (want < 1)
		want = 1;
	for (int i = 0; i < NBUCKET; i++) {
		seen += h->b[i];
		if (seen >= want)
			return (double)bucket_value(i) / 1000.0;
	}
	return (double)h->max_us / 1000.0;
}

/* --- configuration and shared state --- */

enum mode { MODE_PAIRS, MODE_HEALTHZ, MODE_GATEWAY };

static struct {
	int port, conns, threads;
	double warmup_s, duration_s;
	enum mode mode;
	const char *key;
	char service_id[64];
	/* The GET of healthz and gateway modes, and the status it must answer: /healthz 200, a
	 * join gateway link's /go 303 (a pass, recorded, then the redirect into the meeting). */
	const char *path;
	int expect;
} cfg = {0, 64, 2, 2.0, 10.0, MODE_PAIRS, NULL, "", "/healthz", 200};

static int64_t t_start, t_measure, t_end; /* CLOCK_MONOTONIC ns */
static atomic_int verbose_errors = 5;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("loadgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void report_error(const char *what, int status, const char *body, size_t n)
{
	if (atomic_fetch_sub(&verbose_errors, 1) > 0)
		fprintf(stderr, "loadgen: %s (HTTP %d): %.*s\n", what, status,
			(int)(n > 300 ? 300 : n), body ? body : "");
}

/* --- one connection --- */

enum step { ST_CREATE, ST_CONFIRM, ST_HEALTHZ };

struct conn {
	int fd;
	enum step step;
	char wbuf[WBUF];
	size_t wlen, woff;
	char rbuf[RBUF];
	size_t rlen;
	int64_t t_req, t_pair;
	char booking_id[64];
	uint64_t seq;
	int id;
};

struct worker {
	pthread_t th;
	int idx, first, count;
	struct conn *c;
	int ep;
	struct hist pair, create, confirm, healthz;
	uint64_t pairs, requests, errors, err_status, err_parse, err_ready, err_conn;
};

static int connect_lo(void)
{
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)cfg.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return ml_h1_connect((struct sockaddr *)&sa, sizeof sa, false);
}

static void build_request(struct conn *c)
{
	char body[512];
	int bl;
	switch (c->step) {
	case ST_HEALTHZ:
		c->wlen = (size_t)snprintf(c->wbuf, WBUF,
					   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", cfg.path);
		break;
	case ST_CREATE: {
		/* Distinct customers and start times, like real traffic; all valid. The bookings
		 * never overlap (one 50-minute booking per hour of the host's calendar, the hours
		 * dealt out across the connections), so each confirm runs the host's conflict
		 * check (issue 18 §5) and passes it, as an ordinary confirm does. */
		char start[32];
		struct tm tm;
		time_t t = (time_t)1798761600 /* 2027-01-01T00:00:00Z */ +
			   (time_t)(c->seq * (uint64_t)cfg.conns + (uint64_t)c->id) * 3600;
		gmtime_r(&t, &tm);
		strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
		bl = snprintf(body, sizeof body,
			      "{\"service_id\":\"%s\",\"start\":\"%s\","
			      "\"customer\":{\"name\":\"Customer %d-%llu\","
			      "\"email\":\"c%d.%llu@example.com\"}}",
			      cfg.service_id, start, c->id, (unsigned long long)c->seq, c->id,
			      (unsigned long long)c->seq);
		c->wlen = (size_t)snprintf(c->wbuf, WBUF,
					   "POST /v1/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
					   "Authorization: Bearer %s\r\n"
					   "Content-Type: application/json\r\n"
					   "Content-Length: %d\r\n\r\n%s",
					   cfg.key, bl, body);
		break;
	}
	case ST_CONFIRM:
		c->wlen = (size_t)snprintf(c->wbuf, WBUF,
					   "POST /v1/bookings/%s/confirm HTTP/1.1\r\n"
					   "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
					   "Content-Type: application/json\r\nContent-Length: 0\r\n\r\n",
					   c->booking_id, cfg.key);
		break;
	}
	c->woff = 0;
	c->rlen = 0;
}

static void conn_close(struct worker *w, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

static bool in_window(int64_t t)
{
	return t >= t_measure && t < t_end;
}

/* Starts the connection's next request; reconnects if needed. false = give up on it. */
static bool start_next(struct worker *w, struct conn *c, int64_t now)
{
	if (now >= t_end) {
		conn_close(w, c);
		return false;
	}
	if (c->fd < 0) {
		c->fd = connect_lo();
		if (c->fd < 0) {
			if (in_window(now))
				w->err_conn++;
			return false;
		}
		fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	if (c->step == ST_CREATE) {
		c->seq++;
		c->t_pair = now;
	}
	build_request(c);
	c->t_req = now;
	int r = ml_h1_send(c->fd, c->wbuf, c->wlen, &c->woff);
	if (r < 0) {
		if (in_window(now))
			w->err_conn++;
		conn_close(w, c);
		return false;
	}
	struct epoll_event ev = {.events = EPOLLIN | (r ? EPOLLOUT : 0), .data.ptr = c};
	epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

/* A full response arrived on c: account for it and move on. */
static void on_response(struct worker *w, struct conn *c, int status, const char *body,
			size_t blen, int64_t now)
{
	uint64_t us = (uint64_t)((now - c->t_req) / 1000);
	bool count = in_window(now);
	bool ok = true;

	if (count)
		w->requests++;
	switch (c->step) {
	case ST_HEALTHZ:
		if (status != cfg.expect) {
			ok = false;
			if (count)
				w->err_status++;
			report_error(cfg.mode == MODE_GATEWAY ? "gateway pass" : "healthz", status,
				     body, blen);
		} else if (count) {
			hist_add(&w->healthz, us);
		}
		break;
	case ST_CREATE:
		if (status != 201) {
			ok = false;
			if (count)
				w->err_status++;
			report_error("create", status, body, blen);
		} else if (!ml_h1_booking_id(body, blen, c->booking_id)) {
			ok = false;
			if (count)
				w->err_parse++;
			report_error("create: no booking id", status, body, blen);
		} else {
			if (count)
				hist_add(&w->create, us);
			c->step = ST_CONFIRM;
		}
		break;
	case ST_CONFIRM:
		c->step = ST_CREATE;
		if (status != 200) {
			ok = false;
			if (count)
				w->err_status++;
			report_error("confirm", status, body, blen);
		} else if (!memmem(body, blen, "\"status\":\"ready\"", 16) ||
			   !memmem(body, blen, "\"status\":\"confirmed\"", 20)) {
			ok = false;
			if (count)
				w->err_ready++;
			report_error("confirm: meeting not ready", status, body, blen);
		} else if (count) {
			hist_add(&w->confirm, us);
			hist_add(&w->pair, (uint64_t)((now - c->t_pair) / 1000));
			w->pairs++;
		}
		break;
	}
	if (!ok) {
		if (c->step != ST_HEALTHZ)
			c->step = ST_CREATE;
	}
}

static void on_readable(struct worker *w, struct conn *c)
{
	struct ml_h1_resp resp;
	int r = ml_h1_recv(c->fd, c->rbuf, &c->rlen, RBUF, &resp);
	if (r == 0)
		return;
	int64_t now = now_ns();
	if (r == -1) { /* closed or failed mid-request */
		if (in_window(now))
			w->err_conn++;
		conn_close(w, c);
		if (c->step == ST_CONFIRM)
			c->step = ST_CREATE;
		start_next(w, c, now);
		return;
	}
	if (r == -2) {
		if (in_window(now))
			w->err_parse++;
		report_error("unparseable response", 0, c->rbuf, c->rlen);
		conn_close(w, c);
		c->step = cfg.mode == MODE_PAIRS ? ST_CREATE : ST_HEALTHZ;
		start_next(w, c, now);
		return;
	}
	on_response(w, c, resp.status, resp.body, resp.body_len, now);
	if (resp.close)
		conn_close(w, c);
	start_next(w, c, now);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[64];

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	if (w->ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < w->count; i++) {
		struct conn *c = &w->c[i];
		c->fd = -1;
		c->id = w->first + i;
		c->step = cfg.mode == MODE_PAIRS ? ST_CREATE : ST_HEALTHZ;
		start_next(w, c, now_ns());
	}
	for (;;) {
		int64_t now = now_ns();
		if (now >= t_end + GRACE_NS)
			break; /* hard bound: whatever is still in flight is abandoned */
		bool any = false;
		for (int i = 0; i < w->count; i++)
			if (w->c[i].fd >= 0)
				any = true;
		if (!any) {
			if (now >= t_end)
				break;
			/* Every connection failed to (re)connect: retry shortly. */
			usleep(10000);
			for (int i = 0; i < w->count; i++)
				if (w->c[i].fd < 0)
					start_next(w, &w->c[i], now_ns());
			continue;
		}
		int n = epoll_wait(w->ep, evs, 64, 100);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd < 0)
				continue;
			if (evs[i].events & EPOLLOUT) {
				int r = ml_h1_send(c->fd, c->wbuf, c->wlen, &c->woff);
				if (r < 0) {
					conn_close(w, c);
					continue;
				}
				if (r == 0) {
					struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
					epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
				}
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(w, c);
		}
	}
	for (int i = 0; i < w->count; i++)
		conn_close(w, &w->c[i]);
	close(w->ep);
	return NULL;
}

/* --- setup: one host, one Jitsi service, over a blocking connection --- */

static int simple_request(const char *method, const char *path, const char *body, char *out,
			  size_t outsz)
{
	int fd = connect_lo();
	if (fd < 0)
		die("cannot connect to 127.0.0.1:%d: %s", cfg.port, strerror(errno));
	char req[2048];
	int n = snprintf(req, sizeof req,
			 "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 method, path, cfg.key, strlen(body), body);
	if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n)
		die("send failed");
	size_t len = 0;
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (;;) {
		ssize_t r = recv(fd, out + len, outsz - 1 - len, 0);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == outsz - 1)
			break;
	}
	out[len] = '\0';
	close(fd);
	return len > 12 ? atoi(out + 9) : 0;
}

static void json_id(const char *resp, const char *prefix, char out[64])
{
	char pat[32];
	snprintf(pat, sizeof pat, "\"id\":\"%s", prefix);
	const char *p = strstr(resp, pat);
	if (!p)
		die("no %s id in: %.300s", prefix, resp);
	p += 6;
	size_t n = strcspn(p, "\"");
	if (n >= 64)
		die("id too long");
	memcpy(out, p, n);
	out[n] = '\0';
}

static void setup(void)
{
	char resp[8192], host_id[64], body[512];
	int st = simple_request("POST", "/v1/hosts",
				"{\"name\":\"Bench Host\",\"email\":\"host@example.com\","
				"\"timezone\":\"Europe/Paris\"}",
				resp, sizeof resp);
	if (st != 201)
		die("POST /v1/hosts answered %d: %.300s", st, resp);
	json_id(resp, "hst_", host_id);
	snprintf(body, sizeof body,
		 "{\"host_id\":\"%s\",\"name\":\"Bench call\",\"is_online\":true,"
		 "\"platform\":\"jitsi\",\"duration_minutes\":50}",
		 host_id);
	st = simple_request("POST", "/v1/services", body, resp, sizeof resp);
	if (st != 201)
		die("POST /v1/services answered %d: %.300s", st, resp);
	json_id(resp, "svc_", cfg.service_id);
}

/* --- main --- */

static void usage(void)
{
	fputs("usage: loadgen -p PORT [-k API_KEY] [-c CONNS=64] [-t THREADS=2] [-w WARMUP_S=2]\n"
	      "               [-d DURATION_S=10] [-m pairs|healthz|gateway] [-u PATH]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int opt;
	while ((opt = getopt(argc, argv, "p:k:c:t:w:d:m:u:")) != -1) {
		switch (opt) {
		case 'p': cfg.port = atoi(optarg); break;
		case 'k': cfg.key = optarg; break;
		case 'c': cfg.conns = atoi(optarg); break;
		case 't': cfg.threads = atoi(optarg); break;
		case 'w': cfg.warmup_s = atof(optarg); break;
		case 'd': cfg.duration_s = atof(optarg); break;
		case 'u': cfg.path = optarg; break;
		case 'm':
			if (strcmp(optarg, "pairs") == 0)
				cfg.mode = MODE_PAIRS;
			else if (strcmp(optarg, "healthz") == 0)
				cfg.mode = MODE_HEALTHZ;
			else if (strcmp(optarg, "gateway") == 0)
				cfg.mode = MODE_GATEWAY;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (cfg.port <= 0 || cfg.port > 65535 || cfg.conns < 1 || cfg.conns > 10000 ||
	    cfg.threads < 1 || cfg.warmup_s < 0 || cfg.warmup_s > 60 || cfg.duration_s <= 0 ||
	    cfg.duration_s > 600 || (cfg.mode == MODE_PAIRS && !cfg.key) ||
	    (cfg.mode == MODE_GATEWAY && strncmp(cfg.path, "/j/", 3) != 0) ||
	    strlen(cfg.path) > 200 || strpbrk(cfg.path, " \r\n"))
		usage();
	if (cfg.mode == MODE_GATEWAY)
		cfg.expect = 303;
	if (cfg.threads > cfg.conns)
		cfg.threads = cfg.conns;
	if (!cfg.key)
		cfg.key = "none";
	if (cfg.mode == MODE_PAIRS)
		setup();

	struct worker *ws = calloc((size_t)cfg.threads, sizeof *ws);
	struct conn *conns = calloc((size_t)cfg.conns, sizeof *conns);
	if (!ws || !conns)
		die("out of memory");
	t_start = now_ns();
	t_measure = t_start + (int64_t)(cfg.warmup_s * 1e9);
	t_end = t_measure + (int64_t)(cfg.duration_s * 1e9);
	for (int i = 0, first = 0; i < cfg.threads; i++) {
		int share = cfg.conns / cfg.threads + (i < cfg.conns % cfg.threads);
		ws[i].idx = i;
		ws[i].first = first;
		ws[i].count = share;
		ws[i].c = conns + first;
		first += share;
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) != 0)
			die("pthread_create failed");
	}
	struct worker tot = {0};
	for (int i = 0; i < cfg.threads; i++) {
		pthread_join(ws[i].th, NULL);
		hist_merge(&tot.pair, &ws[i].pair);
		hist_merge(&tot.create, &ws[i].create);
		hist_merge(&tot.confirm, &ws[i].confirm);
		hist_merge(&tot.healthz, &ws[i].healthz);
		tot.pairs += ws[i].pairs;
		tot.requests += ws[i].requests;
		tot.err_status += ws[i].err_status;
		tot.err_parse += ws[i].err_parse;
		tot.err_ready += ws[i].err_ready;
		tot.err_conn += ws[i].err_conn;
	}

	tot.errors = tot.err_status + tot.err_parse + tot.err_ready + tot.err_conn;
	double d = cfg.duration_s;
	printf("mode %s\nconnections %d\nthreads %d\nwarmup_s %.1f\nduration_s %.1f\n",
	       cfg.mode == MODE_PAIRS ? "pairs" : cfg.mode == MODE_GATEWAY ? "gateway" : "healthz",
	       cfg.conns, cfg.threads,
	       cfg.warmup_s, d);
	printf("requests %llu\nrequests_per_s %.0f\n", (unsigned long long)tot.requests,
	       (double)tot.requests / d);
	if (cfg.mode == MODE_PAIRS) {
		printf("pairs %llu\npairs_per_s %.0f\n", (unsigned long long)tot.pairs,
		       (double)tot.pairs / d);
		const struct {
			const char *name;
			struct hist *h;
		} hs[] = {{"pair", &tot.pair}, {"create", &tot.create}, {"confirm", &tot.confirm}};
		for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
			printf("%s_p50_ms %.2f\n%s_p90_ms %.2f\n%s_p99_ms %.2f\n%s_max_ms %.2f\n"
			       "%s_mean_ms %.2f\n",
			       hs[i].name, hist_pct_ms(hs[i].h, 50), hs[i].name,
			       hist_pct_ms(hs[i].h, 90), hs[i].name, hist_pct_ms(hs[i].h, 99),
			       hs[i].name, (double)hs[i].h->max_us / 1000.0, hs[i].name,
			       hs[i].h->n ? (double)hs[i].h->sum_us / (double)hs[i].h->n / 1000.0
					  : 0.0);
	} else {
		const char *nm = cfg.mode == MODE_GATEWAY ? "gateway" : "healthz";
		printf("%s_p50_ms %.2f\n%s_p99_ms %.2f\n", nm, hist_pct_ms(&tot.healthz, 50), nm,
		       hist_pct_ms(&tot.healthz, 99));
	}
	printf("errors %llu\nerrors_status %llu\nerrors_parse %llu\nerrors_not_ready %llu\n"
	       "errors_connection %llu\n",
	       (unsigned long long)tot.errors, (unsigned long long)tot.err_status,
	       (unsigned long long)tot.err_parse, (unsigned long long)tot.err_ready,
	       (unsigned long long)tot.err_conn);
	free(ws);
	free(conns);
	return 0;
}
