/* Thread priority (core/priority.c): by default a raised thread gets the nice value asked for
 * and keeps ordinary scheduling; with ml_thread_realtime(true) it gets SCHED_FIFO 1. Where the
 * process may not (no CAP_SYS_NICE, no RLIMIT_RTPRIO), it keeps what it has and the test
 * checks that instead. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/priority.h"

struct seen {
	int policy, prio, nice;
};

static void *raise_and_look(void *arg)
{
	struct seen *s = arg;
	struct sched_param sp;
	ml_thread_prioritize(-5, "test thread");
	pthread_getschedparam(pthread_self(), &s->policy, &sp);
	s->prio = sp.sched_priority;
	errno = 0;
	s->nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	return NULL;
}

static struct seen run_thread(void)
{
	struct seen s = {-1, -1, 99};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, raise_and_look, &s), 0);
	pthread_join(t, NULL);
	return s;
}

/* Whether this process may use SCHED_FIFO, or nice -5 (tried on a scratch thread). */
static void *try_fifo(void *arg)
{
	struct sched_param sp = {.sched_priority = 1};
	*(int *)arg = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
	return NULL;
}

static void *try_nice(void *arg)
{
	*(int *)arg = setpriority(PRIO_PROCESS, (id_t)gettid(), -5) == 0;
	return NULL;
}

static int allowed(void *(*try)(void *))
{
	int ok = 0;
	pthread_t t;
	pthread_create(&t, NULL, try, &ok);
	pthread_join(t, NULL);
	return ok;
}

static void test_nice_by_default(void **state)
{
	(void)state;
	ml_thread_realtime(false);
	struct seen s = run_thread();
	assert_int_equal(s.policy, SCHED_OTHER);
	if (allowed(try_nice))
		assert_int_equal(s.nice, -5);
	else
		assert_int_equal(s.nice, getpriority(PRIO_PROCESS, 0));
}

static void test_realtime_when_asked(void **state)
{
	(void)state;
	int fifo = allowed(try_fifo);
	ml_thread_realtime(true);
	struct seen s = run_thread();
	ml_thread_realtime(false);
	if (fifo) {
		assert_int_equal(s.policy, SCHED_FIFO);
		assert_int_equal(s.prio, 1);
	} else {
		print_message("SCHED_FIFO not allowed here: the thread falls back to nice\n");
		assert_int_equal(s.policy, SCHED_OTHER);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nice_by_default),
	    cmocka_unit_test(test_realtime_when_asked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
