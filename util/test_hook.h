/* test_hook.h - FLAMEPROF_TEST_NAME_DELAY_US, a test-only pause of the naming thread.
 *
 * The naming of interpreter frames (preload/python.c, core/rbnames.c) reads an object the
 * program may free at any moment; a naming thread preempted between reading the object
 * and reading its name's text is the window where a name can go wrong. The tests set this
 * (microseconds, at most 100000; unset or bad: 0, off) to pause there and make the
 * window wide. Read once per file that uses it; for the naming thread only (it sleeps). */
#ifndef FLAMEPROF_UTIL_TEST_HOOK_H
#define FLAMEPROF_UTIL_TEST_HOOK_H

#include <stdlib.h>
#include <time.h>

/* The pause, in microseconds; 0: off. */
static inline long util_test_name_delay_us(void)
{
    static long us = -1;
    if (us < 0) {
        const char *v = getenv("FLAMEPROF_TEST_NAME_DELAY_US");
        us = v ? strtol(v, NULL, 10) : 0;
        if (us < 0 || us > 100000)
            us = 0;
    }
    return us;
}

/* Pause that long (does nothing when off). */
static inline void util_test_name_delay(void)
{
    long us = util_test_name_delay_us();
    if (us) {
        struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
        nanosleep(&ts, NULL);
    }
}

#endif
