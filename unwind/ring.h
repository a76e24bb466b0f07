/* ring.h - lock-free multi-producer ring of stack samples, from signal handlers to one
 * consumer (the aggregator thread).
 *
 * A bounded queue of fixed-size slots, each with a sequence number (Vyukov's design): a
 * producer claims a slot with one compare-and-swap, walks the stack straight into it and
 * publishes it with a release store. A full ring never blocks the handler: the claim
 * fails and the caller counts the sample as dropped. All memory is allocated by
 * ring_init, before any timer is armed. */
#ifndef FLAMEPROF_RING_H
#define FLAMEPROF_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAX_DEPTH 1024

enum {
    RING_TRUNCATED = 1, /* the stack went on past RING_MAX_DEPTH */
    RING_JIT = 2,       /* some pc lies in no module: jit_stamp and jvm_gen matter */
};

typedef struct ring_sample {
    uint32_t weight; /* 1 + timer overruns: the periods of CPU time this sample stands for */
    uint32_t gen;    /* module map generation the pcs were walked against */
    uint32_t tid;
    uint16_t depth;
    uint16_t flags;  /* RING_TRUNCATED, RING_JIT */
    uint32_t jvm_gen;   /* JVMTI code generation when taken (RING_JIT only) */
    uint64_t jit_stamp; /* size of the perf map when taken (RING_JIT only) */
    uint64_t pcs[RING_MAX_DEPTH]; /* leaf first */
} ring_sample;

typedef struct ring {
    _Atomic size_t *seq; /* per slot; apart from the samples so that resetting the ring
                            touches a few pages, not every slot's */
    ring_sample *slots;
    size_t mask;
    _Alignas(64) _Atomic size_t head; /* next slot producers claim */
    _Alignas(64) size_t tail;         /* next slot the consumer reads */
} ring;

/* nslots is rounded up to a power of two. Returns 0, or -1 if memory is short. */
int ring_init(ring *r, size_t nslots);
void ring_destroy(ring *r);

/* Forget everything in flight (after fork, in the child: a producer that had claimed a
 * slot does not exist there). Only while no producer can run. */
void ring_reset(ring *r);

/* Producer side, async-signal-safe. claim returns NULL when the ring is full. */
ring_sample *ring_claim(ring *r);
void ring_publish(ring *r, ring_sample *s);

/* Consumer side (one thread). peek returns the oldest published sample or NULL;
 * release hands its slot back to producers. */
const ring_sample *ring_peek(ring *r);
void ring_release(ring *r);

#endif
