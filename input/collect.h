/* collect.h - the sink that merges samples into a folded_profile (output/folded.h), the
 * profile every renderer and writer reads: one entry per distinct stack, weights summed,
 * times dropped. Memory: one copy of each distinct stack plus a hash slot. */
#ifndef FLAMEPROF_COLLECT_H
#define FLAMEPROF_COLLECT_H

#include "folded.h"
#include "input.h"
#include "intern.h"

typedef struct input_collector {
    folded_profile *profile;   /* entries are appended; finish sorts them */
    intern_table stacks;       /* stack -> number n: entry base + n; points at the copies */
    size_t base;               /* entries the profile held before */
    uint64_t samples;          /* samples received */
    int64_t first_ns, last_ns; /* time range of the samples that came with a time,
                                * INPUT_NO_TIME if none (the sink is untimed: readers
                                * may pass merged samples without time) */
} input_collector;

/* Collects into p (initialized by the caller, may already hold entries: they are merged
 * with the new ones by folded_finish). sink->ctx is c; sink->on_error is left to the
 * caller; sink->untimed is set. */
void input_collect_init(input_collector *c, folded_profile *p, input_sink *sink);

/* Sorts the profile and frees the index. */
void input_collect_finish(input_collector *c);

#endif
