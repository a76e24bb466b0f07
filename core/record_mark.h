/* record_mark.h - how `flameprof record` learns whether the library loaded at all.
 *
 * record creates an empty file and names it in FLAMEPROF_RECORD_MARK; every process in
 * which the library starts (interposing, so sampling) appends "L <pid>", and each one that
 * writes a profile "P <pid>". After the command exits, no P line means nothing was
 * profiled: no process loaded the library (a launcher cleared LD_PRELOAD from its
 * children's environment, or ran only static or setuid programs), or those that did used
 * less CPU than one sampling period. record then says so (record_check.h) instead of
 * staying silent. */
#ifndef FLAMEPROF_RECORD_MARK_H
#define FLAMEPROF_RECORD_MARK_H

#include <stddef.h>

#define RECORD_MARK_ENV "FLAMEPROF_RECORD_MARK"

/* Library side: append "<what> <pid>" (what: RECORD_MARK_LOADED in the constructor,
 * RECORD_MARK_PROFILED once a profile is written) if the variable names a file that exists
 * (it is never created here). Silent on any failure. */
#define RECORD_MARK_LOADED 'L'
#define RECORD_MARK_PROFILED 'P'
#define RECORD_MARK_SAID 'S' /* loaded, cannot profile this process, and said why */
void record_mark(char what);

/* record's side: create the file (in $TMPDIR or /tmp) into path[cap] and set the
 * variable; 0, or -1 (then nothing is checked afterwards). */
int record_mark_create(char *path, size_t cap);

/* How many processes loaded the library, wrote a profile, said why they could not; 0, or -1
 * if the file cannot be read. Removes it. */
typedef struct record_marks {
    long loaded, profiled, said;
} record_marks;
int record_mark_collect(const char *path, record_marks *out);

#endif
