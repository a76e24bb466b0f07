/* pyframes.h - the sampled thread's CPython frames, read from inside the signal handler
 * and spliced into its native stack where the interpreter's evaluation loop runs them.
 *
 * A sampled thread is stopped inside its own handler, so its own frame chain cannot
 * change under the walk; only pointers that are not its own (its thread state, found once
 * in the interpreter's thread list and then cached per thread) could be stale. Every read
 * is nevertheless checked against a snapshot of the readable mappings (pyframes_set_ranges,
 * taken off the handler); memory mapped since the snapshot is read with process_vm_readv
 * (the kernel fails the copy rather than fault; at most 512 such system calls a sample).
 * Every loop is bounded, every code object must carry the code type, and the walk stops at
 * the first value that does not check out: a missing frame, never a fault.
 *
 * With the frames it reads whether the thread holds the GIL (pyframes_gil: two or three
 * more reads, once the GIL's offsets are checked: preload/pygil.h).
 *
 * The handler records, per Python frame, the code object's address and an identity (a
 * hash of its name's and filename's characters, read while the sampled thread holds them
 * alive; its first line) with the instruction offset; the aggregator names them soon after
 * (preload/python.c) and keeps a name only if the text it reads hashes the same, so a code
 * object freed and its memory reused (at any moment: the program runs on while the
 * aggregator reads) is never named after the function that lived there before.
 *
 * pyframes_configure and pyframes_set_ranges run off the handler; pyframes_read and
 * pyframes_splice are async-signal-safe (no allocation, no locks; system calls only for
 * reads past the snapshot). */
#ifndef FLAMEPROF_PYFRAMES_H
#define FLAMEPROF_PYFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pylayout.h"
#include "ring.h"
#include "text_hash.h"
#include "unwind.h"

/* Where the interpreter is and how it lays out its structures; published whole. */
typedef struct pyframes_config {
    pylayout layout;
    uint64_t runtime;         /* &_PyRuntime */
    uint64_t code_type;       /* &PyCode_Type */
    uint64_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault's code range */
    bool gil;                 /* the layout's GIL offsets checked on the live interpreter */
} pyframes_config;

/* Does the sampled thread hold the GIL? Read with its frames (pyframes_read): the GIL's
 * `locked` flag and `last_holder`, which only the holder changes, so a thread stopped in
 * its own handler sees its own state whole. */
typedef enum pyframes_gil {
    PYFRAMES_GIL_UNKNOWN = 0, /* no Python frames, no GIL offsets, or a read failed */
    PYFRAMES_GIL_HELD,
    PYFRAMES_GIL_NOT_HELD,    /* a Python thread running without it (a C call that released
                                 it) or waiting for it */
} pyframes_gil;

/* Characters of a str the handler hashes (and the name shows): a longer one is cut. */
#define PYFRAMES_STR_MAX 512

/* A frame's identity from its name's and filename's text hashes (util/text_hash.h: kind
 * bytes a character, as the handler reads them). */
static inline uint64_t pyframes_ident(uint64_t name_hash, uint64_t file_hash)
{
    return util_text_hash_pair(name_hash, file_hash);
}

/* Turn the reader on with cfg (copied; NULL turns it off). Off the handler. */
void pyframes_configure(const pyframes_config *cfg);

/* Publish the readable memory the reader may touch (sorted, disjoint), and where the brk
 * heap starts (0: none), whose end the reader takes as it is at each read; the caller
 * keeps each snapshot alive until no handler can hold it. */
void pyframes_set_ranges(const unwind_ranges *r, uint64_t heap_lo);

/* Reads that fell outside the snapshot so far: the caller refreshes it when this moves. */
uint64_t pyframes_misses(void);

/* Handler: read the calling thread's Python frames (leaf first) into py[0..max), marking
 * the last frame each C-level evaluation runs with RING_PY_ENTRY, and whether it holds
 * the GIL into *gil (UNKNOWN when it has no Python frame). Returns how many frames. */
size_t pyframes_read(ring_pyframe *py, size_t max, pyframes_gil *gil);

/* Handler: replace each native pc inside the evaluation loop in pcs[off, off+n) by the
 * Python frames it runs (as RING_PY_PC(k) values), writing the merged stack to pcs[0, ...);
 * needs off >= npy. Python frames with no evaluation frame left (a walk cut short) go at
 * the root end. Returns the merged depth (at most max). */
size_t pyframes_splice(uint64_t *pcs, size_t off, size_t n, size_t max,
                       const ring_pyframe *py, size_t npy);

#endif
