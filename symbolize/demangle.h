/* demangle.h - the display form of a symbol name: C++ and Rust (legacy mangling) names
 * demangled through __cxa_demangle, Rust's hash suffix dropped and its escapes decoded; Go
 * assembly functions without the linker's ".abi0" suffix.
 *
 * __cxa_demangle is found at run time in libstdc++ (already loaded in a C++ host, loaded
 * once otherwise), never linked: a C library must not drag a C++ runtime into every
 * profiled C program. Without libstdc++ on the machine names stay mangled.
 *
 * Thread-safe (the lookup runs once under pthread_once; __cxa_demangle is reentrant).
 * Not async-signal-safe: it allocates and may dlopen. Internal to symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_DEMANGLE_H
#define FLAMEPROF_SYMBOLIZE_DEMANGLE_H

/* The demangled form of raw, malloc'd (the caller frees it), or NULL when raw is not an
 * Itanium-mangled name ("_Z...") or does not demangle, nor a Go "pkg.fn.abi0" (which reads
 * "pkg.fn"): the caller then shows raw as is.
 * Rust legacy names lose their "::h<16 hex>" suffix (it only tells crate versions apart
 * and would split one function into several frames) and read "<T as Trait>", not
 * "$LT$T$u20$as$u20$Trait$GT$". */
char *symbolize_demangle(const char *raw);

#endif
