/* The meeting pipeline bench's load tool (bench/pipeline.sh).
 *
 *   pipeline_load create  URL KEY SERVICE_ID N CONC OUT     N pending bookings, ids to OUT
 *   pipeline_load confirm URL KEY IDS CONC RATE              confirm each (RATE/s, 0: flat out)
 *   pipeline_load raw     SB_URL TOKEN N CONC                Google events.insert, no meetlink
 *
 * Prints "key value" lines; exits 1 when any request failed (the first five on stderr). At
 * most CONC requests are in flight; with a RATE, request i is not sent before start + i/RATE.
 *
 * create and confirm share the machine's two cores with the daemon they measure, so they use
 * loadgen.c's kind of client: CONC keep-alive HTTP/1.1 connections on raw sockets
 * (bench/h1client.c), one epoll loop, one request in flight per connection, about a send, a
 * recv and a share of an epoll_wait per request. Through libcurl multi the confirm flood cost
 * ~40-60 µs of CPU per request, a tenth of the machine taken from the daemon under test.
 *
 * `raw` is the ceiling the pipeline is compared with: the same sandbox endpoint, the same
 * request body shape and partial response, the same number of calls in flight, through the
 * worker's own client (libcurl multi on the worker's event loop, src/queue/curl_loop.c, each
 * slot reusing its easy handle), so that the pipeline is compared with a bare loop of the
 * library it calls Google with.
 */
#include "h1client.h"
#include "queue/curl_loop.h"

#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define WBUF 4096
#define RBUF 16384            /* a booking is ~900 bytes; a larger answer is an error */
#define TIMEOUT_US 60000000LL /* per request, reconnects included, as curl's TIMEOUT was */
#define SCAN_US 100000        /* how often requests are checked against it */

enum mode { CREATE, CONFIRM, RAW };

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "pipeline_load: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* What every mode prints: each request's latency counts, failed ones included. */
static void report(int n, int errors, double secs, int64_t *lat)
{
	qsort(lat, (size_t)n, sizeof *lat, cmp64);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += lat[i];
	printf("requests %d\nerrors %d\nseconds %.3f\nper_s %.1f\nlat_mean_ms %.3f\n"
	       "lat_p50_ms %.3f\nlat_p99_ms %.3f\n",
	       n, errors, secs, n / secs, n ? sum / n / 1000 : 0, n ? lat[n / 2] / 1000.0 : 0,
	       n ? lat[(int)(n * 0.99)] / 1000.0 : 0);
}

static char **ids;
static int nids;

static void load_ids(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[128];
	if (!f)
		die(path, strerror(errno));
	int cap = 1024;
	ids = malloc(sizeof *ids * (size_t)cap);
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!*line)
			continue;
		if (nids == cap)
			ids = realloc(ids, sizeof *ids * (size_t)(cap *= 2));
		ids[nids++] = strdup(line);
	}
	fclose(f);
}

/* --- create and confirm: raw HTTP/1.1 keep-alive over epoll --- */

struct conn {
	int fd;
	uint32_t events; /* the epoll interest set now (0: not added), to skip unchanged updates */
	bool reused;     /* this connection has answered before (see broken) */
	bool retried;
	int idx; /* the request in flight, -1: idle */
	int64_t t0;
	size_t wlen, woff, rlen;
	char wbuf[WBUF];
	char rbuf[RBUF];
};

static struct {
	enum mode m;
	const char *service;
	FILE *out;
	char prefix[256];  /* the URL's path: every request's path starts with it */
	char headers[768]; /* Host, Authorization, Content-Type, Accept */
	struct sockaddr_storage sa;
	socklen_t salen;
	int ep, n, done, errors;
	int64_t *lat;
	int *idle, nidle;
	struct conn *cs;
} ld;

