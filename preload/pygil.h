/* pygil.h - CPython's GIL in the profile: which Python samples held it.
 *
 * The handler reads one bit a sample with the Python frames (unwind/pyframes.h: the
 * GIL's `locked` flag and `last_holder` against the thread's own state) once this module
 * has checked the GIL's offsets on the live interpreter (pygil_check). Every sample's bit
 * is counted, so the summary always says which share of the Python threads' samples held
 * it (`gil=83%`: a share well below 100% with several busy threads is GIL contention or
 * C code running without it). FLAMEPROF_PYTHON_GIL chooses what the profile shows:
 *   off   (default) the bit is counted, not kept: stacks are as without it;
 *   mark  a frame `[GIL held]` or `[GIL not held]` right under the thread's root (the
 *         stack's root when threads are merged), kept through the raw spill;
 *   only  only samples holding the GIL (py-spy's --gil); the rest are left out of the
 *         profile and counted in the summary. Samples drained before the bit could be
 *         read (the interpreter not yet found, or its GIL not yet checked) are kept.
 * Free-threaded builds (3.13t) have no GIL: the frame reader does not run on them at all.
 *
 * Thread: the aggregator's (pygil_stats after it stopped, or on it). */
#ifndef FLAMEPROF_PYGIL_H
#define FLAMEPROF_PYGIL_H

#include <stdbool.h>
#include <stdint.h>

#include "pyframes.h"
#include "ring.h"
#include "sampler_stats.h"

/* Read FLAMEPROF_PYTHON_GIL (a bad value: one `flameprof:` line, then off). Once CPython
 * is found. */
void pygil_init(void);

/* Do c's GIL offsets read true on the live interpreter (the main interpreter's GIL: locked
 * 0 or 1, its last holder none or one of the interpreter's thread states; 3.12+: the
 * interpreter's ceval.gil pointing at its own _gil)? 1 yes, 0 not decidable yet (the holder
 * is a thread state that has gone), -1 no. */
int pygil_check(const pyframes_config *c);

/* The handler marks samples from now on. */
void pygil_on(void);

/* Count s's bit; false when FLAMEPROF_PYTHON_GIL=only leaves s out of the profile. */
bool pygil_keep(const ring_sample *s);

/* The flags a stack keeps: the GIL bits only with FLAMEPROF_PYTHON_GIL=mark. */
uint16_t pygil_flags(uint16_t flags);

/* The counts for the summary, into o's py_* fields. */
void pygil_stats(sampler_stats *o);

/* In a fork child: its profile counts its own samples only. */
void pygil_after_fork_child(void);

#endif
