/* python.h - CPython frames by name: the off-handler half of the frame reader.
 *
 * Polled by the aggregator thread: finds a CPython 3.8-3.13 in the process (its exported
 * _PyRuntime), takes the structure layout from the interpreter's own debug offsets (3.13)
 * or the version table (pylayout.h), checks it on the live interpreter (the thread states
 * point back at their interpreter, the main thread's frames hold code objects whose names
 * are str), and only then turns on the handler's reader (unwind/pyframes.h). A version or
 * build it does not know gets one `flameprof:` line and native frames only. The GIL bit
 * (pygil.h) goes on after its own check, or stays off with one line of its own.
 *
 * While on, it keeps the reader's readable-memory snapshot fresh and names each sample's
 * Python frames before the sample reaches the stack table: code objects are read here
 * with process_vm_readv (a freed one fails the read instead of faulting) and checked
 * against the identity the handler recorded, so a name is always the sampled function's.
 *
 * Thread: the aggregator's only (not async-signal-safe). FLAMEPROF_PYTHON=0 turns it off. */
#ifndef FLAMEPROF_PYTHON_H
#define FLAMEPROF_PYTHON_H

#include <stdbool.h>
#include <stdint.h>

#include "ring.h"

/* One aggregator tick: detect, check, refresh the memory snapshot. now_ns: CLOCK_MONOTONIC. */
void python_poll(uint64_t now_ns);

/* s with its Python frames named (pcs hold PYNAMES_PC ids, RING_PY cleared): a copy in
 * storage owned by this module, valid until the next call; s itself when it has none. */
const ring_sample *python_named(const ring_sample *s);

/* In a fork child, before the drain thread starts again: the parent's thread may have been
 * naming (its cache and the name table mid-update); both start empty. */
void python_after_fork_child(void);

/* Where the interpreter's code is: its evaluation loop, and the executable segment of the
 * module holding it (libpython or the python executable). */
typedef struct python_code {
    uint64_t eval_lo, eval_hi, text_lo, text_hi;
    uint64_t interp_head; /* &_PyRuntime.interpreters.head */
} python_code;

/* At exit, on the exiting thread (the aggregator may still run): true, with where its code
 * is, when CPython was found here and has been finalized since (no interpreter left): its
 * daemon threads run on in the dead interpreter (sampler_park_waiting_in). */
bool python_finalized(python_code *out);

/* FLAMEPROF_THREADS: each Python thread's threading name (threading._active: "MainThread",
 * "worker-1", ...) for its kernel tid (threads_set_runtime), read from the interpreter's
 * objects within 100 ms of a new thread's first sample, else each second (now:
 * CLOCK_MONOTONIC ns; UINT64_MAX: now, the last scan at the end). Nothing while the reader is off; comm stays where a read fails. */
void python_thread_names(uint64_t now);

/* Python frames the aggregator could not name (the code object was gone or changed). */
uint64_t python_unnamed(void);

#endif
