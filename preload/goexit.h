/* goexit.h - a Go program's profile is written when it exits.
 *
 * Go leaves by the exit_group system call straight from runtime.exit (main returning,
 * os.Exit, a fatal panic): no atexit handler, no ELF destructor, no libc _exit, so none of
 * the ways the library writes its profile would run, and only the raw spill (up to a second
 * behind) would remain. We redirect runtime.exit, before Go's runtime has started: its
 * first 12 bytes, checked to be exactly `mov 8(%rsp),%edi; mov $231,%eax; syscall; ret`,
 * become `movabs $trampoline,%rax; jmp *%rax`. The trampoline moves to a stack of our own
 * (the caller may be on a small goroutine stack) and calls our _exit with the same status:
 * the aggregator thread writes the profile (bounded wait, endings.h), then the process
 * exits with that status. A second thread exiting meanwhile waits for the first. */
#ifndef FLAMEPROF_GOEXIT_H
#define FLAMEPROF_GOEXIT_H

#include <stdbool.h>

/* In the constructor, after golang_detect and before any Go code runs. Does nothing for
 * other programs; says so in one line when a Go program's exit cannot be redirected.
 * quiet: no line. */
void goexit_install(bool quiet);

#endif
