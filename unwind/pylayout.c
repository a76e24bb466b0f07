/* pylayout.c - CPython structure offsets by version. See pylayout.h.
 *
 * The rows for 3.8 to 3.12 are tools/pylayout_gen.c's output, compiled against each
 * version's installed headers (pyenv 3.8.18, 3.9.18, 3.10.13, 3.11.7, 3.12.1; Debian's
 * 3.11.2 gives the same 3.11 row). */
#include "pylayout.h"

#include <stdio.h>
#include <string.h>

static const pylayout rows[] = {
    { .minor = 8,
      .runtime_interp_head = 32,
      .runtime_finalizing = 16,
      .interp_tstate_head = 8,
      .interp_modules = 56,
      .tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 176,
      .tstate_frame = 24, .cframe_current = -1,
      .frame_code = 32, .frame_previous = 24, .frame_instr = 104,
      .frame_owner = -1, .frame_is_entry = -1,
      .code_name = 112, .code_qualname = -1, .code_filename = 104, .code_firstlineno = 40,
      .code_code = 48,
      .str_hash = 24, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
      .runtime_gil = 1152, .interp_gil_ptr = -1, .interp_gil = -1,
      .gil_locked = 16, .gil_holder = 8 },
    { .minor = 9,
      .runtime_interp_head = 32,
      .runtime_finalizing = 16,
      .interp_tstate_head = 8,
      .interp_modules = 856,
      .tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 176,
      .tstate_frame = 24, .cframe_current = -1,
      .frame_code = 32, .frame_previous = 24, .frame_instr = 104,
      .frame_owner = -1, .frame_is_entry = -1,
      .code_name = 112, .code_qualname = -1, .code_filename = 104, .code_firstlineno = 40,
      .code_code = 48,
      .str_hash = 24, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
      .runtime_gil = 352, .interp_gil_ptr = -1, .interp_gil = -1,
      .gil_locked = 16, .gil_holder = 8 },
    { .minor = 10,
      .runtime_interp_head = 32,
      .runtime_finalizing = 16,
      .interp_tstate_head = 8,
      .interp_modules = 856,
      .tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 176,
      .tstate_frame = 24, .cframe_current = -1,
      .frame_code = 32, .frame_previous = 24, .frame_instr = 96,
      .frame_owner = -1, .frame_is_entry = -1,
      .code_name = 112, .code_qualname = -1, .code_filename = 104, .code_firstlineno = 40,
      .code_code = 48,
      .str_hash = 24, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
      .runtime_gil = 352, .interp_gil_ptr = -1, .interp_gil = -1,
      .gil_locked = 16, .gil_holder = 8 },
    { .minor = 11,
      .runtime_interp_head = 40,
      .runtime_finalizing = 24,
      .interp_tstate_head = 16,
      .interp_modules = 888,
      .tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 152,
      .tstate_frame = 56, .cframe_current = 8,
      .frame_code = 32, .frame_previous = 48, .frame_instr = 56,
      .frame_owner = 69, .frame_is_entry = 68,
      .code_name = 120, .code_qualname = 128, .code_filename = 112, .code_firstlineno = 72,
      .code_code = 184,
      .str_hash = 24, .str_state = 32, .str_ascii_data = 48, .str_compact_data = 72,
      .runtime_gil = 360, .interp_gil_ptr = -1, .interp_gil = -1,
      .gil_locked = 16, .gil_holder = 8 },
    { .minor = 12,
      .runtime_interp_head = 40,
      .runtime_finalizing = 24,
      .interp_tstate_head = 72,
      .interp_modules = 944,
      .tstate_next = 8, .tstate_interp = 16, .tstate_thread_id = 136,
      .tstate_frame = 56, .cframe_current = 0,
      .frame_code = 0, .frame_previous = 8, .frame_instr = 56,
      .frame_owner = 70, .frame_is_entry = -1,
      .code_name = 120, .code_qualname = 128, .code_filename = 112, .code_firstlineno = 68,
      .code_code = 192,
      .str_hash = 24, .str_state = 32, .str_ascii_data = 40, .str_compact_data = 56,
      .runtime_gil = -1, .interp_gil_ptr = 384, .interp_gil = 1040,
      .gil_locked = 16, .gil_holder = 8 },
};

const pylayout *pylayout_for_minor(int minor)
{
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        if (rows[i].minor == minor)
            return &rows[i];
    return NULL;
}

/* _Py_DebugOffsets as 3.13 lays it out: uint64_t fields, in this order. */
enum {
    DO_COOKIE = 0, DO_VERSION = 8, DO_FREE_THREADED = 16,
    DO_RT_SIZE = 24, DO_RT_FINALIZING = 32, DO_RT_INTERP_HEAD = 40,
    DO_IS_SIZE = 48, DO_IS_THREADS_HEAD = 48 + 3 * 8, DO_IS_MODULES = 48 + 5 * 8,
    DO_IS_CEVAL_GIL = 48 + 8 * 8, DO_IS_GIL = 48 + 9 * 8, DO_IS_GIL_LOCKED = 48 + 11 * 8,
    DO_IS_GIL_HOLDER = 48 + 12 * 8,
    DO_TS_SIZE = 48 + 13 * 8, DO_TS_NEXT = DO_TS_SIZE + 2 * 8, DO_TS_INTERP = DO_TS_SIZE + 3 * 8,
    DO_TS_CURRENT_FRAME = DO_TS_SIZE + 4 * 8, DO_TS_THREAD_ID = DO_TS_SIZE + 5 * 8,
    DO_IF_SIZE = DO_TS_SIZE + 9 * 8, DO_IF_PREVIOUS = DO_IF_SIZE + 8,
    DO_IF_EXECUTABLE = DO_IF_SIZE + 16, DO_IF_INSTR_PTR = DO_IF_SIZE + 24,
    DO_IF_OWNER = DO_IF_SIZE + 40,
    DO_CO_SIZE = DO_IF_SIZE + 6 * 8, DO_CO_FILENAME = DO_CO_SIZE + 8, DO_CO_NAME = DO_CO_SIZE + 16,
    DO_CO_QUALNAME = DO_CO_SIZE + 24, DO_CO_FIRSTLINENO = DO_CO_SIZE + 40,
    DO_CO_CODE_ADAPTIVE = DO_CO_SIZE + 72,
    DO_END = DO_CO_SIZE + 80,
};

