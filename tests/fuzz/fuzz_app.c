/* The daemon's API in-process (see fuzz_app.h). */
#include "fuzz_app.h"

#include "api/conn_api.h"
#include "app/app.h"
#include "cli/common.h"
#include "conn/connections.h"
#include "conn/oauth.h"
#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/vault.h"
#include "notify/nudge.h"
#include "notify/outbox.h"
#include "meeting/meeting.h"
#include "meeting/waitbus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZERO_KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static struct fz_app the_app;
/* Inputs add hosts, bookings, jobs...: lists grow (up to 200 documents an answer, each
 * parsed and printed), so the store starts again from its seeded copy this often. A restart
 * costs a few milliseconds (fz_app_input), an input of six requests about one. */
static unsigned long recycle_every = 1000;
static bool trace;

static void setup_env(void)
{
	static char db[256];
	snprintf(db, sizeof db, "sqlite:%s/live/meetlink.db", fz_tmpdir());
	setenv("MEETLINK_DB", db, 1);
	setenv("MEETLINK_LISTEN", "127.0.0.1:0", 1);
	setenv("MEETLINK_PUBLIC_URL", "http://127.0.0.1:8080", 1);
	/* Endpoints under a sandbox address that is never called (curl_easy_perform is
	 * replaced): seeded OAuth clients, the sandbox's Zoom webhook secret. */
	setenv("MEETLINK_SANDBOX_URL", "http://127.0.0.1:9", 0);
	setenv("MEETLINK_ZOOM_WEBHOOK_SECRET", "fuzz-zoom-webhook-secret", 0);
	setenv("MEETLINK_VAULT_KEYS", "k1:" ZERO_KEY, 1);
	setenv("MEETLINK_LOG_LEVEL", "error", 1);
	unsetenv("MEETLINK_SMTP_URL");
}

static const char *created_id(const struct ml_http_resp *resp)
{
	static char id[64];
	json_t *j = fz_resp_json(resp);
	const char *s = json_string_value(json_object_get(j, "id"));
	id[0] = '\0';
	if (s)
		snprintf(id, sizeof id, "%s", s);
	json_decref(j);
	return id;
}

/* One setup request; its created id into out. */
static void seed(struct fz_app *a, const char *text, char out[40])
{
	struct ml_http_resp resp;
	if (!fz_app_request(a, text, strlen(text), &resp, false) || resp.status >= 300)
		fz_fail("seed request failed (%d): %s\n%.*s", resp.status, text,
			(int)resp.body_len, resp.body ? resp.body : "");
	snprintf(out, 40, "%s", created_id(&resp));
	fz_resp_free(&resp);
}

/* Copies file `name` from directory `from` to `to` (absent: nothing). */
static void copy_file(const char *from, const char *to, const char *name)
{
	char src[300], dst[300], buf[65536];
	snprintf(src, sizeof src, "%s/%s", from, name);
	snprintf(dst, sizeof dst, "%s/%s", to, name);
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return;
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;
	if (out < 0)
		fz_fail("create %s", dst);
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			fz_fail("write %s", dst);
	close(in);
	close(out);
}

static void copy_store(const char *from, const char *to)
{
	fz_rm_tree(to);
	if (mkdir(to, 0700) < 0)
		fz_fail("mkdir %s", to);
	copy_file(from, to, "meetlink.db");
	copy_file(from, to, "meetlink.db-wal");
}

/* The store's writer thread asks for nice -10 (store/sqlite/writer.c), which root gets: a
 * harness started at nice 19 would then take a core from everyone else. Every thread of the
 * process back to the process's own niceness. */
static void renice_threads(void)
{
	int nice = getpriority(PRIO_PROCESS, 0);
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			setpriority(PRIO_PROCESS, (id_t)atoi(e->d_name), nice);
	closedir(d);
}

/* (After the migration: it ran on the writer thread, so that thread has set its priority.) */
static void store_open(struct fz_app *a)
{
	struct ml_env *app = &a->app;
	if (ml_store_open(&app->store, app->cfg->db) < 0 || ml_store_migrate(app->store) < 0)
		fz_fail("cannot open the store: %s", ml_error_message());
	ml_store_set_vault(app->store, app->vault);
	/* The waiting room's bus signals through the store: the new one. */
	if (app->waitbus)
		ml_waitbus_set_store(app->waitbus, app->store);
	renice_threads();
}

/* The store as it was once seeded: closed, a copy of the seeded files put back, opened.
 * Ids, the key and the link secret are the same again, so $H…$E and links stay valid. */
static void store_restart(struct fz_app *a)
{
	char live[256], seeded[256];
	snprintf(live, sizeof live, "%s/live", fz_tmpdir());
	snprintf(seeded, sizeof seeded, "%s/seeded", fz_tmpdir());
	ml_store_close(a->app.store);
	a->app.store = NULL;
	copy_store(seeded, live);
	store_open(a);
}

/* Keeps a copy of the seeded store to start again from. */
static void app_seed_copy(struct fz_app *a)
{
	char live[256], seeded[256];
	snprintf(live, sizeof live, "%s/live", fz_tmpdir());
	snprintf(seeded, sizeof seeded, "%s/seeded", fz_tmpdir());
	ml_store_close(a->app.store);
	a->app.store = NULL;
	copy_store(live, seeded);
	store_open(a);
}

