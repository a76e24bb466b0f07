/* phases.h - a test-only timer of the signal handler's phases (where its time goes).
 *
 * Built in only with `meson configure -Dhandler_phases=true` (FLAMEPROF_HANDLER_PHASES);
 * otherwise every macro below is empty and the handler carries nothing of it. When built
 * in, the handler reads the TSC at each phase boundary and counts per-sample events (CFI
 * memo hits and misses, frame-pointer steps, interpreter frames) in shared atomics; the
 * process prints one `flameprof-phases:` line per phase at exit (median and mean, in ns,
 * over the samples) on stderr.
 *
 * Async-signal-safe: rdtsc and relaxed atomic adds only. */
#ifndef FLAMEPROF_UNWIND_PHASES_H
#define FLAMEPROF_UNWIND_PHASES_H

#include <stdint.h>

enum phase_id {
    PHASE_ENTRY,   /* signal checks, ring slot, stack bounds */
    PHASE_PY,      /* CPython frames (pyframes_read) */
    PHASE_WALK,    /* the native walk (unwind_walk), memo misses included */
    PHASE_MISS,    /* inside the walk: table searches after a memo miss */
    PHASE_LOOKUP,  /* inside a miss: the table's search (and Go's table's) alone */
    PHASE_SPLICE,  /* interpreter frames spliced in (Python, Ruby) */
    PHASE_PUBLISH, /* the sample's fields and the ring publish */
    PHASE_TOTAL,
    PHASE_COUNT
};

enum phase_counter {
    PHASE_FRAMES,  /* native frames walked */
    PHASE_HITS,    /* CFI memo hits */
    PHASE_MISSES,  /* CFI memo misses (a table search) */
    PHASE_NOMOD,   /* lookups in no module (JIT code) */
    PHASE_FPSTEPS, /* frame-pointer steps */
    PHASE_PYFRAMES,
    PHASE_PYSLOW,  /* CPython reads through process_vm_readv */
    PHASE_REUSED,  /* frames taken from the thread's previous walk (lastwalk.h) */
    PHASE_COUNTERS
};

/* A/B experiments, built in only with `meson configure -Dhandler_ab=true`
 * (FLAMEPROF_HANDLER_AB): every other sample of a thread is a B sample (PHASE_AB_B true),
 * and the handler's duration goes to the A or the B histogram; the process prints both at
 * exit (one `flameprof-ab:` line: samples, median, p90, p99 of each). A change under test
 * runs in B samples only, temporarily (`if (PHASE_AB_B) new(); else old();`), so both
 * variants see the same program at the same moments on the same machine: on this shared VM
 * whole-run medians wander +-10% from run to run, the A/A ratio of one process +-3-5%.
 * tools/bench_handler_ab.py runs a target N times and gives the paired ratios. Without the
 * option PHASE_AB_B is false and the other macros empty. Async-signal-safe. */
#ifdef FLAMEPROF_HANDLER_AB
#include <stdbool.h>
extern __thread bool phases_ab_b __attribute__((tls_model("initial-exec")));
void phases_ab_begin(void);       /* at the sample's start: A or B */
void phases_ab_end(uint64_t ns);  /* the handler's duration */
void phases_ab_report(void);      /* the `flameprof-ab:` line, once (exit, or the profile's
                                     end: a Go program leaves by exit_group) */
#define PHASE_AB_B phases_ab_b
#define PHASE_AB_BEGIN() phases_ab_begin()
#define PHASE_AB_END(ns) phases_ab_end(ns)
#define PHASE_AB_REPORT() phases_ab_report()
#else
#define PHASE_AB_B false
#define PHASE_AB_BEGIN() ((void)0)
#define PHASE_AB_END(ns) ((void)0)
#define PHASE_AB_REPORT() ((void)0)
#endif

#ifdef FLAMEPROF_HANDLER_PHASES
#include <x86intrin.h>

/* Add ticks to phase p (one sample's share). */
void phases_add(enum phase_id p, uint64_t ticks);
/* Add n to counter c. */
void phases_count(enum phase_counter c, uint64_t n);

#define PHASE_NOW(t) uint64_t t = __rdtsc()
#define PHASE_ADD(p, since) phases_add((p), __rdtsc() - (since))
#define PHASE_COUNT_ADD(c, n) phases_count((c), (n))
#else
#define PHASE_NOW(t) ((void)0)
#define PHASE_ADD(p, since) ((void)0)
#define PHASE_COUNT_ADD(c, n) ((void)0)
#endif

#endif
