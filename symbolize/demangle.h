/* demangle.h - the display form of a symbol name: C++ (Itanium), Rust (legacy and v0) and
 * D names demangled by libiberty's cplus_demangle, the demangler of c++filt, gdb and perf
 * (linked statically from Debian's libiberty-dev: nothing new to load in the profiled
 * process, no C++ runtime dragged into a C program); Go assembly functions without the
 * linker's ".abi0" suffix.
 *
 * Rust names read as Rust users read them (rustfilt, perf): legacy names lose their
 * "::h<16 hex>" suffix and v0 names their crate disambiguators ("std[e28293b1aa0f68bd]"
 * reads "std"); both would split one function into several flame graph frames. So a
 * program reads the same whichever mangling it was built with.
 *
 * Thread-safe (cplus_demangle keeps no state). Not async-signal-safe: it allocates; it
 * runs at exit or in the flameprof command, never in the signal handler. Internal to
 * symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_DEMANGLE_H
#define FLAMEPROF_SYMBOLIZE_DEMANGLE_H

/* The demangled form of raw, malloc'd (the caller frees it), or NULL when raw is not a
 * mangled name ("_Z...", "_R...", "_D<digit>...") that demangles, nor a Go "pkg.fn.abi0"
 * (which reads "pkg.fn"): the caller then shows raw as is. */
char *symbolize_demangle(const char *raw);

#endif
