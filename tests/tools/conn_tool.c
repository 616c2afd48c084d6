/* conn_tool: drives the connection protocol of conn/connections.h directly against a store
 * and a running sandbox, the way the pipeline's jobs do, for the end-to-end tests
 * (tests/e2e/test_conn_refresh.py). Configuration comes from the MEETLINK_* environment
 * (MEETLINK_DB, MEETLINK_SANDBOX_URL, MEETLINK_VAULT_KEYS), like the daemon's.
 *
 *   conn_tool storm HOST_ID PLATFORM THREADS
 *       expires the connection's access token, then THREADS threads each run
 *       acquire → (REFRESH: refresh over HTTP, refreshed/refresh_failed) → (BUSY: wait, again)
 *       until they hold a VALID token; prints {"valid":N,"refreshed":K,"distinct_tokens":D,
 *       "busy":B} (the test asserts K == 1, D == 1, and one refresh at the sandbox).
 *   conn_tool refresh HOST_ID PLATFORM
 *       one caller, token expired first; prints {"state": "valid"|"reauth"|…}.
 *   conn_tool park HOST_ID PLATFORM
 *       enqueues a job and parks it waiting on the connection (what a job does on REAUTH);
 *       prints {"job_id": …, "conn_id": …}.
 */
#include "conn/connections.h"
#include "conn/oauth.h"
#include "core/config.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/vault.h"
#include "store/store.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ml_store *store;
static struct ml_vault *vault;
static struct ml_oauth_config *oauth;
static const char *host_id, *platform;
static char org_id[40], conn_id[40];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int n_valid, n_refreshed, n_busy, n_failed, n_reauth;
static char **tokens;
static int ntokens;

static int find_fn(struct ml_tx *tx, void *arg)
{
	struct ml_conn_row *rows = NULL;
	int n = 0, rc = ml_tx_conn_list(tx, NULL, NULL, &rows, &n);
	(void)arg;
	if (rc < 0)
		return rc;
	rc = ML_ENOTFOUND;
	for (int i = 0; i < n; i++) {
		if (rc != 0 && strcmp(rows[i].host_id, host_id) == 0 &&
		    strcmp(rows[i].platform, platform) == 0) {
			snprintf(org_id, sizeof org_id, "%s", rows[i].org_id);
			snprintf(conn_id, sizeof conn_id, "%s", rows[i].id);
			rc = 0;
		}
		ml_conn_row_clear(&rows[i]);
	}
	free(rows);
	return rc;
}

/* The access token expires now, as if it had lived its whole lifetime: the next user must
 * refresh. The token is moved back in time, issue and expiry together. Moving only the
 * expiry would describe a token its provider issued for (now - refreshed_at) seconds, which
 * the refresh floor of connections.c rightly keeps from being refreshed again within half
 * that (at least 2 s): the tests then saw VALID and no refresh whenever more than a second
 * passed between the connect (or the last refresh) and this tool, i.e. on a loaded machine. */
static int expire_fn(struct ml_tx *tx, void *arg)
{
	struct ml_conn_row r;
	(void)arg;
	int rc = ml_tx_conn_get_id(tx, conn_id, &r);
	if (rc < 0)
		return rc;
	int64_t issued = r.refreshed_at / 1000;
	int64_t life = issued > 0 && r.expires_at > issued ? r.expires_at - issued : 3600;
	r.expires_at = ml_now() - 1;
	r.refreshed_at = (r.expires_at - life) * 1000;
	r.lease_until = 0;
	rc = ml_tx_conn_put(tx, &r);
	ml_conn_row_clear(&r);
	return rc;
}

struct acq {
	struct ml_conn_token t;
	enum ml_conn_state state;
	int64_t retry_ms;
};

static int acquire_fn(struct ml_tx *tx, void *arg)
{
	struct acq *a = arg;
	return ml_conn_acquire(tx, vault, org_id, host_id, platform, ml_now_ms(), 30000, &a->t,
			       &a->state, &a->retry_ms);
}

struct done {
	struct ml_oauth_tokens tok;
	bool ok, reauth;
	char why[256];
};

