/* python_int.h - what python.c found of the live interpreter, for the readers of its
 * objects off the handler (pythreads.c). Internal to preload/; drain thread only (the
 * thread that polls the interpreter, python_poll). */
#ifndef FLAMEPROF_PYTHON_INT_H
#define FLAMEPROF_PYTHON_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyframes.h"

/* The interpreter's layout and where it is, and the type objects a read checks before
 * it trusts an object (the addresses of PyUnicode_Type, PyDict_Type, ...). */
typedef struct python_objects {
    const pyframes_config *cfg;
    uint64_t unicode_type, dict_type, long_type, module_type;
} python_objects;

/* The interpreter, or NULL while the frame reader is off (none found, checks failed). */
const python_objects *python_objects_on(void);

/* A str's text as UTF-8 (compact strings: every str CPython makes for code objects) into
 * out (cap bytes, NUL-terminated, cut at PYFRAMES_STR_MAX characters), and the hash of
 * the characters read, as the handler hashes them (util/text_hash.h). Every read is
 * process_vm_readv's: a freed or moved str fails, never faults. */
bool python_read_str(uint64_t s, char *out, size_t cap, uint64_t *hash);

#endif