static uint64_t u64_at(const unsigned char *img, size_t off)
{
    uint64_t v;
    memcpy(&v, img + off, sizeof v);
    return v;
}

/* An offset the reader can use: inside a structure of a sane size. */
static bool take(const unsigned char *img, size_t off, size_t size_off, int *out)
{
    uint64_t v = u64_at(img, off), size = u64_at(img, size_off);
    if (size == 0 || size > (1u << 20) || v + 8 > size)
        return false;
    *out = (int)v;
    return true;
}

/* The GIL's offsets: ceval.gil and the interpreter's own _gil, with locked and
 * last_holder given inside the interpreter (inside _gil): made relative to the GIL.
 * -1 in gil_locked when they do not read as that. */
static void gil_from_debug_offsets(const unsigned char *img, pylayout *out)
{
    int gil, locked, holder;
    out->runtime_gil = -1;
    out->gil_locked = out->gil_holder = -1;
    if (!take(img, DO_IS_CEVAL_GIL, DO_IS_SIZE, &out->interp_gil_ptr) ||
        !take(img, DO_IS_GIL, DO_IS_SIZE, &gil) ||
        !take(img, DO_IS_GIL_LOCKED, DO_IS_SIZE, &locked) ||
        !take(img, DO_IS_GIL_HOLDER, DO_IS_SIZE, &holder) || locked <= gil || holder <= gil ||
        locked - gil > 256 || holder - gil > 256 || ((holder - gil) & 7) || ((locked - gil) & 3))
        return;
    out->interp_gil = gil;
    out->gil_locked = locked - gil;
    out->gil_holder = holder - gil;
}

bool pylayout_from_debug_offsets(const unsigned char *img, size_t len, pylayout *out,
                                 char *why, size_t cap)
{
    if (len < DO_END || memcmp(img, "xdebugpy", 8) != 0) {
        snprintf(why, cap, "no _Py_DebugOffsets cookie at the start of _PyRuntime");
        return false;
    }
    uint64_t version = u64_at(img, DO_VERSION);
    if ((version >> 24) != 3 || ((version >> 16) & 0xff) != 13) {
        snprintf(why, cap, "debug offsets of version %#llx, not 3.13",
                 (unsigned long long)version);
        return false;
    }
    if (u64_at(img, DO_FREE_THREADED)) {
        snprintf(why, cap, "a free-threaded build");
        return false;
    }
    /* Strings are not described by 3.13's debug offsets: its PyASCIIObject is 3.12's. */
    *out = (pylayout){ .minor = 13, .cframe_current = -1, .frame_is_entry = -1,
                       .str_hash = 24, .str_state = 32, .str_ascii_data = 40,
                       .str_compact_data = 56 };
    bool ok = take(img, DO_RT_INTERP_HEAD, DO_RT_SIZE, &out->runtime_interp_head) &&
              take(img, DO_RT_FINALIZING, DO_RT_SIZE, &out->runtime_finalizing) &&
              take(img, DO_IS_THREADS_HEAD, DO_IS_SIZE, &out->interp_tstate_head) &&
              take(img, DO_TS_NEXT, DO_TS_SIZE, &out->tstate_next) &&
              take(img, DO_TS_INTERP, DO_TS_SIZE, &out->tstate_interp) &&
              take(img, DO_TS_THREAD_ID, DO_TS_SIZE, &out->tstate_thread_id) &&
              take(img, DO_TS_CURRENT_FRAME, DO_TS_SIZE, &out->tstate_frame) &&
              take(img, DO_IF_PREVIOUS, DO_IF_SIZE, &out->frame_previous) &&
              take(img, DO_IF_EXECUTABLE, DO_IF_SIZE, &out->frame_code) &&
              take(img, DO_IF_INSTR_PTR, DO_IF_SIZE, &out->frame_instr) &&
              take(img, DO_IF_OWNER, DO_IF_SIZE, &out->frame_owner) &&
              take(img, DO_CO_FILENAME, DO_CO_SIZE, &out->code_filename) &&
              take(img, DO_CO_NAME, DO_CO_SIZE, &out->code_name) &&
              take(img, DO_CO_QUALNAME, DO_CO_SIZE, &out->code_qualname) &&
              take(img, DO_CO_FIRSTLINENO, DO_CO_SIZE, &out->code_firstlineno) &&
              take(img, DO_CO_CODE_ADAPTIVE, DO_CO_SIZE, &out->code_code);
    if (!take(img, DO_IS_MODULES, DO_IS_SIZE, &out->interp_modules))
        out->interp_modules = -1; /* only the threads' names need it */
    gil_from_debug_offsets(img, out); /* only the GIL bit needs it */
    if (!ok)
        snprintf(why, cap, "debug offsets past their structures' sizes");
    return ok;
}
