/* The meeting pipeline bench's load tool (bench/pipeline.sh): libcurl multi, one thread, driven
 * by the worker's own event loop (src/queue/curl_loop.c: curl's socket interface over epoll),
 * each slot reusing its easy handle, so the tool's own CPU per call stays small.
 *
 *   pipeline_load create  URL KEY SERVICE_ID N CONC OUT     N pending bookings, ids to OUT
 *   pipeline_load confirm URL KEY IDS CONC RATE              confirm each (RATE/s, 0: flat out)
 *   pipeline_load raw     SB_URL TOKEN N CONC                Google events.insert, no meetlink
 *
 * Prints "key value" lines. `raw` is the ceiling the pipeline is compared with: the same
 * sandbox endpoint, the same request body shape and partial response, the same number of
 * calls in flight.
 */
#include "queue/curl_loop.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct xfer {
	CURL *e;
	char *body;
	char buf[1024];
	size_t n;
	int64_t t0;
	int idx;
};

/* The partial response the driver asks for (src/providers/google_meet.c FIELDS), encoded. */
#define RAW_FIELDS                                                                                 \
	"id%2Cstatus%2ChangoutLink%2CconferenceData%28createRequest%2Fstatus%2FstatusCode%2C"      \
	"entryPoints%28entryPointType%2Curi%29%29"

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t on_body(char *p, size_t s, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t k = s * n, room = sizeof x->buf - 1 - x->n;
	memcpy(x->buf + x->n, p, k < room ? k : room);
	x->n += k < room ? k : room;
	x->buf[x->n] = 0;
	return k;
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static char **ids;
static int nids;

static void load_ids(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[128];
	if (!f) {
		perror(path);
		exit(1);
	}
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

enum mode { CREATE, CONFIRM, RAW };

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: see the comment at the top of bench/pipeline_load.c\n", stderr);
		return 2;
	}
	enum mode m = strcmp(argv[1], "create") == 0    ? CREATE
		      : strcmp(argv[1], "confirm") == 0 ? CONFIRM
							: RAW;
	const char *url = argv[2], *key = argv[3];
	int n = 0, conc = 64;
	double rate = 0;
	const char *service = NULL;
	FILE *out = NULL;
	if (m == CREATE && argc == 8) {
		service = argv[4];
		n = (int)strtol(argv[5], NULL, 10);
		conc = (int)strtol(argv[6], NULL, 10);
		out = fopen(argv[7], "w");
	} else if (m == CONFIRM && argc == 7) {
		load_ids(argv[4]);
		n = nids;
		conc = (int)strtol(argv[5], NULL, 10);
		rate = strtod(argv[6], NULL);
	} else if (m == RAW && argc == 6) {
		n = (int)strtol(argv[4], NULL, 10);
		conc = (int)strtol(argv[5], NULL, 10);
	} else {
		fputs("bad arguments\n", stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)conc);
	struct ml_curl_loop *loop = ml_curl_loop_new(multi);
	if (!loop) {
		fputs("cannot start the event loop\n", stderr);
		return 2;
	}
	struct xfer *xs = calloc((size_t)conc, sizeof *xs);
	int *free_slots = calloc((size_t)conc, sizeof *free_slots);
	int nfree = 0;
	for (int s = conc - 1; s >= 0; s--)
		free_slots[nfree++] = s;
	int64_t *lat = calloc((size_t)n + 1, sizeof *lat);
	int launched = 0, done = 0, errors = 0;
	char auth[256];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
	struct curl_slist *hdrs = curl_slist_append(NULL, auth);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	int64_t start = now_us();
	uint32_t seed = (uint32_t)start;

	while (done < n) {
		/* Launch into free slots (paced when a rate is given). */
		while (nfree > 0 && launched < n) {
			if (rate > 0 && launched >= (now_us() - start) * rate / 1e6)
				break;
			struct xfer *x = &xs[free_slots[--nfree]];
			if (!x->e) {
				x->e = curl_easy_init();
				curl_easy_setopt(x->e, CURLOPT_POST, 1L);
				curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, hdrs);
				curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_body);
				curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
				curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
				curl_easy_setopt(x->e, CURLOPT_TIMEOUT, 60L);
			}
			x->n = 0;
			x->idx = launched;
			char u[512];
			if (m == CREATE) {
				snprintf(u, sizeof u, "%s/v1/bookings", url);
				x->body = malloc(512);
				snprintf(x->body, 512,
					 "{\"service_id\":\"%s\",\"start\":\"2026-12-%02dT%02d:%02d:00Z\","
					 "\"customer\":{\"name\":\"Grace\",\"email\":\"grace@example.test\"}}",
					 service, launched % 28 + 1, launched % 24, launched % 60);
			} else if (m == CONFIRM) {
				snprintf(u, sizeof u, "%s/v1/bookings/%s/confirm", url, ids[launched]);
				x->body = strdup("");
			} else {
				static const char b32[] = "0123456789abcdefghijklmnopqrstuv";
				char id[40] = "r0b";
				for (int i = 3; i < 29; i++) {
					seed = seed * 1103515245u + 12345u;
					id[i] = b32[(seed >> 16) & 31];
				}
				id[29] = 0;
				snprintf(u, sizeof u,
					 "%s/google/calendar/v3/calendars/primary/events"
					 "?conferenceDataVersion=1&sendUpdates=none&fields=%s", url,
					 RAW_FIELDS);
				x->body = malloc(1024);
				snprintf(x->body, 1024,
					 "{\"id\":\"%s\",\"summary\":\"Math\",\"start\":{\"dateTime\":"
					 "\"2026-12-01T15:00:00Z\",\"timeZone\":\"UTC\"},\"end\":{"
					 "\"dateTime\":\"2026-12-01T15:50:00Z\",\"timeZone\":\"UTC\"},"
					 "\"conferenceData\":{\"createRequest\":{\"requestId\":\"%s\","
					 "\"conferenceSolutionKey\":{\"type\":\"hangoutsMeet\"}}},"
					 "\"extendedProperties\":{\"private\":{\"meetlink_booking\":\"raw\"}}}",
					 id, id);
			}
			curl_easy_setopt(x->e, CURLOPT_URL, u);
			curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, x->body);
			x->t0 = now_us();
			curl_multi_add_handle(multi, x->e);
			launched++;
		}
		ml_curl_loop_run(loop, rate > 0 ? 1 : 100);
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
			bool ok = msg->data.result == CURLE_OK &&
				  (m == CREATE ? status == 201 : m == CONFIRM ? status == 202 : status == 200);
			x->buf[x->n] = 0;
			if (!ok) {
				if (errors++ < 5)
					fprintf(stderr, "error: status %ld curl %d: %.200s\n", status,
						msg->data.result, x->buf);
			} else if (m == CREATE) {
				char *p = strstr(x->buf, "\"id\":\"bkg_");
				if (p) {
					p += 6;
					fprintf(out, "%.*s\n", (int)strcspn(p, "\""), p);
				}
			}
			curl_multi_remove_handle(multi, x->e);
			free(x->body);
			x->body = NULL;
			free_slots[nfree++] = (int)(x - xs);
			done++;
		}
	}
	double secs = (now_us() - start) / 1e6;
	qsort(lat, (size_t)n, sizeof *lat, cmp64);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += lat[i];
	printf("requests %d\nerrors %d\nseconds %.3f\nper_s %.1f\nlat_mean_ms %.3f\n"
	       "lat_p50_ms %.3f\nlat_p99_ms %.3f\n",
	       n, errors, secs, n / secs, n ? sum / n / 1000 : 0, n ? lat[n / 2] / 1000.0 : 0,
	       n ? lat[(int)(n * 0.99)] / 1000.0 : 0);
	if (out)
		fclose(out);
	for (int s = 0; s < conc; s++)
		if (xs[s].e)
			curl_easy_cleanup(xs[s].e);
	curl_slist_free_all(hdrs);
	curl_multi_cleanup(multi);
	ml_curl_loop_free(loop);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
