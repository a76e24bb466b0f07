/* sigblk.h - does a thread of this process block a signal right now?
 *
 * Read from /proc/self/task/TID/status (SigBlk: a hex mask, bit signo-1): a thread that
 * blocks it would leave a signal sent to it pending, and an answer awaited from it would
 * never come. A thread that is gone counts as blocking. Not in a signal handler. */
#ifndef FLAMEPROF_SIGBLK_H
#define FLAMEPROF_SIGBLK_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

#endif
