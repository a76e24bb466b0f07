/* rtframe.h - interpreter ("runtime") frames inside a sample's pcs[].
 *
 * A runtime frame reader (rbframes.h for Ruby) splices the interpreter's own frames into
 * the native stack where its evaluation loop runs. Those words are not code addresses:
 * bit 63 marks them (no user-space pc has it on x86-64), bits 56-62 say what the word
 * holds (1..63), bits 0-55 the value. Other tags share bit 63 and stay apart: the JVM's
 * UNWIND_METHOD_TAG | Method* has kind 0, Python's words (ring.h's RING_PY_TAG 0xfffe and
 * pynames.h's PYNAMES_TAG 0xfffd in the top 16 bits) are kinds 126 and 125. The handler
 * writes raw words (an iseq pointer, a pc); the aggregator replaces each frame's words by one RTFRAME_NAME word whose value is an id
 * in the name table (core/rtnames.h), soon after the sample, so a frame is named as of
 * the sample. Samples holding such words carry RING_RUNTIME.
 *
 * Pure inline helpers: async-signal-safe. */
#ifndef FLAMEPROF_RTFRAME_H
#define FLAMEPROF_RTFRAME_H

#include <stdbool.h>
#include <stdint.h>

#define RTFRAME_BIT (1ull << 63)
#define RTFRAME_VALUE_MASK ((1ull << 56) - 1)

enum rtframe_kind {
    RTFRAME_RB_ISEQ = 1,  /* Ruby bytecode frame: rb_iseq_t *; an RTFRAME_RB_PC word follows */
    RTFRAME_RB_PC = 2,    /* the pc of the frame before it (an identity check for the iseq) */
    RTFRAME_RB_CFUNC = 3, /* Ruby C-function frame: its rb_callable_method_entry_t * */
    RTFRAME_RB_ME = 4,    /* after RTFRAME_RB_PC: the bytecode frame's method entry (or
                             cref), for its class name */
    RTFRAME_NAME = 5,     /* resolved: value is a name id (core/rtnames.h) */
    RTFRAME_RB_TEXT = 6,  /* after RTFRAME_RB_ME: the bytecode frame's identity
                             (rbframes_ident); none where the handler could not read it */
    RTFRAME_RB_MID = 7,   /* after RTFRAME_RB_CFUNC: the ID its method entry was called by,
                             read in the handler (the entry may be freed before naming) */
    RTFRAME_KIND_MAX = 63,
};

static inline uint64_t rtframe_word(enum rtframe_kind kind, uint64_t value)
{
    return RTFRAME_BIT | ((uint64_t)kind << 56) | (value & RTFRAME_VALUE_MASK);
}

static inline bool rtframe_is(uint64_t w)
{
    unsigned kind = (unsigned)(w >> 56) & 0x7f;
    return (w & RTFRAME_BIT) && kind >= 1 && kind <= RTFRAME_KIND_MAX;
}

static inline enum rtframe_kind rtframe_kind_of(uint64_t w)
{
    return (enum rtframe_kind)((w >> 56) & 0x7f);
}

static inline uint64_t rtframe_value(uint64_t w)
{
    return w & RTFRAME_VALUE_MASK;
}

#endif
