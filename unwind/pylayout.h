/* pylayout.h - where CPython 3.8 to 3.13 keep what the frame reader needs.
 *
 * 3.13 describes itself (_Py_DebugOffsets at the start of _PyRuntime); 3.8 to 3.12 do not,
 * so their offsets come from a table generated from each version's own headers
 * (tools/pylayout_gen.c) and are checked on the live interpreter before use (preload/
 * python.c). A version with no row is left alone: never guessed.
 * Pure data and lookups; thread-safe. */
#ifndef FLAMEPROF_PYLAYOUT_H
#define FLAMEPROF_PYLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Byte offsets; -1 where the version has no such field. */
typedef struct pylayout {
    int minor;                   /* 3.minor */
    int runtime_interp_head;     /* _PyRuntime.interpreters.head */
    int runtime_finalizing;      /* _PyRuntime._finalizing (non-NULL: shutting down) */
    int interp_tstate_head;      /* first PyThreadState of the interpreter */
    int interp_modules;          /* sys.modules (a dict), for the threads' names; -1: none */
    int tstate_next, tstate_interp, tstate_thread_id; /* thread_id: pthread_self() */
    int tstate_frame;            /* PyFrameObject* (<3.11), _PyCFrame* (3.11, 3.12),
                                    _PyInterpreterFrame* (3.13) */
    int cframe_current;          /* _PyCFrame.current_frame (3.11, 3.12) */
    int frame_code, frame_previous;
    int frame_instr;             /* f_lasti (int) before 3.11, an instruction pointer after */
    int frame_owner, frame_is_entry; /* 3.11+; is_entry 3.11 only */
    int code_name, code_qualname, code_filename, code_firstlineno;
    int code_code;               /* co_code (bytes) before 3.11, co_code_adaptive after */
    int str_hash, str_state, str_ascii_data, str_compact_data;
    /* The GIL (struct _gil_runtime_state): in _PyRuntime.ceval before 3.12, else where the
     * interpreter's ceval.gil points (its own _gil for the main interpreter). */
    int runtime_gil;             /* _PyRuntime.ceval.gil (3.8-3.11) */
    int interp_gil_ptr;          /* PyInterpreterState.ceval.gil (3.12+) */
    int interp_gil;              /* PyInterpreterState._gil (3.12+): checked at start */
    int gil_locked, gil_holder;  /* locked (int), last_holder (PyThreadState*); -1: unknown */
} pylayout;

enum {
    PY_OWNED_BY_CSTACK = 3, /* 3.12+: the C evaluation call's own entry frame */
};

/* The table row for 3.minor (8 to 12), or NULL. */
const pylayout *pylayout_for_minor(int minor);

/* 3.13+: fill *out from the _Py_DebugOffsets image at the start of _PyRuntime (len bytes
 * read from it). False (with why) when the cookie, version or sizes are not the ones this
 * reader knows. */
bool pylayout_from_debug_offsets(const unsigned char *img, size_t len, pylayout *out,
                                 char *why, size_t cap);

#endif
