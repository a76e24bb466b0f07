/* walk_test.h - what the unwinder's test and benchmark programs share: a clock, the
 * bounds of the main thread's stack that the walk may read, and a 1 kHz SIGPROF. */
#ifndef FLAMEPROF_WALK_TEST_H
#define FLAMEPROF_WALK_TEST_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static inline uint64_t walk_test_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One past the top of the calling thread's stack. */
static inline uint64_t walk_test_stack_end(void)
{
    pthread_attr_t attr;
    void *addr = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &size);
        pthread_attr_destroy(&attr);
    }
    return (uint64_t)(uintptr_t)addr + size;
}

/* SIGPROF to handler every millisecond of the process's CPU time (on), or no more (off). */
static inline void walk_test_sigprof(void (*handler)(int, siginfo_t *, void *), int on)
{
    if (handler) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = handler;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigaction(SIGPROF, &sa, NULL);
    }
    struct itimerval it = { { 0, on ? 1000 : 0 }, { 0, on ? 1000 : 0 } };
    setitimer(ITIMER_PROF, &it, NULL);
}

#endif
