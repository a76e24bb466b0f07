/* sampler_stats.h - what the sampler counted, as the report prints it in the summary.
 *
 * Plain data: the library's sampler (preload/sampler.c) fills it at the end of a profile
 * (sampler_get_stats), `flameprof report` fills the part a raw file can tell. Here, in the
 * core, because the report reads it and the core includes nothing from preload/. */
#ifndef FLAMEPROF_SAMPLER_STATS_H
#define FLAMEPROF_SAMPLER_STATS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct sampler_stats {
    uint64_t signals;        /* our timer signals handled */
    uint64_t weight;         /* sum of 1 + overrun over samples put in the ring */
    uint64_t dropped;        /* samples lost because the ring was full */
    uint64_t dropped_weight;
    uint64_t foreign;        /* SIGPROFs that were not ours (passed to the program) */
    uint64_t threads;        /* threads that got a timer */
    uint64_t timer_failures; /* threads whose timer could not be created */
    uint64_t cost_median_ns; /* handler cost per sample */
    uint64_t cost_p99_ns;
    const char *source;      /* which timer drove sampling */
    bool app_handler;        /* the program has its own SIGPROF handler (chained) */
    bool wall;               /* wall-clock mode: weights are wall periods of each thread */
    bool outside;            /* read from outside the sampler (a dump, a raw spill): no
                                thread or handler figures to show */
    uint64_t offcpu_weight;  /* wall mode: weight of samples taken inside a system call */
    uint64_t perf_threads;   /* threads sampled by a perf_event task clock */
    /* wall mode (preload/ticker.h): threads given a wall timer, timers that failed, threads
     * skipped (they block SIGPROF), each timer's period in periods at the end */
    uint64_t wall_armed, wall_failed, wall_skipped, wall_stretch;
    /* CPython (preload/pygil.h): weight of the Python threads' samples whose GIL bit was
     * read, and of those holding the GIL; FLAMEPROF_PYTHON_GIL=only, and the weight it left
     * out: Python threads' samples not holding it, samples without Python frames. */
    uint64_t py_weight, py_gil_weight;
    bool gil_only;
    uint64_t gil_left_py, gil_left_other;
} sampler_stats;

#endif
