/* Thread priority for the few threads every request's result waits on (the store's writer,
 * the worker's event loop and its committer): on a busy machine, behind hundreds of request
 * threads of equal weight, they got a small share of the CPU and everything queued behind
 * them. */
#ifndef ML_CORE_PRIORITY_H
#define ML_CORE_PRIORITY_H

/* Sets the calling thread's nice value to `nice` (below the process's: a higher priority)
 * if it is not there already. Needs CAP_SYS_NICE or an RLIMIT_NICE that allows it (systemd:
 * LimitNICE=); without either the thread keeps the process's priority and `who` is named
 * in an info line. */
void ml_thread_nice(int nice, const char *who);

#endif
