/* walk_test.h - what the unwinder's test and benchmark programs share: a clock, and the
 * bounds of the main thread's stack that the walk may read. */
#ifndef FLAMEPROF_WALK_TEST_H
#define FLAMEPROF_WALK_TEST_H

#include <pthread.h>
#include <stdint.h>
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

#endif
