/* foreign_load.h - one word of memory the profiler does not own, read from a signal handler.
 *
 * The stack walk reads other frames' slots (and interpreters' objects) at addresses it only
 * believes valid: bounds are checked by the caller, the content may be anything. Under
 * AddressSanitizer such a read can land in a redzone of an instrumented frame, which is no
 * bug of ours (the bytes are mapped and the value is only a guess), so the load is left out
 * of the instrumentation. Async-signal-safe; a plain load in a normal build. */
#ifndef FLAMEPROF_UTIL_FOREIGN_LOAD_H
#define FLAMEPROF_UTIL_FOREIGN_LOAD_H

#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define UTIL_NO_ASAN __attribute__((no_sanitize_address))
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UTIL_NO_ASAN __attribute__((no_sanitize_address))
#endif
#endif
#ifndef UTIL_NO_ASAN
#define UTIL_NO_ASAN
#endif

/* The word at addr (aligned, mapped: the caller has checked both). */
UTIL_NO_ASAN static inline uint64_t util_foreign_load(uint64_t addr)
{
    return *(const volatile uint64_t *)(uintptr_t)addr;
}

#endif
