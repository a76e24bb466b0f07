/* thread_signal.h - signals to one thread of this process, from outside a handler.
 *
 * util_thread_blocks_signal: does the thread block the signal right now? Read from
 * /proc/self/task/TID/status (SigBlk: a hex mask, bit signo-1): a thread that blocks it
 * would leave a signal sent to it pending, and an answer awaited from it would never come.
 * A thread that is gone counts as blocking.
 * util_queue_signal: a queued signal carrying a value (si_code SI_QUEUE, as sigqueue), so
 * that the handler tells it from the kernel's and from other senders'. */
#ifndef FLAMEPROF_THREAD_SIGNAL_H
#define FLAMEPROF_THREAD_SIGNAL_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static inline bool util_thread_blocks_signal(pid_t tid, int signo)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return true; /* gone */
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return true;
    buf[n] = 0;
    const char *p = strstr(buf, "\nSigBlk:");
    if (!p)
        return false;
    unsigned long long mask = strtoull(p + 8, NULL, 16);
    return (mask >> (signo - 1)) & 1;
}

/* 0, or -1 (errno) if the thread is gone or the signal refused. */
static inline int util_queue_signal(pid_t pid, pid_t tid, int signo, void *value)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = signo;
    si.si_code = SI_QUEUE;
    si.si_pid = pid;
    si.si_uid = getuid();
    si.si_value.sival_ptr = value;
    return (int)syscall(SYS_rt_tgsigqueueinfo, pid, tid, signo, &si);
}

#endif
