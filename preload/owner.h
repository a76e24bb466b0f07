/* owner.h - is the process running this code the one our profiling state belongs to?
 *
 * glibc's fork() runs our atfork child handler, which makes the child an owner of its own
 * (fresh) state. A child made any other way does not: a raw clone/fork system call (Chromium
 * forks its zygote, renderers and helpers so), a raw vfork, clone(CLONE_VM). In such a
 * child our state still describes the parent: its aggregator thread does not exist here,
 * its profile is not ours to write, and with CLONE_VM its memory is the parent's own, so
 * that writing to it would change the parent's profiler. Every path that would wait for
 * the aggregator or write a profile asks first.
 *
 * Two facts tell the cases apart without a lock, an allocation or a filtered system call:
 * the pid (getpid, a system call every seccomp policy allows) against the one cached when
 * this state was made ours, and a page marked MADV_WIPEONFORK, which reads zero in any
 * process that got a copy of our memory and keeps its mark where memory is shared.
 * All functions are async-signal-safe. */
#ifndef FLAMEPROF_OWNER_H
#define FLAMEPROF_OWNER_H

#include <stdbool.h>

typedef enum owner_kind {
    OWNER_SELF,   /* the process our state was made for (or re-made for, after a fork) */
    OWNER_COPY,   /* a child with its own copy of memory that nobody re-made our state in:
                     it may adopt the state (owner_claim) at a safe point */
    OWNER_SHARED, /* a child sharing the parent's memory (CLONE_VM, raw vfork), or a child
                     we cannot classify: it must touch nothing */
} owner_kind;

/* Make the calling process the owner (constructor, atfork child, adoption). */
void owner_claim(void);

/* Which kind of process the caller is. OWNER_SELF before any owner_claim. */
owner_kind owner_check(void);

/* Shorthand: owner_check() == OWNER_SELF. */
bool owner_is_self(void);

#endif
