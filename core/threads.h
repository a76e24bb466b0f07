/* threads.h - thread names by thread id, for profiles that keep threads apart
 * (FLAMEPROF_THREADS, `--threads`): each thread becomes a root frame "[name tid]".
 *
 * The signal handler records only the tid (ring_sample.tid). Names are read off the
 * handler, by the aggregator thread, from /proc/self/task/TID/comm: that is where
 * pthread_setname_np, prctl(PR_SET_NAME), a write to comm, the JVM's and node's named
 * threads all land (15 bytes at most, the kernel's limit). A thread is read when it is
 * first sampled, and again at each spill (once a second) if it was sampled since, so a
 * rename after the first sample is seen; the last name read outlives the thread.
 * The raw spill carries the names (rawfile.h, N records); the reader restores them here.
 *
 * One registry a process. Aggregator thread only (or a tool's one thread); never the
 * handler. */
#ifndef FLAMEPROF_THREADS_H
#define FLAMEPROF_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { THREADS_NAME_MAX = 64 };

/* A sample of tid was stored: a new thread's name is read now. */
void threads_seen(uint32_t tid);

/* Read again the names of the threads sampled since the last refresh. */
void threads_refresh(void);

/* How many threads are known (grows as new ones are sampled). */
size_t threads_count(void);

/* The name of tid, or NULL if none is known. */
const char *threads_name(uint32_t tid);

/* Record a name (the raw spill's reader). Returns 0, or -1 if memory is short. */
int threads_set(uint32_t tid, const char *name);

/* Record the name a language runtime gives tid (a Python threading.Thread's name): it
 * outranks the kernel's comm, which is no longer read for tid. */
void threads_set_runtime(uint32_t tid, const char *name);

/* Visit the threads whose name changed since the last visit (all: every named thread);
 * for the raw spill. */
void threads_foreach_changed(bool all, void (*fn)(uint32_t tid, const char *name, void *ctx),
                             void *ctx);

/* Forget every thread (a fork child: the parent's threads are not its own; the parent's
 * table is abandoned, not freed, as it may have been mid-update). */
void threads_reset(void);

/* Frees the table (where no fork can have left it mid-update: the command, tests). */
void threads_free(void);

#endif
