/* report.h - at the end of a profile: symbolize the stack table, write the folded stacks
 * and the flame graph, and print the one-line summary. Runs after sampling has stopped. */
#ifndef FLAMEPROF_REPORT_H
#define FLAMEPROF_REPORT_H

#include "config.h"
#include "sampler_stats.h"
#include "stacks.h"

typedef struct report_input {
    const config *cfg;
    stack_table *stacks;
    const sampler_stats *stats;
    uint64_t lost;       /* samples the aggregator could not store */
    const char *raw;     /* the raw spill, kept when the profile could not be written */
    const void *self_pc; /* any address inside libflameprof: its frames are hidden */
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