static int done_fn(struct ml_tx *tx, void *arg)
{
	struct done *d = arg;
	if (d->ok)
		return ml_conn_refreshed(tx, vault, conn_id, &d->tok);
	return ml_conn_refresh_failed(tx, conn_id, d->reauth, d->why);
}

/* One user of the connection, as a job would be: returns the final state. */
static enum ml_conn_state use_once(char **token_out)
{
	for (int round = 0; round < 2000; round++) {
		struct acq a = {0};
		if (ml_store_write(store, acquire_fn, &a) < 0) {
			fprintf(stderr, "acquire: %s\n", ml_error_message());
			return ML_CONN_MISSING;
		}
		switch (a.state) {
		case ML_CONN_VALID:
			*token_out = a.t.access_token ? ml_strdup(a.t.access_token) : NULL;
			ml_conn_token_clear(&a.t);
			return ML_CONN_VALID;
		case ML_CONN_BUSY:
			pthread_mutex_lock(&mu);
			n_busy++;
			pthread_mutex_unlock(&mu);
			ml_conn_token_clear(&a.t);
			usleep((useconds_t)a.retry_ms * 1000);
			continue;
		case ML_CONN_REFRESH: {
			struct done d = {0};
			long status = 0;
			char *body = NULL;
			CURL *e = ml_oauth_refresh_easy(oauth, &a.t);
			int rc = e ? ml_oauth_perform(oauth, e, &status, &body) : ML_EINVAL;
			if (rc == 0)
				rc = ml_oauth_parse_tokens(status, body, &d.tok);
			free(body);
			d.ok = rc == 0;
			d.reauth = rc == ML_EAUTH;
			snprintf(d.why, sizeof d.why, "%s", ml_error_message());
			ml_conn_token_clear(&a.t);
			/* The rotated refresh token is durable before the new access token is used:
			 * the next round reads it back as VALID. */
			if (ml_store_write(store, done_fn, &d) < 0)
				fprintf(stderr, "finish: %s\n", ml_error_message());
			ml_oauth_tokens_clear(&d.tok);
			pthread_mutex_lock(&mu);
			if (d.ok)
				n_refreshed++;
			else
				n_failed++;
			pthread_mutex_unlock(&mu);
			if (!d.ok && !d.reauth)
				usleep(100000);
			continue;
		}
		case ML_CONN_REAUTH:
			ml_conn_token_clear(&a.t);
			return ML_CONN_REAUTH;
		case ML_CONN_MISSING:
			return ML_CONN_MISSING;
		}
	}
	return ML_CONN_BUSY;
}

static void *worker(void *arg)
{
	char *tok = NULL;
	(void)arg;
	enum ml_conn_state s = use_once(&tok);
	pthread_mutex_lock(&mu);
	if (s == ML_CONN_VALID) {
		n_valid++;
		bool seen = false;
		for (int i = 0; i < ntokens && tok; i++)
			seen = seen || strcmp(tokens[i], tok) == 0;
		if (tok && !seen) {
			tokens = ml_realloc(tokens, sizeof *tokens * (size_t)(ntokens + 1));
			tokens[ntokens++] = tok;
			tok = NULL;
		}
	} else if (s == ML_CONN_REAUTH) {
		n_reauth++;
	}
	pthread_mutex_unlock(&mu);
	free(tok);
	return NULL;
}

static const char *state_name(enum ml_conn_state s)
{
	static const char *const names[] = {"valid", "refresh", "busy", "reauth", "missing"};
	return names[s];
}

struct park {
	char job_id[40];
};

