/* pynames.h - names of sampled Python frames, by id.
 *
 * The aggregator names each code object soon after its sample (preload/python.c) and
 * stores the name here; the stack table then holds PYNAMES_PC(id) where the frame was, and
 * the report turns it back into `function (file:line)`. Names are kept for the process's
 * life, so a code object freed since keeps the name it had when sampled.
 *
 * Thread-safe (one lock); not async-signal-safe. */
#ifndef FLAMEPROF_PYNAMES_H
#define FLAMEPROF_PYNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A named Python frame in a stack's pcs: no user-space address looks like this. */
#define PYNAMES_TAG 0xfffd000000000000ull
#define PYNAMES_PC(id) (PYNAMES_TAG | (uint64_t)(id))
#define PYNAMES_IS_PC(pc) (((pc) & 0xffff000000000000ull) == PYNAMES_TAG)

/* The id of name (added if new); UINT32_MAX if memory is short. */
uint32_t pynames_intern(const char *name);

/* In a fork child: the parent's drain thread may have held the lock or been mid-update;
 * start over with a fresh lock and an empty table (the parent's names leak, copy-on-write). */
void pynames_after_fork_child(void);

/* How many ids have been handed out (0 .. count-1), for the raw spill. */
size_t pynames_count(void);

/* Copy the name of PYNAMES_PC(id) into buf; false for an id never handed out. */
bool pynames_get(uint64_t pc, char *buf, size_t cap);

#endif
