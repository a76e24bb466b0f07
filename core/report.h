/* report.h - at the end of a profile: symbolize the stack table, write the folded stacks
 * and the flame graph, and print the one-line summary. Runs after sampling has stopped. */
#ifndef FLAMEPROF_REPORT_H
#define FLAMEPROF_REPORT_H

#include "config.h"
#include "sampler_stats.h"
#include "rawfile.h"
#include "stacks.h"
#include "symbolize.h"
#include "timeline.h"

typedef struct report_input {
    const config *cfg;
    stack_table *stacks;
    const sampler_stats *stats;
    uint64_t lost;       /* samples the aggregator could not store */
    const char *raw;     /* the raw spill, kept when the profile could not be written */
    const void *self_pc; /* any address inside libflameprof: its frames are hidden */
    /* Debug files from elsewhere (the command's debuginfod client); NULL inside the
     * profiled process, which never goes to the network. */
    symbolize_fetch_fn fetch;
    void *fetch_ctx;
    /* Out, may be NULL: set when code without symbols was sampled in modules a debuginfod
     * server could name (DEBUGINFOD_URLS set, no fetch here): the raw spill is worth
     * keeping, and one line said `flameprof report RAW` names them. */
    bool *keep_raw;
    /* When the profile began and ended (Unix time, ns; 0: unknown, then a raw spill's
     * timeline says): pprof's time_nanos and duration_nanos. */
    int64_t start_ns, end_ns;
    /* The heatmap's timeline, with stack ids of stacks; NULL: read back from raw. */
    const timeline *tl;
    rawfile_info tl_info; /* with tl: when it began, what was dropped */
    long pid;             /* whose profile (0: this process's) */
    /* FLAMEPROF_INTERVAL: write the window that began window_from_s seconds into the
     * profile (each stack's weight minus its mark_weight) as PREFIX.from-<N>s.<ext>. */
    bool window;
    uint64_t window_from_s;
} report_input;

/* Write the profile in the formats of cfg->formats (FLAMEPROF_FORMAT; <prefix>.folded and
 * <prefix>.svg by default), with the fallbacks of outfile.h and /tmp when the directory is
 * not writable, and print the summary unless quiet. Returns true if every file was
 * written. */
bool report_write(const report_input *in);

/* Remove the files the last report_write wrote (the exec it was written for failed, and
 * the profile goes on). */
void report_withdraw(void);

/* The output stem for pid: FLAMEPROF_OUT expanded. */
void report_stem(const config *cfg, long pid, char *stem, size_t cap);

#endif
