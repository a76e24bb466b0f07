/* wl_phases.c - a program driven through phases of different work, for the timeline tests:
 * SECONDS of phase_a, then SECONDS of phase_b, each on THREADS threads (arguments, default
 * 2 s and 2 threads). It prints where each phase began and ended, measured inside, in seconds
 * since main began, the CPU seconds it used, and when it began on the wall clock:
 * "phase a 0.000 2.000 3.990 1765000000.123". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "burn.h"

BURNER(phase_a, 1)
BURNER(phase_b, 2)

static double g_seconds = 2, g_t0;

static double now(void)
{
    return burn_clock(CLOCK_MONOTONIC);
}

/* Burn in fn until the phase's end (wall time: busy threads, so CPU follows). */
static void run_phase(uint64_t (*fn)(long), double end)
{
    while (now() < end)
        fn(20000);
}

typedef struct phase {
    uint64_t (*fn)(long);
    double end;
} phase;

static void *thread_main(void *arg)
{
    phase *p = arg;
    run_phase(p->fn, p->end);
    return NULL;
}

static void phase_on_threads(const char *name, uint64_t (*fn)(long), int threads)
{
    double start = now(), cpu0 = burn_clock(CLOCK_PROCESS_CPUTIME_ID);
    phase p = { fn, start + g_seconds };
    pthread_t t[16];
    for (int i = 1; i < threads; i++)
        pthread_create(&t[i], NULL, thread_main, &p);
    run_phase(fn, p.end);
    for (int i = 1; i < threads; i++)
        pthread_join(t[i], NULL);
    double wall0 = burn_clock(CLOCK_REALTIME) - (now() - start);
    printf("phase %s %.3f %.3f %.3f %.3f\n", name, start - g_t0, now() - g_t0,
           burn_clock(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall0);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    g_t0 = now();
    if (argc > 1)
        g_seconds = atof(argv[1]);
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
    phase_on_threads("a", phase_a, threads);
    phase_on_threads("b", phase_b, threads);
    return 0;
}
