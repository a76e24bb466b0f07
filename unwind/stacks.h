/* stacks.h - unique raw stacks and their weights, merged as samples arrive.
 *
 * Owned by the aggregator thread (never touched by the signal handler): the ring is
 * drained into it, so memory grows with the number of distinct stacks, not with run time. */
#ifndef FLAMEPROF_STACKS_H
#define FLAMEPROF_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "ring.h"

typedef struct stack_entry {
    uint64_t weight;  /* sum of sample weights */
    uint64_t samples; /* signals that produced this stack */
    uint64_t spilled_weight, spilled_samples; /* already in the raw spill (rawfile.h) */
    uint64_t mark_weight; /* weight when the current window began (FLAMEPROF_INTERVAL) */
    uint64_t hash;
    uint32_t gen;     /* module map generation */
    uint32_t pm_gen;  /* perf-map generation (RING_JIT stacks only) */
    uint32_t jvm_gen; /* JVMTI code generation (RING_JIT stacks only) */
    uint32_t id;      /* 0, 1, 2, ... in order of first sample: the timeline's stack id */
    uint32_t tid;     /* the thread, when the table keeps threads apart; else 0 */
    uint16_t depth;
    uint16_t flags;   /* RING_TRUNCATED, RING_JIT */
    uint64_t pcs[];   /* leaf first */
} stack_entry;

typedef struct stack_table {
    stack_entry **slots; /* open addressing, power-of-two size */
    size_t cap, len;
    char *arena;         /* current allocation chunk for entries */
    size_t arena_left;
    void *chunks;        /* list of chunks, freed by stacks_free */
    stack_entry **by_id; /* by_id[id], len of them */
    size_t by_id_cap;
    /* Stacks keyed by (thread, stack) rather than by stack (FLAMEPROF_THREADS): memory
     * grows with the threads that share a stack, so only when asked. Set after
     * stacks_init (which clears it); stacks_free keeps it, as a setting of the table. */
    bool by_thread;
} stack_table;

void stacks_init(stack_table *t);
void stacks_free(stack_table *t);

/* Merge one sample, whose JIT frames are to be named as of perf-map generation pm_gen.
 * Returns 0, or -1 if memory is short (the sample is then lost and the caller counts it). */
int stacks_add(stack_table *t, const ring_sample *s, uint32_t pm_gen);

/* The same for a stack that stands for `samples` samples of total weight `weight` (a
 * record of the raw spill); s->weight is ignored. */
int stacks_merge(stack_table *t, const ring_sample *s, uint32_t pm_gen, uint64_t weight,
                 uint64_t samples);

/* stacks_merge returning the entry the sample went to (its id names it in the timeline),
 * or NULL if memory is short. */
stack_entry *stacks_put(stack_table *t, const ring_sample *s, uint32_t pm_gen, uint64_t weight,
                        uint64_t samples);

/* The entry with this id, or NULL. */
static inline stack_entry *stacks_get(const stack_table *t, uint32_t id)
{
    return id < t->len ? t->by_id[id] : NULL;
}

/* Visit every entry (in no particular order). */
void stacks_foreach(stack_table *t, void (*fn)(stack_entry *e, void *ctx), void *ctx);

#endif
