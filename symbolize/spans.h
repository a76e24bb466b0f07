/* spans.h - which of many address ranges [start, end) cover a pc, for tables of code that
 * grow while a program runs (JIT code names, compiled Java methods' inline scopes).
 *
 * The index holds the ranges sorted by start with the running maximum of their ends; a
 * lookup finds the last start at or below pc and walks back while an earlier range could
 * still reach pc (code is small and rarely nested, so the walk is short). The owner
 * rebuilds the index after a change (spans_build), under its own lock.
 *
 * Not thread-safe: one writer or several readers at a time, as the owner's lock decides. */
#ifndef FLAMEPROF_SPANS_H
#define FLAMEPROF_SPANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct spans {
    size_t len;
    uint32_t *id;              /* the owner's index of each range, by start (ties by id) */
    uint64_t *start, *end, *max_end;
} spans;

/* Range i of the owner's n ranges. */
typedef void (*spans_get_fn)(const void *ctx, size_t i, uint64_t *start, uint64_t *end);

/* (Re)build for n ranges (n < UINT32_MAX). Returns false when memory is short (then the
 * index is empty). */
bool spans_build(spans *s, size_t n, spans_get_fn get, const void *ctx);
void spans_free(spans *s);

/* Iteration over the ranges that cover pc, the nearest start first:
 *   for (size_t pos = spans_upper(s, pc), id; spans_prev(s, &pos, pc, &id);) ...  */
size_t spans_upper(const spans *s, uint64_t pc);
bool spans_prev(const spans *s, size_t *pos, uint64_t pc, size_t *id);

#endif
