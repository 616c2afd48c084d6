/* meetlink sandbox: serve the provider emulators (SPEC §9) until SIGINT/SIGTERM. */
#include "cli/cli.h"

#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "http/http.h"
#include "sandbox/sandbox.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: meetlink sandbox [--listen HOST:PORT] [--state FILE] [--config FILE]\n"
	      "                        [--log-capacity N]\n\n"
	      "  --listen        address to serve (default 127.0.0.1:8090; port 0 picks one)\n"
	      "  --state FILE    load provider state from FILE at start, save it on exit\n"
	      "                  (and on POST /_sandbox/save)\n"
	      "  --config FILE   JSON {\"google\": {...}, ...} overriding provider settings\n"
	      "  --log-capacity  how many requests the inspection log keeps (default 10000)\n\n"
	      "See docs/sandbox.md for the providers, test accounts and the /_sandbox/ API.\n",
	      f);
}

/* Every connection holds a descriptor, so a held-open benchmark of thousands of connections
 * needs the hard limit, not the usual soft 1024. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* One thread per CPU: handlers run one at a time under the sandbox lock, so more threads
 * would only add parsing in parallel, which the CPUs bound anyway. */
static unsigned pool_size(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 2 ? 2 : n > 16 ? 16 : (unsigned)n;
}

/* long: the command's whole life read top to bottom: its options, the emulators and their
 * server, the wait for a signal, the state saved at the end. */
int ml_cmd_sandbox(int argc, char **argv)
{
	const char *listen = getenv("MEETLINK_SANDBOX_LISTEN");
	const char *state = NULL, *config_path = NULL;
	size_t log_cap = 0;
	json_t *config = NULL;
	struct ml_http_server *srv = NULL;
	int rc = 1;

	if (!listen || !*listen)
		listen = "127.0.0.1:8090";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--listen") == 0 && v) {
			listen = v;
			i++;
		} else if (strcmp(a, "--state") == 0 && v) {
			state = v;
			i++;
		} else if (strcmp(a, "--config") == 0 && v) {
			config_path = v;
			i++;
		} else if (strcmp(a, "--log-capacity") == 0 && v) {
			char *end;
			long long n = strtoll(v, &end, 10);
			if (*end || n < 1 || n > 10000000) {
				fprintf(stderr, "meetlink sandbox: bad --log-capacity '%s'\n", v);
				return 2;
			}
			log_cap = (size_t)n;
			i++;
		} else {
			fprintf(stderr, "meetlink sandbox: unknown or incomplete option '%s'\n\n",
			        a);
			usage(stderr);
			return 2;
		}
	}
	if (config_path) {
		json_error_t jerr;
		config = json_load_file(config_path, 0, &jerr);
		if (!json_is_object(config)) {
			fprintf(stderr, "meetlink sandbox: --config %s:%d: %s\n", config_path,
			        jerr.line, config ? "not a JSON object" : jerr.text);
			json_decref(config);
			return 2;
		}
	}

	raise_nofile();
	/* Signals are taken synchronously by this thread: block them before any thread starts
	 * so every server thread inherits the mask. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct ml_sb_options opt = {.state_file = state, .config = config, .log_capacity = log_cap};
	if (ml_sb_init(&opt) < 0) {
		fprintf(stderr, "meetlink sandbox: %s\n", ml_error_message());
		goto done;
	}
	struct ml_http_config hc = {
	    .listen = listen,
	    .max_body = 1 << 20,
	    .conn_limit = 20000,
	    /* An epoll pool rather than a thread per connection: no handler blocks (a fault's
	     * latency suspends its connection instead of sleeping), and a few threads that each
	     * take every ready connection per wakeup cost far less CPU per call than hundreds
	     * of threads woken one per call, CPU the benchmarks take from the daemon. */
	    .pool = pool_size(),
	    .dispatch = ml_sb_dispatch,
	};
	if (ml_http_start(&srv, &hc) < 0) {
		fprintf(stderr, "meetlink sandbox: %s\n", ml_error_message());
		goto done;
	}
	char host[64];
	const char *colon = strrchr(listen, ':');
	snprintf(host, sizeof host, "%.*s", (int)(colon - listen), listen);
	if (!host[0] || strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	char *url = ml_asprintf("http://%s:%d", host, ml_http_port(srv));
	ml_sb_set_base_url(url);
	ml_sb_ticker_start();
	printf("meetlink: listening on %s\n", url);
	fflush(stdout);
	free(url);

	int sig = 0;
	sigwait(&set, &sig);
	ml_info("sandbox: stopping on signal %d", sig);
	rc = 0;
done:
	ml_http_stop(srv);
	if (ml_sb_save() < 0) {
		fprintf(stderr, "meetlink sandbox: %s\n", ml_error_message());
		rc = 1;
	}
	ml_sb_shutdown();
	json_decref(config);
	return rc;
}
