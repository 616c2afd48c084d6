/* Thread priority for the few threads every request's result waits on (the store's writer,
 * the worker's event loop and its committer): on a busy machine, behind hundreds of request
 * threads of equal weight, they got a small share of the CPU and everything queued behind
 * them. */
#ifndef ML_CORE_PRIORITY_H
#define ML_CORE_PRIORITY_H

#include <stdbool.h>

/* Raises the calling thread's priority: to nice `nice` (below the process's: a higher
 * priority) if it is not there already, or, once ml_thread_realtime(true) was called, to
 * real-time scheduling (SCHED_FIFO, priority 1: it runs as soon as it is runnable, ahead of
 * every ordinary thread), falling back to the nice value. Nice needs CAP_SYS_NICE or an
 * RLIMIT_NICE that allows it (systemd: LimitNICE=-10); real time, CAP_SYS_NICE or an
 * RLIMIT_RTPRIO of at least 1 (systemd: LimitRTPRIO=1). What cannot be had is named, with
 * `who`, in an info line; the thread keeps what it has. */
void ml_thread_prioritize(int nice, const char *who);

/* Whether threads that raise their priority from now on ask for real time
 * (MEETLINK_REALTIME). */
void ml_thread_realtime(bool on);

#endif
