/* filter.h - what a reader keeps of a profile: frames hidden, stacks focused on or
 * excluded, frame names stripped of runtime prefixes. One module for every command that
 * renders or writes a profile (svg, diff, convert, report, dump), applied to the loaded
 * folded profile, after any reader.
 *
 * Threads: a profile that kept threads apart (FLAMEPROF_THREADS) has a root frame
 * "[name tid]" per thread. Unless the filter keeps threads (`--threads`), that root is
 * dropped first, so every profile reads merged by default, whatever wrote it.
 *
 * Per stack, in this order (so every regex is written against the names as shown):
 *  1. strip    each frame name loses the first match of each --strip regex (a name that
 *              would become empty is kept whole);
 *  2. exclude  a stack with a frame matching an --exclude regex is dropped;
 *  3. focus    when --focus is given, a stack with no frame matching one is dropped;
 *  4. hide     frames matching a --hide regex are removed: their samples go to the
 *              nearest kept caller (a stack left with no frame becomes "[hidden]"), so
 *              no sample is lost.
 * POSIX extended regexes (regcomp, REG_EXTENDED), unanchored: "uv_" matches anywhere.
 * Not thread-safe; never used in a signal handler. */
#ifndef FLAMEPROF_FILTER_H
#define FLAMEPROF_FILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "folded.h"

typedef enum filter_kind { FILTER_HIDE, FILTER_FOCUS, FILTER_EXCLUDE, FILTER_STRIP,
                           FILTER_KINDS } filter_kind;

enum { FILTER_MAX_EACH = 16 };

/* The prefixes --strip-runtime-prefixes removes: V8's code kinds and tiers
 * (JS:*, JS:~, JS:^, LazyCompile:*, Function:~, Script:~ ...) and CPython's py::. */
#define FILTER_RUNTIME_PREFIXES "^((JS|LazyCompile|Function|Script|Eval|RegExp):[*~^+]?|py::)"

typedef struct filter {
    regex_t re[FILTER_KINDS][FILTER_MAX_EACH];
    const char *src[FILTER_KINDS][FILTER_MAX_EACH]; /* as given (not copied) */
    int n[FILTER_KINDS];
    bool threads; /* keep the "[name tid]" roots */
    /* What the last filter_apply did. */
    uint64_t total_in, excluded, unfocused, hidden_frames_weight;
} filter;

void filter_init(filter *f);
void filter_free(filter *f);

/* Add one regex (kept by pointer: argv's strings live long enough). Returns 0, or -1 with
 * regcomp's reason (or "too many") in err. */
int filter_add(filter *f, filter_kind kind, const char *regex, char *err, size_t cap);

bool filter_active(const filter *f);

/* Is this frame a thread root, "[name tid]"? */
bool filter_is_thread_root(const char *frame, size_t len);

/* Rewrite p (a finished profile) through the filter; it stays finished. Cheap when there
 * is nothing to do (no regex, no thread root to merge). Returns 0, or -1 on allocation
 * failure (p is then unchanged). */
int filter_apply(filter *f, folded_profile *p);

/* One line for a graph's subtitle or a summary: what was filtered and what it cost, e.g.
 * "filtered: hide /uv_/ (1200 samples to callers); exclude /gc/ (-300); 8700 of 10000
 * samples shown". Empty when the filter is not active. */
void filter_describe(const filter *f, char *buf, size_t cap);

#endif
