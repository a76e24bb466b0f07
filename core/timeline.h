/* timeline.h - when the CPU went where: for each short slot of the run (20 ms, FlameScope's
 * rows), the stacks sampled in it and their weights.
 *
 * One structure serves both sides:
 *  - writing (the aggregator thread): every drained sample is added with its time; once a
 *    second the cells are sorted, merged and appended to the raw file (rawfile.h), then
 *    cleared, so memory holds about one second of cells whatever the run's length;
 *  - reading (`flameprof report --from/--to`, `flameprof heatmap`): the T records of a file
 *    are added, then finished (sorted by slot and stack id, merged), and a range of slots
 *    is found by binary search.
 * A reader of another tool's timestamped samples (perf script) builds one the same way:
 * timeline_add_time with its own clock's origin as t0.
 *
 * Stack ids are those of stacks.h (stack_entry.id). Not thread-safe: one owner. */
#ifndef FLAMEPROF_TIMELINE_H
#define FLAMEPROF_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "heatmap.h"

#define TIMELINE_SLOT_NS 20000000ull /* 20 ms */
#define TIMELINE_SLOTS_PER_S 50u

/* slot (since the profile began: slot s covers [s * 20 ms, (s + 1) * 20 ms)), stack id,
 * weight: the heatmap page draws these cells as they are. */
typedef heatmap_cell timeline_cell;

typedef struct timeline {
    timeline_cell *cells;
    size_t len, cap;
    uint64_t t0_ns;      /* the clock's value when the profile began (timeline_add_time) */
    uint32_t first_slot; /* slots before it were dropped (FLAMEPROF_TIMELINE_MAX) */
    uint64_t lost;       /* weight that could not be stored (memory short) */
} timeline;

void timeline_init(timeline *t, uint64_t t0_ns);
void timeline_free(timeline *t);
void timeline_clear(timeline *t); /* keep t0 and the memory */

/* Add weight for stack id in a slot. Returns 0, or -1 if memory is short (counted in
 * lost). */
int timeline_add(timeline *t, uint32_t slot, uint32_t id, uint64_t weight);

/* The same at a time on t0_ns's clock, in ns; a time before t0 goes to slot 0. */
int timeline_add_time(timeline *t, uint64_t time_ns, uint32_t id, uint64_t weight);

/* Sort the cells by (slot, id) and merge equal ones. */
void timeline_finish(timeline *t);

/* Finished timelines: the index of the first cell whose slot is >= slot. */
size_t timeline_lower(const timeline *t, uint32_t slot);

/* One past the last slot that holds a cell (0 when empty). */
uint32_t timeline_end(const timeline *t);

#endif
