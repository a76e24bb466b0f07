/* lastwalk.h - a thread's previous walk, so the next one stops where the stack is the same.
 *
 * Why: between two samples of a thread (4 ms apart at most rates) the frames near the root
 * (main, the event loop, the runtime's entry, the outer JS/Java/Python calls) rarely change;
 * only the leaf end does. Each frame the walk steps through costs a few cold cache lines
 * (its CFI memo entry, a table page, the stack slot): 0.2-0.4 us a frame in node, the JVM
 * and CPython on this VM, where 20-40 frames a sample were the largest part of the handler.
 *
 * How: the walk records, per frame, its registers (pc, sp, fp) and where its pc was read
 * (the return-address slot). The next walk of the same thread, on the same stack and
 * module-map generation, compares each frame it reaches with the recorded ones (sp only
 * grows, so one forward pass): at the first frame with the same pc, sp, fp (and kind: exact
 * pc or return address), everything above it is taken from the record, but only after
 * checking that every recorded return-address slot above still holds its pc (an
 * interpreter frame's method is read again, as the walk reads it): a stack rebuilt from
 * another path through the same frame position (H1 -> G at sp X, later H2 -> G at sp X)
 * has another return address in G's slot and fails the check; the walk then goes on as if
 * there were no record. The slots' addresses come from the record, not from the loads, so the check's
 * misses overlap (one round, not one miss after another).
 *
 * Not used across stack switches (Go) or where a frame's rule reads rbx (its value is not
 * compared). The record keeps the outermost LASTWALK_FRAMES frames of a walk that ended at
 * the stack's end (not cut at the pcs[] limit).
 *
 * The state is per thread (the caller keeps it in TLS) and used by that thread's handler
 * only: no atomics. Async-signal-safe: plain loads and stores, reads bounded like the
 * walk's. */
#ifndef FLAMEPROF_UNWIND_LASTWALK_H
#define FLAMEPROF_UNWIND_LASTWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct unwind_interp; /* unwind.h */

enum { LASTWALK_FRAMES = 128 };

/* Flags in the low bits of lastwalk_frame.slot (slots are 8-byte aligned). */
enum {
    LASTWALK_OUTSIDE = 1, /* the step from this frame was in no module (JIT code) */
    LASTWALK_EXACT = 2,   /* pc is where execution was (leaf, signal frame), not a return */
    LASTWALK_BX = 4,      /* the step from this frame used an rbx-based CFA */
    LASTWALK_FLAGS = 7,
};

/* 32 bytes: a sample rewrites a record's frames, so every byte of one is a store. What
 * pcs[] gets for a frame (its pc, or an interpreter frame's method) is not kept: a reused
 * frame's value is read again, as the walk would read it (unwind_frame_value). */
typedef struct lastwalk_frame {
    uint64_t pc, sp, fp;
    uint64_t slot; /* where pc was read (0: from the context), | LASTWALK_* flags */
} lastwalk_frame;

/* One walk's frames, leaf first, kept as a ring: logical frame i is at
 * f[(start + i) % LASTWALK_FRAMES]; only the last (outermost) LASTWALK_FRAMES stay. */
typedef struct lastwalk_rec {
    uint64_t stack_end;
    uint32_t gen, start, len;
    bool complete; /* the walk reached the stack's end: the record is usable */
    lastwalk_frame f[LASTWALK_FRAMES];
} lastwalk_rec;

/* A thread's two records: the previous walk's and the one being written. Zeroed: empty. */
typedef struct unwind_last {
    _Atomic int taken; /* owned by a thread (lastwalk_claim) */
    unsigned cur;      /* the record the previous walk wrote */
    lastwalk_rec rec[2];
} unwind_last;

/* A fixed pool of records, mapped once (its pages touched as threads first use them), so
 * that the handler never allocates and the library needs no big static TLS block. */
typedef struct lastwalk_pool lastwalk_pool;

/* A pool of n records, or NULL. Not async-signal-safe. */
lastwalk_pool *lastwalk_pool_new(size_t n);

/* A free record for the calling thread, or NULL when all are taken. Async-signal-safe
 * (lock-free). */
unwind_last *lastwalk_claim(lastwalk_pool *p);

/* Fault a claimed record's pages in (its owner, outside the handler): the first write to
 * each page is a page fault, a few microseconds each in this VM, and would otherwise land
 * in the handler of the thread's first samples (the tail of the handler's cost). */
void lastwalk_touch(unwind_last *l);

/* Give a record back (its thread is ending and no longer uses it). Async-signal-safe. */
void lastwalk_release(lastwalk_pool *p, unwind_last *l);

/* One walk's use of it (on the handler's stack). */
typedef struct lastwalk {
    const lastwalk_rec *old; /* NULL: nothing to match */
    uint32_t op;             /* next old frame to compare */
    lastwalk_rec *rec;       /* being written; NULL: not recording */
    uint32_t n;              /* frames written to rec */
    unsigned next;           /* rec's index in unwind_last */
} lastwalk;

/* Start a walk: pick the records, prefetch the old one's return-address slots. last may be
 * NULL (off). */
void lastwalk_begin(lastwalk *w, unwind_last *last, uint64_t stack_end, uint32_t gen);

/* The sp of the previous walk's first caller frame, where a walk will likely join it
 * (UINT64_MAX: no record; last may be NULL). */
uint64_t lastwalk_join_sp(const unwind_last *last);

/* Record a frame the walk wrote, at regs pc, sp, fp; slot | flags as above. */
void lastwalk_push(lastwalk *w, uint64_t pc, uint64_t sp, uint64_t fp, uint64_t slot);

/* Add flags (LASTWALK_OUTSIDE, LASTWALK_BX) to the frame pushed last. */
void lastwalk_flag(lastwalk *w, uint64_t flags);

/* What a match gave: frames appended, and the walk's counters to add. */
typedef struct lastwalk_tail {
    size_t added, outside, methods;
    bool truncated;
} lastwalk_tail;

/* Does the frame pushed last match the old record, with everything above it unchanged in
 * [lo, hi)? Then append the old frames above it to pcs (from depth, up to max) and to the
 * new record, and return true: the walk is done. interp (may be NULL): the frames' values
 * are read as the walk reads them (an interpreter frame's method, unwind_frame_value). */
bool lastwalk_match(lastwalk *w, uint64_t lo, uint64_t hi, const struct unwind_interp *interp,
                    uint64_t *pcs, size_t depth, size_t max, lastwalk_tail *tail);

/* End the walk: complete says it reached the stack's end (not the pcs[] limit). */
void lastwalk_end(lastwalk *w, unwind_last *last, bool complete);

#endif