static void app_open(struct fz_app *a)
{
	struct ml_env *app = &a->app;
	char key[64];

	setup_env();
	if (ml_cli_open(&app->cfg, &app->store) != 0)
		fz_fail("cannot open the store: %s", ml_error_message());
	renice_threads();
	/* The daemon's own set-up, all but the worker and the server: the same settings, vault,
	 * server secrets (the link, room and gateway secrets made and sealed in the store), rate
	 * limits and waiting-room bus as `meetlink serve`. */
	if (ml_app_env_open(app) < 0)
		fz_fail("setup: %s", ml_error_message());
	/* The OAuth calls (code exchange, identity, credential checks) get the queued answers
	 * (X-Fuzz-Provider, the oauth harness's token and identity parts). */
	ml_oauth_config_set_transport(app->oauth, fz_curl_transport, NULL);
	snprintf(key, sizeof key, "mlk_fuzzkey000123456789abcdefghijklmnopqrstuv");
	if (ml_cli_key_create(app->store, "fuzz", key, a->key) < 0)
		fz_fail("key: %s", ml_error_message());

	seed(a,
	     "POST /v1/hosts\nContent-Type: application/json\n\n"
	     "{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.test\",\"timezone\":\"Europe/London\"}",
	     a->host_id);
	char *t = ml_asprintf("POST /v1/services\nContent-Type: application/json\n\n"
			      "{\"host_id\":\"%s\",\"name\":\"Math\",\"is_online\":true,"
			      "\"platform\":\"jitsi\",\"duration_minutes\":50}",
			      a->host_id);
	seed(a, t, a->service_id);
	free(t);
	t = ml_asprintf("POST /v1/bookings\nContent-Type: application/json\n\n"
			"{\"service_id\":\"%s\",\"start\":\"2030-12-01T15:00:00Z\","
			"\"timezone\":\"Europe/London\",\"title\":\"Math with Ada\","
			"\"customer\":{\"name\":\"Grace Hopper\",\"email\":\"grace@example.test\"},"
			"\"attendees\":[]}",
			a->service_id);
	seed(a, t, a->booking_id);
	free(t);
	seed(a,
	     "POST /v1/webhook-endpoints\nContent-Type: application/json\n\n"
	     "{\"url\":\"https://hooks.example.test/meetlink\",\"description\":\"fuzz\"}",
	     a->endpoint_id);
}

struct fz_app *fz_app_get(void)
{
	if (!the_app.app.store) {
		trace = getenv("FZ_TRACE") != NULL;
		const char *r = getenv("FZ_RECYCLE");
		if (r && *r)
			recycle_every = strtoul(r, NULL, 10);
		app_open(&the_app);
	}
	return &the_app;
}

void fz_app_input(struct fz_app *a)
{
	a->last_id[0] = '\0';
	fz_curl_clear();
	/* The copy is taken at the first input: after the harness's own setup (fuzz_oauth's
	 * connect links make the store's link secret). */
	if (!a->seeded_copy) {
		app_seed_copy(a);
		a->seeded_copy = true;
	}
	if (recycle_every && ++a->inputs % recycle_every == 0)
		store_restart(a);
}

bool fz_app_send(struct fz_app *a, struct fz_req *r, struct ml_http_resp *resp)
{
	memset(resp, 0, sizeof *resp);
	r->req.app = &a->app;
	/* "X-Fuzz-Provider: 200 {...}": what the provider answers this request's next call. */
	for (int i = 0; i < r->conn.n; i++)
		if (strcasecmp(r->conn.v[i].key, "X-Fuzz-Provider") == 0) {
			char *end;
			long st = strtol(r->conn.v[i].value, &end, 10);
			if (*end == ' ')
				end++;
			fz_curl_answer(st, end, strlen(end));
		}
	ml_error_clear();
	fz_dispatch(ml_api_dispatch, &r->req, resp);
	json_t *j = fz_resp_check_json(resp, true);
	if (trace)
		fprintf(stderr, "%s %s -> %d %.*s\n", r->method, r->path, resp->status,
			(int)(resp->body_len > 300 ? 300 : resp->body_len),
			resp->body ? resp->body : "");
	const char *id = json_string_value(json_object_get(j, "id"));
	if ((resp->status == 200 || resp->status == 201 || resp->status == 202) && id && *id)
		snprintf(a->last_id, sizeof a->last_id, "%s", id);
	json_decref(j);
	return true;
}

bool fz_app_request(struct fz_app *a, const char *text, size_t n, struct ml_http_resp *resp,
		    bool no_auth)
{
	const char *from[] = {"$H", "$S", "$B", "$E", "$N"};
	const char *to[] = {a->host_id, a->service_id, a->booking_id, a->endpoint_id, a->last_id};
	struct fz_req r;
	char *s = fz_subst(text, &n, from, to, 5);
	bool ok = fz_req_parse(&r, s, n);
	free(s);
	memset(resp, 0, sizeof *resp);
	if (!ok) {
		fz_req_free(&r);
		return false;
	}
	if (!no_auth && !fz_req_value(&r, 1 /* MHD_HEADER_KIND */, "Authorization")) {
		char auth[96];
		snprintf(auth, sizeof auth, "Bearer %s", a->key);
		fz_req_header(&r, "Authorization", auth);
	}
	bool sent = fz_app_send(a, &r, resp);
	fz_req_free(&r);
	return sent;
}
