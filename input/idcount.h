/* idcount.h - how many times each integer id occurred, in order of first occurrence, with
 * the place (line, column) of the first: a .cpuprofile's samples counted per node id while
 * they stream, before the nodes they name may be known. Memory grows with the distinct
 * ids, not with the occurrences. Internal to input/. */
#ifndef FLAMEPROF_IDCOUNT_H
#define FLAMEPROF_IDCOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef struct idcount_entry {
    int64_t id;
    uint64_t count;
    size_t line, col;  /* of the first occurrence, set by the caller */
} idcount_entry;

typedef struct idcount {
    idcount_entry *e;  /* in order of first occurrence */
    size_t len, cap;
    uint32_t *slots;   /* open addressing: entry + 1, 0 for empty */
    size_t nslots;
} idcount;

/* Counts one more id: its entry, new ones with count 1 (*added = 1). NULL out of memory. */
idcount_entry *idcount_add(idcount *t, int64_t id, int *added);

void idcount_free(idcount *t);

#endif