/* http://HOST[:PORT][/PATH], resolved once. */
static void resolve(const char *url, const char *key)
{
	if (strncmp(url, "http://", 7) != 0)
		die("only http:// URLs", url);
	const char *h = url + 7, *path = h + strcspn(h, "/");
	char name[256], port[16] = "80";
	int hl = (int)(path - h);
	const char *colon = h[0] == '[' ? memchr(h, ']', (size_t)hl) : memchr(h, ':', (size_t)hl);
	if (colon && *colon == ']')
		colon = colon + 1 < path && colon[1] == ':' ? colon + 1 : NULL;
	const char *name_end = colon ? colon : path;
	if (h[0] == '[')
		snprintf(name, sizeof name, "%.*s", (int)(name_end - h - 2), h + 1);
	else
		snprintf(name, sizeof name, "%.*s", (int)(name_end - h), h);
	if (colon)
		snprintf(port, sizeof port, "%.*s", (int)(path - colon - 1), colon + 1);
	size_t pl = strlen(path);
	while (pl && path[pl - 1] == '/')
		pl--;
	snprintf(ld.prefix, sizeof ld.prefix, "%.*s", (int)pl, path);
	int k = snprintf(ld.headers, sizeof ld.headers,
			 "Host: %.*s\r\nAuthorization: Bearer %s\r\n"
			 "Content-Type: application/json\r\nAccept: application/json\r\n",
			 hl, h, key);
	if (k < 0 || (size_t)k >= sizeof ld.headers)
		die("API key too long", NULL);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int rc = getaddrinfo(name, port, &hints, &ai);
	if (rc != 0)
		die(url, gai_strerror(rc));
	memcpy(&ld.sa, ai->ai_addr, ai->ai_addrlen);
	ld.salen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void build_request(struct conn *c, int i)
{
	char body[512];
	int k, bl = 0;
	if (ld.m == CREATE) {
		bl = snprintf(body, sizeof body,
			      "{\"service_id\":\"%s\",\"start\":\"2026-12-%02dT%02d:%02d:00Z\","
			      "\"customer\":{\"name\":\"Grace\",\"email\":\"grace@example.test\"}}",
			      ld.service, i % 28 + 1, i % 24, i % 60);
		k = snprintf(c->wbuf, WBUF,
			     "POST %s/v1/bookings HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s",
			     ld.prefix, ld.headers, bl, body);
	} else {
		/* One host, overlapping hours: the load says so (issue 18 §5). */
		k = snprintf(c->wbuf, WBUF,
			     "POST %s/v1/bookings/%s/confirm HTTP/1.1\r\n%sContent-Length: 22\r\n\r\n"
			     "{\"allow_overlap\":true}",
			     ld.prefix, ids[i], ld.headers);
	}
	if (k < 0 || k >= WBUF || bl >= (int)sizeof body)
		die("request too long", NULL);
	c->wlen = (size_t)k;
}

static void fail(int status, const char *why, const char *body, size_t n)
{
	if (ld.errors++ < 5)
		fprintf(stderr, "error: %s (status %d): %.*s\n", why, status,
			(int)(n < 200 ? n : 200), body);
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* which takes it out of the epoll set too */
	c->fd = -1;
	c->events = 0;
}

static void finish(struct conn *c)
{
	ld.lat[ld.done++] = now_us() - c->t0;
	c->idx = -1;
	ld.idle[ld.nidle++] = (int)(c - ld.cs);
}

static void watch(struct conn *c, uint32_t events)
{
	if (events == c->events)
		return;
	struct epoll_event ev = {.events = events, .data.ptr = c};
	epoll_ctl(ld.ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
	c->events = events;
}

static void broken(struct conn *c, const char *why);

/* Sends c's request, on a new connection when it has none. A non-blocking connect still in
 * progress makes the send wait for EPOLLOUT like a full socket buffer. */
static void send_request(struct conn *c)
{
	if (c->fd < 0) {
		c->fd = ml_h1_connect((struct sockaddr *)&ld.sa, ld.salen, true);
		if (c->fd < 0) {
			const char *e = strerror(errno);
			fail(0, "connect failed", e, strlen(e));
			finish(c);
			return;
		}
		c->reused = false;
	}
	c->woff = 0;
	c->rlen = 0;
	int r = ml_h1_send(c->fd, c->wbuf, c->wlen, &c->woff);
	if (r < 0)
		broken(c, "send failed");
	else
		watch(c, EPOLLIN | (r ? EPOLLOUT : 0));
}

/* The connection failed before a full answer (errno says how, 0: closed). When a kept-alive
 * connection ends before any byte of the answer, the server most likely closed it as the
 * request went out: the request goes again once on a new connection, as curl does. Otherwise
 * the request failed. */
static void broken(struct conn *c, const char *why)
{
	char detail[256];
	snprintf(detail, sizeof detail, "%s; %zu bytes of the answer: %.*s",
		 errno ? strerror(errno) : "connection closed", c->rlen, (int)c->rlen, c->rbuf);
	bool again = c->reused && c->rlen == 0 && !c->retried;
	conn_close(c);
	if (again) {
		c->retried = true;
		send_request(c);
		return;
	}
	fail(0, why, detail, strlen(detail));
	finish(c);
}

static void on_answer(struct conn *c, const struct ml_h1_resp *r)
{
	char id[64];
	if (r->status != (ld.m == CREATE ? 201 : 202))
		fail(r->status, "unexpected status", r->body, r->body_len);
	else if (ld.m == CREATE && !ml_h1_booking_id(r->body, r->body_len, id))
		fail(r->status, "no booking id", r->body, r->body_len);
	else if (ld.m == CREATE)
		fprintf(ld.out, "%s\n", id);
	c->reused = true;
	/* An answer before the whole request went out leaves the rest of it on the stream. */
	if (r->close || c->woff < c->wlen)
		conn_close(c);
	finish(c);
}

static void on_readable(struct conn *c)
{
	struct ml_h1_resp r;
	int p = ml_h1_recv(c->fd, c->rbuf, &c->rlen, RBUF, &r);
	if (p == -1) {
		broken(c, "no full answer");
	} else if (p == -2) {
		fail(0, "unreadable answer", c->rbuf, c->rlen);
		conn_close(c);
		finish(c);
	} else if (p == 1) {
		on_answer(c, &r);
	}
}

static void on_event(struct conn *c, uint32_t events)
{
	if (c->idx < 0) {
		/* Idle: the server ended the keep-alive; the next request reconnects. */
		conn_close(c);
		return;
	}
	if ((events & EPOLLOUT) && c->woff < c->wlen) {
		int r = ml_h1_send(c->fd, c->wbuf, c->wlen, &c->woff);
		if (r < 0) {
			broken(c, "send failed");
			return;
		}
		if (r == 0)
			watch(c, EPOLLIN);
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(c);
}

/* No request waits forever: whatever has gone unanswered for TIMEOUT_US fails. */
static void expire(int conc, int64_t now)
{
	for (int s = 0; s < conc; s++) {
		struct conn *c = &ld.cs[s];
		if (c->idx >= 0 && now - c->t0 >= TIMEOUT_US) {
			fail(0, "no full answer within 60 s", c->rbuf, c->rlen);
			conn_close(c);
			finish(c);
		}
	}
}

static int run_http(int conc, double rate)
{
	struct epoll_event evs[256];
	ld.ep = epoll_create1(EPOLL_CLOEXEC);
	ld.cs = calloc((size_t)conc, sizeof *ld.cs);
	ld.idle = calloc((size_t)conc, sizeof *ld.idle);
	ld.lat = calloc((size_t)ld.n + 1, sizeof *ld.lat);
	if (ld.ep < 0 || !ld.cs || !ld.idle || !ld.lat)
		die("cannot start", strerror(errno));
	for (int s = conc - 1; s >= 0; s--) {
		ld.cs[s].fd = -1;
		ld.cs[s].idx = -1;
		ld.idle[ld.nidle++] = s;
	}
	int launched = 0;
	int64_t start = now_us(), next_scan = start + SCAN_US;
	for (;;) {
		while (ld.nidle > 0 && launched < ld.n) {
			if (rate > 0 && launched >= (now_us() - start) * rate / 1e6)
				break;
			struct conn *c = &ld.cs[ld.idle[--ld.nidle]];
			build_request(c, launched);
			c->idx = launched++;
			c->retried = false;
			c->t0 = now_us();
			send_request(c);
		}
		if (ld.done == ld.n)
			break; /* (requests can fail at once, before any wait) */
		int64_t now = now_us(), wait = next_scan - now;
		if (wait <= 0) {
			expire(conc, now);
			next_scan = now + SCAN_US;
			wait = SCAN_US;
		}
		/* Paced: sleep until the next request is due, unless an answer comes first. */
		if (rate > 0 && ld.nidle > 0 && launched < ld.n) {
			int64_t due = start + (int64_t)(launched * 1e6 / rate) + 1;
			if (due - now < wait)
				wait = due - now;
		}
		int k = epoll_wait(ld.ep, evs, 256, wait > 0 ? (int)((wait + 999) / 1000) : 0);
		for (int i = 0; i < k; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->fd >= 0)
				on_event(c, evs[i].events);
		}
	}
	report(ld.n, ld.errors, (now_us() - start) / 1e6, ld.lat);
	for (int s = 0; s < conc; s++)
		conn_close(&ld.cs[s]);
	close(ld.ep);
	free(ld.cs);
	free(ld.idle);
	free(ld.lat);
	return ld.errors ? 1 : 0;
}

/* --- raw: libcurl multi on the worker's event loop --- */

/* The partial response the driver asks for (src/providers/google_meet.c FIELDS), encoded. */
#define RAW_FIELDS                                                                                 \
	"id%2Cstatus%2ChangoutLink%2CconferenceData%28createRequest%2Fstatus%2FstatusCode%2C"      \
	"entryPoints%28entryPointType%2Curi%29%29"

struct xfer {
	CURL *e;
	char body[1024];
	char buf[1024];
	size_t n;
	int64_t t0;
};

static size_t on_body(char *p, size_t s, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t k = s * n, room = sizeof x->buf - 1 - x->n;
	memcpy(x->buf + x->n, p, k < room ? k : room);
	x->n += k < room ? k : room;
	x->buf[x->n] = 0;
	return k;
}

static int run_raw(const char *url, const char *token, int n, int conc)
{
	curl_global_init(CURL_GLOBAL_ALL);
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conc);
	struct ml_curl_loop *loop = ml_curl_loop_new(multi);
	if (!loop)
		die("cannot start the event loop", NULL);
	struct xfer *xs = calloc((size_t)conc, sizeof *xs);
	int *free_slots = calloc((size_t)conc, sizeof *free_slots);
	int nfree = 0;
	for (int s = conc - 1; s >= 0; s--)
		free_slots[nfree++] = s;
	int64_t *lat = calloc((size_t)n + 1, sizeof *lat);
	int launched = 0, done = 0, errors = 0;
	char auth[256], u[512];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	snprintf(u, sizeof u,
		 "%s/google/calendar/v3/calendars/primary/events"
		 "?conferenceDataVersion=1&sendUpdates=none&fields=%s",
		 url, RAW_FIELDS);
	struct curl_slist *hdrs = curl_slist_append(NULL, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	int64_t start = now_us();
	uint32_t seed = (uint32_t)start;

	while (done < n) {
		while (nfree > 0 && launched < n) {
			struct xfer *x = &xs[free_slots[--nfree]];
			if (!x->e) {
				x->e = curl_easy_init();
				curl_easy_setopt(x->e, CURLOPT_POST, 1L);
				curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, hdrs);
				curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_body);
				curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
				curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
				curl_easy_setopt(x->e, CURLOPT_TIMEOUT, 60L);
				curl_easy_setopt(x->e, CURLOPT_URL, u);
			}
			x->n = 0;
			static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
			char id[40] = "r0b";
			for (int i = 3; i < 29; i++) {
				seed = seed * 1103515245u + 12345u;
				id[i] = b32[(seed >> 16) & 31];
			}
			id[29] = 0;
			snprintf(x->body, sizeof x->body,
				 "{\"id\":\"%s\",\"summary\":\"Math\",\"start\":{\"dateTime\":"
				 "\"2026-12-01T15:00:00Z\",\"timeZone\":\"UTC\"},\"end\":{"
				 "\"dateTime\":\"2026-12-01T15:50:00Z\",\"timeZone\":\"UTC\"},"
				 "\"conferenceData\":{\"createRequest\":{\"requestId\":\"%s\","
				 "\"conferenceSolutionKey\":{\"type\":\"hangoutsMeet\"}}},"
				 "\"extendedProperties\":{\"private\":{\"meetlink_booking\":\"raw\"}}}",
				 id, id);
			curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, x->body);
			x->t0 = now_us();
			curl_multi_add_handle(multi, x->e);
			launched++;
		}
		ml_curl_loop_run(loop, 100);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x;
			long status = 0;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			lat[done] = now_us() - x->t0;
			if ((msg->data.result != CURLE_OK || status != 200) && errors++ < 5)
				fprintf(stderr, "error: status %ld curl %d: %.200s\n", status,
					msg->data.result, x->buf);
			curl_multi_remove_handle(multi, x->e);
			free_slots[nfree++] = (int)(x - xs);
			done++;
		}
	}
	report(n, errors, (now_us() - start) / 1e6, lat);
	for (int s = 0; s < conc; s++)
		if (xs[s].e)
			curl_easy_cleanup(xs[s].e);
	curl_slist_free_all(hdrs);
	curl_multi_cleanup(multi);
	ml_curl_loop_free(loop);
	curl_global_cleanup();
	free(xs);
	free(free_slots);
	free(lat);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: see the comment at the top of bench/pipeline_load.c\n", stderr);
		return 2;
	}
	enum mode m = strcmp(argv[1], "create") == 0    ? CREATE
		      : strcmp(argv[1], "confirm") == 0 ? CONFIRM
							: RAW;
	int conc;
	double rate = 0;
	if (m == CREATE && argc == 8) {
		ld.service = argv[4];
		ld.n = (int)strtol(argv[5], NULL, 10);
		conc = (int)strtol(argv[6], NULL, 10);
		if (!(ld.out = fopen(argv[7], "w")))
			die(argv[7], strerror(errno));
	} else if (m == CONFIRM && argc == 7) {
		load_ids(argv[4]);
		ld.n = nids;
		conc = (int)strtol(argv[5], NULL, 10);
		rate = strtod(argv[6], NULL);
	} else if (m == RAW && argc == 6) {
		ld.n = (int)strtol(argv[4], NULL, 10);
		conc = (int)strtol(argv[5], NULL, 10);
	} else {
		fputs("bad arguments\n", stderr);
		return 2;
	}
	if (conc < 1)
		die("CONC must be at least 1", NULL);
	if (m == RAW)
		return run_raw(argv[2], argv[3], ld.n, conc);
	ld.m = m;
	resolve(argv[2], argv[3]);
	int rc = run_http(conc, rate);
	if (ld.out && fclose(ld.out) != 0)
		die(argv[7], strerror(errno));
	return rc;
}
