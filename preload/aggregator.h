/* aggregator.h - the background thread that drains the sample ring into the stack table.
 *
 * It blocks every signal, so it never takes a sample of itself, and it is created with the
 * real pthread_create so it gets no timer. Every tick it also notices dlopen/dlclose (the
 * loader's add/remove counters) and refreshes the module registry, which keeps the loader
 * lock out of the signal handler and leaves the program's own dlopen calls untouched; a
 * sample in code no module covers wakes it for that at once (aggregator_poke_modules).
 * It also serves `flameprof dump` (control.h, every tenth tick) and reads the names of the
 * threads it sees samples of when threads are kept apart (threads.h). */
#ifndef FLAMEPROF_AGGREGATOR_H
#define FLAMEPROF_AGGREGATOR_H

#include <pthread.h>
#include <stdint.h>

#include "ring.h"
#include "stacks.h"

typedef int (*aggregator_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                    void *);

/* What aggregator_start records, without starting the thread: a process that must stay
 * single-threaded, whose fork children start it (aggregator_after_fork_child). */
void aggregator_init(ring *r, stack_table *t, aggregator_create_fn create,
                     void (*on_ending)(int why));

/* Start draining r into t. on_ending runs on the aggregator thread when an ending signal
 * asks for the profile (endings.h). Returns 0, or -1 if the thread could not start. */
int aggregator_start(ring *r, stack_table *t, aggregator_create_fn create,
                     void (*on_ending)(int why));

/* Drain what is left and stop the thread (joined, unless called on it). Call after
 * sampler_stop. Returns false, having drained nothing, for a thread that never made its
 * first look and has not ended a second after being asked: one stuck since it started on a
 * lock held when this process was copied by a raw clone (test_clone ghostlock). It is left
 * where it is, and nothing that could need the same locks (the report) should follow. */
bool aggregator_stop(void);

/* Start the thread again after aggregator_stop (an exec that failed). */
void aggregator_resume(void);

/* In a fork child: the thread does not exist there and the table holds the parent's
 * stacks. Empty the table and start a new thread. */
void aggregator_after_fork_child(void);

/* pthread_atfork prepare and parent handlers, and the child's reset: a fork waits (at most
 * a second) until the aggregator is not inside dl_iterate_phdr, whose loader lock a fork
 * child would inherit held, and no walk begins until the fork is done. Any number of
 * threads may fork at once (each releases only what its own prepare took). */
void aggregator_fork_prepare(void);
void aggregator_fork_release(void);
void aggregator_fork_child_reset(void);

/* The final spill (at exit, after aggregator_stop): stacks, weights and the timeline's
 * last slots into the raw file. */
void aggregator_spill(void);

/* FLAMEPROF_INTERVAL: every `seconds`, on the aggregator thread, on_window(from_s) is
 * asked to write the window that began from_s seconds into the profile; it calls
 * aggregator_window_done once written (the window's weight of a stack is its weight minus
 * its mark_weight, stacks.h). aggregator_window_from_s: where the current one began. */
void aggregator_set_window(unsigned seconds, void (*on_window)(uint64_t from_s));
void aggregator_window_done(void);
uint64_t aggregator_window_from_s(void);

/* on_tick runs on the aggregator thread at every tick, before the ring is drained (the
 * sampler's off-handler work: sampler_prepare_memo). Set before aggregator_start. */
void aggregator_set_tick(void (*on_tick)(void));

/* From the signal handler, for a walk that ended at a pc no module covers: likely a library
 * dlopen'ed since the last tick, whose samples lack their callers until the thread has
 * refreshed the modules. Wakes the thread to do that now; at most once a tick (JIT code lies
 * in no module either, and must not wake it at every sample). Async-signal-safe: an atomic
 * or two and, at most once a tick, a futex wake; errno kept. */
void aggregator_poke_modules(uint64_t now_ns);

/* Wake the thread from a doze (the ring said so: ring_publish; an ending asked for the
 * profile). The thread dozes, ticking every 100 ms instead of 10, after 100 ms without a
 * sample: an idle process (a service waiting for requests) is woken 10 times a second,
 * not 100, and its first sample after that wakes the thread at once. Async-signal-safe:
 * an atomic and a futex wake; errno kept. */
void aggregator_wake(void);

/* Samples lost because the table could not grow. */
uint64_t aggregator_lost(void);

#endif
