#include "core/priority.h"
#include "core/log.h"

#include <sys/resource.h>
#include <unistd.h>

void ml_thread_nice(int nice, const char *who)
{
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
