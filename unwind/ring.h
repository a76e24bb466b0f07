/* ring.h - lock-free multi-producer queue of stack samples, from signal handlers to one
 * consumer (the aggregator thread).
 *
 * Two lock-free structures over one array of fixed-size sample slots:
 *  - a free list (a Treiber stack with an ABA tag): a producer pops a slot with one
 *    compare-and-swap and walks the stack straight into it; the consumer pushes slots back.
 *    LIFO on purpose: the same one or two slots are reused sample after sample, so their
 *    pages stay hot. Rotating through every slot (a plain ring) made each sample touch cold
 *    memory, and the first write to a cold page cost 10-30 us in this VM: thirty times the
 *    stack walk itself.
 *  - a bounded queue of published slot indexes with per-entry sequence numbers (Vyukov's
 *    design), which keeps samples in publication order for the consumer.
 * An empty free list never blocks the handler: the claim fails and the caller counts the
 * sample as dropped. All memory is allocated by ring_init, before any timer is armed. */
#ifndef FLAMEPROF_RING_H
#define FLAMEPROF_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MAX_DEPTH 1024

enum {
    RING_TRUNCATED = 1, /* the stack went on past RING_MAX_DEPTH */
    RING_JIT = 2,       /* some pc lies in no module: time_ns and jvm_gen name it */
    RING_METHODS = 4,   /* some pcs hold interpreted methods (UNWIND_METHOD_TAG) */
    RING_OFFCPU = 8,    /* wall mode: the thread was inside a system call (off CPU) */
    RING_PY = 16,       /* Python frames spliced in: pcs hold RING_PY_PC(k) for py[k] */
    RING_GIL_HELD = 32, /* with RING_PY: the thread held CPython's GIL (pyframes.h) */
    RING_GIL_NOT_HELD = 64, /* with RING_PY: it ran (or waited) without it */
    RING_RUNTIME = 0x100, /* holds interpreter frame words (rtframe.h) */
};

/* Python frames (pyframes.h): half the stack, the other half for the native walk (a slot's
 * py pages are touched only in Python processes). */
#define RING_MAX_PY (RING_MAX_DEPTH / 2)
/* A Python frame in pcs: an address no user-space code has (x86-64 user space is below
 * 2^47), with its index in py[]. */
#define RING_PY_TAG 0xfffe000000000000ull
#define RING_PY_PC(k) (RING_PY_TAG | (uint64_t)(k))
#define RING_IS_PY_PC(pc) (((pc) & 0xffff000000000000ull) == RING_PY_TAG)
#define RING_PY_ENTRY 1u /* py flag: the last frame its C evaluation call runs */

typedef struct ring_pyframe {
    uint64_t code;        /* the code object's address when sampled */
    uint64_t ident;       /* its name's and filename's text hashes, mixed (pyframes.h) */
    int32_t firstlineno;
    int32_t instr;        /* byte offset of the instruction in its code; -1 unknown */
    uint32_t flags;       /* RING_PY_ENTRY */
    uint32_t pad;
} ring_pyframe;

typedef struct ring_sample {
    uint32_t weight; /* 1 + timer overruns: the periods of CPU time this sample stands for */
    uint32_t gen;    /* module map generation the pcs were walked against */
    uint32_t tid;
    uint16_t depth;
    uint16_t flags;  /* RING_TRUNCATED, RING_JIT */
    uint32_t jvm_gen;   /* JVMTI code generation when taken (RING_JIT only) */
    uint32_t copy;      /* 1 + the slot of the stack's copy (stackcopy.h), to walk again
                           once the modules are refreshed; 0: none */
    uint64_t time_ns;   /* CLOCK_MONOTONIC when taken: the sample's place in the timeline */
    uint64_t pcs[RING_MAX_DEPTH]; /* leaf first */
    uint32_t npy;                 /* Python frames in py (RING_PY only) */
    ring_pyframe py[RING_MAX_PY]; /* leaf first; pages touched only in Python processes */
} ring_sample;

typedef struct ring_entry {
    _Atomic size_t seq;
    uint32_t slot;
} ring_entry;

typedef struct ring {
    ring_sample *slots;
    _Atomic uint32_t *next_free; /* free-list links, by slot */
    _Atomic uint64_t free_head;  /* (tag << 32) | (slot + 1); low half 0 = empty */
    ring_entry *queue;           /* published slot indexes, in order */
    size_t mask;
    _Alignas(64) _Atomic size_t head; /* next queue position producers claim */
    _Atomic uint32_t dozing; /* the consumer sleeps long (ring_set_dozing); in head's line,
                                which a publish has just written: reading it costs nothing */
    _Alignas(64) size_t tail;         /* next queue position the consumer reads */
} ring;

/* nslots is rounded up to a power of two. Returns 0, or -1 if memory is short. */
int ring_init(ring *r, size_t nslots);
void ring_destroy(ring *r);

/* Forget everything in flight (after fork, in the child: a producer that had claimed a
 * slot does not exist there). Only while no producer can run. */
void ring_reset(ring *r);

/* Producer side, async-signal-safe. claim returns NULL when every slot is in use.
 * publish returns true to one publisher after the consumer began to doze: that one wakes
 * it (the consumer's business how; it stops dozing). */
ring_sample *ring_claim(ring *r);
bool ring_publish(ring *r, ring_sample *s);

/* Consumer side (one thread). peek returns the oldest published sample or NULL;
 * release hands its slot back to producers. */
const ring_sample *ring_peek(ring *r);
void ring_release(ring *r);

/* Consumer side: about to sleep long (on) with nothing published, or awake again (off).
 * Returns false, and stays awake, when a sample is already waiting. A publish that races
 * the switch on (its sample published, the flag not yet seen) leaves that one sample for
 * the end of the doze; the next publish wakes the consumer. */
bool ring_set_dozing(ring *r, bool on);

#endif
