/* report.h - at the end of a profile: symbolize the stack table, write the folded stacks
 * and the flame graph, and print the one-line summary. Runs after sampling has stopped. */
#ifndef FLAMEPROF_REPORT_H
#define FLAMEPROF_REPORT_H

#include "config.h"
#include "filter.h"
#include "folded.h"
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
    filter *filter;      /* NULL or inactive: the whole profile (filter.h) */
    const folded_profile *base; /* NULL, or subtracted stack by stack: a profile since then */
    const char *title;   /* NULL: "CPU Flame Graph (flameprof)" */
    long pid;            /* 0: this process (names the output and the summary) */
    const char *name;    /* the program, file-safe (%c of FLAMEPROF_OUT), or NULL */
    const char *display; /* the program as the tree's root frame shows it, or NULL */
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
    /* FLAMEPROF_INTERVAL: write the window that began window_from_s seconds into the
     * profile (each stack's weight minus its mark_weight) as PREFIX.from-<N>s.<ext>. */
    bool window;
    uint64_t window_from_s;
    /* Also write PREFIX.sources (frame_source.h: where the native frames' functions are
     * declared), as a process tree's processes do: a raw spill recovered into a tree. */
    bool keep_sources;
    /* Each file made durable (fsync) before it is named: the flameprof command's outputs.
     * False inside the profiled process, where every process of a build would pay it
     * (outfile.h, outfile_publish_nosync), and for a tree's files. */
    bool durable;
} report_input;

/* Write the profile in the formats of cfg->formats (FLAMEPROF_FORMAT; <prefix>.folded and
 * <prefix>.svg by default), with the fallbacks of outfile.h and /tmp when the directory is
 * not writable, and print the summary unless quiet. Returns true if every file was
 * written. */
bool report_write(const report_input *in);

/* Write a finished folded profile in the formats of cfg->formats to stem + each ending,
 * with the same fallbacks; the paths written, blank-separated, into paths. title names
 * the profile where a format has room for it. in (may be NULL) gives pprof its time of
 * collection (start_ns, end_ns) and the heatmap its stacks and timeline; without its
 * stacks there is no heatmap. Returns true if every file was written. */
bool report_publish(const config *cfg, const report_input *in, const folded_profile *prof,
                    const char *stem, const char *title, char *paths, size_t cap);

/* Remove the files the last report_write wrote (the exec it was written for failed, and
 * the profile goes on). */
void report_withdraw(void);

/* The output stem for pid: FLAMEPROF_OUT expanded (name is its %c), or TREE/NAME.PID
 * under FLAMEPROF_TREE. */
void report_stem(const config *cfg, long pid, const char *name, char *stem, size_t cap);

/* Under FLAMEPROF_TREE: append line to the process's NAME.PID.info (after a "name DISPLAY"
 * line), where `flameprof record` finds it: its summary, or why it is not profiled. Plain
 * open/write (no stdio): usable in a raw-cloned child. */
void report_tree_note(const config *cfg, long pid, const char *name, const char *display,
                      const char *line);

#endif
