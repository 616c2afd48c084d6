#include "core/priority.h"
#include "core/log.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_bool realtime;

void ml_thread_realtime(bool on)
{
	atomic_store(&realtime, on);
}

void ml_thread_prioritize(int nice, const char *who)
{
	if (atomic_load(&realtime)) {
		struct sched_param sp = {.sched_priority = 1};
		int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
		if (err == 0) {
			ml_debug("%s at real-time priority (SCHED_FIFO 1)", who);
			return;
		}
		ml_info("%s cannot have real-time priority (it needs CAP_SYS_NICE or "
			"RLIMIT_RTPRIO >= 1); it asks for nice %d instead",
			who, nice);
	}
	pid_t tid = gettid();
	int now = getpriority(PRIO_PROCESS, (id_t)tid);
	if (now <= nice)
		return;
	if (setpriority(PRIO_PROCESS, (id_t)tid, nice) == 0)
		ml_debug("%s at nice %d", who, nice);
	else
		ml_info("%s keeps nice %d (raising it needs CAP_SYS_NICE or RLIMIT_NICE); it "
			"slows down when the CPU is busy",
			who, now);
}
