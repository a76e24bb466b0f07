/* tape.h - a sequence of numbers kept compactly until it can be used: the JSON readers
 * keep on one what arrives before what it pairs with (a .cpuprofile's sample ids before
 * their timeDeltas, a speedscope profile's stacks before its weights and unit). Small
 * whole numbers take 1-2 bytes (a zigzag varint), others 9, a missing one 1.
 * Internal to input/. */
#ifndef FLAMEPROF_TAPE_H
#define FLAMEPROF_TAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grow.h"

typedef enum tape_kind { TAPE_END, TAPE_INT, TAPE_REAL, TAPE_NONE } tape_kind;

typedef struct input_tape {
    input_buf b;
    size_t n;    /* numbers put */
    size_t rd;   /* read position, in bytes */
} input_tape;

/* Each returns 0, or -1 out of memory. TAPE_NONE marks a place without a number. */
int tape_put_int(input_tape *t, int64_t v);
int tape_put_real(input_tape *t, double v);
int tape_put_none(input_tape *t);
/* A double, kept as a whole number when it is one (1-2 bytes for small ones). */
int tape_put_number(input_tape *t, double v);

/* The next number from the start (tape_rewind) on: its kind, and *i or *d (for an int,
 * *d holds it too). TAPE_END after the last. */
tape_kind tape_get(input_tape *t, int64_t *i, double *d);
void tape_rewind(input_tape *t);

void tape_free(input_tape *t);

#endif
