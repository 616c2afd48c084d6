/* The ticker: a thread that calls every provider's tick a few times a second, so that a
 * simulated world (MeetingBaas bots joining, recording and leaving on the sandbox clock)
 * moves and sends its webhooks without anybody asking. Started by `meetlink sandbox` only. */
#include "sandbox/sb_internal.h"

#include "core/log.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define TICK_MS 100

static pthread_mutex_t tk_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tk_cv = PTHREAD_COND_INITIALIZER;
static pthread_t tk_thread;
static bool tk_running, tk_stop;

void ml_sb_tick_all(void)
{
	ml_sb_lock();
	for (int i = 0; ml_sb_providers[i]; i++) {
		json_t *root = ml_sb_root(ml_sb_providers[i]->name);
		if (ml_sb_providers[i]->tick && root)
			ml_sb_providers[i]->tick(root);
	}
	ml_sb_unlock();
}

static void *ticker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&tk_mu);
	while (!tk_stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += TICK_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&tk_cv, &tk_mu, &until);
		if (tk_stop)
			break;
		pthread_mutex_unlock(&tk_mu);
		ml_sb_tick_all();
		pthread_mutex_lock(&tk_mu);
	}
	pthread_mutex_unlock(&tk_mu);
	return NULL;
}

void ml_sb_ticker_start(void)
{
	pthread_mutex_lock(&tk_mu);
	if (!tk_running) {
		tk_stop = false;
		if (pthread_create(&tk_thread, NULL, ticker, NULL) == 0)
			tk_running = true;
		else
			ml_warn(
			    "sandbox: cannot start the ticker thread; the simulation moves only "
			    "on requests");
	}
	pthread_mutex_unlock(&tk_mu);
}

void ml_sb_ticker_stop(void)
{
	pthread_mutex_lock(&tk_mu);
	bool was = tk_running;
	tk_stop = true;
	pthread_cond_broadcast(&tk_cv);
	pthread_mutex_unlock(&tk_mu);
	if (was)
		pthread_join(tk_thread, NULL);
	pthread_mutex_lock(&tk_mu);
	tk_running = false;
	pthread_mutex_unlock(&tk_mu);
}