static int park_fn(struct ml_tx *tx, void *arg)
{
	struct park *p = arg;
	json_t *payload = json_pack("{s:s}", "connection_id", conn_id);
	struct ml_job_new j = {.org_id = org_id, .kind = "test.parked", .payload = payload,
			       .run_at_ms = ml_now_ms() + 3600 * 1000};
	struct ml_job *jobs = NULL;
	int n = 0, rc = ml_tx_job_enqueue(tx, &j, p->job_id);
	json_decref(payload);
	if (rc < 0)
		return rc;
	/* Claim it (far in the future, so nobody else does) and park it like a job told
	 * ML_CONN_REAUTH: waiting on the connection id. */
	if ((rc = ml_tx_job_claim(tx, "conn_tool", ml_now_ms() + 7200 * 1000, 60000, 1000, &jobs,
				  &n)) < 0)
		return rc;
	struct ml_job_finish f = {.outcome = ML_JOB_WAIT, .wait_key = conn_id,
				  .error = "waiting for the host to reconnect"};
	for (int i = 0; i < n; i++) {
		if (strcmp(jobs[i].id, p->job_id) == 0)
			rc = ml_tx_job_finish(tx, jobs[i].id, "conn_tool", &f, jobs[i].attempts,
					      jobs[i].max_attempts);
		else { /* not ours (none in the tests): run it again now */
			struct ml_job_finish again = {.outcome = ML_JOB_RETRY,
						      .run_at_ms = ml_now_ms()};
			ml_tx_job_finish(tx, jobs[i].id, "conn_tool", &again, 0,
					 jobs[i].max_attempts);
		}
		ml_job_free(&jobs[i]);
	}
	free(jobs);
	return rc;
}

int main(int argc, char **argv)
{
	struct ml_config *cfg = NULL;
	int rc = 1;
	if (argc < 4) {
		fputs("usage: conn_tool storm|refresh|park HOST_ID PLATFORM [THREADS]\n", stderr);
		return 2;
	}
	host_id = argv[2];
	platform = argv[3];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (ml_config_load(&cfg) < 0 || ml_store_open(&store, cfg->db) < 0 ||
	    ml_store_migrate(store) < 0 ||
	    ml_vault_load(&vault, cfg->vault_keys, cfg->db, NULL, NULL) < 0 ||
	    ml_oauth_config_load(&oauth, cfg) < 0) {
		fprintf(stderr, "conn_tool: %s\n", ml_error_message());
		goto done;
	}
	ml_conn_configure(cfg->public_url);
	ml_store_set_vault(store, vault);
	if (ml_store_read(store, find_fn, NULL) < 0) {
		fprintf(stderr, "conn_tool: no %s connection for host %s\n", platform, host_id);
		goto done;
	}
	if (strcmp(argv[1], "park") == 0) {
		struct park p = {""};
		if (ml_store_write(store, park_fn, &p) < 0) {
			fprintf(stderr, "conn_tool: %s\n", ml_error_message());
			goto done;
		}
		printf("{\"job_id\":\"%s\",\"conn_id\":\"%s\"}\n", p.job_id, conn_id);
		rc = 0;
		goto done;
	}
	if (ml_store_write(store, expire_fn, NULL) < 0) {
		fprintf(stderr, "conn_tool: %s\n", ml_error_message());
		goto done;
	}
	if (strcmp(argv[1], "refresh") == 0) {
		char *tok = NULL;
		enum ml_conn_state s = use_once(&tok);
		free(tok);
		printf("{\"state\":\"%s\",\"refreshed\":%d,\"failed\":%d}\n", state_name(s),
		       n_refreshed, n_failed);
		rc = 0;
		goto done;
	}
	int nthreads = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 500;
	pthread_t *th = ml_calloc((size_t)nthreads, sizeof *th);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	int started = 0;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], &attr, worker, NULL) == 0)
			started++;
		else
			th[i] = 0;
	for (int i = 0; i < nthreads; i++)
		if (th[i])
			pthread_join(th[i], NULL);
	pthread_attr_destroy(&attr);
	free(th);
	printf("{\"threads\":%d,\"valid\":%d,\"refreshed\":%d,\"failed\":%d,\"reauth\":%d,"
	       "\"busy\":%d,\"distinct_tokens\":%d}\n",
	       started, n_valid, n_refreshed, n_failed, n_reauth, n_busy, ntokens);
	for (int i = 0; i < ntokens; i++)
		free(tokens[i]);
	free(tokens);
	rc = 0;
done:
	ml_conn_configure(NULL);
	ml_oauth_config_free(oauth);
	ml_vault_free(vault);
	ml_store_close(store);
	ml_config_free(cfg);
	curl_global_cleanup();
	return rc;
}
