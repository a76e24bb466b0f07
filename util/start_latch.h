/* start_latch.h - a thread of ours says its start-up is done; the thread that made it
 * waits for that, bounded, before the program runs on.
 *
 * Why: our threads' first steps take process-wide locks: malloc's list_lock while a new
 * thread's arena is made (at its first malloc), the loader's locks for dlsym and
 * dl_iterate_phdr. A program that copies itself by a raw clone system call (a zygote; no
 * atfork handler runs, nothing is reset in the copy) while one of them is held leaves it
 * held in the copy for good, and the copy's first thread or malloc arena waits forever.
 * With the start-up done before the constructor (or a fork child's handler) returns, a
 * program cannot clone inside that window. What a thread does later, in its ticks, holds
 * such locks for microseconds at a time; that window stays.
 *
 * A futex word: no allocation, no lock. util_latch_wait gives up after ms milliseconds (a
 * thread that cannot run then, or waits for a lock its creator holds: inside a dlopen of
 * the library, the loader's lock is the caller's). */
#ifndef FLAMEPROF_UTIL_START_LATCH_H
#define FLAMEPROF_UTIL_START_LATCH_H

#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef struct util_latch {
    _Atomic uint32_t done;
} util_latch;

/* Before the thread is made. */
static inline void util_latch_reset(util_latch *l)
{
    atomic_store(&l->done, 0);
}

/* On the thread: its start-up is done (again: nothing). */
static inline void util_latch_open(util_latch *l)
{
    if (atomic_exchange(&l->done, 1) == 0)
        syscall(SYS_futex, &l->done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static inline uint64_t util_latch_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Whether the thread has opened it. */
static inline bool util_latch_is_open(util_latch *l)
{
    return atomic_load(&l->done) != 0;
}

/* On the creator: until the thread opens the latch, or ms milliseconds (< 1000) pass. */
static inline void util_latch_wait(util_latch *l, unsigned ms)
{
    uint64_t until = util_latch_now_ns() + (uint64_t)ms * 1000000u;
    for (uint64_t now = util_latch_now_ns(); !atomic_load(&l->done) && now < until;
         now = util_latch_now_ns()) {
        struct timespec left = { 0, (long)(until - now) };
        syscall(SYS_futex, &l->done, FUTEX_WAIT_PRIVATE, 0, &left, NULL, 0);
    }
}

#endif
