/* pylayout_gen.c - prints unwind/pylayout.c's row for the CPython whose headers it is
 * compiled against (a maintainer's tool, not built by meson):
 *   gcc -I PREFIX/include/python3.X -I PREFIX/include/python3.X/internal pylayout_gen.c && ./a.out
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#endif
#include "internal/pycore_pystate.h"
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_interp.h"
#endif
#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_runtime.h"
#endif
#if PY_VERSION_HEX < 0x030b0000
#include <frameobject.h>
#endif
#include <stdio.h>
int main(void) {
    printf("    { .minor = %d,\n", PY_MINOR_VERSION);
    printf("      .runtime_interp_head = %zu,\n", offsetof(_PyRuntimeState, interpreters.head));
#if PY_VERSION_HEX >= 0x03090000
    printf("      .runtime_finalizing = %zu,\n", offsetof(_PyRuntimeState, _finalizing));
#else
    printf("      .runtime_finalizing = %zu,\n", offsetof(_PyRuntimeState, finalizing));
#endif
#if PY_VERSION_HEX >= 0x030b0000
    printf("      .interp_tstate_head = %zu,\n", offsetof(PyInterpreterState, threads.head));
#else
    printf("      .interp_tstate_head = %zu,\n", offsetof(PyInterpreterState, tstate_head));
#endif
#if PY_VERSION_HEX >= 0x030c0000
    printf("      .interp_modules = %zu,\n", offsetof(PyInterpreterState, imports.modules));
#else
    printf("      .interp_modules = %zu,\n", offsetof(PyInterpreterState, modules));
#endif
    printf("      .tstate_next = %zu, .tstate_interp = %zu, .tstate_thread_id = %zu,\n",
           offsetof(PyThreadState, next), offsetof(PyThreadState, interp),
           offsetof(PyThreadState, thread_id));
#if PY_VERSION_HEX >= 0x030d0000
    printf("      .tstate_frame = %zu, .cframe_current = -1,\n",
           offsetof(PyThreadState, current_frame));
#elif PY_VERSION_HEX >= 0x030b0000
    printf("      .tstate_frame = %zu, .cframe_current = %zu,\n", offsetof(PyThreadState, cframe),
           offsetof(_PyCFrame, current_frame));
#else
    printf("      .tstate_frame = %zu, .cframe_current = -1,\n", offsetof(PyThreadState, frame));
#endif
#if PY_VERSION_HEX >= 0x030d0000
    printf("      .frame_code = %zu, .frame_previous = %zu, .frame_instr = %zu,\n      "
           ".frame_owner = %zu, .frame_is_entry = -1,\n",
           offsetof(_PyInterpreterFrame, f_executable), offsetof(_PyInterpreterFrame, previous),
           offsetof(_PyInterpreterFrame, instr_ptr), offsetof(_PyInterpreterFrame, owner));
#elif PY_VERSION_HEX >= 0x030c0000
    printf("      .frame_code = %zu, .frame_previous = %zu, .frame_instr = %zu,\n      "
           ".frame_owner = %zu, .frame_is_entry = -1,\n",
           offsetof(_PyInterpreterFrame, f_code), offsetof(_PyInterpreterFrame, previous),
           offsetof(_PyInterpreterFrame, prev_instr), offsetof(_PyInterpreterFrame, owner));
#elif PY_VERSION_HEX >= 0x030b0000
    printf("      .frame_code = %zu, .frame_previous = %zu, .frame_instr = %zu,\n      "
           ".frame_owner = %zu, .frame_is_entry = %zu,\n",
           offsetof(_PyInterpreterFrame, f_code), offsetof(_PyInterpreterFrame, previous),
           offsetof(_PyInterpreterFrame, prev_instr), offsetof(_PyInterpreterFrame, owner),
           offsetof(_PyInterpreterFrame, is_entry));
#else
    printf("      .frame_code = %zu, .frame_previous = %zu, .frame_instr = %zu,\n      "
           ".frame_owner = -1, .frame_is_entry = -1,\n",
           offsetof(PyFrameObject, f_code), offsetof(PyFrameObject, f_back),
           offsetof(PyFrameObject, f_lasti));
#endif
    printf("      .code_name = %zu, .code_qualname = %d, .code_filename = %zu, .code_firstlineno = "
           "%zu,\n",
           offsetof(PyCodeObject, co_name),
#if PY_VERSION_HEX >= 0x030b0000
           (int)offsetof(PyCodeObject, co_qualname),
#else
           -1,
#endif
           offsetof(PyCodeObject, co_filename), offsetof(PyCodeObject, co_firstlineno));
#if PY_VERSION_HEX >= 0x030b0000
    printf("      .code_code = %zu,\n", offsetof(PyCodeObject, co_code_adaptive));
#else
    printf("      .code_code = %zu,\n", offsetof(PyCodeObject, co_code));
#endif
    printf("      .str_hash = %zu, .str_state = %zu, .str_ascii_data = %zu, .str_compact_data = "
           "%zu,\n",
           offsetof(PyASCIIObject, hash), offsetof(PyASCIIObject, state), sizeof(PyASCIIObject),
           sizeof(PyCompactUnicodeObject));
#if PY_VERSION_HEX >= 0x030c0000 /* the interpreter's pointer to its GIL, and its own */
    printf("      .runtime_gil = -1, .interp_gil_ptr = %zu, .interp_gil = %zu,\n",
           offsetof(PyInterpreterState, ceval.gil), offsetof(PyInterpreterState, _gil));
#else /* one GIL in the runtime */
    printf("      .runtime_gil = %zu, .interp_gil_ptr = -1, .interp_gil = -1,\n",
           offsetof(_PyRuntimeState, ceval.gil));
#endif
    printf("      .gil_locked = %zu, .gil_holder = %zu },\n",
           offsetof(struct _gil_runtime_state, locked),
           offsetof(struct _gil_runtime_state, last_holder));
    return 0;
}
